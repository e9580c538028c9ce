"""QMIX's monotonic mixing network (Rashid et al., 2018), pymarl layout.

Hypernetworks turn the global state ``s`` into the mixing network's weights:

- ``W1 = |hyper_w1(s)|: [n_agents, embed]``, ``b1 = hyper_b1(s): [embed]``,
  ``hidden = ELU(q @ W1 + b1)``;
- ``w2 = |hyper_w2(s)|: [embed]``, ``V(s) = Linear(S, embed) -> ReLU -> Linear(embed, 1)``;
- ``Q_tot = hidden @ w2 + V(s)``.

Absolute values make every weight that multiplies a ``Q_i`` non-negative and ELU is increasing, so
``dQ_tot / dQ_i >= 0`` for every agent: the argmax of ``Q_tot`` is the tuple of per-agent argmaxes (IGM).
pymarl's default hypernetworks are one ``Linear`` layer; ``hypernet_layers=2`` gives pymarl2's
``Linear(S, hypernet_embed) -> ReLU -> Linear(hypernet_embed, ...)``.
"""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["QMixer"]


def _hypernet(state_dim: int, out_dim: int, layers: int, embed: int) -> nn.Module:
    if layers == 1:
        return nn.Linear(state_dim, out_dim)
    if layers == 2:
        return nn.Sequential(nn.Linear(state_dim, embed), nn.ReLU(), nn.Linear(embed, out_dim))
    raise ValueError(f"hypernet_layers must be 1 or 2, got {layers!r}")


class QMixer(nn.Module):
    """Monotonic mixer ``Q_tot = f_s(Q_1, ..., Q_N)`` with state-conditioned non-negative weights.

    Args:
        n_agents: number of agents N.
        state_dim: size S of the global state.
        embed_dim: width of the mixing layer (pymarl ``mixing_embed_dim``: 32).
        hypernet_layers: 1 (pymarl default) or 2 (pymarl2).
        hypernet_embed: hidden width of the two-layer hypernetworks (64).
    """

    def __init__(self, n_agents: int, state_dim: int, embed_dim: int = 32, hypernet_layers: int = 1,
                 hypernet_embed: int = 64):
        super().__init__()
        if n_agents <= 0 or state_dim <= 0 or embed_dim <= 0 or hypernet_embed <= 0:
            raise ValueError(f"QMixer needs positive sizes, got n_agents={n_agents}, state_dim={state_dim}, "
                             f"embed_dim={embed_dim}, hypernet_embed={hypernet_embed}")
        self.n_agents = n_agents
        self.state_dim = state_dim
        self.embed_dim = embed_dim
        self.hypernet_layers = hypernet_layers
        self.hyper_w1 = _hypernet(state_dim, embed_dim * n_agents, hypernet_layers, hypernet_embed)
        self.hyper_w2 = _hypernet(state_dim, embed_dim, hypernet_layers, hypernet_embed)
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.V = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def mixing_weights(self, states: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The mixing network generated for each state.

        Args:
            states: ``[..., S]``.
        Returns:
            dict with ``w1: [..., N, embed]`` (non-negative), ``b1: [..., embed]``,
            ``w2: [..., embed]`` (non-negative) and ``v: [..., 1]``.
        """
        lead = states.shape[:-1]
        w1 = torch.abs(self.hyper_w1(states)).reshape(*lead, self.n_agents, self.embed_dim)
        return {"w1": w1, "b1": self.hyper_b1(states), "w2": torch.abs(self.hyper_w2(states)), "v": self.V(states)}

    def forward(self, agent_qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """Mix chosen-action values.

        Args:
            agent_qs: ``[..., N]`` (e.g. ``[batch, time, N]``).
            states: ``[..., S]`` with the same leading shape (e.g. ``[batch, time, S]``).
        Returns:
            ``Q_tot: [..., 1]``.
        """
        if agent_qs.shape[-1] != self.n_agents:
            raise ValueError(f"QMixer expected {self.n_agents} agents in the last dimension of agent_qs, "
                             f"got shape {tuple(agent_qs.shape)}")
        if states.shape[-1] != self.state_dim or states.shape[:-1] != agent_qs.shape[:-1]:
            raise ValueError(f"QMixer expected states of shape {tuple(agent_qs.shape[:-1]) + (self.state_dim,)}, "
                             f"got {tuple(states.shape)}")
        lead = agent_qs.shape[:-1]
        s = states.reshape(-1, self.state_dim)
        q = agent_qs.reshape(-1, 1, self.n_agents)
        w1 = torch.abs(self.hyper_w1(s)).view(-1, self.n_agents, self.embed_dim)
        b1 = self.hyper_b1(s).view(-1, 1, self.embed_dim)
        hidden = F.elu(torch.bmm(q, w1) + b1)  # [b, 1, embed]
        w2 = torch.abs(self.hyper_w2(s)).view(-1, self.embed_dim, 1)
        v = self.V(s).view(-1, 1, 1)
        y = torch.bmm(hidden, w2) + v  # [b, 1, 1]
        return y.reshape(*lead, 1)
