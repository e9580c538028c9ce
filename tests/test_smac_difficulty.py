"""Sanity of difficulty (spec section 8): uniformly random agents almost never win 3m; the focus-fire
script wins most 3m battles and far fewer 5m_vs_6m battles."""
import torch

from course_lib.envs import BatchedSMAC
from course_lib.envs.smac.policies import focus_fire_policy, random_policy


def first_episode_win_rate(map_name, policy, n_envs=200, seed=123):
    """Win rate over the first episode of ``n_envs`` environments (auto-reset envs keep running)."""
    env = BatchedSMAC(map_name, n_envs, seed=seed)
    nxt = env.reset()
    g = torch.Generator().manual_seed(seed)
    result = torch.full((n_envs,), -1)
    for _ in range(env.episode_limit + 1):
        a = random_policy(nxt["avail"], g) if policy == "random" else focus_fire_policy(env)
        nxt, _, term, info = env.step(a)
        newly = term & (result < 0)
        result = torch.where(newly, info["battle_won"].long(), result)
        if (result >= 0).all():
            break
    assert (result >= 0).all()
    return (result == 1).float().mean().item()


def test_difficulty_anchors():
    rand_3m = first_episode_win_rate("3m", "random")
    ff_3m = first_episode_win_rate("3m", "focus_fire")
    ff_5v6 = first_episode_win_rate("5m_vs_6m", "focus_fire")
    print(f"\nwin rates over 200 battles: random 3m {rand_3m:.2f}, focus fire 3m {ff_3m:.2f}, "
          f"focus fire 5m_vs_6m {ff_5v6:.2f}")
    assert rand_3m <= 0.02
    assert ff_3m >= 0.6
    assert ff_5v6 <= ff_3m - 0.4


def test_random_agents_lose_the_symmetric_maps():
    for m in ("8m", "2s3z", "MMM"):
        assert first_episode_win_rate(m, "random", n_envs=64) <= 0.05, m


def test_lower_difficulty_is_not_harder():
    hard = first_episode_win_rate("3m", "focus_fire", n_envs=128, seed=9)
    env = BatchedSMAC("3m", 2, difficulty="1")
    assert env.C.scan_col[3, 0].item() < BatchedSMAC("3m", 2).C.scan_col[3, 0].item()
    easy = BatchedSMAC("3m", 128, seed=9, difficulty="1")
    nxt = easy.reset()
    result = torch.full((128,), -1)
    for _ in range(61):
        nxt, _, term, info = easy.step(focus_fire_policy(easy))
        result = torch.where(term & (result < 0), info["battle_won"].long(), result)
    assert (result == 1).float().mean().item() >= hard - 0.1
