"""Checks for notebook 03 (multi-agent MDPs and Dec-POMDPs)."""
from __future__ import annotations

import numpy as np

from . import call_student, fail_unless, passed
from .quiz import Question

# (map, n_agents, n_enemies, ally shields, enemy shields, unit_type_bits, obs size) from SMAC's map table.
_OBS_CASES = [
    ("3m", 3, 3, False, False, 0, 30),
    ("5m_vs_6m", 5, 6, False, False, 0, 55),
    ("2s3z", 5, 5, True, True, 2, 80),
    ("3s_vs_5z", 3, 5, True, True, 0, 48),
    ("MMM2", 10, 12, False, False, 3, 176),
    ("6h_vs_8z", 6, 8, False, True, 0, 78),
    ("2c_vs_64zg", 2, 64, True, False, 0, 332),
    ("bane_vs_bane", 24, 24, False, False, 2, 336),
]


def check_obs_size(fn) -> None:
    """Exercise 3.1: ``fn(n_agents, n_enemies, ally_shields, enemy_shields, unit_type_bits) -> int``."""
    for name, n_ag, n_en, sh_a, sh_e, utb, expected in _OBS_CASES:
        got = call_student(fn, "3.1", n_ag, n_en, sh_a, sh_e, utb)
        fail_unless(isinstance(got, (int, np.integer)) and not isinstance(got, bool), "3.1",
                    f"return an int, got {type(got).__name__} for {name}")
        if int(got) != expected and not sh_a and not sh_e and utb == 0:
            hint = ("without shields or unit types each enemy row has 5 features (attackable, distance, "
                    "dx, dy, health), each *other* ally row 5, the agent itself 1 (its health), plus 4 move flags")
        elif int(got) != expected:
            hint = ("add one shield feature to a row when that unit's race is Protoss, and unit_type_bits "
                    "features (the one-hot) to every enemy row, every ally row and the own block")
        else:
            hint = ""
        fail_unless(int(got) == expected, "3.1",
                    f"{name} ({n_ag} agents vs {n_en} enemies, ally shields={sh_a}, enemy shields={sh_e}, "
                    f"unit_type_bits={utb}) has obs size {expected}, you returned {got}. Hint: {hint}")
    passed("3.1", f"your formula reproduces SMAC's observation sizes on {len(_OBS_CASES)} maps "
                  "(from 30 on 3m to 336 on bane_vs_bane)")


def check_expected_payoffs(fn) -> None:
    """Exercise 3.2: ``fn(payoff [n, n], partner_policy [n]) -> [n]`` agent 1's expected payoff per action."""
    rng = np.random.default_rng(0)
    climbing = np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])
    cases = [(climbing, np.ones(3) / 3), (climbing, np.array([1.0, 0.0, 0.0])),
             (climbing, np.array([0.1, 0.2, 0.7]))]
    for n in (2, 4, 5):
        cases.append((rng.normal(size=(n, n)), rng.dirichlet(np.ones(n))))
    for payoff, pi in cases:
        got = call_student(fn, "3.2", payoff.copy(), pi.copy())
        got = np.asarray(got, dtype=float)
        fail_unless(got.shape == (payoff.shape[0],), "3.2",
                    f"return one value per action of agent 1: shape ({payoff.shape[0]},), got {got.shape}")
        expected = np.array([sum(payoff[a, b] * pi[b] for b in range(len(pi))) for a in range(payoff.shape[0])])
        if not np.allclose(got, expected, atol=1e-8):
            transposed = np.allclose(got, payoff.T @ pi, atol=1e-8)
            hint = ("agent 1 picks the ROW; average each row over the partner's columns"
                    if transposed else "E[r | a1=a] = sum_b payoff[a, b] * partner_policy[b]")
            fail_unless(False, "3.2", f"for partner policy {np.round(pi, 3).tolist()} expected "
                                      f"{np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}. {hint}")
    passed("3.2", "against a uniform partner the climbing game's best row is 2 (value 1.67), not the optimum 0")


def _reference_equilibria(p: np.ndarray):
    out = []
    for a in range(p.shape[0]):
        for b in range(p.shape[1]):
            if p[a, b] >= p[:, b].max() and p[a, b] >= p[a, :].max():
                out.append((a, b))
    return out


def check_pure_nash_equilibria(fn) -> None:
    """Exercise 3.3: ``fn(payoff [n, n]) -> list of (a1, a2)`` joint actions nobody wants to leave alone."""
    rng = np.random.default_rng(1)
    climbing = np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])
    penalty = np.array([[-100.0, 0.0, 10.0], [0.0, 2.0, 0.0], [10.0, 0.0, -100.0]])
    cases = [climbing, penalty, np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 2))]
    cases += [rng.integers(-3, 4, size=(n, n)).astype(float) for n in (3, 4, 4, 5)]
    for p in cases:
        got = call_student(fn, "3.3", p.copy())
        try:
            got_set = {(int(a), int(b)) for a, b in got}
        except (TypeError, ValueError):
            fail_unless(False, "3.3", f"return a list of (a1, a2) pairs, got {got!r}")
        expected = set(_reference_equilibria(p))
        missing, extra = sorted(expected - got_set), sorted(got_set - expected)
        fail_unless(not missing and not extra, "3.3",
                    f"for payoff {p.astype(int).tolist()} the pure equilibria are {sorted(expected)}; "
                    f"missing {missing}, wrong {extra}. A joint action (a1, a2) is an equilibrium when "
                    "payoff[a1, a2] is the maximum of its column (agent 1 cannot do better) AND of its row "
                    "(agent 2 cannot do better); ties count.")
    passed("3.3", "climbing has two equilibria, (0,0)=11 and (1,1)=7; independent learners can settle "
                  "in the worse one")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "In a Dec-POMDP, what does agent i's decentralised policy condition on?",
             choices={"a": "the state s_t", "b": "its own action-observation history tau^i_t",
                      "c": "the joint history of all agents"}, answer="b",
             why="At execution each agent has only its own observations and actions; the state (and the other "
                 "agents' histories) may be used during centralised training only."),
    Question("q2", "An enemy 10 map units from agent 0 (sight range 9) appears in agent 0's observation as ...",
             choices={"a": "its true distance and health", "b": "a row of zeros", "c": "its last seen values"},
             answer="b",
             why="SMAC zeroes the rows of units outside sight range: indistinguishable from a dead enemy. The state "
                 "still holds it."),
    Question("q3", "How many joint actions does 3m have (3 agents, 9 actions each)?", answer=729,
             why="9^3 = 729: already too many for a joint Q-table on larger maps (27m_vs_30m: about 10^42)."),
    Question("q4", "On the climbing game, independent Q-learners usually end up ...",
             choices={"a": "at the optimum (0, 0) worth 11", "b": "at a safe, suboptimal joint action"},
             answer="b",
             why="While the partner explores, the optimal action's average payoff is dragged down by the -30 "
                 "penalties, so each learner prefers safer actions, and once both are greedy nothing pulls them back."),
]
