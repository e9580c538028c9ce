"""Reward, termination and statistics exactly as SMAC's reward_battle / step (spec section 5)."""
import pytest
import torch

from course_lib.envs import BatchedSMAC, StarCraft2Env
from course_lib.envs.smac.policies import focus_fire_policy

# 2s3z: max_reward = 5 enemies x 10 + 200 + (2 stalkers x (80 + 80) + 3 zealots x (100 + 50)) = 1020
MAX_REWARD_2S3Z = 5 * 10 + 200 + 2 * 160 + 3 * 150


def _last_stalker_scenario(**kwargs):
    """Ally stalker 0 next to the last enemy, a stalker with 5 hp and 3 shield; everybody else dead."""
    env = BatchedSMAC("2s3z", 1, seed=0, auto_reset=False, **kwargs)
    env.reset()
    for u in range(1, env.C.U):
        if u != 5:
            env._place(0, u, health=0)
    env._place(0, 0, pos=(10.0, 16.0))
    env._place(0, 5, pos=(13.0, 16.0), health=5.0, shield=3.0)
    return env


def test_reward_by_hand_shield_kill_and_win():
    env = _last_stalker_scenario()
    assert env.max_reward == MAX_REWARD_2S3Z
    _, reward, term, info = env.step(torch.tensor([[6, 0, 0, 0, 0]]))
    # damage dealt = lost health + shield = 5 + 3; +10 for the kill; +200 for the win
    expected = (5 + 3 + 10 + 200) / (MAX_REWARD_2S3Z / 20)
    assert reward.item() == pytest.approx(expected, rel=1e-6)
    assert term.item() and info["battle_won"].item() and not info["episode_limit"].item()
    stats = env.get_stats()
    assert stats["battles_won"] == 1 and stats["battles_game"] == 1 and stats["win_rate"] == 1.0


def test_reward_with_negative_part():
    env = _last_stalker_scenario(reward_only_positive=False, reward_scale=False)
    _, reward, *_ = env.step(torch.tensor([[6, 0, 0, 0, 0]]))
    # the enemy stalker fires back in the same step: 13 + 5 (armored) = 18 on our shields,
    # counted with reward_negative_scale 0.5
    assert reward.item() == pytest.approx(5 + 3 + 10 + 200 - 0.5 * 18)


def test_partial_damage_reward_and_ally_death_penalty():
    env = BatchedSMAC("3m", 1, seed=0, auto_reset=False, reward_only_positive=False, reward_scale=False)
    env.reset()
    env._place(0, 0, pos=(10.0, 16.0), health=4.0)   # will die to one marine shot (6)
    env._place(0, 1, pos=(10.0, 26.0))
    env._place(0, 2, pos=(10.0, 5.0))
    env._place(0, 3, pos=(14.0, 16.0))               # enemy 0 next to agent 0, both fire once
    env._place(0, 4, pos=(27.0, 29.0))
    env._place(0, 5, pos=(27.0, 3.0))
    _, reward, term, info = env.step(torch.tensor([[6, 1, 1]]))
    # + 6 damage dealt; - 0.5 x 4 (the health agent 0 had) - 0.5 x 10 for its death
    assert reward.item() == pytest.approx(6 - 0.5 * 4 - 0.5 * 10)
    assert info["dead_allies"].item() == 1 and info["dead_enemies"].item() == 0 and not term.item()


def test_only_positive_reward_ignores_own_losses():
    env = BatchedSMAC("3m", 1, seed=0, auto_reset=False, reward_scale=False)
    env.reset()
    env._place(0, 0, pos=(10.0, 16.0), health=4.0)
    env._place(0, 1, pos=(10.0, 26.0))
    env._place(0, 2, pos=(10.0, 5.0))
    env._place(0, 3, pos=(14.0, 16.0))
    env._place(0, 4, pos=(27.0, 29.0))
    env._place(0, 5, pos=(27.0, 3.0))
    _, reward, *_ = env.step(torch.tensor([[6, 1, 1]]))
    assert reward.item() == pytest.approx(6.0)


def test_sparse_reward_and_defeat():
    env = _last_stalker_scenario(reward_sparse=True, reward_scale=False)
    _, reward, *_ = env.step(torch.tensor([[6, 0, 0, 0, 0]]))
    assert reward.item() == 1.0
    # defeat: our last stalker with 1 hp and no shield faces the enemy stalker
    env = _last_stalker_scenario(reward_sparse=True, reward_scale=False)
    env._place(0, 5, health=80.0, shield=80.0)
    env._place(0, 0, health=1.0, shield=0.0)
    _, reward, term, info = env.step(torch.tensor([[1, 0, 0, 0, 0]]))
    assert reward.item() == -1.0 and term.item() and not info["battle_won"].item()
    env = _last_stalker_scenario(reward_defeat=-7, reward_scale=False)
    env._place(0, 5, health=80.0, shield=80.0)
    env._place(0, 0, health=1.0, shield=0.0)
    _, reward, *_ = env.step(torch.tensor([[1, 0, 0, 0, 0]]))
    # our stalker's shot (18 on shields) still counts, then the defeat value is added
    assert reward.item() == pytest.approx(abs(18.0) - 7)


def test_a_won_episode_returns_about_20():
    env = BatchedSMAC("3m", 32, seed=5)
    env.reset()
    ret = torch.zeros(32)
    first = torch.full((32,), -1.0)
    won = torch.zeros(32, dtype=torch.bool)
    for _ in range(61):
        _, r, term, info = env.step(focus_fire_policy(env))
        ret += r * (first < 0)
        newly = term & (first < 0)
        first = torch.where(newly, ret, first)
        won |= newly & info["battle_won"]
        if (first >= 0).all():
            break
    assert won.any() and (~won).any()
    # every enemy's full health + 10 per kill + 200 = max_reward -> 20 after scaling
    assert first[won].tolist() == pytest.approx([20.0] * int(won.sum()), abs=1e-3)
    assert torch.all(first[~won] < 20.0)


def test_timeout_terminates_and_is_a_draw():
    env = BatchedSMAC("3m", 2, seed=0, auto_reset=True)
    env.reset()
    # keep everyone apart: agents walk south-west, enemies chase but we rewind them every step
    for t in range(60):
        for u in range(3, 6):
            env._place(0, u, pos=(30.0, 2.0 + u))
            env._place(1, u, pos=(30.0, 2.0 + u))
        _, r, term, info = env.step(torch.ones(2, 3, dtype=torch.long))
        if t < 59:
            assert not term.any()
    assert term.all() and info["episode_limit"].all() and not info["battle_won"].any()
    stats = env.get_stats()
    assert stats["timeouts"] == 2 and stats["battles_draw"] == 2 and stats["battles_game"] == 2
    assert stats["win_rate"] == 0.0 and stats["restarts"] == 0
    # auto-reset: the next observation belongs to a fresh episode
    assert torch.all(env.t == 0) and torch.all(env.health == env.C.hp_max)


def test_facade_reports_episode_limit_only_when_continuing():
    for cont in (False, True):
        env = StarCraft2Env("3m", seed=0, continuing_episode=cont)
        env.reset()
        for t in range(60):
            for u in range(3, 6):
                env.batched._place(0, u, pos=(30.0, 2.0 + u))
            env._set(env.batched.observe())
            reward, term, info = env.step([1, 1, 1])
        assert term and not info["battle_won"]
        assert ("episode_limit" in info) == cont
        assert set(info) >= {"battle_won", "dead_allies", "dead_enemies"}
