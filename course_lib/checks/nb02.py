"""Checks for notebook 02 (DQN, double DQN, DRQN)."""
from __future__ import annotations

import torch

from . import call_student, fail_unless, passed
from .quiz import Question

__all__ = ["check_dqn_target", "check_double_dqn_target"]

# Three transitions, two actions, gamma = 0.9. The third one ends its episode.
_REWARD = torch.tensor([1.0, 0.0, -1.0])
_DONE = torch.tensor([0.0, 0.0, 1.0])
_NEXT_Q_TARGET = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.2]])
_NEXT_Q_ONLINE = torch.tensor([[4.0, 0.0], [3.5, 0.5], [0.0, 9.0]])
_GAMMA = 0.9


def _as_tensor(got, exercise: str) -> torch.Tensor:
    fail_unless(isinstance(got, torch.Tensor), exercise, f"return a torch.Tensor, got {type(got).__name__}")
    fail_unless(tuple(got.shape) == (3,), exercise,
                f"the target has one value per transition: shape [batch] = (3,), got {tuple(got.shape)}")
    return got.detach().float()


def check_dqn_target(fn) -> None:
    """Exercise 2.1: ``fn(reward, next_q_target, done, gamma)`` returns ``r + gamma (1 - done) max_a' Q'``."""
    # By hand: [1 + 0.9 * 2, 0 + 0.9 * 3, -1 (done)] = [2.8, 2.7, -1.0]
    expected = torch.tensor([2.8, 2.7, -1.0])
    got = _as_tensor(call_student(fn, "2.1", _REWARD.clone(), _NEXT_Q_TARGET.clone(), _DONE.clone(), _GAMMA), "2.1")
    fail_unless(not torch.isclose(got[2], torch.tensor(-1.0 + 0.9 * 0.5)), "2.1",
                "the third transition is terminal (done=1): no bootstrap, its target is just the reward -1")
    fail_unless(torch.allclose(got, expected, atol=1e-5), "2.1",
                f"expected {expected.tolist()} (r + gamma * (1 - done) * max over actions of next_q_target), "
                f"got {[round(v, 4) for v in got.tolist()]}")
    bool_hint = "done may arrive as a bool tensor: convert it with done.float() before computing 1 - done"
    try:
        # called directly: torch reports `1 - bool_tensor` as a NotImplementedError, which call_student
        # would mistake for the unsolved stub (the float call above already proved the answer exists)
        done_bool = fn(_REWARD.clone(), _NEXT_Q_TARGET.clone(), _DONE.bool(), _GAMMA)
    except (RuntimeError, TypeError) as exc:  # NotImplementedError is a RuntimeError
        fail_unless(False, "2.1", f"{bool_hint} (your function raised {type(exc).__name__}: {exc})")
    done_bool = _as_tensor(done_bool, "2.1")
    fail_unless(torch.allclose(done_bool, expected, atol=1e-5), "2.1", bool_hint)
    passed("2.1", "targets [2.8, 2.7, -1.0] as computed by hand")


def check_double_dqn_target(fn) -> None:
    """Exercise 2.2: ``fn(reward, next_q_online, next_q_target, done, gamma)``: online argmax, target value."""
    # Online argmax: [0, 0, 1]; target values there: [1.0, 3.0, 0.2]
    # By hand: [1 + 0.9 * 1.0, 0 + 0.9 * 3.0, -1 (done)] = [1.9, 2.7, -1.0]
    expected = torch.tensor([1.9, 2.7, -1.0])
    got = _as_tensor(call_student(fn, "2.2", _REWARD.clone(), _NEXT_Q_ONLINE.clone(), _NEXT_Q_TARGET.clone(),
                                  _DONE.clone(), _GAMMA), "2.2")
    dqn_like = torch.tensor([2.8, 2.7, -1.0])
    fail_unless(not torch.allclose(got, dqn_like, atol=1e-5), "2.2",
                "that is the plain DQN target (max of the target network). Choose a* with the ONLINE network's "
                "argmax, then read Q_target(s', a*)")
    online_value = torch.tensor([1.0 + 0.9 * 4.0, 0.0 + 0.9 * 3.5, -1.0])
    fail_unless(not torch.allclose(got, online_value, atol=1e-5), "2.2",
                "the online network only *chooses* the action; its value must come from next_q_target (use gather)")
    fail_unless(torch.isclose(got[2], torch.tensor(-1.0)), "2.2",
                "the third transition is terminal (done=1): its target is just the reward -1")
    fail_unless(torch.allclose(got, expected, atol=1e-5), "2.2",
                f"expected {expected.tolist()}, got {[round(v, 4) for v in got.tolist()]}")
    passed("2.2", "targets [1.9, 2.7, -1.0]: the online net picks, the target net evaluates")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "What is the target network for?",
             choices={"a": "it keeps the regression target fixed between two copies, so the network does not chase "
                           "a target that moves with every gradient step",
                      "b": "it halves the number of parameters to train"}, answer="a",
             why="The target r + gamma Q^-(s', .) is computed with a frozen copy refreshed every few hundred steps; "
                 "without it the target moves with each update and learning can diverge."),
    Question("q2", "The double estimator Q_B(argmax_u Q_A(u)) of max_u E[Q(u)] is ...",
             choices={"a": "unbiased", "b": "never above the true maximum in expectation: it can underestimate",
                      "c": "biased upwards, like the single max"}, answer="b",
             why="Selecting with one noisy estimate and evaluating with an independent one removes the upward bias "
                 "of the max, but when the selection picks a worse action the value is too low: E[double] <= "
                 "max_u E[Q(u)] (van Hasselt 2010)."),
    Question("q3", "Why does the agent on CartPole without velocities need a recurrent network?",
             choices={"a": "one observation does not determine the state; a history (positions over time) does",
                      "b": "GRUs learn faster than MLPs on every task"}, answer="a",
             why="Velocity is the change of position: it can be inferred from two observations in a row. A GRU "
                 "summarises the action-observation history; an MLP on one observation cannot."),
]
