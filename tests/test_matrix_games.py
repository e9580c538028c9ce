"""Cooperative matrix games: payoffs, registry errors, equilibria, plotting, and the two learners."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_lib.envs.matrix_games import (
    MatrixGame,
    get_matrix_game,
    independent_q_learning,
    joint_action_learning,
    list_matrix_games,
    plot_payoff,
    pure_nash_equilibria,
)


def test_payoffs_from_the_papers():
    climbing = get_matrix_game("climbing").payoff
    assert climbing.tolist() == [[11, -30, 0], [-30, 7, 6], [0, 0, 5]]
    assert get_matrix_game("penalty").payoff.tolist() == [[10, 0, -100], [0, 2, 0], [-100, 0, 10]]  # Claus & Boutilier's layout
    assert get_matrix_game("penalty", k=-25).payoff[0, 2] == -25
    assert get_matrix_game("penalty", k=-25).payoff[2, 0] == -25
    assert get_matrix_game("non_monotonic").payoff.tolist() == [[8, -12, -12], [-12, 0, 0], [-12, 0, 0]]
    coord = get_matrix_game("coordination")
    assert coord.payoff.shape == (2, 2) and coord.optimal_joint_actions == [(0, 0), (1, 1)]
    assert set(list_matrix_games()) == {"climbing", "penalty", "non_monotonic", "coordination"}
    for name in list_matrix_games():
        g = get_matrix_game(name)
        assert isinstance(g, MatrixGame) and g.description and g.payoff.dtype == np.float64


def test_payoff_is_read_only_and_games_are_independent():
    g = get_matrix_game("climbing")
    with pytest.raises(ValueError):
        g.payoff[0, 0] = 0
    assert get_matrix_game("climbing").payoff[0, 0] == 11


def test_bad_names_and_keywords():
    with pytest.raises(ValueError, match="unknown matrix game 'prisoners'.*climbing.*penalty.*non_monotonic"):
        get_matrix_game("prisoners")
    with pytest.raises(ValueError, match="unexpected keyword.*allowed keywords: none"):
        get_matrix_game("climbing", k=3)
    with pytest.raises(ValueError, match="k <= 0"):
        get_matrix_game("penalty", k=5)
    with pytest.raises(ValueError, match="square"):
        MatrixGame("bad", np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_episodes"):
        independent_q_learning("climbing", n_episodes=0)
    with pytest.raises(ValueError, match="alpha"):
        joint_action_learning("climbing", alpha=1.5)


def test_optimal_actions_and_pure_equilibria_by_hand():
    climbing = get_matrix_game("climbing")
    assert climbing.optimal_joint_actions == [(0, 0)] and climbing.optimal_value == 11
    # (0,0)=11 and (1,1)=7 are equilibria; (2,2)=5 is not (agent 2 prefers column 1: 6 > 5).
    assert pure_nash_equilibria(climbing) == [(0, 0), (1, 1)]
    assert pure_nash_equilibria(get_matrix_game("penalty")) == [(0, 0), (1, 1), (2, 2)]
    assert pure_nash_equilibria(np.array([[0.0, 1.0], [1.0, 0.0]])) == [(0, 1), (1, 0)]


def test_plot_payoff_annotates_every_cell():
    import matplotlib.pyplot as plt

    ax = plot_payoff("climbing")
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(str(int(v)) for v in get_matrix_game("climbing").payoff.ravel())
    assert ax.get_xlabel() == "agent 2 action" and ax.get_title() == "climbing"
    plt.close("all")


@pytest.mark.parametrize("name", ["climbing", "penalty"])
def test_independent_learners_miscoordinate_where_joint_learner_finds_optimum(name):
    seeds = range(5)
    iql = [independent_q_learning(name, n_episodes=1500, seed=s) for s in seeds]
    jal = [joint_action_learning(name, n_episodes=1500, seed=s) for s in seeds]
    assert sum(r.found_optimum for r in iql) <= 1, [r.greedy_action for r in iql]
    assert all(r.found_optimum for r in jal), [r.greedy_action for r in jal]
    game = get_matrix_game(name)
    for r in iql:
        assert r.q.shape == (2, game.n_actions)
        assert r.greedy_value == game.payoff[r.greedy_action]
    for r in jal:
        assert r.q.shape == (game.n_actions, game.n_actions)
        # Explored cells converge to the payoff (alpha=0.1, stationary targets).
        np.testing.assert_allclose(r.q[r.greedy_action], game.optimal_value, atol=0.5)


def test_independent_q_tracks_average_payoff_over_partner_under_uniform_exploration():
    # With epsilon = 1 both agents act uniformly, so Q_1[a] -> mean_b payoff[a, b].
    game = get_matrix_game("climbing")
    r = independent_q_learning(game, n_episodes=6000, alpha=0.01, epsilon_start=1.0, epsilon_end=1.0, seed=3)
    np.testing.assert_allclose(r.q[0], game.payoff.mean(axis=1), atol=2.0)
    np.testing.assert_allclose(r.q[1], game.payoff.mean(axis=0), atol=2.0)


def test_learners_are_seeded_and_record_history():
    a = independent_q_learning("penalty", n_episodes=300, seed=11, record_every=50)
    b = independent_q_learning("penalty", n_episodes=300, seed=11, record_every=50)
    c = independent_q_learning("penalty", n_episodes=300, seed=12, record_every=50)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.rewards, b.rewards)
    assert not np.array_equal(a.rewards, c.rewards)
    assert a.q_history.shape == (300 // 50 + 1, 2, 3) and np.all(a.q_history[0] == 0)
    np.testing.assert_array_equal(a.q_history[-1], a.q)
    assert a.rewards.shape == (300,)
    j = joint_action_learning("non_monotonic", n_episodes=200, seed=0, record_every=100)
    assert j.q_history.shape == (3, 3, 3)
