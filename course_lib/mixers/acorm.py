"""ACORM's attention-guided mixer: QMIX hypernetworks conditioned on the state *and* on the agents' roles.

Over a whole episode ``t = 0..T``:

1. ``s'_t = ReLU(Linear(S, S)(s_t))``; a ``GRUCell(S, N * 64)`` run over time turns the state history into
   ``N`` query tokens of 64 (``h_t`` reshaped to ``[N, 64]``);
2. multi-head attention (4 heads, width 128 = 4 x 32, scale ``1/sqrt(32)``, query and key projections
   without bias) of the query tokens over the N role representations ``z_t^j`` (keys and values), then
   ``Linear(128, 64)`` per token: ``N x 64`` numbers summarising "which roles matter now";
3. ``[s'_t, flattened attention output]`` feeds QMIX hypernetworks (mixing width 32): ``W1, w2`` two-layer
   (hidden 64) with ``abs``, ``b1`` linear, ``b2 = Linear(32) -> ReLU -> Linear(1)``; ELU in the mixing layer:
   ``Q_tot = ELU(q W1 + b1) w2 + b2``.

Because ``W1, w2 >= 0`` and ELU is increasing, ``dQ_tot/dQ_i >= 0`` (monotonic, IGM holds) whatever the
roles. ``use_attention=False`` is the ablation "no attention": the same two-layer hypernetworks read only
the raw state (plain QMIX; no state GRU, no roles).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..agents.rnn import gru_sequence

__all__ = ["ACORMMixer", "RoleAttention"]


class RoleAttention(nn.Module):
    """Multi-head attention of ``N`` query tokens over ``N`` role representations.

    Args:
        query_dim: size of a query token (64); role_dim: size of a role (64);
        n_heads: heads (4); attn_dim: total width (128, ``attn_dim / n_heads`` per head); out_dim: 64.
    """

    def __init__(self, query_dim: int, role_dim: int, n_heads: int = 4, attn_dim: int = 128, out_dim: int = 64):
        super().__init__()
        if attn_dim % n_heads:
            raise ValueError(f"attn_dim={attn_dim} must be a multiple of n_heads={n_heads}")
        self.n_heads, self.attn_dim, self.head_dim = n_heads, attn_dim, attn_dim // n_heads
        self.fc_q = nn.Linear(query_dim, attn_dim, bias=False)
        self.fc_k = nn.Linear(role_dim, attn_dim, bias=False)
        self.fc_v = nn.Linear(role_dim, attn_dim)
        self.fc_out = nn.Linear(attn_dim, out_dim)

    def weights(self, queries: torch.Tensor, roles: torch.Tensor) -> torch.Tensor:
        """Attention weights ``[..., heads, N_query, N_role]`` (softmax over roles) for ``queries [..., N, Dq]``,
        ``roles [..., N, R]``."""
        q = self.fc_q(queries).unflatten(-1, (self.n_heads, self.head_dim)).transpose(-3, -2)  # [..., H, N, d]
        k = self.fc_k(roles).unflatten(-1, (self.n_heads, self.head_dim)).transpose(-3, -2)
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim), dim=-1)

    def forward(self, queries: torch.Tensor, roles: torch.Tensor) -> torch.Tensor:
        """``queries [..., N, Dq]``, ``roles [..., N, R]`` -> ``[..., N, out_dim]``."""
        a = self.weights(queries, roles)
        v = self.fc_v(roles).unflatten(-1, (self.n_heads, self.head_dim)).transpose(-3, -2)  # [..., H, N, d]
        out = (a @ v).transpose(-3, -2).flatten(-2)  # [..., N, attn_dim]
        return self.fc_out(out)


class ACORMMixer(nn.Module):
    """Monotonic mixer whose hypernetworks read the state and an attention summary of the agents' roles.

    Args:
        n_agents: N; state_dim: S.
        role_dim: size of a role representation (64).
        n_heads, attn_dim: attention heads (4) and total width (128).
        embed_dim: mixing-layer width (QMIX ``mixing_embed_dim``: 32).
        hypernet_embed: hidden width of the two-layer hypernetworks (64).
        use_attention: False = ablation, plain two-layer QMIX hypernetworks on the raw state.
        query_dim: size of each of the N query tokens from the state GRU (ACORM ``state_embed_dim``: 64).
        attn_out_dim: size of each attention output token (ACORM ``att_out_dim``: 64).
    """

    def __init__(self, n_agents: int, state_dim: int, role_dim: int = 64, n_heads: int = 4, attn_dim: int = 128,
                 embed_dim: int = 32, hypernet_embed: int = 64, use_attention: bool = True, query_dim: int = 64,
                 attn_out_dim: int = 64):
        super().__init__()
        for name, v in (("n_agents", n_agents), ("state_dim", state_dim), ("role_dim", role_dim),
                        ("n_heads", n_heads), ("attn_dim", attn_dim), ("embed_dim", embed_dim),
                        ("hypernet_embed", hypernet_embed), ("query_dim", query_dim), ("attn_out_dim", attn_out_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"ACORMMixer needs positive integer sizes, got {name}={v!r}")
        self.n_agents, self.state_dim, self.role_dim, self.embed_dim = n_agents, state_dim, role_dim, embed_dim
        self.use_attention, self.query_dim = bool(use_attention), query_dim
        # roles are requested from the agent only when they are used (QLearner reads this attribute)
        self.extra_inputs = ("roles",) if self.use_attention else ()
        if self.use_attention:
            self.state_fc = nn.Linear(state_dim, state_dim)
            self.state_gru = nn.GRUCell(state_dim, n_agents * query_dim)
            self.attention = RoleAttention(query_dim, role_dim, n_heads, attn_dim, attn_out_dim)
            hyper_in = state_dim + n_agents * attn_out_dim
        else:
            hyper_in = state_dim
        self.hyper_in = hyper_in
        E, He = embed_dim, hypernet_embed
        self.hyper_w1 = nn.Sequential(nn.Linear(hyper_in, He), nn.ReLU(), nn.Linear(He, n_agents * E))
        self.hyper_w2 = nn.Sequential(nn.Linear(hyper_in, He), nn.ReLU(), nn.Linear(He, E))
        self.hyper_b1 = nn.Linear(hyper_in, E)
        self.hyper_b2 = nn.Sequential(nn.Linear(hyper_in, E), nn.ReLU(), nn.Linear(E, 1))

    # ------------------------------------------------------------------------------------------------
    def _check(self, states: torch.Tensor, roles: Optional[torch.Tensor], qs: Optional[torch.Tensor] = None) -> None:
        if states.dim() != 3 or states.shape[-1] != self.state_dim:
            raise ValueError(f"ACORMMixer expected states [batch, time, {self.state_dim}], got {tuple(states.shape)}")
        if qs is not None and qs.shape != (*states.shape[:2], self.n_agents):
            raise ValueError(f"ACORMMixer expected qs [batch, time, {self.n_agents}] matching the states, "
                             f"got {tuple(qs.shape)}")
        if self.use_attention:
            want = (*states.shape[:2], self.n_agents, self.role_dim)
            if roles is None or tuple(roles.shape) != want:
                raise ValueError(f"ACORMMixer with attention expected roles {want}, got "
                                 f"{None if roles is None else tuple(roles.shape)}")

    def queries(self, states: torch.Tensor) -> tuple:
        """``(s' [B, T, S], query tokens [B, T, N, query_dim])``: the state GRU run over the whole episode."""
        s = F.relu(self.state_fc(states))
        B = s.shape[0]
        hs = gru_sequence(self.state_gru, s, s.new_zeros(B, self.state_gru.hidden_size))  # fused GRU over time
        return s, hs.unflatten(-1, (self.n_agents, self.query_dim))

    def attention_weights(self, states: torch.Tensor, roles: torch.Tensor) -> torch.Tensor:
        """Per-head attention of each query token over the agents' roles: ``[B, T, heads, N, N]``
        (non-negative, each row sums to one over agents)."""
        if not self.use_attention:
            raise ValueError("this ACORMMixer was built with use_attention=False: it has no attention weights")
        self._check(states, roles)
        _, qtok = self.queries(states)
        return self.attention.weights(qtok, roles)

    def hyper_input(self, states: torch.Tensor, roles: Optional[torch.Tensor] = None) -> torch.Tensor:
        """What the hypernetworks read: ``[B, T, S + N * 64]`` (``[B, T, S]`` without attention)."""
        if not self.use_attention:
            return states
        s, qtok = self.queries(states)
        att = self.attention(qtok, roles)  # [B, T, N, 64]
        return torch.cat([s, att.flatten(-2)], dim=-1)

    def forward(self, qs: torch.Tensor, states: torch.Tensor, roles: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mix whole episodes.

        Args:
            qs: ``[B, T, N]`` chosen-action values; states: ``[B, T, S]``;
            roles: ``[B, T, N, role_dim]`` (ignored without attention).
        Returns:
            ``Q_tot: [B, T, 1]``.
        """
        self._check(states, roles, qs)
        x = self.hyper_input(states, roles)
        w1 = torch.abs(self.hyper_w1(x)).unflatten(-1, (self.n_agents, self.embed_dim))  # [B, T, N, E]
        b1 = self.hyper_b1(x)  # [B, T, E]
        hidden = F.elu((qs.unsqueeze(-2) @ w1).squeeze(-2) + b1)  # [B, T, E]
        w2 = torch.abs(self.hyper_w2(x))  # [B, T, E]
        return (hidden * w2).sum(-1, keepdim=True) + self.hyper_b2(x)
