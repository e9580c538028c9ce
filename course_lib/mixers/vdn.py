"""VDN's mixer (Sunehag et al., 2018): the joint value is the sum of the agents' values."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

__all__ = ["VDNMixer"]


class VDNMixer(nn.Module):
    """``Q_tot(tau, u) = sum_i Q_i(tau_i, u_i)``. No parameters; the state is ignored."""

    def __init__(self, n_agents: Optional[int] = None, state_dim: Optional[int] = None):
        super().__init__()
        self.n_agents = n_agents
        self.state_dim = state_dim

    def forward(self, agent_qs: torch.Tensor, states: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Sum over agents.

        Args:
            agent_qs: ``[..., n_agents]`` chosen-action values, e.g. ``[batch, time, n_agents]``.
            states: ignored (kept so that every mixer has the same call signature).
        Returns:
            ``[..., 1]`` joint values, e.g. ``[batch, time, 1]``.
        """
        if self.n_agents is not None and agent_qs.shape[-1] != self.n_agents:
            raise ValueError(f"VDNMixer expected {self.n_agents} agents in the last dimension, "
                             f"got shape {tuple(agent_qs.shape)}")
        return agent_qs.sum(dim=-1, keepdim=True)
