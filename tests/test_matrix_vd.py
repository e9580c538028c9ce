"""course_lib.matrix_vd: fit_matrix_game's API (shapes, seeds, errors), what its tables mean, and its plots.

The learning claims on the non-monotonic game (VDN at the additive bound, QMIX better, QTRAN exact) live in
tests/test_matrix_game_vd.py; here the runs are short except one: VDN on an additive game, which it must
represent exactly.
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from course_lib.envs.matrix_games import get_matrix_game  # noqa: E402
from course_lib.matrix_vd import ALGS, MatrixFit, fit_matrix_game, one_step_batch, plot_joint_q, plot_table  # noqa: E402

NON_MONOTONIC = [[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]]
FOUR = np.arange(16.0).reshape(4, 4) % 5 - 2.0  # a 4-action game, not additive


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("payoff", [NON_MONOTONIC, FOUR], ids=["3x3", "4x4"])
def test_shapes_and_what_the_tables_mean(alg, payoff):
    p = np.asarray(payoff, dtype=float)
    n = p.shape[0]
    fit = fit_matrix_game(alg, p, steps=15, seed=0)
    assert isinstance(fit, MatrixFit) and fit.alg == alg
    assert fit.q_agents.shape == (2, n) and fit.q_joint.shape == (n, n)
    assert fit.losses.shape == (15,) and np.all(np.isfinite(fit.losses)) and np.all(fit.losses >= 0)
    np.testing.assert_array_equal(fit.payoff, p)
    # decentralised greedy = each agent's own argmax
    assert fit.greedy_action == (int(np.argmax(fit.q_agents[0])), int(np.argmax(fit.q_agents[1])))
    assert fit.greedy_value == p[fit.greedy_action]
    assert fit.mse == pytest.approx(float(((fit.q_joint - p) ** 2).mean()), rel=1e-12)
    np.testing.assert_allclose(fit.q_sum, fit.q_agents[0][:, None] + fit.q_agents[1][None, :])
    if alg in ("vdn", "iql"):  # VDN's Q_tot is the sum; IQL reports the sum
        np.testing.assert_allclose(fit.q_joint, fit.q_sum, atol=1e-5)
    else:  # a real mixer: not just the sum of the utilities
        assert np.abs(fit.q_joint - fit.q_sum).max() > 1e-3
    assert (fit.v is not None) == (alg == "qtran")
    if alg == "qtran":
        assert isinstance(fit.v, float) and np.isfinite(fit.v)


def test_qmix_joint_value_is_monotonic_in_each_agents_utility_and_its_max_is_the_greedy_cell():
    fit = fit_matrix_game("qmix", "non_monotonic", steps=60, seed=1)
    q1, q2, qj = fit.q_agents[0], fit.q_agents[1], fit.q_joint
    for a in range(3):
        for a2 in range(3):
            if q1[a] >= q1[a2]:  # raising agent 1's value can only raise Q_tot, whatever agent 2 does
                assert np.all(qj[a] >= qj[a2] - 1e-5)
            if q2[a] >= q2[a2]:
                assert np.all(qj[:, a] >= qj[:, a2] - 1e-5)
    assert qj[fit.greedy_action] == pytest.approx(qj.max(), abs=1e-5)  # IGM


def test_vdn_recovers_an_additive_game_and_each_agents_contribution():
    contrib1, contrib2 = np.array([0.0, 4.0, 8.0]), np.array([1.0, 0.0, 2.0])
    fit = fit_matrix_game("vdn", np.add.outer(contrib1, contrib2), steps=300, seed=0)
    assert fit.mse < 1e-3
    assert fit.greedy_action == (2, 2) and fit.found_optimum
    # utilities are the contributions up to a constant moved between the agents
    np.testing.assert_allclose(fit.q_agents[0] - fit.q_agents[0].mean(), contrib1 - contrib1.mean(), atol=0.05)
    np.testing.assert_allclose(fit.q_agents[1] - fit.q_agents[1].mean(), contrib2 - contrib2.mean(), atol=0.05)
    assert fit.losses[-50:].mean() < 0.01 * fit.losses[:50].mean()


def test_same_seed_same_numbers_other_seed_other_numbers_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = fit_matrix_game("qmix", NON_MONOTONIC, steps=25, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # a different global state must not matter
    b = fit_matrix_game("qmix", NON_MONOTONIC, steps=25, seed=3)
    c = fit_matrix_game("qmix", NON_MONOTONIC, steps=25, seed=4)
    np.testing.assert_array_equal(a.q_joint, b.q_joint)
    np.testing.assert_array_equal(a.q_agents, b.q_agents)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.seed == 3 and c.seed == 4
    assert not np.allclose(a.q_joint, c.q_joint)


def test_a_game_a_name_and_a_payoff_give_the_same_fit():
    game = get_matrix_game("climbing")
    fits = [fit_matrix_game("VDN", g, steps=10, seed=0) for g in (game, "climbing", game.payoff.tolist())]
    assert fits[0].alg == "vdn"
    for f in fits[1:]:
        np.testing.assert_array_equal(f.q_joint, fits[0].q_joint)
    assert fits[1].game.name == "climbing"


def test_batch_size_changes_the_data():
    a = fit_matrix_game("vdn", NON_MONOTONIC, steps=10, seed=0, batch=32)
    b = fit_matrix_game("vdn", NON_MONOTONIC, steps=10, seed=0, batch=8)
    assert not np.allclose(a.losses, b.losses)


def test_unknown_alg_names_it_and_lists_the_allowed_ones():
    with pytest.raises(ValueError) as err:
        fit_matrix_game("qplex", NON_MONOTONIC, steps=1)
    msg = str(err.value)
    assert "qplex" in msg and all(a in msg for a in ("iql", "vdn", "qmix", "qtran"))


@pytest.mark.parametrize("kwargs, word", [
    (dict(game_or_payoff=[[1.0, 2.0, 3.0]]), "square"),
    (dict(game_or_payoff=[[1.0, np.nan], [0.0, 1.0]]), "finite"),
    (dict(game_or_payoff="no_such_game"), "no_such_game"),
    (dict(steps=0), "steps"),
    (dict(batch=-2), "batch"),
    (dict(seed=-1), "seed"),
    (dict(lr=0.0), "lr"),
])
def test_bad_arguments_raise_a_clear_error(kwargs, word):
    args = dict(game_or_payoff=NON_MONOTONIC, steps=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        fit_matrix_game("vdn", **args)


def test_one_step_batch_holds_the_payoff_of_each_joint_action():
    payoff = torch.tensor(NON_MONOTONIC)
    actions = torch.tensor([[0, 0], [0, 2], [1, 1], [2, 0]])
    b = one_step_batch(payoff, actions)
    assert b.obs.shape == (4, 2, 2, 1) and b.state.shape == (4, 2, 1) and b.avail.shape == (4, 2, 2, 3)
    assert b.actions.shape == (4, 1, 2) and b.reward.shape == (4, 1)
    assert b.reward[:, 0].tolist() == [8.0, -12.0, 0.0, -12.0]
    assert b.terminated.sum() == 4 and b.filled.sum() == 4 and b.lengths.tolist() == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="joint actions"):
        one_step_batch(payoff, torch.zeros(4, 3, dtype=torch.long))


def _annotations(ax):
    return [t.get_text() for t in ax.texts]


def test_plot_joint_q_draws_the_learned_table_beside_the_payoff_with_the_greedy_cell_outlined():
    fit = fit_matrix_game("vdn", NON_MONOTONIC, steps=10, seed=0)
    ax = plot_joint_q(fit)
    fig = ax.figure
    heatmaps = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(heatmaps) == 2 and heatmaps[1] is ax
    assert _annotations(ax) == [f"{v:.1f}" for v in fit.q_joint.ravel()]
    assert _annotations(heatmaps[0]) == [f"{v:g}" for v in np.asarray(NON_MONOTONIC).ravel()]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (0.0, 0.0, 0.0)]
    assert [(int(p.get_y()), int(p.get_x())) for p in boxes] == [fit.greedy_action]
    assert "VDN" in ax.get_title() and f"{fit.mse:.1f}" in ax.get_title()


def test_plot_joint_q_into_given_axes_and_bad_axes():
    fit = fit_matrix_game("qtran", NON_MONOTONIC, steps=5, seed=0)
    fig, axes = plt.subplots(1, 3)
    out = plot_joint_q(fit, ax=axes[2], title="mine")
    assert out is axes[2] and out.get_title() == "mine" and not axes[0].texts  # one panel only
    assert plot_joint_q(fit, ax=axes[:2]) is axes[1] and len(axes[0].texts) == 9
    with pytest.raises(ValueError, match="pair"):
        plot_joint_q(fit, ax=axes)
    with pytest.raises(ValueError, match="does not match"):
        plot_joint_q(fit, payoff="coordination")


def test_plot_table_checks_its_input_and_outlines_a_cell():
    ax = plot_table(np.array([[1.0, -2.0], [0.5, 3.0]]), title="t", outline=(1, 0), fmt=".2f")
    assert _annotations(ax) == ["1.00", "-2.00", "0.50", "3.00"] and ax.get_title() == "t"
    assert [(p.get_y(), p.get_x()) for p in ax.patches if isinstance(p, Rectangle)][-1] == (1, 0)
    with pytest.raises(ValueError, match="2-D"):
        plot_table(np.zeros(3))
