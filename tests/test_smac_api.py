"""API contract: batched vs facade, determinism, auto-reset, reset(mask), snapshot and bad input."""
import numpy as np
import pytest
import torch

from course_lib.envs import BatchedSMAC, StarCraft2Env, list_maps, make_env
from course_lib.envs.smac.policies import focus_fire_policy, random_policy


def _rollout_batched(env, steps, gen_seed=0):
    """Random valid actions; returns the list of (obs, state, avail, reward, terminated) per step."""
    g = torch.Generator().manual_seed(gen_seed)
    nxt = env.reset()
    out = [(nxt["obs"].clone(), nxt["state"].clone(), nxt["avail"].clone(), None, None)]
    for _ in range(steps):
        a = random_policy(nxt["avail"], g)
        nxt, r, term, info = env.step(a)
        out.append((nxt["obs"].clone(), nxt["state"].clone(), nxt["avail"].clone(), r.clone(), term.clone()))
    return out


@pytest.mark.parametrize("map_name", ["3m", "2s3z", "MMM", "corridor"])
def test_batched_env0_and_facade_play_identical_trajectories(map_name):
    seed = 11
    batched = BatchedSMAC(map_name, 4, seed=seed, auto_reset=False)
    facade = StarCraft2Env(map_name=map_name, seed=seed)
    nxt = batched.reset()
    obs, state = facade.reset()
    g = torch.Generator().manual_seed(3)
    for t in range(40):
        assert np.array_equal(np.stack(obs), nxt["obs"][0].numpy())
        assert np.array_equal(state, nxt["state"][0].numpy())
        assert facade.get_avail_actions() == nxt["avail"][0].long().tolist()
        a = random_policy(nxt["avail"], g)
        nxt, r, term, info = batched.step(a)
        reward, terminated, finfo = facade.step(a[0].tolist())
        assert reward == pytest.approx(r[0].item(), abs=0.0)
        assert terminated == bool(term[0]) and finfo["battle_won"] == bool(info["battle_won"][0])
        obs, state = facade.get_obs(), facade.get_state()
        if term.any():
            break


def test_same_seed_same_trajectory_different_seed_differs():
    a = _rollout_batched(BatchedSMAC("8m", 3, seed=7), 30)
    b = _rollout_batched(BatchedSMAC("8m", 3, seed=7), 30)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            assert (u is None and v is None) or torch.equal(u, v)
    c = _rollout_batched(BatchedSMAC("8m", 3, seed=8), 30)
    assert not torch.equal(a[0][1], c[0][1])                 # different start positions
    # the environments of one batch differ from each other too
    assert not torch.equal(a[0][1][0], a[0][1][1])


def test_environment_b_does_not_depend_on_n_envs():
    small = BatchedSMAC("3m", 2, seed=4)
    big = BatchedSMAC("3m", 9, seed=4)
    assert torch.equal(small.reset()["state"], big.reset()["state"][:2])


def test_auto_reset_reports_final_step_and_returns_new_first_obs():
    env = BatchedSMAC("3m", 8, seed=2, auto_reset=True)
    env.reset()
    for _ in range(200):
        nxt, r, term, info = env.step(focus_fire_policy(env))
        if term.any():
            break
    assert term.any()
    done = term.nonzero().flatten()
    # the final step's info: somebody's side is wiped out (or the clock ran out)
    final = info["dead_allies"][done] == 3
    final |= info["dead_enemies"][done] == 3
    final |= info["episode_limit"][done]
    assert final.all()
    # ... while nxt already holds the first observation of the next episode
    assert torch.all(env.t[done] == 0)
    assert torch.all(nxt["avail"][done][:, :, 1])            # everybody alive again
    fresh = BatchedSMAC("3m", 8, seed=2)
    # episode 2 of env b starts where a fresh env's second reset starts (counter-based randomness)
    fresh.reset()
    assert torch.equal(nxt["state"][done], fresh.reset()["state"][done])


def test_reset_mask_restarts_only_selected_envs():
    env = BatchedSMAC("3m", 4, seed=0, auto_reset=False)
    env.reset()
    for _ in range(5):
        env.step(torch.full((4, 3), 4, dtype=torch.long))    # everyone walks east
    moved = env.pos.clone()
    mask = torch.tensor([True, False, True, False])
    nxt = env.reset(mask)
    assert nxt["obs"].shape == (4, 3, 30)
    assert torch.all(env.t == torch.tensor([0, 5, 0, 5]))
    assert torch.equal(env.pos[1], moved[1]) and not torch.equal(env.pos[0], moved[0])
    with pytest.raises(TypeError):
        env.reset(torch.tensor([1, 0, 1, 0]))
    with pytest.raises(ValueError):
        env.reset(torch.tensor([True, False]))


def test_step_after_termination_without_reset_raises():
    env = BatchedSMAC("2s3z", 2, seed=0, auto_reset=False)
    env.reset()
    for u in range(5, 10):
        env._place(0, u, health=0)                            # env 0: all enemies dead -> won next step
    _, _, term, info = env.step(torch.ones(2, 5, dtype=torch.long))
    assert term.tolist() == [True, False] and info["battle_won"][0]
    with pytest.raises(RuntimeError, match=r"\[0\].*reset"):
        env.step(torch.ones(2, 5, dtype=torch.long))
    env.reset(torch.tensor([True, False]))
    env.step(torch.ones(2, 5, dtype=torch.long))              # fine again
    facade = StarCraft2Env("2s3z", seed=0)
    facade.reset()
    for u in range(5, 10):
        facade.batched._place(0, u, health=0)
    facade._set(facade.batched.observe())
    _, term, info = facade.step([1] * 5)
    assert term and info["battle_won"]
    with pytest.raises(RuntimeError, match="reset"):
        facade.step([1] * 5)


def test_unknown_map_lists_the_maps():
    with pytest.raises(ValueError) as e:
        BatchedSMAC("4m", 2)
    msg = str(e.value)
    assert "4m" in msg and all(m in msg for m in list_maps())
    with pytest.raises(ValueError, match="corridor"):
        StarCraft2Env(map_name="nope")


def test_bad_actions_batched():
    env = BatchedSMAC("3m", 2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match=r"\[2, 3\]"):
        env.step(torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="float"):
        env.step(torch.ones(2, 3))
    with pytest.raises(TypeError):
        env.step(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(TypeError):
        env.step(torch.ones(2, 3, dtype=torch.bool))
    bad = torch.ones(2, 3, dtype=torch.long)
    bad[1, 2] = 7                                             # attack enemy 1: nobody is in range yet
    with pytest.raises(ValueError) as e:
        env.step(bad)
    msg = str(e.value)
    assert "env 1" in msg and "agent 2" in msg and "action 7" in msg and "[1, 2, 3, 4, 5]" in msg
    bad[1, 2] = 0                                             # no-op while alive
    with pytest.raises(ValueError, match="no_op"):
        env.step(bad)
    bad[1, 2] = 99
    with pytest.raises(ValueError, match="outside"):
        env.step(bad)
    env.step(torch.ones(2, 3, dtype=torch.int32))             # any integer dtype is fine


def test_bad_actions_facade():
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    with pytest.raises(ValueError, match="shape"):
        env.step([1, 1])
    with pytest.raises(ValueError, match="whole numbers"):
        env.step([1.5, 1.0, 1.0])                             # SMAC's int() would truncate it silently
    with pytest.raises(TypeError, match="integers"):
        env.step([True, 1, 1])
    with pytest.raises(TypeError):
        env.step("111")
    with pytest.raises(ValueError) as e:
        env.step([1, 1, 8])
    msg = str(e.value)
    assert "env 0" in msg and "agent 2" in msg and "action 8" in msg and "available" in msg
    reward, term, info = env.step(np.array([1, 2, 3]))        # numpy ints are fine
    assert isinstance(reward, float) and isinstance(term, bool) and isinstance(info, dict)
    env.step(torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError):
        env.get_obs_agent(3)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError) as e:
        BatchedSMAC("3m", 2, reward_positive=True)
    assert "reward_positive" in str(e.value) and "reward_only_positive" in str(e.value)
    with pytest.raises(TypeError, match="obs_lastaction"):
        StarCraft2Env("3m", obs_lastaction=True)
    with pytest.raises(ValueError, match="n_envs"):
        BatchedSMAC("3m", 0)
    with pytest.raises(ValueError, match="seed"):
        BatchedSMAC("3m", 1, seed=-1)
    with pytest.raises(ValueError, match="difficulty"):
        BatchedSMAC("3m", 1, difficulty="11")
    with pytest.raises(ValueError, match="backend"):
        make_env("3m", backend="starcraft")
    StarCraft2Env("3m", game_version=None, replay_dir="", debug=False)   # real-game keywords: ignored


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA"):
        BatchedSMAC("3m", 2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        StarCraft2Env("3m", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_matches_cpu_start():
    cpu = BatchedSMAC("3m", 4, seed=1)
    gpu = BatchedSMAC("3m", 4, seed=1, device="cuda")
    assert torch.allclose(cpu.reset()["state"], gpu.reset()["state"].cpu(), atol=1e-5)
    nxt, r, term, info = gpu.step(focus_fire_policy(gpu))
    assert nxt["obs"].device.type == "cuda" and r.device.type == "cuda"


def test_make_env_front_doors():
    single = make_env("3m", seed=0)
    assert isinstance(single, StarCraft2Env)
    batched = make_env("3m", n_envs=3, seed=0)
    assert isinstance(batched, BatchedSMAC) and batched.n_envs == 3
    with pytest.raises(Exception) as e:                       # real SMAC / StarCraft II not installed here
        make_env("3m", backend="sc2")
    assert "install" in str(e.value).lower() or "smac" in str(e.value).lower()


def test_facade_api_matches_smac():
    env = StarCraft2Env(map_name="3m", seed=5)
    obs, state = env.reset()
    assert isinstance(obs, list) and len(obs) == 3 and state.shape == (48,)
    assert np.array_equal(env.get_obs_agent(1), obs[1])
    assert env.seed() == 5
    info = env.get_env_info()
    assert set(info) >= {"state_shape", "obs_shape", "n_actions", "n_agents", "episode_limit"}
    stats = env.get_stats()
    assert set(stats) == {"battles_won", "battles_game", "battles_draw", "win_rate", "timeouts", "restarts"}
    env.close()
    names = env.get_obs_feature_names()
    assert names[:4] == ["move_north", "move_south", "move_east", "move_west"]
    assert "enemy_2_health" in names and "ally_0_dist" in names and "own_health" in names
    assert "ally_2_health" in env.get_state_feature_names()
    # seed(s) replays the same episodes as a fresh env with that seed
    env.seed(9)
    o1, s1 = env.reset()
    o2, s2 = StarCraft2Env("3m", seed=9).reset()
    assert np.array_equal(s1, s2)
    random_seeded = StarCraft2Env("3m")
    assert isinstance(random_seeded.seed(), int)


def test_snapshot_contract():
    env = BatchedSMAC("MMM", 2, seed=0)
    env.reset()
    env.step(focus_fire_policy(env))
    snap = env.snapshot(1)
    U = 20
    assert snap["map_name"] == "MMM" and snap["t"] == 1 and snap["n_agents"] == 10 and snap["n_enemies"] == 10
    assert snap["pathing"].shape == (snap["height"], snap["width"]) and snap["pathing"].dtype == bool
    for key, shape in [("pos", (U, 2)), ("team", (U,)), ("radius", (U,)), ("health", (U,)),
                       ("health_max", (U,)), ("shield", (U,)), ("shield_max", (U,)), ("alive", (U,)),
                       ("target", (U,)), ("last_actions", (10,))]:
        assert snap[key].shape == shape, key
    assert snap["unit_type"][:3] == ["marauder", "marauder", "marine"] and snap["unit_type"][9] == "medivac"
    assert snap["team"].tolist() == [0] * 10 + [1] * 10
    assert np.all((snap["target"] >= -1) & (snap["target"] < U))
    with pytest.raises(ValueError):
        env.snapshot(2)


def test_facade_render_delegates_to_the_renderer():
    pytest.importorskip("course_lib.envs.smac.render")
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    frame = env.render("rgb_array")
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
