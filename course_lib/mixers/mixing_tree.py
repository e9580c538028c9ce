"""MIXRTs' mixing tree: a soft-tree cell gives every agent a weight, ``Q_tot = sum_i W_i Q_i``.

The vector of the N chosen agent values ``q = (Q_1(tau_1, u_1), ..., Q_N(tau_N, u_N))`` is the cell's ``x``
input; the state embedding ``Linear(S, n_trees)(s_t)`` takes the place of its hidden input (the mixing tree is
not recurrent over time). ``n_trees`` trees of depth ``depth`` (authors: 16 and 3) give a vector of
``n_trees`` values, ``Linear(n_trees, N, bias=False)`` turns it into N logits and a softmax over agents into
weights ``W_i >= 0`` with ``sum_i W_i = 1``::

    W = softmax(Linear(16, N, bias=False)(cell(q, Linear(S, 16)(s))))      # [..., N]
    Q_tot = sum_i W_i * Q_i                                                # no V(s), no bias

The weights are readable (how much each agent counts in the team value) but they depend on the Q-values
as well as on the state, so ``Q_tot`` is NOT monotonic in each ``Q_i`` in general (unlike QMIX): raising one
agent's value can shift weight to another agent. A convex combination also keeps ``Q_tot`` between the
smallest and the largest ``Q_i``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..agents.soft_tree import RecurrentTreeCell

__all__ = ["MixingTree"]


class MixingTree(nn.Module):
    """Soft-tree mixer of MIXRTs.

    Args:
        n_agents: N.
        state_dim: S.
        n_trees: trees in the mixing cell (authors' ``qmix_tree_dim``: 16).
        depth: depth of every tree (authors: 3).
    """

    extra_inputs = ()

    def __init__(self, n_agents: int, state_dim: int, n_trees: int = 16, depth: int = 3):
        super().__init__()
        if min(n_agents, state_dim, n_trees) <= 0:
            raise ValueError(f"MixingTree needs positive sizes, got n_agents={n_agents}, state_dim={state_dim}, "
                             f"n_trees={n_trees}")
        self.n_agents, self.state_dim, self.n_trees, self.depth = n_agents, state_dim, n_trees, depth
        self.state_embed = nn.Linear(state_dim, n_trees)
        self.cell = RecurrentTreeCell(n_agents, n_trees, depth)
        self.agent_logits = nn.Linear(n_trees, n_agents, bias=False)

    def _check(self, qs: torch.Tensor, states: torch.Tensor) -> None:
        if qs.shape[-1] != self.n_agents or states.shape[-1] != self.state_dim or qs.shape[:-1] != states.shape[:-1]:
            raise ValueError(f"MixingTree expected qs [..., {self.n_agents}] and states [..., {self.state_dim}] with "
                             f"the same leading shape, got qs {tuple(qs.shape)} and states {tuple(states.shape)}")

    def weights(self, qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """Agent weights ``W: [..., N]`` (non-negative, summing to 1) from ``qs: [..., N]``, ``states: [..., S]``."""
        self._check(qs, states)
        tree_out = self.cell(qs, self.state_embed(states))  # [..., n_trees]
        return torch.softmax(self.agent_logits(tree_out), dim=-1)

    def forward(self, qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """``qs: [B, T, N]``, ``states: [B, T, S]`` -> ``Q_tot = sum_i W_i Q_i: [B, T, 1]`` (any leading shape)."""
        return (self.weights(qs, states) * qs).sum(dim=-1, keepdim=True)
