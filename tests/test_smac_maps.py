"""Every SMAC map: sizes from the spec table, unit-type one-hots (with SMAC's enemy-order quirk) and
all-zero observation/state rows for dead units."""
import numpy as np
import pytest
import torch

from course_lib.envs import BatchedSMAC, StarCraft2Env, list_maps, make_env
from course_lib.envs.smac.maps import MAPS

# spec section 6: map, agents, enemies, limit, actions, obs, state
SPEC_TABLE = """
3m 3 3 60 9 30 48
8m 8 8 120 14 80 168
25m 25 25 150 31 250 950
5m_vs_6m 5 6 70 12 55 98
8m_vs_9m 8 9 120 15 85 179
10m_vs_11m 10 11 150 17 105 243
27m_vs_30m 27 30 180 36 285 1170
MMM 10 10 150 16 160 290
MMM2 10 12 180 18 176 322
2s3z 5 5 120 11 80 120
3s5z 8 8 150 14 128 216
3s5z_vs_3s6z 8 9 170 15 136 230
3s_vs_3z 3 3 150 9 36 54
3s_vs_4z 3 4 200 10 42 61
3s_vs_5z 3 5 250 11 48 68
1c3s5z 9 9 180 15 162 270
2m_vs_1z 2 1 150 7 16 26
corridor 6 24 400 30 156 282
6h_vs_8z 6 8 150 14 78 140
2s_vs_1sc 2 1 300 7 17 27
so_many_baneling 7 32 100 38 202 397
bane_vs_bane 24 24 200 30 336 984
2c_vs_64zg 2 64 400 70 332 342
"""
ROWS = [line.split() for line in SPEC_TABLE.strip().splitlines()]
TABLE = {r[0]: tuple(int(x) for x in r[1:]) for r in ROWS}


def test_list_maps_is_the_spec_table():
    assert list_maps() == [r[0] for r in ROWS]
    assert "5s10z" in list_maps(include_extensions=True) and "5s10z" not in list_maps()


@pytest.mark.parametrize("name", list(TABLE))
def test_sizes_match_spec_table(name):
    n_ag, n_en, limit, acts, obs, state = TABLE[name]
    env = StarCraft2Env(map_name=name, seed=0)
    assert (env.n_agents, env.n_enemies, env.episode_limit) == (n_ag, n_en, limit)
    assert (env.get_total_actions(), env.get_obs_size(), env.get_state_size()) == (acts, obs, state)
    info = env.get_env_info()
    assert {k: info[k] for k in ("state_shape", "obs_shape", "n_actions", "n_agents", "episode_limit")} == {
        "state_shape": state, "obs_shape": obs, "n_actions": acts, "n_agents": n_ag, "episode_limit": limit}
    o, s = env.reset()
    assert len(o) == n_ag and all(x.shape == (obs,) and x.dtype == np.float32 for x in o)
    assert s.shape == (state,) and s.dtype == np.float32
    assert len(env.get_obs_feature_names()) == obs and len(env.get_state_feature_names()) == state
    assert len(set(env.get_obs_feature_names())) == obs  # names are unique
    avail = env.get_avail_actions()
    assert len(avail) == n_ag and all(len(a) == acts for a in avail)
    # a fresh battle: everyone alive, nobody may no-op, everyone may stop
    assert all(a[0] == 0 and a[1] == 1 for a in avail)


def test_option_sizes_follow_smac_formulas():
    # obs_last_action adds n_actions per other ally; timestep numbers add one feature each;
    # obs_instead_of_state makes the state the concatenation of the observations
    env = BatchedSMAC("3m", 2, obs_last_action=True, obs_timestep_number=True, state_timestep_number=True,
                      state_last_action=False)
    assert env.obs_dim == 30 + 2 * 9 + 1
    assert env.state_dim == 48 - 3 * 9 + 1
    env = BatchedSMAC("3m", 2, obs_instead_of_state=True)
    nxt = env.reset()
    assert env.state_dim == 3 * 30
    assert torch.equal(nxt["state"], nxt["obs"].reshape(2, -1))
    env = BatchedSMAC("3m", 1, obs_all_health=False, obs_own_health=False, obs_pathing_grid=True,
                      obs_terrain_height=True)
    assert env.obs_dim == 4 + 8 + 9 + 3 * 4 + 2 * 4 + 0
    nxt = env.reset()
    names = env.get_obs_feature_names()
    assert len(names) == env.obs_dim and "pathing_n" in names and "height_self" in names
    # open arena: every surrounding point of a unit near the centre is walkable (1) at height 0.5
    o = nxt["obs"][0, 0]
    assert torch.all(o[[names.index(f"pathing_{d}") for d in ("n", "s", "e", "w")]] == 1.0)
    assert o[names.index("height_self")].item() == pytest.approx(0.5)


def test_extension_map_5s10z_uses_the_same_formulas():
    env = make_env("5s10z", n_envs=2)
    # nf_en = nf_al = 4 + 1 + 1 + 2 = 8, own = 1 + 1 + 2 = 4
    assert env.obs_dim == 4 + 15 * 8 + 14 * 8 + 4
    assert env.state_dim == 15 * (4 + 1 + 2) + 15 * (3 + 1 + 2) + 15 * 21
    assert MAPS["5s10z"].extension


def _feature(env, names, agent, name, nxt=None):
    nxt = nxt if nxt is not None else env.observe()
    return nxt["obs"][0, agent, names.index(name)].item()


def test_mmm_allies_ordered_marauders_marines_medivac():
    env = BatchedSMAC("MMM", 1, seed=3)
    nxt = env.reset()
    names = env.get_obs_feature_names()
    bits = ["own_type_marauder", "own_type_marine", "own_type_medivac"]
    types = [[_feature(env, names, i, b, nxt) for b in bits] for i in range(10)]
    assert types == [[1, 0, 0]] * 2 + [[0, 1, 0]] * 7 + [[0, 0, 1]]
    # within a type, agents are sorted by x then y (SMAC sorts by (type, x, y))
    x = env.pos[0, 2:9, 0]
    assert torch.all(x[1:] >= x[:-1])
    # the medivac's attack slots heal allies
    assert env.get_action_names(9)[6] == "heal_ally_0" and env.get_action_names(0)[6] == "attack_0"


@pytest.mark.parametrize("name", ["2s3z", "3s5z", "3s5z_vs_3s6z"])
def test_enemy_type_order_quirk_on_stalker_zealot_maps(name):
    env = BatchedSMAC(name, 1, seed=0)
    env.reset()
    N = env.n_agents
    # ally 0 is a stalker (SMAC sorts allies by type: stalker=0, zealot=1)
    assert env.C.names[0] == "stalker" and env.C.names[N] == "stalker"
    # bring enemy 0 (a stalker) and the last enemy (a zealot) next to agent 0
    env._place(0, N, pos=(env.pos[0, 0, 0] + 2.0, env.pos[0, 0, 1]))
    nxt = env._place(0, env.C.U - 1, pos=(env.pos[0, 0, 0] + 2.0, env.pos[0, 0, 1] + 1.5))
    names = env.get_obs_feature_names()
    o = nxt["obs"][0, 0]
    own = [o[names.index("own_type_stalker")].item(), o[names.index("own_type_zealot")].item()]
    e0 = o[[names.index("enemy_0_type_zealot"), names.index("enemy_0_type_stalker")]].tolist()
    j = env.n_enemies - 1
    ez = o[[names.index(f"enemy_{j}_type_zealot"), names.index(f"enemy_{j}_type_stalker")]].tolist()
    assert own == [1.0, 0.0]          # ally one-hot: stalker 0, zealot 1
    assert e0 == [0.0, 1.0]           # enemy one-hot: zealot 0, stalker 1 -> a stalker is [0, 1]
    assert ez == [1.0, 0.0]           # and a zealot is [1, 0]
    # raw layout: the enemy stalker's two type bits are the last two of its row, in that order
    first = names.index("enemy_0_attackable")
    row = o[first:first + 8].tolist()  # attackable, dist, dx, dy, health, shield, bit0, bit1
    assert row[-2:] == [0.0, 1.0]


def test_colossus_map_and_bane_map_type_bits():
    env = BatchedSMAC("1c3s5z", 1, seed=0)
    nxt = env.reset()
    names = env.get_obs_feature_names()
    o = nxt["obs"][0]
    assert [o[0, names.index(f"own_type_{t}")].item() for t in ("colossus", "stalker", "zealot")] == [1, 0, 0]
    assert [o[8, names.index(f"own_type_{t}")].item() for t in ("colossus", "stalker", "zealot")] == [0, 0, 1]
    env = BatchedSMAC("bane_vs_bane", 1, seed=0)
    nxt = env.reset()
    names = env.get_obs_feature_names()
    o = nxt["obs"][0]
    assert [o[0, names.index(f"own_type_{t}")].item() for t in ("baneling", "zergling")] == [1, 0]
    assert [o[23, names.index(f"own_type_{t}")].item() for t in ("baneling", "zergling")] == [0, 1]


def test_single_type_maps_have_no_type_bits():
    env = BatchedSMAC("8m", 1)
    assert not any("type_" in n for n in env.get_obs_feature_names())
    assert not any("type_" in n for n in env.get_state_feature_names())


@pytest.mark.parametrize("name", list(TABLE))
def test_dead_units_are_zero_in_obs_and_state(name):
    env = BatchedSMAC(name, 1, seed=1)
    env.reset()
    N, E = env.n_agents, env.n_enemies
    # gather everybody close to agent 0 so that every row would be filled if alive
    x0, y0 = env.pos[0, 0].tolist()
    for u in range(1, N + E):
        env._place(0, u, pos=(x0 + 0.1 * ((u % 7) - 3), y0 + 0.1 * ((u // 7) % 7 - 3)))
    nxt = env.observe()
    onames, snames = env.get_obs_feature_names(), env.get_state_feature_names()
    o = nxt["obs"][0]
    # alive and in sight: the rows of enemy 0 and of ally slot 0 are filled
    assert o[0, onames.index("enemy_0_dist")] > 0 or o[0, onames.index("enemy_0_health")] > 0
    if N > 1:
        assert o[0, onames.index("ally_0_visible")] == 1.0
    # kill enemy 0 and agent 1 (if any)
    env._place(0, N, health=0)
    if N > 1:
        nxt = env._place(0, 1, health=0)
    else:
        nxt = env.observe()
    o, s = nxt["obs"][0], nxt["state"][0]
    for i in range(N):
        row = o[i]
        assert torch.all(row[[k for k, n in enumerate(onames) if n.startswith("enemy_0_")]] == 0)
    e_idx = [k for k, n in enumerate(snames) if n.startswith("enemy_0_")]
    assert torch.all(s[e_idx] == 0)
    if N > 1:
        assert torch.all(o[1] == 0)                                  # a dead agent observes nothing
        # agent 0 sees agent 1 in its ally slot 0: all zero
        assert torch.all(o[0, [k for k, n in enumerate(onames) if n.startswith("ally_0_")]] == 0)
        a_idx = [k for k, n in enumerate(snames) if n.startswith("ally_1_") and "last_action" not in n]
        assert torch.all(s[a_idx] == 0)
        # a dead agent may only no-op
        assert nxt["avail"][0, 1].tolist() == [True] + [False] * (env.n_actions - 1)
