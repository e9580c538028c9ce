"""Property-based tests (hypothesis): random maps, seeds and sequences of available actions keep every
invariant: shapes, 0 <= health <= max, shields within [0, max], at least one available action per
agent, no NaN, features within their normalised ranges."""
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.envs import BatchedSMAC, list_maps
from course_lib.envs.smac.policies import random_policy

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(map_name=st.sampled_from(list_maps()), seed=st.integers(0, 2**31 - 1), n_envs=st.integers(1, 3),
       policy_seed=st.integers(0, 1000), steps=st.integers(1, 25))
def test_invariants_hold_along_random_trajectories(map_name, seed, n_envs, policy_seed, steps):
    env = BatchedSMAC(map_name, n_envs, seed=seed)
    g = torch.Generator().manual_seed(policy_seed)
    nxt = env.reset()
    B, N, A = n_envs, env.n_agents, env.n_actions
    for _ in range(steps):
        assert nxt["obs"].shape == (B, N, env.obs_dim) and nxt["obs"].dtype == torch.float32
        assert nxt["state"].shape == (B, env.state_dim) and nxt["state"].dtype == torch.float32
        assert nxt["avail"].shape == (B, N, A) and nxt["avail"].dtype == torch.bool
        assert nxt["avail"].any(-1).all()                          # >= 1 available action per agent
        assert not torch.isnan(nxt["obs"]).any() and not torch.isnan(nxt["state"]).any()
        assert nxt["obs"].abs().max() <= 1.0 + 1e-6 and nxt["state"].abs().max() <= 1.0 + 1e-6
        assert (env.health >= 0).all() and (env.health <= env.C.hp_max + 1e-4).all()
        assert (env.shield >= 0).all() and (env.shield <= env.C.sh_max + 1e-4).all()
        assert torch.equal(env.alive, env.health > 0)
        # units stay on the map
        assert (env.pos >= 0).all() and (env.pos[..., 0] <= env.C.width).all()
        assert (env.pos[..., 1] <= env.C.height).all()
        nxt, r, term, info = env.step(random_policy(nxt["avail"], g))
        assert r.shape == (B,) and r.dtype == torch.float32 and not torch.isnan(r).any()
        assert (r >= 0).all()                                      # reward_only_positive
        assert term.dtype == torch.bool and info["battle_won"].dtype == torch.bool
        assert (info["dead_allies"] >= 0).all() and (info["dead_allies"] <= N).all()
        assert (info["dead_enemies"] >= 0).all() and (info["dead_enemies"] <= env.n_enemies).all()
        assert not (info["battle_won"] & ~term).any() and not (info["episode_limit"] & ~term).any()


@SETTINGS
@given(map_name=st.sampled_from(["3m", "2s3z", "MMM", "corridor", "bane_vs_bane", "2s_vs_1sc"]),
       seed=st.integers(0, 10_000), steps=st.integers(1, 20))
def test_ground_units_never_stand_in_walls(map_name, seed, steps):
    env = BatchedSMAC(map_name, 2, seed=seed)
    g = torch.Generator().manual_seed(seed)
    nxt = env.reset()
    grid = torch.as_tensor(env.C.terrain.pathing.copy())
    ground = ~torch.tensor([u.air or u.cliff_walk for u in env.C.units])
    for _ in range(steps):
        nxt, *_ = env.step(random_policy(nxt["avail"], g))
        cells = env.pos.floor().long()
        walk = grid[cells[..., 1].clamp(0, env.C.height - 1), cells[..., 0].clamp(0, env.C.width - 1)]
        assert (walk | ~ground | ~env.alive).all()
