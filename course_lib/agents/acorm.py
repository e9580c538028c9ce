"""ACORM's agent: an agent-embedding GRU, a role encoder and a role-conditioned Q-network (QMIX variant).

For agent i at step t, with input ``x_t = [o_t, onehot(a_{t-1})]`` (no agent id: ACORM wants roles, not
identities, to tell the agents apart):

- agent embedding ``e_t = f_phi(x_t, h^e_{t-1})``: ``Linear(in, 128) -> ReLU -> GRUCell(128) -> Linear(128)``
  (:attr:`ACORMAgent.embed_net`);
- role representation ``z_t = sigmoid(Linear(128, 64)(e_t))`` (:attr:`ACORMAgent.role_encoder`);
- Q-values from ``[x_t, z_t]``: ``Linear(in + 64, 64) -> ReLU -> GRUCell(64) -> Linear(n_actions)``
  (:attr:`ACORMAgent.q_net`).

The flat recurrent state is ``cat(h^e [128], h^q [64])`` (``hidden_dim`` 192); :meth:`ACORMAgent.extras`
recomputes ``e`` and ``z`` from it (``{"embedding", "roles"}``), which is how the attention mixer and the
learner's contrastive loss read them. :meth:`ACORMAgent.unroll` runs both GRUs with PyTorch's multi-step
kernel on the cells' own weights (same numbers as the step loop, tested).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import nn

from .base import AgentBase
from .rnn import RNNAgent

__all__ = ["ACORMAgent"]


class ACORMAgent(AgentBase):
    """Agent embedding + role encoder + role-conditioned GRU Q-network.

    Args:
        input_dim: size of ``[o_t, onehot(a_{t-1})]``.
        n_actions: number of actions.
        hidden_dim: width of the Q-network's GRU (ACORM: 64).
        embed_dim: agent-embedding width (ACORM: 128).
        role_dim: role-representation width (ACORM: 64).
    """

    def __init__(self, input_dim: int, n_actions: int, hidden_dim: int = 64, embed_dim: int = 128,
                 role_dim: int = 64):
        super().__init__()
        for name, v in (("input_dim", input_dim), ("n_actions", n_actions), ("hidden_dim", hidden_dim),
                        ("embed_dim", embed_dim), ("role_dim", role_dim)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"ACORMAgent needs positive integer sizes, got {name}={v!r}")
        self.input_dim, self.n_actions = input_dim, n_actions
        self.q_hidden_dim, self.embed_dim, self.role_dim = hidden_dim, embed_dim, role_dim
        self.hidden_dim = embed_dim + hidden_dim
        # Linear(in, E) -> ReLU -> GRUCell(E, E) -> Linear(E, E): the GRU agent's layout with E outputs
        self.embed_net = RNNAgent(input_dim, embed_dim, embed_dim)
        self.role_encoder = nn.Sequential(nn.Linear(embed_dim, role_dim), nn.Sigmoid())
        self.q_net = RNNAgent(input_dim + role_dim, n_actions, hidden_dim)

    # ------------------------------------------------------------------------------------------------
    def split_hidden(self, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``[..., 192] -> (h_embed [..., 128], h_q [..., 64])``."""
        if hidden.shape[-1] != self.hidden_dim:
            raise ValueError(f"ACORMAgent expected a hidden state [..., {self.hidden_dim}], got {tuple(hidden.shape)}")
        return hidden[..., : self.embed_dim], hidden[..., self.embed_dim:]

    def roles_from_embedding(self, embedding: torch.Tensor) -> torch.Tensor:
        """``z = sigmoid(Linear(embedding))``: ``[..., 128] -> [..., 64]``."""
        return self.role_encoder(embedding)

    def embed_unroll(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Agent embeddings over whole sequences: ``inputs [B, T, in] -> (e [B, T, 128], h_embed [B, T, 128])``."""
        self._check_inputs(inputs, 3)
        return self.embed_net.unroll(inputs, h0)

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One step: ``inputs [B, in]``, ``hidden [B, 192]`` -> ``(q [B, A], hidden [B, 192])`` (leading dims kept)."""
        self._check_inputs(inputs)
        lead = inputs.shape[:-1]
        x = inputs.reshape(-1, self.input_dim)
        he, hq = self.split_hidden(hidden.reshape(-1, self.hidden_dim))
        e, he = self.embed_net(x, he)
        z = self.role_encoder(e)
        q, hq = self.q_net(torch.cat([x, z], dim=-1), hq)
        return q.reshape(*lead, self.n_actions), torch.cat([he, hq], dim=-1).reshape(*lead, self.hidden_dim)

    def unroll(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fused over time: ``inputs [B, T, in] -> (q [B, T, A], hidden [B, T, 192])``."""
        self._check_inputs(inputs, 3)
        he0 = hq0 = None
        if h0 is not None:
            he0, hq0 = self.split_hidden(h0.reshape(inputs.shape[0], self.hidden_dim))
        e, he = self.embed_net.unroll(inputs, he0)
        z = self.role_encoder(e)
        q, hq = self.q_net.unroll(torch.cat([inputs, z], dim=-1), hq0)
        return q, torch.cat([he, hq], dim=-1)

    def extras(self, hidden: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{"embedding": [..., 128], "roles": [..., 64]}`` from recurrent states ``[..., 192]``."""
        he, _ = self.split_hidden(hidden)
        e = self.embed_net.fc2(he)
        return {"embedding": e, "roles": self.role_encoder(e)}
