"""Exercise checks of notebooks 01 and 02: pass on the reference, fail on wrong answers and on stubs."""
import numpy as np
import pytest
import torch

from course_lib.checks import ExerciseFailed
from course_lib.checks.nb01 import check_epsilon_greedy, check_q_learning_update
from course_lib.checks.nb02 import check_double_dqn_target, check_dqn_target
from course_lib.dqn import double_dqn_target, dqn_target
from course_lib.tabular import epsilon_greedy, q_learning_update


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: stub")


# ----------------------------------------------------------------------------- 1.1
def test_q_update_check_passes_reference(capsys):
    check_q_learning_update(q_learning_update)
    assert "Exercise 1.1 passed" in capsys.readouterr().out


def _no_done_mask(Q, s, a, r, s_next, done, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * Q[s_next].max() - Q[s, a])
    return Q[s, a]


def _same_action_bootstrap(Q, s, a, r, s_next, done, alpha, gamma):
    Q[s, a] += alpha * (r + (0 if done else gamma * Q[s_next, a]) - Q[s, a])
    return Q[s, a]


def _not_in_place(Q, s, a, r, s_next, done, alpha, gamma):
    return Q[s, a] + alpha * (r + (0 if done else gamma * Q[s_next].max()) - Q[s, a])


def _no_return(Q, s, a, r, s_next, done, alpha, gamma):
    q_learning_update(Q, s, a, r, s_next, done, alpha, gamma)


@pytest.mark.parametrize("wrong,hint", [
    (_no_done_mask, "terminal"), (_same_action_bootstrap, "best"), (_not_in_place, "in place"), (_no_return, "return"),
])
def test_q_update_check_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_q_learning_update(wrong)


def test_q_update_check_reports_stub():
    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        check_q_learning_update(_stub)


# ----------------------------------------------------------------------------- 1.2
def test_epsilon_greedy_check_passes_reference(capsys):
    check_epsilon_greedy(epsilon_greedy)
    assert "Exercise 1.2 passed" in capsys.readouterr().out


def _explore_non_greedy_only(q_row, epsilon, rng):
    if rng.random() < epsilon:
        others = [a for a in range(len(q_row)) if a != int(np.argmax(q_row))]
        return int(rng.choice(others))
    return int(np.argmax(q_row))


def _first_argmax(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmax(q_row))


def _always_random(q_row, epsilon, rng):
    return int(rng.integers(len(q_row)))


@pytest.mark.parametrize("wrong,hint", [
    (_explore_non_greedy_only, "85%"), (_first_argmax, "ties"), (_always_random, "85%"),
])
def test_epsilon_greedy_check_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_epsilon_greedy(wrong)


def test_epsilon_greedy_check_reports_stub():
    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        check_epsilon_greedy(_stub)


# ----------------------------------------------------------------------------- 2.1 / 2.2
def test_dqn_target_checks_pass_reference(capsys):
    check_dqn_target(dqn_target)
    check_double_dqn_target(double_dqn_target)
    out = capsys.readouterr().out
    assert "Exercise 2.1 passed" in out and "Exercise 2.2 passed" in out


@pytest.mark.parametrize("wrong,hint", [
    (lambda r, q, d, g: r + g * q.max(-1).values, "terminal"),
    (lambda r, q, d, g: r + g * (1 - d) * q.mean(-1), "expected"),
    (lambda r, q, d, g: (r + g * (1 - d) * q.max(-1).values).unsqueeze(-1), "shape"),
    (lambda r, q, d, g: (r + g * (1 - d) * q.max(-1).values).tolist(), "torch.Tensor"),
    (lambda r, q, d, g: r + g * (1 - d) * q.max(-1).values, "bool"),  # 1 - bool tensor raises in torch
])
def test_dqn_target_check_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_dqn_target(wrong)


@pytest.mark.parametrize("wrong,hint", [
    (lambda r, qo, qt, d, g: dqn_target(r, qt, d, g), "plain DQN"),
    (lambda r, qo, qt, d, g: dqn_target(r, qo, d, g), "only \\*chooses\\*"),
    (lambda r, qo, qt, d, g: r + g * qt.gather(-1, qo.argmax(-1, keepdim=True)).squeeze(-1), "terminal"),
    (lambda r, qo, qt, d, g: r + g * (1 - d) * qt.gather(-1, qo.argmin(-1, keepdim=True)).squeeze(-1), "expected"),
])
def test_double_dqn_target_check_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        check_double_dqn_target(wrong)


def test_dqn_checks_report_stub():
    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        check_dqn_target(_stub)
    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        check_double_dqn_target(_stub)
