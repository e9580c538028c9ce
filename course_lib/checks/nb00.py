"""Checks for notebook 00 (welcome and set-up)."""
from __future__ import annotations

from . import call_student, fail_unless, passed


def check_joint_action_count(fn) -> None:
    """Exercise 0.1: ``fn(n_agents, n_actions)`` returns the size of the joint action space."""
    cases = [(1, 5, 5), (3, 9, 729), (2, 7, 49), (5, 12, 248_832), (8, 14, 14**8)]
    for n_agents, n_actions, expected in cases:
        got = call_student(fn, "0.1", n_agents, n_actions)
        fail_unless(
            isinstance(got, int) and not isinstance(got, bool),
            "0.1",
            f"return a Python int, got {type(got).__name__} for n_agents={n_agents}, n_actions={n_actions}",
        )
        fail_unless(
            got == expected,
            "0.1",
            f"with {n_agents} agents and {n_actions} actions each there are {n_actions}^{n_agents} joint "
            f"actions (every agent picks independently), you returned {got}",
        )
    passed("0.1", "the joint action space grows exponentially with the number of agents")
