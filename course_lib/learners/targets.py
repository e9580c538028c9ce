"""TD targets for episode batches: one-step and TD(lambda) (the forward-view lambda-return).

Notation for one episode with steps ``t = 0..T-1``: reward ``r_t``, termination flag ``d_t`` (1 only for
a real end; a timeout is not terminal), validity ``m_t`` (1 for real steps, 0 for padding) and
``Q_{t+1}``, the target network's value of the state reached after step t.

``G_t = r_t + gamma * (1 - d_t) * [ (1 - lambda * m_{t+1}) * Q_{t+1} + lambda * m_{t+1} * G_{t+1} ]``

with ``m_T = 0``. ``lambda = 0`` gives the one-step target ``r_t + gamma (1 - d_t) Q_{t+1}``;
``lambda = 1`` the Monte-Carlo return that bootstraps once, from the state after the last real step.
Values at padded steps are meaningless and must be masked by the caller.
"""
from __future__ import annotations

import torch

__all__ = ["one_step_targets", "td_lambda_targets"]


def _check(rewards, terminated, mask, next_values, gamma, td_lambda):
    if rewards.shape != terminated.shape or rewards.shape != mask.shape:
        raise ValueError(f"rewards, terminated and mask must share one shape [B, T], got "
                         f"{tuple(rewards.shape)}, {tuple(terminated.shape)}, {tuple(mask.shape)}")
    if next_values.shape[:2] != rewards.shape:
        raise ValueError(f"next_values must be [B, T] or [B, T, N] with [B, T] = {tuple(rewards.shape)}, "
                         f"got {tuple(next_values.shape)}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if not 0.0 <= td_lambda <= 1.0:
        raise ValueError(f"td_lambda must be in [0, 1], got {td_lambda}")


def _expand(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    x = x.to(like.dtype)
    while x.dim() < like.dim():
        x = x.unsqueeze(-1)
    return x


def one_step_targets(rewards: torch.Tensor, terminated: torch.Tensor, next_values: torch.Tensor,
                     gamma: float) -> torch.Tensor:
    """``y_t = r_t + gamma * (1 - d_t) * Q_{t+1}``.

    Args:
        rewards, terminated: ``[B, T]``.
        next_values: ``[B, T]`` (joint values) or ``[B, T, N]`` (per agent, IQL); entry t is ``Q_{t+1}``.
    Returns:
        ``[B, T]`` or ``[B, T, N]``, like ``next_values``.
    """
    _check(rewards, terminated, terminated, next_values, gamma, 0.0)
    r, d = _expand(rewards, next_values), _expand(terminated, next_values)
    return r + gamma * (1.0 - d) * next_values


def td_lambda_targets(rewards: torch.Tensor, terminated: torch.Tensor, mask: torch.Tensor,
                      next_values: torch.Tensor, gamma: float, td_lambda: float) -> torch.Tensor:
    """Lambda-returns computed backwards in time (see the module docstring for the formula).

    Args:
        rewards: ``[B, T]``.
        terminated: ``[B, T]`` (1 = real termination at step t).
        mask: ``[B, T]`` (1 = real step).
        next_values: ``[B, T]`` or ``[B, T, N]``; entry t is ``Q_{t+1}`` (target value of the next state).
        gamma: discount; td_lambda: lambda in ``[0, 1]``.
    Returns:
        ``G: [B, T]`` or ``[B, T, N]`` (same shape as ``next_values``).
    """
    _check(rewards, terminated, mask, next_values, gamma, td_lambda)
    r, d, m = _expand(rewards, next_values), _expand(terminated, next_values), _expand(mask, next_values)
    T = rewards.shape[1]
    out = torch.empty_like(next_values)
    g_next = torch.zeros_like(next_values[:, 0])
    m_next = torch.zeros_like(m[:, 0])
    for t in range(T - 1, -1, -1):
        boot = (1.0 - td_lambda * m_next) * next_values[:, t] + td_lambda * m_next * g_next
        g = r[:, t] + gamma * (1.0 - d[:, t]) * boot
        out[:, t] = g
        g_next, m_next = g, m[:, t]
    return out
