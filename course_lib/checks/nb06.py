"""Checks for notebook 06 (QMIX and QTRAN, pymarl2's tricks)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import call_student, fail_unless, passed
from .quiz import Question


# ----------------------------------------------------------------------------------------------------
# 6.1 the QMIX forward pass
# ----------------------------------------------------------------------------------------------------
def reference_qmix_forward(agent_qs, w1, b1, w2, v):
    """``Q_tot = ELU(q @ |W1| + b1) @ |w2| + V``.

    Shapes: ``agent_qs [B, N]``, ``w1 [B, N, E]``, ``b1 [B, E]``, ``w2 [B, E]``, ``v [B, 1]`` -> ``[B, 1]``.
    """
    hidden = F.elu(torch.bmm(agent_qs.unsqueeze(1), w1.abs()).squeeze(1) + b1)  # [B, E]
    return (hidden * w2.abs()).sum(-1, keepdim=True) + v


def check_qmix_forward(fn) -> None:
    """Exercise 6.1: ``fn(agent_qs [B, N], w1 [B, N, E], b1 [B, E], w2 [B, E], v [B, 1]) -> Q_tot [B, 1]``.

    ``w1`` and ``w2`` are the RAW hypernetwork outputs (they can be negative)."""
    g = torch.Generator().manual_seed(0)
    for B, N, E in [(5, 3, 8), (16, 5, 32), (1, 2, 4)]:
        args = (torch.randn(B, N, generator=g) * 2, torch.randn(B, N, E, generator=g), torch.randn(B, E, generator=g),
                torch.randn(B, E, generator=g), torch.randn(B, 1, generator=g))
        got = call_student(fn, "6.1", *[a.clone() for a in args])
        fail_unless(isinstance(got, torch.Tensor), "6.1", f"return a torch.Tensor, got {type(got).__name__}")
        want = reference_qmix_forward(*args)
        if tuple(got.shape) != (B, 1):
            fail_unless(False, "6.1", f"Q_tot should have shape [B, 1] = {(B, 1)}, got {tuple(got.shape)}"
                        + (" (keep a trailing dimension of size 1)" if tuple(got.shape) == (B,) else ""))
        if torch.allclose(got, want, atol=1e-5):
            continue
        q, w1, b1, w2, v = args
        h_raw = F.elu(torch.bmm(q.unsqueeze(1), w1).squeeze(1) + b1)
        variants = {
            "no_abs": "take the ABSOLUTE value of both weight matrices (|W1|, |w2|): non-negative weights are what "
                      "makes Q_tot monotonic in every Q_i",
            "relu": "QMIX's hidden layer uses ELU (F.elu), not ReLU",
            "no_v": "add the state value V(s) at the end",
            "no_b1": "add the bias b1 before the ELU",
        }
        cand = {
            "no_abs": (h_raw * w2).sum(-1, keepdim=True) + v,
            "relu": (F.relu(torch.bmm(q.unsqueeze(1), w1.abs()).squeeze(1) + b1) * w2.abs()).sum(-1, keepdim=True) + v,
            "no_v": want - v,
            "no_b1": (F.elu(torch.bmm(q.unsqueeze(1), w1.abs()).squeeze(1)) * w2.abs()).sum(-1, keepdim=True) + v,
        }
        hint = next((variants[k] for k, c in cand.items() if torch.allclose(got, c, atol=1e-5)),
                    "hidden = ELU(agent_qs @ |W1| + b1) (a [B, E] tensor), Q_tot = hidden @ |w2| + V")
        fail_unless(False, "6.1", f"wrong Q_tot for B={B}, N={N}, E={E}: {hint}.")
    passed("6.1", "non-negative mixing weights and an increasing activation: dQ_tot/dQ_i >= 0 for every agent")


# ----------------------------------------------------------------------------------------------------
# 6.2 TD(lambda) targets
# ----------------------------------------------------------------------------------------------------
def reference_lambda_returns(rewards, terminated, mask, next_values, gamma, lam):
    """Plain-loop lambda-returns (``[B, T]``), written independently of the library.

    For each episode and step t (backwards): ``G_t = r_t + gamma (1 - d_t) [(1 - lam m_{t+1}) Q_{t+1}
    + lam m_{t+1} G_{t+1}]`` with ``m_T = 0``. Entries at padded steps are left at 0.
    """
    B, T = rewards.shape
    out = torch.zeros(B, T, dtype=next_values.dtype)
    for b in range(B):
        g_next = 0.0
        for t in reversed(range(T)):
            if mask[b, t] == 0:
                continue
            more = t + 1 < T and mask[b, t + 1] > 0  # is step t+1 a real step?
            boot = lam * g_next + (1 - lam) * next_values[b, t] if more else next_values[b, t]
            g = rewards[b, t] + gamma * (1 - terminated[b, t]) * boot
            out[b, t] = g
            g_next = g
    return out


def _td_case(g, B=5, T=9):
    lengths = torch.tensor([T, 6, 3, T, 1])[:B]
    mask = (torch.arange(T)[None, :] < lengths[:, None]).float()
    rewards = torch.rand(B, T, generator=g) * mask
    terminated = torch.zeros(B, T)
    terminated[1, 5] = 1.0  # episode 1 ends for real after 6 steps
    terminated[2, 2] = 1.0  # episode 2 after 3 steps; episodes 0, 3 and 4 time out (bootstrap)
    next_values = torch.randn(B, T, generator=g) * 3
    return rewards, terminated, mask, next_values


def check_lambda_returns(fn) -> None:
    """Exercise 6.2: ``fn(rewards [B,T], terminated [B,T], mask [B,T], next_values [B,T], gamma, lam) -> [B, T]``.

    Only real steps (``mask == 1``) are compared."""
    g = torch.Generator().manual_seed(0)
    for gamma, lam in [(0.99, 0.6), (0.9, 0.0), (0.95, 1.0), (0.5, 0.3)]:
        args = _td_case(g)
        got = call_student(fn, "6.2", *[a.clone() for a in args], gamma, lam)
        fail_unless(isinstance(got, torch.Tensor), "6.2", f"return a torch.Tensor, got {type(got).__name__}")
        fail_unless(tuple(got.shape) == tuple(args[0].shape), "6.2",
                    f"return one target per step: shape [B, T] = {tuple(args[0].shape)}, got {tuple(got.shape)}")
        want = reference_lambda_returns(*args, gamma, lam)
        m = args[2].bool()
        if torch.allclose(got[m], want[m], atol=1e-4):
            continue
        rewards, terminated, mask, nv = args
        one_step = rewards + gamma * (1 - terminated) * nv
        no_mask = reference_lambda_returns(rewards, terminated, torch.ones_like(mask), nv, gamma, lam)
        if lam > 0 and torch.allclose(got[m], one_step[m], atol=1e-4):
            hint = (f"these are one-step targets; with lambda = {lam} mix in the next lambda-return: "
                    "G_t = r_t + gamma (1 - d_t) [(1 - lambda) Q_{t+1} + lambda G_{t+1}]")
        elif torch.allclose(got[m], no_mask[m], atol=1e-4):
            hint = ("at the last real step of a shorter episode there is no G_{t+1}: bootstrap fully from "
                    "Q_{t+1} there (use mask[t+1]; padded steps must not leak into the returns)")
        else:
            hint = ("go backwards in time; at the last real step G_t = r_t + gamma (1 - d_t) Q_{t+1}, before it "
                    "G_t = r_t + gamma (1 - d_t) [(1 - lambda) Q_{t+1} + lambda G_{t+1}]")
        fail_unless(False, "6.2", f"wrong targets for gamma={gamma}, lambda={lam}: {hint}.")
    passed("6.2", "lambda = 0 gives one-step targets, lambda = 1 the Monte-Carlo return; pymarl2 uses 0.6")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "Why are QMIX's mixing weights non-negative?",
             choices={"a": "they are absolute values of the hypernetworks' outputs", "b": "the ELU activation"},
             answer="a",
             why="|W1|, |W2| >= 0 and an increasing activation make Q_tot monotonic in every Q_i; the biases and "
                 "V(s) stay unconstrained."),
    Question("q2", "For the IGM condition, monotonicity of the mixer is ...",
             choices={"a": "necessary", "b": "sufficient but not necessary", "c": "neither"}, answer="b",
             why="Monotonic implies IGM; the non-monotonic game satisfies IGM with suitable utilities but no "
                 "monotonic mixer represents it."),
    Question("q3", "With lambda = 0, the TD(lambda) targets are ...",
             choices={"a": "one-step targets", "b": "Monte-Carlo returns"}, answer="a",
             why="G_t = r_t + gamma (1 - d_t) Q^-_{t+1} when lambda = 0; lambda = 1 gives the Monte-Carlo return."),
    Question("q4", "In QTRAN, what should sum_i Q_i - hat Q_jt + V_jt equal at the agents' greedy joint action?",
             answer=0, tol=1e-9,
             why="L_opt pushes it to 0 at the greedy joint action and L_nopt keeps it >= 0 elsewhere; hat Q_jt is "
                 "Q_jt with its gradient stopped."),
]
