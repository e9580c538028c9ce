"""Checks for notebook 00 (welcome and set-up)."""
from __future__ import annotations

from . import call_student, fail_unless, passed
from .quiz import Question


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

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "How many joint actions do 4 agents with 10 actions each have?", answer=10_000,
             why="Each agent picks independently: 10 x 10 x 10 x 10 = 10^4. Joint action spaces grow as |U|^n."),
    Question("q2", "You open a notebook, leave FULL_RUN = False and do not set COURSE_QUICK. Which budget runs?",
             choices={"a": "the default budget (minutes on a laptop CPU)", "b": "CI's quick budget",
                      "c": "the paper-length budget"}, answer="a",
             why="pick_budget returns `default` unless COURSE_QUICK=1 (quick) or FULL_RUN=True (full). Budgets are "
                 "env steps or episodes, so the result is the same on every machine."),
    Question("q3", "Which action is available to a dead agent in SMAC?",
             choices={"a": "stop", "b": "no-op", "c": "any move"}, answer="b",
             why="Dead agents may only take the no-op (action 0); live agents never may. The mask from "
                 "get_avail_actions() says so at every step."),
]
