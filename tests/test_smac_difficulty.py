"""Sanity of difficulty (spec section 8): uniformly random agents almost never win 3m; the focus-fire
script wins most 3m battles and far fewer 5m_vs_6m battles."""
import pytest

from course_lib.envs import BatchedSMAC
from course_lib.envs.smac.policies import battle_outcomes


def first_episode_win_rate(map_name, policy, n_envs=200, seed=123, **kw):
    return battle_outcomes(map_name, policy, n_envs, seed, **kw)["win_rate"]


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
    easy = first_episode_win_rate("3m", "focus_fire", n_envs=128, seed=9, difficulty="1")
    assert easy >= hard - 0.1


def test_battle_outcomes_summary_and_bad_policy():
    out = battle_outcomes("2s_vs_1sc", "random", n_battles=16, seed=0)
    assert set(out) == {"win_rate", "timeout_rate", "mean_length"}
    assert 0.0 <= out["timeout_rate"] <= 1.0 - out["win_rate"]
    # a timed-out battle lasts the whole episode limit, so timeouts raise the mean length
    assert out["mean_length"] >= out["timeout_rate"] * 300
    with pytest.raises(ValueError, match="focus_fire"):
        battle_outcomes("3m", "greedy")
