"""StarCraft2Env as a drop-in for oxwhirl SMAC: the call sequences of SMAC's example and pymarl's episode
runner, the MultiAgentEnv base class, and every added SMAC name checked against the obs/state vectors."""
import warnings

import numpy as np
import pytest
import torch

from course_lib.envs import MultiAgentEnv, StarCraft2Env
from course_lib.envs.smac.facade import Direction
from course_lib.envs.smac.replay import load_replay

DROP_IN_MAPS = ["3m", "2s3z", "MMM2"]

# pymarl's sc2.yaml env_args (every key SMAC's constructor takes), as pymarl passes them
PYMARL_ENV_ARGS = dict(continuing_episode=False, difficulty="7", game_version=None, move_amount=2,
                       obs_all_health=True, obs_instead_of_state=False, obs_last_action=False,
                       obs_own_health=True, obs_pathing_grid=False, obs_terrain_height=False,
                       obs_timestep_number=False, reward_death_value=10, reward_defeat=0,
                       reward_negative_scale=0.5, reward_only_positive=True, reward_scale=True,
                       reward_scale_rate=20, reward_sparse=False, reward_win=200, replay_dir="",
                       replay_prefix="", state_last_action=True, state_timestep_number=False, step_mul=8,
                       heuristic_ai=False, heuristic_rest=False, debug=False)


def _random_actions(env, rng):
    return [int(rng.choice(np.flatnonzero(row))) for row in env.get_avail_actions()]


# ------------------------------------------------------------------------------ call sequences
@pytest.mark.parametrize("map_name", DROP_IN_MAPS)
def test_smac_random_agents_example_call_sequence(map_name):
    """SMAC's documented example (smac/examples/random_agents.py): its calls, in its order."""
    np.random.seed(0)
    env = StarCraft2Env(map_name=map_name, seed=1)
    env_info = env.get_env_info()
    n_actions = env_info["n_actions"]
    n_agents = env_info["n_agents"]
    n_episodes = 2
    lengths = []
    for e in range(n_episodes):
        env.reset()
        terminated = False
        episode_reward = 0
        steps = 0
        while not terminated:
            obs = env.get_obs()
            obs_features = env.get_obs_feature_names()
            state = env.get_state()
            state_features = env.get_state_feature_names()
            assert len(state) == len(state_features)
            assert len(obs[0]) == len(obs_features)
            actions = []
            for agent_id in range(n_agents):
                avail_actions = env.get_avail_agent_actions(agent_id)
                avail_actions_ind = np.nonzero(avail_actions)[0]
                action = np.random.choice(avail_actions_ind)          # a NumPy int64, as in the example
                actions.append(action)
            reward, terminated, _ = env.step(actions)
            episode_reward += reward
            steps += 1
        lengths.append(steps)
        assert 0 < steps <= env_info["episode_limit"] and episode_reward >= 0
    env.close()
    assert n_actions == 6 + env.n_enemies
    assert env.get_stats()["battles_game"] == n_episodes == env.battles_game


class _RandomMAC:
    """pymarl's controller interface as the runner uses it: ``select_actions(batch, t_ep, ...)`` returns a
    ``LongTensor[1, n_agents]`` of available actions; ``init_hidden(batch_size)``."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def init_hidden(self, batch_size):
        self.hidden = torch.zeros(batch_size, 1)

    def select_actions(self, batch, t_ep, t_env, test_mode=False):
        avail = torch.as_tensor(batch["avail_actions"][:, t_ep], dtype=torch.float32)   # [1, N, A]
        return torch.multinomial(avail[0], 1, generator=self.g).T                        # [1, N]


class _PymarlEpisodeRunner:
    """pymarl's EpisodeRunner call sequence (src/runners/episode_runner.py), with NumPy episode storage."""

    def __init__(self, env_args):
        self.env = StarCraft2Env(**env_args)
        self.episode_limit = self.env.episode_limit
        self.t, self.t_env = 0, 0
        self.train_stats, self.test_stats = {}, {}

    def setup(self, mac):
        info = self.get_env_info()
        T, N, A = self.episode_limit + 1, info["n_agents"], info["n_actions"]
        self.new_batch = lambda: {"state": np.zeros((1, T, info["state_shape"]), np.float32),
                                  "obs": np.zeros((1, T, N, info["obs_shape"]), np.float32),
                                  "avail_actions": np.zeros((1, T, N, A), np.int64),
                                  "actions": np.zeros((1, T, N), np.int64), "reward": np.zeros((1, T)),
                                  "terminated": np.zeros((1, T), bool), "filled": np.zeros((1, T), bool)}
        self.mac = mac

    def get_env_info(self):
        return self.env.get_env_info()

    def save_replay(self):
        self.env.save_replay()

    def close_env(self):
        self.env.close()

    def reset(self):
        self.batch = self.new_batch()
        self.env.reset()
        self.t = 0

    def _update(self, data, ts):
        for k, v in data.items():
            self.batch[k][:, ts] = np.asarray(v)
        self.batch["filled"][:, ts] = True

    def run(self, test_mode=False):
        self.reset()
        terminated = False
        episode_return = 0
        self.mac.init_hidden(batch_size=1)
        while not terminated:
            self._update({"state": [self.env.get_state()], "avail_actions": [self.env.get_avail_actions()],
                          "obs": [self.env.get_obs()]}, ts=self.t)
            actions = self.mac.select_actions(self.batch, t_ep=self.t, t_env=self.t_env, test_mode=test_mode)
            reward, terminated, env_info = self.env.step(actions[0])          # a LongTensor[N]
            episode_return += reward
            self._update({"actions": actions, "reward": [reward],
                          "terminated": [terminated != env_info.get("episode_limit", False)]}, ts=self.t)
            self.t += 1
        self._update({"state": [self.env.get_state()], "avail_actions": [self.env.get_avail_actions()],
                      "obs": [self.env.get_obs()]}, ts=self.t)
        actions = self.mac.select_actions(self.batch, t_ep=self.t, t_env=self.t_env, test_mode=test_mode)
        self.batch["actions"][:, self.t] = actions.numpy()
        cur_stats = self.test_stats if test_mode else self.train_stats
        cur_stats.update({k: cur_stats.get(k, 0) + env_info.get(k, 0) for k in set(cur_stats) | set(env_info)})
        cur_stats["n_episodes"] = 1 + cur_stats.get("n_episodes", 0)
        cur_stats["ep_length"] = self.t + cur_stats.get("ep_length", 0)
        if not test_mode:
            self.t_env += self.t
        return self.batch, episode_return


@pytest.mark.parametrize("map_name", DROP_IN_MAPS)
def test_pymarl_episode_runner_call_sequence(map_name, tmp_path):
    args = dict(PYMARL_ENV_ARGS, map_name=map_name, seed=3, replay_dir=str(tmp_path / "replays"))
    runner = _PymarlEpisodeRunner(args)
    env_info = runner.get_env_info()                     # pymarl's run.py reads these four
    n_agents, n_actions, state_shape = env_info["n_agents"], env_info["n_actions"], env_info["state_shape"]
    runner.setup(_RandomMAC(seed=0))
    for _ in range(2):
        batch, ret = runner.run(test_mode=False)
        T = runner.t
        assert 0 < T <= runner.episode_limit and ret >= 0
        assert batch["filled"][0, :T + 1].all() and not batch["filled"][0, T + 1:].any()
        assert batch["terminated"][0, T - 1] and not batch["terminated"][0, :T - 1].any()
        # every chosen action was available, and the stored vectors have the advertised sizes
        acts, avail = batch["actions"][0, :T], batch["avail_actions"][0, :T]
        assert np.take_along_axis(avail, acts[..., None], -1).all()
        assert batch["state"].shape[-1] == state_shape and batch["obs"].shape[2:] == (n_agents,
                                                                                     env_info["obs_shape"])
    runner.run(test_mode=True)
    assert runner.train_stats["n_episodes"] == 2 and runner.test_stats["n_episodes"] == 1
    assert set(runner.train_stats) >= {"battle_won", "dead_allies", "dead_enemies", "ep_length"}
    assert runner.t_env == runner.train_stats["ep_length"]
    runner.save_replay()                                  # pymarl: evaluate_sequential, then save_replay
    runner.close_env()
    files = list((tmp_path / "replays").glob(f"{map_name}_*.npz"))
    assert len(files) == 1
    assert len(load_replay(files[0], episode=-1)) == runner.t + 1   # the test episode, reset frame included
    assert n_actions == 6 + runner.env.n_enemies


# ------------------------------------------------------------------------------ MultiAgentEnv
def test_multiagentenv_base_class_and_subclassing():
    env = StarCraft2Env("3m", seed=0)
    assert isinstance(env, MultiAgentEnv)

    class Matrix(MultiAgentEnv):          # SMAC's subclassing pattern: set sizes, implement methods
        n_agents, episode_limit = 2, 1

        def get_state_size(self):
            return 4

        def get_obs_size(self):
            return 3

        def get_total_actions(self):
            return 5

    m = Matrix()
    assert m.get_env_info() == {"state_shape": 4, "obs_shape": 3, "n_actions": 5, "n_agents": 2,
                                "episode_limit": 1}
    with pytest.raises(NotImplementedError, match=r"Matrix does not implement MultiAgentEnv.step"):
        m.step([0, 0])
    with pytest.raises(NotImplementedError, match="save_replay"):
        m.save_replay()

    class Wrapped(StarCraft2Env):         # wrappers subclass the environment and call super()
        def get_obs_agent(self, agent_id):
            return np.concatenate([super().get_obs_agent(agent_id), [float(agent_id)]])

    w = Wrapped("3m", seed=0)
    w.reset()
    assert w.get_obs_agent(2)[-1] == 2.0 and len(w.get_obs_agent(0)) == w.get_obs_size() + 1


# ------------------------------------------------------------------------------ sizes and state dict
@pytest.mark.parametrize("map_name,kw", [
    ("3m", {}), ("2s3z", {"obs_last_action": True}), ("MMM2", {"obs_timestep_number": True}),
    ("corridor", {"obs_pathing_grid": True, "obs_terrain_height": True}),
    ("1c3s5z", {"obs_all_health": False, "obs_own_health": False}),
    ("3s5z", {"obs_all_health": False, "obs_own_health": True, "obs_last_action": True})])
def test_feature_sizes_add_up_to_the_observation(map_name, kw):
    env = StarCraft2Env(map_name, seed=0, **kw)
    move = env.get_obs_move_feats_size()
    n_e, f_e = env.get_obs_enemy_feats_size()
    n_a, f_a = env.get_obs_ally_feats_size()
    own = env.get_obs_own_feats_size()
    assert (n_e, n_a) == (env.n_enemies, env.n_agents - 1)
    assert move + n_e * f_e + n_a * f_a + own == env.get_obs_size() == len(env.get_obs()[0])
    names = env.get_obs_feature_names()
    assert all(n.startswith(("move_", "pathing_", "height_")) for n in names[:move])
    assert all(n.startswith("enemy_") for n in names[move:move + n_e * f_e])
    assert all(n.startswith("ally_") for n in names[move + n_e * f_e:move + n_e * f_e + n_a * f_a])
    assert all(n.startswith("own_") or n == "timestep" for n in names[-own:]) if own else True
    if kw.get("obs_all_health", True):    # SMAC: obs_own_health is ignored when obs_all_health is set
        assert env.obs_own_health


@pytest.mark.parametrize("map_name,kw", [("3m", {}), ("2s3z", {"state_timestep_number": True}),
                                         ("MMM2", {}), ("3s5z", {"state_last_action": False})])
def test_state_dict_matches_get_state(map_name, kw):
    env = StarCraft2Env(map_name, seed=2, **kw)
    rng = np.random.default_rng(0)
    info = env.get_env_info()
    assert len(info["agent_features"]) == env.get_ally_num_attributes()
    assert len(info["enemy_features"]) == env.get_enemy_num_attributes()
    env.reset()
    for t in range(60):
        sd = env.get_state_dict()
        assert sd["allies"].shape == (env.n_agents, len(info["agent_features"]))
        assert sd["enemies"].shape == (env.n_enemies, len(info["enemy_features"]))
        parts = [sd["allies"].ravel(), sd["enemies"].ravel()]
        assert ("last_action" in sd) == env.state_last_action
        if "last_action" in sd:
            parts.append(sd["last_action"].ravel())
        if "timestep" in sd:
            assert sd["timestep"] == pytest.approx(t / env.episode_limit)
            parts.append([sd["timestep"]])
        np.testing.assert_allclose(np.concatenate(parts), env.get_state(), atol=2e-6, rtol=0)
        _, term, _ = env.step(_random_actions(env, rng))
        if term:
            break
    assert t > 5                                       # several steps compared, the battle under way


@pytest.mark.parametrize("map_name", ["3m", "2s3z", "MMM2"])
def test_visibility_matrix_matches_the_observations(map_name):
    env = StarCraft2Env(map_name, seed=4)
    N, E = env.n_agents, env.n_enemies
    names = env.get_obs_feature_names()
    vis_cols = [names.index(f"ally_{k}_visible") for k in range(N - 1)]
    move = env.get_obs_move_feats_size()
    _, f_e = env.get_obs_enemy_feats_size()
    rng = np.random.default_rng(1)
    env.reset()
    seen = 0
    for _ in range(80):
        vis = env.get_visibility_matrix()
        assert vis.shape == (N, N + E) and vis.dtype == bool
        np.testing.assert_array_equal(vis[:, :N], vis[:, :N].T)
        assert not vis[np.arange(N), np.arange(N)].any()
        obs = np.stack(env.get_obs())
        for i in range(N):
            others = [k for k in range(N) if k != i]
            np.testing.assert_array_equal(vis[i, others], obs[i, vis_cols] == 1)
            enemy_rows = obs[i, move:move + E * f_e].reshape(E, f_e)
            np.testing.assert_array_equal(vis[i, N:], (enemy_rows != 0).any(1))
            if env.get_unit_by_id(i).health == 0:
                assert not vis[i].any()
        seen += int(vis[:, N:].sum())
        _, term, _ = env.step(_random_actions(env, rng))
        if term:
            break
    assert seen > 0                       # the battle was fought: enemies came into sight


# ------------------------------------------------------------------------------ unit views
@pytest.mark.parametrize("map_name", ["3m", "2s3z", "MMM2"])
def test_unit_views_match_the_state(map_name):
    env = StarCraft2Env(map_name, seed=5)
    rng = np.random.default_rng(2)
    env.reset()
    names = env.get_state_feature_names()
    col = {n: i for i, n in enumerate(names)}
    for _ in range(40):
        state = env.get_state()
        for i, u in env.agents.items():
            assert env.get_unit_by_id(i) is u and u.owner == 1
            assert u.health == pytest.approx(state[col[f"ally_{i}_health"]] * u.health_max, abs=1e-3)
            if u.health > 0:
                assert (u.pos.x - env.map_x / 2) / env.max_distance_x == pytest.approx(
                    state[col[f"ally_{i}_rel_x"]], abs=1e-5)
                assert (u.pos.y - env.map_y / 2) / env.max_distance_y == pytest.approx(
                    state[col[f"ally_{i}_rel_y"]], abs=1e-5)
        for j, u in env.enemies.items():
            assert u.owner == 2
            assert u.health == pytest.approx(state[col[f"enemy_{j}_health"]] * u.health_max, abs=1e-3)
            if env.shield_bits_enemy:
                assert u.shield == pytest.approx(state[col[f"enemy_{j}_shield"]] * u.shield_max, abs=1e-3)
            if u.health > 0:
                assert (u.pos.x - env.map_x / 2) / env.max_distance_x == pytest.approx(
                    state[col[f"enemy_{j}_rel_x"]], abs=1e-5)
        _, term, _ = env.step(_random_actions(env, rng))
        if term:
            break
    assert len(env.agents) == env.n_agents and len(env.enemies) == env.n_enemies
    assert len(env.get_unit_types()) == env.n_agents + env.n_enemies


def test_unit_views_are_read_only_snapshots_with_smac_type_ids():
    env = StarCraft2Env("MMM2", seed=0)
    env.reset()
    u = env.get_unit_by_id(0)
    with pytest.raises(AttributeError, match="read-only"):
        u.health = 0
    with pytest.raises(TypeError):
        env.agents[0] = u                                  # the mapping is read-only too
    with pytest.raises(AttributeError):
        env.agents = {}
    with pytest.raises(ValueError, match="agent_id"):
        env.get_unit_by_id(env.n_agents)
    before = (u.pos, u.health, u.energy)
    for _ in range(3):
        env.step([4 if a[4] else 1 for a in env.get_avail_actions()])      # walk east
    now = env.get_unit_by_id(0)
    assert now.pos.x > u.pos.x and (u.pos, u.health, u.energy) == before  # a view is a snapshot of its moment
    # type ids: allies SMAC's custom ids in one-hot order, enemies StarCraft II's
    kinds = {v.name: v.unit_type for v in env.agents.values()}
    assert kinds == {"marauder": env.marauder_id, "marine": env.marine_id, "medivac": env.medivac_id}
    assert [env.marauder_id, env.marine_id, env.medivac_id] == [env._min_unit_type + k for k in range(3)]
    assert {v.name: v.unit_type for v in env.enemies.values()} == {"marauder": 51, "marine": 48, "medivac": 54}
    state = env.get_state()
    names = env.get_state_feature_names()
    for i, a in env.agents.items():
        k = env.get_unit_type_id(a, True)                  # health, cooldown, rel_x, rel_y, then the one-hot
        assert names.index(f"ally_{i}_type_{a.name}") == names.index(f"ally_{i}_health") + 4 + k
        assert state[names.index(f"ally_{i}_type_{a.name}")] == 1
    medivac = [a for a in env.agents.values() if a.name == "medivac"][0]
    assert medivac.energy > 0 and medivac.energy_max == 200 and medivac.weapon_cooldown == 0
    assert env.unit_max_cooldown(medivac) == 200 and env.unit_max_shield(medivac) is None
    with pytest.raises(ValueError, match="unit type"):
        env.get_unit_type_id(env.enemies[0], True)


def test_can_move_and_surroundings_agree_with_masks_and_observations():
    env = StarCraft2Env("corridor", seed=0, obs_pathing_grid=True, obs_terrain_height=True)
    rng = np.random.default_rng(3)
    env.reset()
    names = env.get_obs_feature_names()
    p_cols = [i for i, n in enumerate(names) if n.startswith("pathing_")]
    h_cols = [i for i, n in enumerate(names) if n.startswith("height_")]
    assert len(p_cols) == env.n_obs_pathing and len(h_cols) == env.n_obs_height
    for _ in range(30):
        obs = env.get_obs()
        for i, u in env.agents.items():
            if u.health == 0:
                continue
            avail = env.get_avail_agent_actions(i)
            assert [int(env.can_move(u, d)) for d in Direction] == avail[2:6]
            np.testing.assert_allclose(obs[i][p_cols], env.get_surrounding_pathing(u))
            np.testing.assert_allclose(obs[i][h_cols], env.get_surrounding_height(u), atol=1e-6)
        _, term, _ = env.step(_random_actions(env, rng))
        if term:
            break
    assert env.pathing_grid.shape == (env.map_x, env.map_y) and not env.pathing_grid.all()
    assert env.check_bounds(0, 0) and not env.check_bounds(env.map_x, 0)
    assert env.distance(0, 0, 3, 4) == 5.0


# ------------------------------------------------------------------------------ counters, attributes
def test_counters_last_action_and_smac_attributes():
    env = StarCraft2Env("3m", seed=0)
    assert env.n_actions_no_attack == 6 and env.n_actions_move == 4
    assert env.unit_shoot_range(0) == 6 and env.unit_sight_range(0) == 9
    assert env.max_reward == 3 * 10 + 200 + 3 * 45 and env.reward_win == 200 and env.difficulty == "7"
    assert env.map_type == "marines" and env.unit_type_bits == 0 and env.shield_bits_enemy == 0
    obs, state = env.reset()
    np.testing.assert_array_equal(env.last_action, np.zeros((3, 9)))
    rng = np.random.default_rng(0)
    games = 0
    while games < 3:
        acts = _random_actions(env, rng)
        reward, term, info = env.step(acts)
        np.testing.assert_array_equal(env.last_action, np.eye(9)[acts])
        assert env.reward == reward
        if term:
            games += 1
            stats = env.get_stats()
            assert (env.battles_won, env.battles_game, env.timeouts) == (
                stats["battles_won"], stats["battles_game"], stats["timeouts"]) and env.battles_game == games
            env.reset()
            np.testing.assert_array_equal(env.last_action, np.zeros((3, 9)))
    assert env.force_restarts == 0 == env.get_stats()["restarts"] and env._total_steps >= games
    assert env.get_unit_types() == [env.marine_id] * 3 + [48] * 3 and env.marine_id == env._min_unit_type
    assert env.stalker_id == env.medivac_id == 0                  # types absent from the map, as SMAC
    u = env.get_unit_by_id(0)
    assert len(env.get_surrounding_points(u)) == 8 and env.get_surrounding_points(u, True)[-1] == (
        int(u.pos.x), int(u.pos.y))
    assert [int(d) for d in Direction] == [0, 1, 2, 3]
    custom = StarCraft2Env("3m", seed=0, obs_last_action=True, step_mul=4, move_amount=1.5, reward_win=100,
                           window_size_x=640, window_size_y=480, game_version="4.10", debug=True,
                           replay_prefix="p", continuing_episode=True)
    assert custom.obs_last_action and custom._step_mul == 4 and custom._move_amount == 1.5
    assert custom.reward_win == 100 and custom.max_reward == 3 * 10 + 100 + 3 * 45
    assert custom.window_size == (640, 480) and custom.game_version == "4.10" and custom.debug
    assert custom.replay_prefix == "p" and custom.continuing_episode and not custom.heuristic_ai
    for name in ("get_agent_action", "reward_battle", "get_agent_action_heuristic"):
        with pytest.raises(NotImplementedError):
            getattr(env, name)(*([0, 1] if name != "reward_battle" else []))


def test_only_medivac_left_follows_smac():
    env = StarCraft2Env("MMM", seed=0)
    env.reset()
    assert not env.only_medivac_left(ally=True) and not env.only_medivac_left(ally=False)
    b = env.batched
    for i, a in env.agents.items():
        if a.name != "medivac":
            b._place(0, i, health=0)
    for j, e in env.enemies.items():
        if e.name != "medivac":
            b._place(0, env.n_agents + j, health=0)
    env._set(b.observe())
    assert env.only_medivac_left(ally=True) and env.only_medivac_left(ally=False)
    assert not StarCraft2Env("3m", seed=0).only_medivac_left(ally=True)


# ------------------------------------------------------------------------------ step input
def test_step_accepts_what_smac_accepts():
    ref, env = StarCraft2Env("3m", seed=7), StarCraft2Env("3m", seed=7)
    ref.reset()
    env.reset()
    rng = np.random.default_rng(0)
    forms = [lambda a: [np.int64(x) for x in a], lambda a: np.array(a, dtype=np.float32),
             lambda a: torch.tensor(a), lambda a: torch.tensor(a, dtype=torch.float64), tuple,
             lambda a: [torch.tensor(x) for x in a], lambda a: np.array(a, dtype=np.uint8),
             lambda a: [float(x) for x in a]]
    for t in range(24):
        acts = _random_actions(ref, rng)
        r1, t1, i1 = ref.step(acts)
        r2, t2, i2 = env.step(forms[t % len(forms)](acts))
        assert (r1, t1, i1) == (r2, t2, i2)
        np.testing.assert_array_equal(ref.get_state(), env.get_state())
        if t1:
            ref.reset()
            env.reset()
    env.reset()
    with pytest.raises(ValueError, match=r"one action per agent.*\(2,\)"):
        env.step(np.array([1, 1], dtype=np.float64))
    with pytest.raises(ValueError, match="whole numbers"):
        env.step(np.array([1, 1, 1.5]))
    with pytest.raises(ValueError, match="whole numbers"):
        env.step([1, 1, float("nan")])
    with pytest.raises(TypeError, match="integers"):
        env.step(np.array([True, True, True]))
    with pytest.raises(TypeError, match="integers"):
        env.step([1, 1, "1"])
    with pytest.raises(TypeError, match="sequence"):
        env.step(1)
    with pytest.raises(ValueError, match="action 0"):
        env.step(torch.tensor([0, 1, 1]))                 # no-op is only for the dead


# ------------------------------------------------------------------------------ render
def test_render_rgb_array_and_human(monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    env = StarCraft2Env("2s3z", seed=0)
    env.reset()
    img = env.render(mode="rgb_array")
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and img.std() > 0
    figs = plt.get_fignums()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no "non-interactive backend" warning
        assert env.render() is None                        # human under Agg: nothing shown, no hang
    assert plt.get_fignums() == figs
    with pytest.raises(ValueError, match="rgb_array"):
        env.render(mode="ansi")
    # a notebook: the frame is displayed as the cell's output
    import IPython.display

    shown = []
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(IPython.display, "clear_output", lambda wait=False: None)
    assert env.render(mode="human") is None
    assert len(shown) == 1 and isinstance(shown[0], matplotlib.figure.Figure)
    # a desktop window: one figure, updated by later calls, closed by close()
    paused = []
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "tkagg")
    monkeypatch.setattr(plt, "pause", lambda s: paused.append(s))
    env.render()
    env.step([1] * env.n_agents)
    env.render()
    assert len(paused) == 2 and len(plt.get_fignums()) == len(figs) + 1
    env.close()
    assert plt.get_fignums() == figs
