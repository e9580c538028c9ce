"""Checks for notebook 05 (VDN)."""
from __future__ import annotations

import numpy as np
import torch

from . import call_student, fail_unless, passed
from .quiz import Question


# ----------------------------------------------------------------------------------------------------
# 5.1 the VDN sum
# ----------------------------------------------------------------------------------------------------
def check_vdn_q_tot(fn) -> None:
    """Exercise 5.1: ``fn(agent_qs [..., N]) -> Q_tot [..., 1]`` (the sum over agents, dimension kept)."""
    g = torch.Generator().manual_seed(0)
    for shape in [(4, 3), (2, 5, 3), (8, 10, 5), (1, 1, 27)]:
        qs = torch.randn(*shape, generator=g)
        got = call_student(fn, "5.1", qs.clone())
        fail_unless(isinstance(got, torch.Tensor), "5.1", f"return a torch.Tensor, got {type(got).__name__}")
        want = qs.sum(dim=-1, keepdim=True)
        if tuple(got.shape) != tuple(want.shape):
            hint = ""
            if tuple(got.shape) == tuple(shape[:-1]):
                hint = " Keep the agent dimension as size 1 (keepdim=True), as every mixer returns [..., 1]."
            elif tuple(got.shape) == () or got.numel() == 1:
                hint = " Sum over the LAST dimension (the agents) only, not over the whole tensor."
            fail_unless(False, "5.1", f"agent_qs of shape {tuple(shape)} should give Q_tot of shape "
                                      f"{tuple(want.shape)}, got {tuple(got.shape)}.{hint}")
        if not torch.allclose(got, want, atol=1e-5):
            hint = ("that is the mean: VDN adds the agents' values" if torch.allclose(got, want / shape[-1], atol=1e-5)
                    else "Q_tot = sum over agents i of Q_i (the last dimension)")
            fail_unless(False, "5.1", f"wrong values for shape {tuple(shape)}: {hint}.")
    passed("5.1", "Q_tot = sum_i Q_i, so dQ_tot/dQ_i = 1 for every agent")


# ----------------------------------------------------------------------------------------------------
# 5.2 the best additive fit of a payoff matrix
# ----------------------------------------------------------------------------------------------------
def reference_additive_fit(payoff: np.ndarray) -> np.ndarray:
    """The least-squares additive approximation ``q1[a] + q2[b]`` of ``payoff [n, m]`` (by lstsq)."""
    p = np.asarray(payoff, dtype=float)
    n, m = p.shape
    rows, cols = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    X = np.zeros((n * m, n + m))
    X[np.arange(n * m), rows.ravel()] = 1.0
    X[np.arange(n * m), n + cols.ravel()] = 1.0
    sol, *_ = np.linalg.lstsq(X, p.ravel(), rcond=None)
    return (X @ sol).reshape(n, m)


def check_best_additive_fit(fn) -> None:
    """Exercise 5.2: ``fn(payoff [n, m]) -> (q1 [n], q2 [m])`` minimising ``mean (q1[a] + q2[b] - payoff[a, b])^2``."""
    rng = np.random.default_rng(0)
    non_monotonic = np.array([[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]])
    additive = np.add.outer([1.0, -2.0, 0.5], [3.0, 0.0, -1.0])
    cases = [non_monotonic, additive, np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]]),
             rng.normal(size=(4, 4)), rng.normal(size=(2, 5))]
    for p in cases:
        out = call_student(fn, "5.2", p.copy())
        try:
            q1, q2 = out
            q1, q2 = np.asarray(q1, dtype=float).reshape(-1), np.asarray(q2, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            fail_unless(False, "5.2", f"return a pair (q1, q2) of 1-D arrays, got {out!r}")
        fail_unless(q1.shape == (p.shape[0],) and q2.shape == (p.shape[1],), "5.2",
                    f"for a payoff of shape {p.shape} q1 needs {p.shape[0]} entries (rows, agent 1) and q2 "
                    f"{p.shape[1]} (columns, agent 2); got {q1.shape} and {q2.shape}")
        fit = q1[:, None] + q2[None, :]
        want = reference_additive_fit(p)
        if not np.allclose(fit, want, atol=1e-6):
            both_means = p.mean(axis=1)[:, None] + p.mean(axis=0)[None, :]
            if np.allclose(fit, both_means, atol=1e-6):
                hint = ("row means plus column means count the grand mean twice: subtract it once "
                        "(q1 = row means, q2 = column means - grand mean)")
            else:
                hint = ("set the derivative of the mean squared error to zero: q1[a] + mean_b q2[b] = mean of row "
                        "a and mean_a q1[a] + q2[b] = mean of column b")
            mse = float(((fit - p) ** 2).mean())
            best = float(((want - p) ** 2).mean())
            fail_unless(False, "5.2", f"for payoff {np.round(p, 2).tolist()} your fit has mean squared error "
                                      f"{mse:.3f}, the best additive fit {best:.3f}: {hint}.")
    best = float(((reference_additive_fit(non_monotonic) - non_monotonic) ** 2).mean())
    passed("5.2", f"no additive Q_tot can fit the non-monotonic game better than MSE {best:.2f} "
                  f"(= 4096/81), and the best one even prefers the wrong joint action")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "Does VDN's Q_tot = sum_i Q_i satisfy the IGM condition?",
             choices={"a": "always", "b": "only for two agents", "c": "only on matrix games"}, answer="a",
             why="The maximum of a sum of independent terms is the sum of their maxima: each agent's argmax "
                 "together is the joint argmax."),
    Question("q2", "Which team values can VDN represent exactly?",
             choices={"a": "any payoff matrix", "b": "those that are a sum of one term per agent"}, answer="b",
             why="VDN's function class is additive: on the non-monotonic game its least-squares fit has an MSE of "
                 "about 50.6 whatever the training."),
    Question("q3", "In CTDE, which input may be used during training but not when the agents act?",
             choices={"a": "the agent's own observation", "b": "the global state s", "c": "the agent's last action"},
             answer="b",
             why="The mixer (and any critic) may see the state during centralised training; each agent acts on "
                 "its own history only."),
]
