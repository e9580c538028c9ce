"""The PettingZoo ParallelEnv wrapper: PettingZoo's own API tests, agreement with the facade, dead
agents, invalid-action handling, truncation on timeouts, seeding, rendering."""
import warnings

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test

from course_lib.envs import StarCraft2Env
from course_lib.envs.smac.pettingzoo import SMACParallelEnv, aec_env, parallel_env
from course_lib.envs.smac.policies import focus_fire_policy


@pytest.mark.parametrize("map_name", ["3m", "2s3z", "MMM", "corridor"])
def test_parallel_api_test_passes(map_name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "live agent was not given ..." style warnings either
        parallel_api_test(SMACParallelEnv(map_name, seed=1), num_cycles=500)


def test_aec_conversion_passes_the_aec_api_test():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Observation numpy array is all zeros")  # dead agents
        api_test(aec_env("3m", seed=0), num_cycles=200)


def test_spaces_agents_and_agreement_with_the_facade():
    env = parallel_env("2s3z", seed=5)
    ref = StarCraft2Env(map_name="2s3z", seed=5)
    obs, infos = env.reset()
    ref.reset()
    assert env.possible_agents == [f"agent_{i}" for i in range(5)] and env.agents == env.possible_agents
    for i, a in enumerate(env.agents):
        assert env.observation_space(a) is env.observation_space(a)
        assert env.observation_space(a).shape == (80,) and env.observation_space(a).dtype == np.float32
        assert env.action_space(a) == spaces.Discrete(11)
        np.testing.assert_array_equal(obs[a], ref.get_obs_agent(i))
        np.testing.assert_array_equal(infos[a]["action_mask"], ref.get_avail_agent_actions(i))
        assert obs[a] in env.observation_space(a)
    np.testing.assert_array_equal(env.state(), ref.get_state())
    assert env.state().shape == (120,)
    with pytest.raises(KeyError, match="agent_7"):
        env.observation_space("agent_7")


def _random_masked(infos, agents, rng):
    return {a: int(rng.choice(np.flatnonzero(infos[a]["action_mask"]))) for a in agents}


def test_masked_random_play_matches_the_facade_and_removes_dead_agents():
    rng = np.random.default_rng(0)
    env = parallel_env("3m", seed=2)
    ref = StarCraft2Env(map_name="3m", seed=2)
    obs, infos = env.reset()
    ref.reset()
    saw_death = False
    while env.agents:
        acts = _random_masked(infos, env.agents, rng)
        before = list(env.agents)
        obs, rew, term, trunc, infos = env.step(acts)
        joint = [acts.get(f"agent_{i}", 0) for i in range(3)]
        r, t, info = ref.step(joint)
        assert set(obs) == set(before) == set(rew) == set(term) == set(trunc) == set(infos)
        assert all(v == pytest.approx(r) for v in rew.values())
        assert not any(i["action_replaced"] for i in infos.values()), "masked actions are never replaced"
        for a in before:
            i = int(a.split("_")[1])
            np.testing.assert_array_equal(obs[a], ref.get_obs_agent(i))
            assert obs[a] in env.observation_space(a)
            dead = ref.get_avail_agent_actions(i)[0] == 1
            if dead and not t:
                saw_death = True
                assert term[a] and a not in env.agents and not obs[a].any()
        assert set(env.agents) == {a for a in before if not (term[a] or trunc[a])}
        if t:
            assert not env.agents and all(term[a] or trunc[a] for a in before)
    assert saw_death, "this seed should see an agent die before the end"
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_unavailable_action_is_replaced_by_stop_or_raises():
    env = parallel_env("3m", seed=0)
    ref = StarCraft2Env(map_name="3m", seed=0)
    obs, infos = env.reset()
    ref.reset()
    # At the start the enemies are out of shoot range: attacking enemy 0 (action 6) is unavailable.
    assert all(infos[a]["action_mask"][6] == 0 for a in env.agents)
    acts = {"agent_0": 6, "agent_1": 4}  # agent_2 missing -> stops as well
    obs, rew, term, trunc, infos = env.step(acts)
    ref.step([1, 4, 1])
    assert infos["agent_0"]["action_replaced"] and infos["agent_2"]["action_replaced"]
    assert not infos["agent_1"]["action_replaced"]
    for i, a in enumerate(env.possible_agents):
        np.testing.assert_array_equal(obs[a], ref.get_obs_agent(i))
    strict = parallel_env("3m", seed=0, invalid_action="raise")
    strict.reset()
    with pytest.raises(ValueError, match=r"agent_1: action 7 is not available; available actions: \[1, 2, 3, 4, 5\]"):
        strict.step({"agent_0": 1, "agent_1": 7, "agent_2": 1})
    with pytest.raises(ValueError, match="out of range"):
        strict.step({"agent_0": 99, "agent_1": 1, "agent_2": 1})
    with pytest.raises(KeyError, match="unknown agent"):
        strict.step({"agent_9": 1})


def test_won_battle_terminates_everyone():
    outcomes = []
    for seed in range(8):  # focus fire wins most 3m battles; check the first won one
        env = parallel_env("3m", seed=seed)
        env.reset()
        batched = env.smac_env.batched
        while env.agents:
            joint = focus_fire_policy(batched)[0].tolist()
            obs, rew, term, trunc, infos = env.step({a: joint[int(a.split("_")[1])] for a in env.agents})
        won = next(iter(infos.values()))["battle_won"]
        outcomes.append(won)
        if won:
            assert all(term.values()) and not any(trunc.values())
            assert not any(i["episode_limit"] for i in infos.values())
            assert all(i["battle_won"] for i in infos.values())
            break
    assert any(outcomes), f"focus fire never won 3m in 8 seeds: {outcomes}"


class _TimeoutFacade:
    """A tiny facade whose battles never end except by the time limit (4 steps)."""

    def __init__(self, map_name="x", seed=0, **kw):
        self.timeouts = 0

    def get_env_info(self):
        return {"state_shape": 2, "obs_shape": 3, "n_actions": 7, "n_agents": 2, "episode_limit": 4}

    def reset(self):
        self.t = 0
        return self.get_obs(), self.get_state()

    def get_obs(self):
        return [np.full(3, 0.1 * self.t, np.float32)] * 2

    def get_state(self):
        return np.zeros(2, np.float32)

    def get_avail_actions(self):
        return [[0, 1, 1, 1, 1, 1, 0]] * 2

    def step(self, actions):
        self.t += 1
        if self.t >= 4:
            self.timeouts += 1
        return 0.5, self.t >= 4, {"battle_won": False, "dead_allies": 0, "dead_enemies": 0}

    def get_stats(self):
        return {"timeouts": self.timeouts}

    def close(self):
        pass


def test_timeout_is_a_truncation():
    env = SMACParallelEnv("x", env_factory=_TimeoutFacade)
    env.reset()
    for t in range(4):
        obs, rew, term, trunc, infos = env.step({a: 2 for a in env.agents})
    assert trunc == {"agent_0": True, "agent_1": True} and term == {"agent_0": False, "agent_1": False}
    assert infos["agent_0"]["episode_limit"] and env.agents == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(SMACParallelEnv("x", env_factory=_TimeoutFacade), num_cycles=20)


def test_reset_seed_reproduces_and_render():
    def play(env, seed):
        obs, infos = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = [obs["agent_0"].copy()]
        for _ in range(6):
            obs, *_, infos = env.step(_random_masked(infos, env.agents, rng))
            trace.append(obs["agent_0"].copy())
        return np.stack(trace)

    env = parallel_env("3m", render_mode="rgb_array")
    a, b, c = play(env, 11), play(env, 11), play(env, 12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    img = env.render()
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    assert parallel_env("3m").render() is None
    with pytest.raises(ValueError, match="render_mode"):
        parallel_env("3m", render_mode="human")
    with pytest.raises(ValueError, match="invalid_action"):
        parallel_env("3m", invalid_action="ignore")
