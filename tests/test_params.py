"""count_parameters: closed-form counts agree with the real modules, from the map table alone."""
import pytest

from course_lib import count_parameters
from course_lib.config import make_config
from course_lib.params import map_sizes
from course_lib.train import build_networks

# (map, n_agents, n_actions, obs, state) copied from smac_spec.md section 6
SPEC_TABLE = [("3m", 3, 9, 30, 48), ("2s3z", 5, 11, 80, 120), ("MMM2", 10, 18, 176, 322),
              ("27m_vs_30m", 27, 36, 285, 1170), ("corridor", 6, 30, 156, 282), ("6h_vs_8z", 6, 14, 78, 140)]


@pytest.mark.parametrize("map_name,n_agents,n_actions,obs,state", SPEC_TABLE)
def test_map_sizes_match_the_spec_table(map_name, n_agents, n_actions, obs, state):
    s = map_sizes(map_name)
    assert (s["n_agents"], s["n_actions"], s["obs_dim"], s["state_dim"]) == (n_agents, n_actions, obs, state)


def numel(module):
    return 0 if module is None else sum(p.numel() for p in module.parameters())


CASES = [("iql", "3m", {}), ("vdn", "2s3z", {}), ("qmix", "3m", {}), ("qmix", "MMM2", {}),
         ("qmix", "27m_vs_30m", {"hypernet_layers": 2}), ("qmix", "8m", {"mixing_embed_dim": 16}),
         ("qtran", "3m", {}), ("qtran", "corridor", {"rnn_hidden_dim": 32}),
         ("qtran", "3m", {"qtran_v": "state"}),
         ("mixrts", "MMM2", {}), ("mixrts", "3m", {"tree_depth": 2, "mixer_trees": 8, "preset": "fast"}),
         ("vdn", "3m", {"obs_agent_id": False}),
         ("qmix", "3m", {"preset": "fast"}), ("qmix", "3m", {"env_args": {"obs_last_action": True}})]


@pytest.mark.parametrize("alg,map_name,over", CASES)
def test_counts_match_the_modules(alg, map_name, over):
    got = count_parameters(alg, map_name, **over)
    over = dict(over)
    preset = over.pop("preset", "pymarl")
    cfg = make_config(alg, map_name, preset, **over)
    mac, mixer = build_networks(cfg, map_sizes(map_name, **cfg.env_args))
    assert got == {"agent": numel(mac), "mixer": numel(mixer), "total": numel(mac) + numel(mixer)}
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in got.values())
    assert got["agent"] > 0 and got["total"] >= got["agent"]


def test_counts_by_hand_for_3m():
    # agent input 30 + 9 + 3 = 42: fc1 42*64+64, GRU 3*(64*64+64)*2, fc2 64*9+9
    agent = 42 * 64 + 64 + 6 * (64 * 64 + 64) + 64 * 9 + 9
    assert count_parameters("vdn", "3m") == {"agent": agent, "mixer": 0, "total": agent}
    # QMIX, S = 48, embed 32: W1 48*96+96, w2 48*32+32, b1 48*32+32, V 48*32+32 + 32+1
    mixer = (48 * 96 + 96) + 3 * (48 * 32 + 32) + 33
    assert count_parameters("qmix", "3m")["mixer"] == mixer


def test_ordering_and_errors():
    for m in ("3m", "2s3z", "MMM2"):
        c = {a: count_parameters(a, m)["total"] for a in ("iql", "vdn", "qmix", "qtran")}
        assert c["iql"] == c["vdn"] < c["qmix"]
    with pytest.raises(ValueError, match="unknown SMAC map '4m'"):
        count_parameters("qmix", "4m")
    with pytest.raises(ValueError, match="unknown algorithm"):
        count_parameters("coma", "3m")
    with pytest.raises(TypeError, match="valid fields"):
        count_parameters("qmix", "3m", embed=3)


def test_counts_match_the_modules_for_every_algorithm_and_map():
    """count_parameters (meta device, no simulator) == numel of what train builds, and == the closed forms."""
    from course_lib.config import list_algs
    from course_lib.envs import list_maps
    from course_lib.params import agent_parameters, mixer_parameters, mixrt_agent_parameters

    assert "mixrts" in list_algs() and len(list_maps()) >= 20
    for map_name in list_maps():
        sizes = map_sizes(map_name)
        for alg in list_algs():
            cfg = make_config(alg, map_name)
            mac, mixer = build_networks(cfg, sizes)
            got = count_parameters(alg, map_name)
            want = {"agent": numel(mac), "mixer": numel(mixer), "total": numel(mac) + numel(mixer)}
            assert got == want, (alg, map_name)
            in_dim = sizes["obs_dim"] + sizes["n_actions"] + sizes["n_agents"]
            if cfg.agent == "acorm":  # no closed form in the notebooks for ACORM's three-part agent
                continue
            if cfg.agent == "mixrt":
                closed = mixrt_agent_parameters(in_dim, sizes["n_actions"], cfg.rnn_hidden_dim, cfg.tree_depth)
            else:
                closed = agent_parameters(in_dim, sizes["n_actions"], cfg.rnn_hidden_dim)
            assert got["agent"] == closed, (alg, map_name)
            assert got["mixer"] == mixer_parameters(cfg, sizes), (alg, map_name)
    cfg = make_config("qtran", "3m", qtran_v="state")
    assert count_parameters("qtran", "3m", qtran_v="state")["mixer"] == mixer_parameters(cfg, map_sizes("3m"))


TALK_MAPS = ("3m", "2s3z", "5m_vs_6m", "3s5z", "8m_vs_9m", "MMM2", "6h_vs_8z")


def test_mixrts_by_hand_on_3m_and_fewer_parameters_than_qmix_and_qtran_on_the_talks_maps():
    # agent: input 42, 32 trees of depth 3: per level k Linear(42, 32*2^k) + Linear(32, 32*2^k); leaves 32*8;
    # head Linear(32, 9, bias=False)
    agent = sum(42 * 32 * 2 ** k + 32 * 2 ** k + 32 * 32 * 2 ** k + 32 * 2 ** k for k in range(3)) + 32 * 8 + 32 * 9
    # mixer: Linear(48, 16); cell x = 3 Qs, 16 trees of depth 3; Linear(16, 3, bias=False)
    mixer = (48 * 16 + 16) + sum(3 * 16 * 2 ** k + 16 * 2 ** k + 16 * 16 * 2 ** k + 16 * 2 ** k for k in range(3)) \
        + 16 * 8 + 16 * 3
    assert count_parameters("mixrts", "3m") == {"agent": agent, "mixer": mixer, "total": agent + mixer}
    for m in TALK_MAPS:
        c = {a: count_parameters(a, m)["total"] for a in ("qmix", "qtran", "mixrts")}
        assert c["mixrts"] < c["qmix"] and c["mixrts"] < c["qtran"], (m, c)


def test_parameter_table_rows_are_maps_and_columns_algorithms():
    from course_lib.params import parameter_table

    t = parameter_table()
    assert list(t.columns) == ["vdn", "qmix", "qtran", "mixrts"] and tuple(t.index) == TALK_MAPS
    assert t.loc["MMM2", "qmix"] == count_parameters("qmix", "MMM2")["total"]
    assert (t["mixrts"] < t["qmix"]).all() and (t["mixrts"] < t["qtran"]).all()
    m = parameter_table(["qmix"], ["3m"], part="mixer")
    assert m.loc["3m", "qmix"] == 9441
    with pytest.raises(ValueError, match="part='all'"):
        parameter_table(part="all")
