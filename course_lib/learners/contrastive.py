"""ACORM's contrastive role loss (InfoNCE with a bilinear score) and the momentum (EMA) update.

For one (episode, time step) with N agents, role representations ``q_i`` (the role encoder: queries),
``k_j`` (the momentum key encoder) and K-means cluster labels ``c_i`` of the agents' embeddings:

    s_ij = q_i^T W k_j                                  (W: a learnable [D, D] matrix, no temperature)
    loss_i = -log( sum_{j: c_j = c_i} exp(s_ij) / sum_j exp(s_ij) )     (j = i is a positive)

averaged over the valid anchors. Agents in the same cluster are pulled together in role space, the
others pushed apart. Subtracting each row's maximum (as the authors do) does not change the loss; it is
computed here with ``logsumexp``, which does that internally.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

__all__ = ["contrastive_role_loss", "bilinear_scores", "momentum_update"]


def bilinear_scores(q: torch.Tensor, k: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``s[g, i, j] = q[g, i] @ W @ k[g, j]`` with each row's maximum subtracted.

    Args:
        q, k: ``[G, N, D]``; W: ``[D, D]``.
    Returns:
        ``[G, N, N]`` (every row's maximum is 0).
    """
    if q.dim() != 3 or k.shape != q.shape:
        raise ValueError(f"q and k must both be [groups, agents, dim], got {tuple(q.shape)} and {tuple(k.shape)}")
    D = q.shape[-1]
    if W.shape != (D, D):
        raise ValueError(f"W must be [{D}, {D}] to match q and k, got {tuple(W.shape)}")
    s = (q @ W) @ k.transpose(1, 2)
    return s - s.max(dim=-1, keepdim=True).values


def contrastive_role_loss(q: torch.Tensor, k: torch.Tensor, W: torch.Tensor, labels: torch.Tensor,
                          mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean over valid anchors of ``-log(sum_{same cluster} exp s_ij / sum_j exp s_ij)``.

    Args:
        q: ``[G, N, D]`` queries (gradient flows to the role encoder).
        k: ``[G, N, D]`` keys (pass them detached: the momentum encoder is not trained by this loss).
        W: ``[D, D]`` bilinear matrix.
        labels: ``[G, N]`` cluster of each agent.
        mask: ``[G]`` (1 = a real (episode, step), 0 = padding) or None (all valid).
    Returns:
        scalar loss (0 when no group is valid).
    """
    s = bilinear_scores(q, k, W)
    if labels.shape != q.shape[:2]:
        raise ValueError(f"labels must have shape {tuple(q.shape[:2])}, got {tuple(labels.shape)}")
    same = labels.unsqueeze(-1) == labels.unsqueeze(-2)  # [G, N, N]; the diagonal is always True
    log_pos = torch.logsumexp(s.masked_fill(~same, float("-inf")), dim=-1)
    log_all = torch.logsumexp(s, dim=-1)
    per_anchor = log_all - log_pos  # [G, N], >= 0
    if mask is None:
        return per_anchor.mean()
    if mask.shape != q.shape[:1]:
        raise ValueError(f"mask must have shape {tuple(q.shape[:1])} (one flag per group), got {tuple(mask.shape)}")
    m = mask.to(per_anchor.dtype).unsqueeze(-1).expand_as(per_anchor)
    return (per_anchor * m).sum() / m.sum().clamp(min=1)


def momentum_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """In place, without gradient: ``target <- (1 - tau) * target + tau * source`` for every parameter.

    Raises:
        ValueError: ``tau`` outside [0, 1] or modules whose parameters do not correspond.
    """
    if not 0.0 <= float(tau) <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau!r}")
    tp, sp = list(target.parameters()), list(source.parameters())
    if len(tp) != len(sp) or any(a.shape != b.shape for a, b in zip(tp, sp)):
        raise ValueError(f"momentum_update needs modules with the same parameter shapes, got "
                         f"{[tuple(p.shape) for p in tp]} and {[tuple(p.shape) for p in sp]}")
    with torch.no_grad():
        for a, b in zip(tp, sp):
            a.mul_(1.0 - float(tau)).add_(b, alpha=float(tau))
