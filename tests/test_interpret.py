"""Interpretation tools on a (tiny) trained MIXRTs run: per-step importance, mixing weights, files, pictures."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib import train  # noqa: E402
from course_lib.interpret import (episode_importance, feature_importance, load_policy_file,  # noqa: E402
                                  plot_importance_curves, plot_mixing_weights, plot_node_weight_heatmap, save_policy)

pytest.importorskip("course_lib.envs")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train("mixrts", "3m", preset="fast", seed=0, t_max=600, n_envs=4, batch_size=8, test_nepisodes=4,
                 test_interval=600, checkpoint_interval=10**9, run_dir=tmp_path_factory.mktemp("mixrts"),
                 progress=False)


def test_episode_importance_records_every_step(run):
    res = episode_importance(run, "3m", seed=3)
    T, N = res["length"], 3
    assert 0 < T <= 60 and len(res["frames"]) == T + 1
    assert res["feature_names"][-1] == "own_health" and len(res["feature_names"]) == 30
    assert res["importance"].shape == (T, N, 30) and res["input_importance"].shape == (T, N, 30 + 9 + 3)
    assert res["input_names"][30] == "last_action_0" and res["input_names"][-1] == "agent_id_2"
    w = res["mixing_weights"]
    assert w.shape == (T, N) and (w >= 0).all() and np.allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.allclose(res["q_tot"], (w * res["q"]).sum(-1), atol=1e-5)
    assert res["alive"].dtype == bool and res["alive"][0].all()
    assert res["agent_names"] == ["marine_0", "marine_1", "marine_2"]
    # the first step's importance is feature_importance of the first input from a zero hidden state
    from course_lib.envs import BatchedSMAC

    env = BatchedSMAC("3m", 1, seed=3, auto_reset=False)
    nxt = env.reset()
    mac = run.mac
    x = mac.build_inputs(nxt["obs"], torch.zeros(1, 3, 9))
    with torch.no_grad():
        first = feature_importance(mac.agent.cell, x, mac.init_hidden(1))[0].numpy()
    assert np.allclose(res["input_importance"][0], first, atol=1e-5)
    # same seed, same episode
    again = episode_importance(run, "3m", seed=3, record_frames=False)
    assert again["frames"] is None and np.array_equal(again["actions"], res["actions"])
    with pytest.raises(ValueError, match="map '8m' has 8"):
        episode_importance(run, "8m")


def test_small_policy_file_loads_with_weights_only(run, tmp_path):
    p = save_policy(run, tmp_path / "mixrts_3m.pt")
    blob = torch.load(p, weights_only=True)
    assert blob["alg"] == "mixrts" and blob["config"]["rnn_hidden_dim"] == 32
    mac, mixer, config = load_policy_file(p)
    for a, b in zip(mac.parameters(), run.mac.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(mixer.parameters(), run.mixer.parameters()):
        assert torch.equal(a, b)
    res = episode_importance(p, "3m", seed=3, record_frames=False)
    assert np.allclose(res["mixing_weights"], episode_importance(run, "3m", seed=3)["mixing_weights"])
    with pytest.raises(ValueError, match="not a course_lib policy file"):
        torch.save({"x": torch.zeros(1)}, tmp_path / "other.pt")
        load_policy_file(tmp_path / "other.pt")


def test_pictures(run):
    import matplotlib.pyplot as plt

    res = episode_importance(run, "3m", seed=1, record_frames=False)
    names = res["feature_names"]
    fig = plot_node_weight_heatmap(run.mac, names, depth=2, trees=[0, 1])
    assert len(fig.axes[0].get_yticklabels()) == 2 * 4 and len(fig.axes[0].get_xticklabels()) == 30
    fig_sel = plot_node_weight_heatmap(run.mac, names, depth=0, select=["own_health", "enemy_0_health"])
    assert [t.get_text() for t in fig_sel.axes[0].get_xticklabels()] == ["own_health", "enemy_0_health"]
    w = run.mac.agent.cell.inner_weights(0)[:8, 0, 29].detach().numpy()  # own_health is feature 29 on 3m
    assert np.allclose(fig_sel.axes[0].images[0].get_array()[:, 0], w)
    fig_all = plot_node_weight_heatmap(run.mac.agent.cell, names)
    assert len([a for a in fig_all.axes if a.get_title()]) == 3
    ax = plot_importance_curves(res, "own_health")
    assert len(ax.get_legend().get_texts()) == 3
    ax2 = plot_mixing_weights(res)
    assert ax2.get_ylim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="unknown feature"):
        plot_importance_curves(res, "shield")
    with pytest.raises(ValueError, match="trees \\[40\\] out of range"):
        plot_node_weight_heatmap(run.mac, names, depth=0, trees=[40])
    plt.close("all")
