"""The traced step (``trace=True``, the default for small CPU batches) replays the eager step exactly."""
import pytest
import torch

from course_lib.envs import BatchedSMAC
from course_lib.envs.smac.policies import focus_fire_policy, random_policy

# one map per rule family: plain, shields, medivac healing, colossus line splash, baneling explosion and
# zergling regeneration, static spine crawler, walls (corridor), ravine with cliff-walking colossi
MAPS = ["3m", "2s3z", "MMM2", "1c3s5z", "bane_vs_bane", "2s_vs_1sc", "corridor", "2c_vs_64zg"]


def _play(env, steps, gen_seed):
    g = torch.Generator().manual_seed(gen_seed)
    nxt = env.reset()
    out = [nxt]
    for t in range(steps):
        # mix random play with focus fire so that battles are fought to the end and auto-reset happens
        a = focus_fire_policy(env) if t % 3 == 0 else random_policy(nxt["avail"], g)
        nxt, r, term, info = env.step(a)
        out.append({**nxt, "reward": r, "terminated": term, **info,
                    "health": env.health.clone(), "pos": env.pos.clone()})
    return out


@pytest.mark.parametrize("map_name", MAPS)
def test_traced_step_equals_eager_step(map_name):
    traced = BatchedSMAC(map_name, 3, seed=5, trace=True)
    eager = BatchedSMAC(map_name, 3, seed=5, trace=False)
    assert traced.traced and not eager.traced
    steps = 120 if map_name in ("3m", "2s3z", "bane_vs_bane") else 60
    a, b = _play(traced, steps, 1), _play(eager, steps, 1)
    for t, (x, y) in enumerate(zip(a, b)):
        for k in x:
            assert torch.equal(x[k], y[k]), f"{map_name}: '{k}' differs at step {t}"
    if map_name == "3m":
        assert traced.get_stats()["battles_game"] > 0  # the comparison covered auto-resets


def test_trace_defaults_and_exclusions():
    assert BatchedSMAC("3m", 1).traced                  # a single CPU environment: traced
    assert not BatchedSMAC("3m", 128).traced            # large batches: eager (bandwidth-bound anyway)
    with pytest.raises(ValueError, match="compile"):
        BatchedSMAC("3m", 1, compile=True, trace=True)


def test_state_dict_and_deepcopy_continue_exactly():
    import copy

    env = BatchedSMAC("2s3z", 2, seed=9)
    g = torch.Generator().manual_seed(0)
    nxt = env.reset()
    for _ in range(7):
        nxt, *_ = env.step(random_policy(nxt["avail"], g))
    sd = env.state_dict()
    twin = copy.deepcopy(env)
    assert twin.traced
    other = BatchedSMAC("2s3z", 2, seed=0)
    other.load_state_dict(sd)
    a = focus_fire_policy(env)
    outs = [e.step(a) for e in (env, twin, other)]
    for o in outs[1:]:
        assert torch.equal(o[0]["obs"], outs[0][0]["obs"]) and torch.equal(o[1], outs[0][1])
    with pytest.raises(ValueError, match="n_envs"):
        BatchedSMAC("2s3z", 3).load_state_dict(sd)
    with pytest.raises(ValueError, match="map_name"):
        BatchedSMAC("3m", 2).load_state_dict(sd)


def test_facade_runs_in_inference_mode_and_copies_continue_exactly():
    import copy

    from course_lib.envs import StarCraft2Env

    env = StarCraft2Env("3m", seed=1)
    env.reset()
    env.step([1, 1, 1])
    assert env.batched.health.is_inference()          # cheaper dispatch; the facade only hands out NumPy
    twin = copy.deepcopy(env)
    assert env.step([2, 2, 2]) == twin.step([2, 2, 2])
    assert (env.get_state() == twin.get_state()).all() and env.get_avail_actions() == twin.get_avail_actions()
    env.batched._place(0, 0, health=10.0)              # the test hook still works on inference tensors
    assert env.batched.health[0, 0].item() == 10.0


def _has_compiler() -> bool:
    import shutil

    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))


@pytest.mark.skipif(not _has_compiler(), reason="torch.compile on the CPU needs a C++ compiler (none on PATH)")
def test_compiled_step_follows_the_same_rules_up_to_float_rounding():
    """compile=True (the fast option at 1-64 games) plays the same battles: the same masks, rewards, terminations
    and outcomes; only float rounding in the observations differs (inductor fuses and reorders arithmetic)."""
    compiled = BatchedSMAC("3m", 8, seed=5, compile=True)
    eager = BatchedSMAC("3m", 8, seed=5, trace=False)
    a, b = _play(compiled, 60, 1), _play(eager, 60, 1)
    for t, (x, y) in enumerate(zip(a, b)):
        for k in x:
            if x[k].is_floating_point():
                assert torch.allclose(x[k], y[k], atol=1e-4, rtol=1e-5), f"'{k}' differs at step {t}"
            else:
                assert torch.equal(x[k], y[k]), f"'{k}' differs at step {t}"
    assert eager.get_stats()["battles_game"] > 0  # the comparison covered whole battles and auto-resets
