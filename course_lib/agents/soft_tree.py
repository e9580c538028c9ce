"""Soft decision trees and MIXRTs' recurrent tree agent (Liu et al., "MIXRTs: Toward Interpretable
Multi-Agent Reinforcement Learning via Mixing Recurrent Soft Decision Trees").

A *soft* decision tree of depth ``d`` has ``2^d - 1`` inner nodes and ``2^d`` leaves. Inner node ``n``
of level ``k`` sends the input LEFT with probability ``p_n = sigmoid(w_n . x + b_n)`` and right with
``1 - p_n``. A leaf is reached with the product of the probabilities along its path, and the tree
outputs ``sum over leaves of P(leaf) * leaf value``. With depth 1 there is one node and two leaves::

    p = sigmoid(w . x + b)
    out = p * leaf_L + (1 - p) * leaf_R

Numbering: node ``n`` of level ``k`` has children ``2n`` (left) and ``2n + 1`` (right) on level ``k + 1``,
so leaf ``l``'s binary digits, most significant first, spell its path (0 = left).
:func:`leaf_probabilities` computes every leaf's path probability with tensor operations, one
multiplication per level (the only Python loop is over the depth).

Three things are built from it here:

- :class:`SoftTree`: one tree of any depth (the notebook's by-hand object);
- :class:`RecurrentTreeCell`: ``H`` trees of depth ``d`` whose inner nodes see the input ``x_t`` and the
  previous hidden vector ``h_{t-1}``; tree ``j``'s output is ``h_t[j]`` (no GRU anywhere);
- :class:`MIXRTAgent`: the cell followed by ``Linear(H, n_actions, bias=False)``: each action's Q-value is a
  linear ensemble of the ``H`` trees' outputs.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .base import AgentBase

__all__ = ["leaf_probabilities", "reach_probabilities", "SoftTree", "RecurrentTreeCell", "MIXRTAgent"]


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"tree depth must be an integer >= 1, got {depth!r}")
    return depth


def reach_probabilities(node_probs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """Probability of reaching every node of every level, leaves included.

    Args:
        node_probs: ``d`` tensors; ``node_probs[k]: [..., 2^k]`` is the probability that each node of level
            ``k`` sends its input LEFT.
    Returns:
        ``d + 1`` tensors; entry ``k: [..., 2^k]`` is the probability of reaching each node of level ``k``
        (level 0, the root, is reached with probability 1; entry ``d`` holds the ``2^d`` leaves).
    """
    if len(node_probs) == 0:
        raise ValueError("node_probs must hold one tensor per level (at least one level)")
    lead = node_probs[0].shape[:-1]
    reach = [torch.ones(*lead, 1, dtype=node_probs[0].dtype, device=node_probs[0].device)]
    for k, p_left in enumerate(node_probs):
        if p_left.shape != (*lead, 2 ** k):
            raise ValueError(f"node_probs[{k}] must have shape {(*lead, 2 ** k)} (2^{k} nodes on level {k}), "
                             f"got {tuple(p_left.shape)}")
        parent = reach[-1]
        # children of node n are 2n (left) and 2n + 1 (right): interleave [left, right] per parent
        reach.append(torch.stack([parent * p_left, parent * (1.0 - p_left)], dim=-1).flatten(-2))
    return reach


def leaf_probabilities(node_probs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Path probability of every leaf: ``node_probs[k]: [..., 2^k]`` (P(left)) -> ``[..., 2^d]``.

    Leaf ``l`` is reached by the path whose binary digits are ``l``'s (0 = left); its probability is the
    product of ``p`` (left) or ``1 - p`` (right) of the ``d`` nodes on that path. The probabilities sum to 1.
    """
    return reach_probabilities(node_probs)[-1]


class SoftTree(nn.Module):
    """One soft decision tree: ``x [..., in_dim] -> [..., out_dim]``.

    Level ``k`` has ``2^k`` nodes whose logits come from ``Linear(in_dim, 2^k)``; the ``2^depth`` leaves
    each hold a vector of ``out_dim`` values (``self.leaves: [2^depth, out_dim]``).

    Args:
        in_dim: size of the input features.
        depth: number of levels of inner nodes (``>= 1``).
        out_dim: size of each leaf's value.
    """

    def __init__(self, in_dim: int, depth: int, out_dim: int = 1):
        super().__init__()
        if min(in_dim, out_dim) <= 0:
            raise ValueError(f"SoftTree needs positive sizes, got in_dim={in_dim}, out_dim={out_dim}")
        self.in_dim, self.depth, self.out_dim = in_dim, _check_depth(depth), out_dim
        self.levels = nn.ModuleList(nn.Linear(in_dim, 2 ** k) for k in range(depth))
        self.leaves = nn.Parameter(torch.randn(2 ** depth, out_dim))

    def node_probs(self, x: torch.Tensor) -> List[torch.Tensor]:
        """``x: [..., in_dim]`` -> ``depth`` tensors ``[..., 2^k]``: P(go left) at each node."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"SoftTree expected x [..., {self.in_dim}], got {tuple(x.shape)}")
        return [torch.sigmoid(level(x)) for level in self.levels]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [..., in_dim]`` -> ``sum_l P(leaf l | x) * leaves[l]``: ``[..., out_dim]``."""
        return leaf_probabilities(self.node_probs(x)) @ self.leaves


class RecurrentTreeCell(nn.Module):
    """``H`` soft trees of depth ``d`` whose nodes see ``x_t`` and ``h_{t-1}``; tree ``j`` writes ``h_t[j]``.

    For each level ``k`` two layers give the logit of every node of that level in every tree::

        logits_k = Linear(x_dim, H * 2^k)(x_t) + Linear(H, H * 2^k)(h_{t-1})    # [..., H * 2^k]

    read as ``[..., H, 2^k]`` (tree-major: output ``j * 2^k + n`` is node ``n`` of tree ``j``). Each tree has
    one scalar per leaf (``self.leaves: [H, 2^d]``) and ``h_t[j] = sum_l P_j(leaf l) * leaves[j, l]``.

    Args:
        x_dim: size of the input ``x``.
        n_trees: ``H``, the number of trees and the size of the hidden vector.
        depth: ``d``, levels of inner nodes per tree.
    """

    def __init__(self, x_dim: int, n_trees: int, depth: int = 3):
        super().__init__()
        if min(x_dim, n_trees) <= 0:
            raise ValueError(f"RecurrentTreeCell needs positive sizes, got x_dim={x_dim}, n_trees={n_trees}")
        self.x_dim, self.n_trees, self.depth = x_dim, n_trees, _check_depth(depth)
        H = n_trees
        self.x_layers = nn.ModuleList(nn.Linear(x_dim, H * 2 ** k) for k in range(depth))
        self.h_layers = nn.ModuleList(nn.Linear(H, H * 2 ** k) for k in range(depth))
        self.leaves = nn.Parameter(torch.randn(H, 2 ** depth))

    @property
    def hidden_dim(self) -> int:
        """``H``."""
        return self.n_trees

    def _check(self, x: torch.Tensor, h: torch.Tensor) -> None:
        if x.shape[-1] != self.x_dim or h.shape[-1] != self.n_trees or x.shape[:-1] != h.shape[:-1]:
            raise ValueError(f"RecurrentTreeCell expected x [..., {self.x_dim}] and h [..., {self.n_trees}] with "
                             f"the same leading shape, got x {tuple(x.shape)} and h {tuple(h.shape)}")

    # --- all levels' logits in one matrix product each (same parameters as the per-level layers) ---------
    def x_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Input part of every node's logit, all levels concatenated: ``[..., H * (2^d - 1)]``."""
        w = torch.cat([l.weight for l in self.x_layers], dim=0)
        b = torch.cat([l.bias for l in self.x_layers], dim=0)
        return F.linear(x, w, b)

    def h_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Recurrent part of every node's logit, all levels concatenated: ``[..., H * (2^d - 1)]``."""
        w = torch.cat([l.weight for l in self.h_layers], dim=0)
        b = torch.cat([l.bias for l in self.h_layers], dim=0)
        return F.linear(h, w, b)

    def _split(self, logits: torch.Tensor) -> List[torch.Tensor]:
        H, lead = self.n_trees, logits.shape[:-1]
        parts = torch.split(torch.sigmoid(logits), [H * 2 ** k for k in range(self.depth)], dim=-1)
        return [p.reshape(*lead, H, 2 ** k) for k, p in enumerate(parts)]

    def node_probs(self, x: torch.Tensor, h: torch.Tensor) -> List[torch.Tensor]:
        """``x: [..., x_dim]``, ``h: [..., H]`` -> ``d`` tensors ``[..., H, 2^k]``: P(go left) per tree and node."""
        self._check(x, h)
        return self._split(self.x_logits(x) + self.h_logits(h))

    def _from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return (leaf_probabilities(self._split(logits)) * self.leaves).sum(-1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step: ``x: [..., x_dim]``, ``h: [..., H]`` -> ``h_new: [..., H]``."""
        self._check(x, h)
        return self._from_logits(self.x_logits(x) + self.h_logits(h))

    def inner_weights(self, depth: int) -> torch.Tensor:
        """Input weights of the nodes of level ``depth`` (0-based): ``[H, 2^depth, x_dim]``.

        Row ``[j, n]`` is node ``n`` of tree ``j``'s weight vector over the ``x`` features, in the same
        tree-major order as the forward pass (the authors' plotting code used another order, which
        mislabels nodes; this one is tested against :meth:`node_probs`).
        """
        if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth < self.depth:
            raise ValueError(f"depth must be an integer in [0, {self.depth}), got {depth!r}")
        return self.x_layers[depth].weight.reshape(self.n_trees, 2 ** depth, self.x_dim)


class MIXRTAgent(AgentBase):
    """MIXRTs' agent: a recurrent tree cell and a linear ensemble head.

    ``h_t = cell(x_t, h_{t-1})`` (``H`` trees of depth ``d``) and ``Q(tau_t, .) = Linear(H, A, bias=False)(h_t)``:
    every action's value is a weighted sum of the ``H`` trees' outputs. Registered as ``"mixrt"``.

    Args:
        input_dim: size of ``x_t`` (observation, last action one-hot, agent id one-hot).
        n_actions: A.
        hidden_dim: H, the number of trees (authors' default 32).
        depth: depth of every tree (authors' default 3).
    """

    def __init__(self, input_dim: int, n_actions: int, hidden_dim: int = 32, depth: int = 3):
        super().__init__()
        if min(input_dim, n_actions, hidden_dim) <= 0:
            raise ValueError(f"MIXRTAgent needs positive sizes, got input_dim={input_dim}, n_actions={n_actions}, "
                             f"hidden_dim={hidden_dim}")
        self.input_dim, self.n_actions, self.hidden_dim = input_dim, n_actions, hidden_dim
        self.depth = _check_depth(depth)
        self.cell = RecurrentTreeCell(input_dim, hidden_dim, depth)
        self.head = nn.Linear(hidden_dim, n_actions, bias=False)

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One step: ``inputs: [B, input_dim]``, ``hidden: [B, H]`` -> ``(q: [B, A], hidden: [B, H])``."""
        self._check_inputs(inputs)
        h = self.cell(inputs, hidden.reshape(*inputs.shape[:-1], self.hidden_dim))
        return self.head(h), h

    def unroll(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Whole sequences ``inputs: [B, T, input_dim]`` -> ``(q [B, T, A], hidden [B, T, H])``.

        Fused: the input part of every node's logit is computed for all steps in one matrix product, and
        the head is applied once at the end; only the recurrent part runs step by step. Equal to the loop
        over :meth:`forward` within float tolerance (tested).
        """
        self._check_inputs(inputs, 3)
        B, T = inputs.shape[:2]
        h = self.init_hidden(B, inputs.device) if h0 is None else h0
        cell = self.cell
        xl = cell.x_logits(inputs)  # [B, T, H * (2^d - 1)]
        wh = torch.cat([l.weight for l in cell.h_layers], dim=0)  # recurrent weights of all levels, once
        bh = torch.cat([l.bias for l in cell.h_layers], dim=0)
        hs = []
        for t in range(T):
            h = cell._from_logits(xl[:, t] + F.linear(h, wh, bh))
            hs.append(h)
        hidden = torch.stack(hs, dim=1)
        return self.head(hidden), hidden
