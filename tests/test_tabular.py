"""Tabular Q-learning: the update rule by hand, epsilon-greedy statistics, grid worlds, a learning run."""
import numpy as np
import pytest

from course_lib.schedules import EpsilonSchedule
from course_lib.tabular import (
    epsilon_greedy, greedy_policy, greedy_rollout, list_gridworlds, make_gridworld, q_learning_update, train_q_learning,
)
from course_lib.tabular.gridworld import GridWorld


# ----------------------------------------------------------------------------- update rule
def test_q_learning_update_matches_hand_calculation():
    Q = np.array([[0.0, 0.0], [2.0, 5.0], [4.0, -2.0]])
    # target = 1 + 0.9 * max(2, 5) = 5.5 ; new = 0 + 0.5 * (5.5 - 0) = 2.75
    new = q_learning_update(Q, 0, 1, 1.0, 1, False, alpha=0.5, gamma=0.9)
    assert new == pytest.approx(2.75)
    assert Q[0, 1] == pytest.approx(2.75)
    # everything else untouched
    assert Q[0, 0] == 0.0 and Q[1].tolist() == [2.0, 5.0] and Q[2].tolist() == [4.0, -2.0]


def test_q_learning_update_terminal_does_not_bootstrap():
    Q = np.array([[4.0, 0.0], [100.0, 100.0]])
    # done: target = r = -1 ; new = 4 + 0.25 * (-1 - 4) = 2.75 (the 100s of the next state are ignored)
    assert q_learning_update(Q, 0, 0, -1.0, 1, True, alpha=0.25, gamma=0.9) == pytest.approx(2.75)


def test_q_learning_update_repeated_converges_to_fixed_point():
    # A single self-looping state with reward 1 and gamma 0.5 has Q* = 1 / (1 - 0.5) = 2.
    Q = np.zeros((1, 1))
    for _ in range(200):
        q_learning_update(Q, 0, 0, 1.0, 0, False, alpha=0.5, gamma=0.5)
    assert Q[0, 0] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("alpha,gamma", [(0.0, 0.9), (1.5, 0.9), (0.5, -0.1), (0.5, 1.2)])
def test_q_learning_update_rejects_bad_hyperparameters(alpha, gamma):
    with pytest.raises(ValueError, match="alpha|gamma"):
        q_learning_update(np.zeros((2, 2)), 0, 0, 0.0, 1, False, alpha, gamma)


# ----------------------------------------------------------------------------- epsilon-greedy
def test_epsilon_greedy_frequencies():
    rng = np.random.default_rng(123)
    q = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    n = 40_000
    acts = np.array([epsilon_greedy(q, 0.3, rng) for _ in range(n)])
    freq = np.bincount(acts, minlength=5) / n
    # greedy: 0.7 + 0.3/5 = 0.76 ; every other action 0.3/5 = 0.06
    assert freq[2] == pytest.approx(0.76, abs=0.01)
    assert np.allclose(freq[[0, 1, 3, 4]], 0.06, atol=0.006)


def test_epsilon_greedy_extremes_and_ties():
    rng = np.random.default_rng(0)
    assert {epsilon_greedy(np.array([1.0, 9.0, 2.0]), 0.0, rng) for _ in range(100)} == {1}
    uniform = np.bincount([epsilon_greedy(np.array([1.0, 9.0, 2.0]), 1.0, rng) for _ in range(6000)], minlength=3) / 6000
    assert np.allclose(uniform, 1 / 3, atol=0.03)
    ties = np.bincount([epsilon_greedy(np.array([5.0, 0.0, 5.0]), 0.0, rng) for _ in range(4000)], minlength=3) / 4000
    assert ties[1] == 0.0 and ties[0] == pytest.approx(0.5, abs=0.04)


def test_epsilon_greedy_bad_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy(np.zeros(3), 1.5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        epsilon_greedy(np.zeros(3), 0.1, np.random)


# ----------------------------------------------------------------------------- grid worlds
def test_unknown_gridworld_lists_known_names():
    with pytest.raises(ValueError) as err:
        make_gridworld("cliffs")
    msg = str(err.value)
    assert "'cliffs'" in msg
    for name in list_gridworlds():
        assert name in msg
    assert {"cliff", "four_rooms", "frozen_lake_4x4"} <= set(list_gridworlds())


@pytest.mark.parametrize("layout,match", [
    (["S.X", "..G"], "unknown cell"), (["..", ".G"], "start"), (["S.", ".."], "goal"), (["S..", "G"], "equal length"),
])
def test_bad_layouts_raise(layout, match):
    with pytest.raises(ValueError, match=match):
        GridWorld(layout)


def test_cliff_dynamics():
    env = make_gridworld("cliff")
    s, _ = env.reset()
    assert env.to_cell(s) == (3, 0)
    with pytest.raises(ValueError, match="action"):
        env.step(4)
    s, r, term, trunc, _ = env.step(1)  # right: into the cliff -> back to start with -100
    assert (env.to_cell(s), r, term, trunc) == ((3, 0), -100.0, False, False)
    s, r, term, _, _ = env.step(3)  # left: border, stays
    assert (env.to_cell(s), r, term) == ((3, 0), -1.0, False)
    s, r, term, _, _ = env.step(0)  # up
    assert env.to_cell(s) == (2, 0)


def test_truncation_after_max_steps():
    env = make_gridworld("frozen_lake_4x4", max_steps=3)
    env.reset()
    flags = [env.step(3)[2:4] for _ in range(3)]  # bump into the left wall three times
    assert flags == [(False, False), (False, False), (False, True)]


def test_slippery_transitions_sum_to_one_and_sampling_follows_them():
    env = make_gridworld("frozen_lake_4x4_slippery")
    for s in range(env.n_states):
        for a in range(4):
            assert sum(p for p, *_ in env.transitions(s, a)) == pytest.approx(1.0)
    # from the start, action "right": intended (0,1) with 1/3, slip up -> stay (0,0) 1/3, slip down -> (1,0) 1/3
    model = {env.to_cell(s2): p for p, s2, _, _ in env.transitions(env.start_state, 1)}
    assert model == pytest.approx({(0, 1): 1 / 3, (0, 0): 1 / 3, (1, 0): 1 / 3})
    env.reset(seed=0)
    counts = {}
    for _ in range(6000):
        env.reset()
        s2 = env.step(1)[0]
        counts[env.to_cell(s2)] = counts.get(env.to_cell(s2), 0) + 1
    for cell, p in model.items():
        assert counts[cell] / 6000 == pytest.approx(p, abs=0.03)


# ----------------------------------------------------------------------------- learning
def test_q_learning_learns_the_cliff_optimal_path():
    env = make_gridworld("cliff")
    Q, returns = train_q_learning(env, 300, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0, progress=False)
    assert Q.shape == (48, 4) and returns.shape == (300,)
    states, total = greedy_rollout(env, Q)
    # The shortest safe path: up, 11 x right, down = 13 steps of -1.
    assert total == -13.0
    assert len(states) == 14
    assert all(env.cell_type(s) != "C" for s in states)
    # Learning happened: early episodes are far worse than late ones.
    assert returns[:20].mean() < returns[-50:].mean()


def test_q_learning_four_rooms_with_schedule_reaches_goal_by_shortest_path():
    env = make_gridworld("four_rooms")
    Q, returns = train_q_learning(env, 200, alpha=0.5, gamma=0.95, epsilon=EpsilonSchedule(1.0, 0.05, 5000),
                                  seed=1, progress=False)
    states, total = greedy_rollout(env, Q)
    assert total == 1.0
    assert len(states) - 1 == 20  # Manhattan distance start (1,1) -> goal (11,11), reachable without detours
    assert greedy_policy(Q).shape == (env.n_states,)


def test_train_q_learning_is_seed_deterministic_and_validates():
    env = make_gridworld("cliff")
    q1, r1 = train_q_learning(env, 30, seed=7, progress=False)
    q2, r2 = train_q_learning(env, 30, seed=7, progress=False)
    q3, _ = train_q_learning(env, 30, seed=8, progress=False)
    assert np.array_equal(q1, q2) and np.array_equal(r1, r2)
    assert not np.array_equal(q1, q3)
    with pytest.raises(ValueError, match="epsilon"):
        train_q_learning(env, 5, epsilon=2.0, progress=False)
    with pytest.raises(ValueError, match="episodes"):
        train_q_learning(env, 0, progress=False)


def test_value_heatmap_checks_shape():
    import matplotlib
    matplotlib.use("Agg")
    from course_lib.tabular.plots import plot_value_heatmap
    env = make_gridworld("frozen_lake_4x4")
    ax = plot_value_heatmap(np.zeros((env.n_states, 4)), env)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("H") == 4 and texts.count("G") == 1
    with pytest.raises(ValueError, match="shape"):
        plot_value_heatmap(np.zeros((5, 4)), env)


@pytest.mark.parametrize("gamma,steps,ret", [(0.6, 2, 1.0), (0.9, 9, 10.0)])
def test_discount_decides_between_near_and_far_goal(gamma, steps, ret):
    # near goal (+1) 2 steps away, far goal (+10) 9 steps away: far is optimal iff gamma^7 > 0.1 (gamma > 0.72).
    env = make_gridworld("two_goals")
    Q, _ = train_q_learning(env, 300, alpha=0.5, gamma=gamma, epsilon=1.0, seed=0, progress=False)  # off-policy
    states, total = greedy_rollout(env, Q)
    assert (len(states) - 1, total) == (steps, ret)


def test_goal_rewards_must_name_goal_cells():
    with pytest.raises(ValueError, match="not a 'G' cell"):
        GridWorld(["S.G"], goal_rewards={(0, 1): 5.0})
    env = GridWorld(["G.S.G"], goal_rewards={(0, 4): 5.0})
    env.reset()
    env.step(1)
    assert env.step(1)[1:3] == (5.0, True)
