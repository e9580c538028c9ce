"""Checks for notebook 01 (tabular Q-learning)."""
from __future__ import annotations

import numpy as np

from . import call_student, fail_unless, passed
from .quiz import Question

__all__ = ["check_q_learning_update", "check_epsilon_greedy"]


def check_q_learning_update(fn) -> None:
    """Exercise 1.1: ``fn(Q, s, a, r, s_next, done, alpha, gamma)`` updates ``Q[s, a]`` in place and
    returns the new value."""
    # Hand calculations (Q[1] = [2, 5], so max_a' Q[1, a'] = 5):
    #   from Q[0,1] = 0:  target = 1 + 0.9 * 5 = 5.5,  new = 0 + 0.5 * (5.5 - 0) = 2.75
    #   from Q[2,0] = 4, done: target = -1,            new = 4 + 0.25 * (-1 - 4) = 2.75
    #   from Q[2,0] = 4:  target = 0 + 0.5 * 5 = 2.5,  new = 4 + 0.1 * (2.5 - 4) = 3.85
    cases = [
        (0, 1, 1.0, 1, False, 0.5, 0.9, 2.75),
        (2, 0, -1.0, 1, True, 0.25, 0.9, 2.75),
        (2, 0, 0.0, 1, False, 0.1, 0.5, 3.85),
    ]
    for s, a, r, s_next, done, alpha, gamma, expected in cases:
        Q = np.array([[0.0, 0.0], [2.0, 5.0], [4.0, -2.0]])
        before = Q.copy()
        got = call_student(fn, "1.1", Q, s, a, r, s_next, done, alpha, gamma)
        call = f"Q[{s}, {a}]={before[s, a]}, r={r}, s_next={s_next} (Q[s_next]={before[s_next].tolist()}), done={done}, alpha={alpha}, gamma={gamma}"
        fail_unless(not np.isclose(Q[s, a], before[s, a]) or np.isclose(expected, before[s, a]), "1.1",
                    f"Q[s, a] was not changed; update the table in place (Q[s, a] += ...). Case: {call}")
        no_mask = before[s, a] + alpha * (r + gamma * before[s_next].max() - before[s, a])
        fail_unless(not (done and np.isclose(Q[s, a], no_mask)), "1.1",
                    f"when done=True the next state is terminal: its value is 0, so the target is just r. Case: {call}")
        wrong_action = before[s, a] + alpha * (r + gamma * before[s_next, a] - before[s, a])
        fail_unless(done or not np.isclose(Q[s, a], wrong_action) or np.isclose(wrong_action, expected), "1.1",
                    f"bootstrap with the *best* next action, max_a' Q[s_next, a'], not Q[s_next, a]. Case: {call}")
        fail_unless(np.isclose(Q[s, a], expected), "1.1",
                    f"expected Q[s, a] = {expected} after the update, got {Q[s, a]:.4g}. Use "
                    f"Q[s,a] + alpha * (r + gamma * max_a' Q[s_next,a'] - Q[s,a]). Case: {call}")
        other = np.ones_like(Q, dtype=bool)
        other[s, a] = False
        fail_unless(np.allclose(Q[other], before[other]), "1.1", f"only Q[s, a] may change; other entries changed. Case: {call}")
        fail_unless(got is not None and np.isclose(float(got), expected), "1.1",
                    f"return the new value Q[s, a] ({expected}), got {got!r}")
    passed("1.1", "your update matches the hand calculations (including the terminal case)")


def check_epsilon_greedy(fn) -> None:
    """Exercise 1.2: ``fn(q_row, epsilon, rng)`` returns an epsilon-greedy action with random tie-breaking."""
    n = 20_000
    q = np.array([0.0, 1.0, 0.0, 0.0])
    rng = np.random.default_rng(0)
    acts = np.array([call_student(fn, "1.2", q, 0.2, rng) for _ in range(n)])
    fail_unless(all(isinstance(a, (int, np.integer)) for a in acts[:10]), "1.2",
                f"return an int action index, got {type(acts[0]).__name__}")
    fail_unless(acts.min() >= 0 and acts.max() < len(q), "1.2", f"actions must lie in 0..{len(q) - 1}, got {acts.min()}..{acts.max()}")
    freq = np.bincount(acts, minlength=len(q)) / n
    # With probability 0.2 uniform over 4 actions, else greedy (action 1): P(1) = 0.8 + 0.2/4 = 0.85.
    fail_unless(abs(freq[1] - 0.85) < 0.015, "1.2",
                f"with epsilon=0.2 and 4 actions the greedy action should be picked 0.8 + 0.2/4 = 85% of the time, "
                f"got {freq[1]:.1%}. Explore with probability epsilon over *all* actions.")
    fail_unless(np.all(np.abs(freq[[0, 2, 3]] - 0.05) < 0.01), "1.2",
                f"each non-greedy action should be picked 0.2/4 = 5% of the time, got {np.round(freq[[0, 2, 3]], 3).tolist()}")
    greedy = [int(call_student(fn, "1.2", np.array([3.0, -1.0, 7.0]), 0.0, rng)) for _ in range(200)]
    fail_unless(set(greedy) == {2}, "1.2", f"epsilon=0 must always pick the argmax (action 2), got actions {sorted(set(greedy))}")
    ties = np.array([int(call_student(fn, "1.2", np.array([1.0, 1.0, 0.0]), 0.0, rng)) for _ in range(2000)])
    tie_freq = np.bincount(ties, minlength=3) / len(ties)
    fail_unless(tie_freq[2] == 0 and abs(tie_freq[0] - 0.5) < 0.05, "1.2",
                f"break ties between equal greedy actions uniformly at random (np.flatnonzero(q == q.max())); "
                f"with q=[1, 1, 0] and epsilon=0 got frequencies {np.round(tie_freq, 3).tolist()}")
    passed("1.2", f"greedy action chosen {freq[1]:.1%} of the time (expected 85%), ties broken at random")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "Q-learning's target r_t + gamma * max_u' Q(s_{t+1}, u') uses which next action?",
             choices={"a": "the action the epsilon-greedy behaviour policy takes next",
                      "b": "the greedy action, whatever the behaviour policy does"}, answer="b",
             why="The max makes Q-learning off-policy: it learns the greedy policy's values while exploring. "
                 "SARSA would use the action actually taken next."),
    Question("q2", "With gamma = 0.9, what is a reward of 1 received 3 steps after r_t (that is, r_{t+3}) worth in G_t?",
             answer=0.729, tol=1e-3,
             why="G_t = sum_k gamma^k r_{t+k}; the reward r_{t+3} is weighted by gamma^3 = 0.729."),
    Question("q3", "What does a learning rate alpha = 1 do on a stochastic (slippery) world?",
             choices={"a": "learns faster and converges to Q*",
                      "b": "replaces Q(s, u) by the last sampled target: the noise is never averaged out"},
             answer="b",
             why="Q <- Q + alpha (y - Q) with alpha = 1 is Q <- y: each update forgets everything before it. "
                 "On a deterministic world that is fine; with random transitions Q-learning needs a decaying "
                 "(or small) alpha to average the targets."),
]
