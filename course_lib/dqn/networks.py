"""The feed-forward Q-network of DQN: an MLP from an observation to one Q-value per action."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["QNetwork"]


class QNetwork(nn.Module):
    """``obs: [batch, obs_dim] -> q: [batch, n_actions]`` through ReLU hidden layers.

    Args:
        obs_dim: observation size.
        n_actions: number of discrete actions.
        hidden: widths of the hidden layers (default two layers of 64).
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: Sequence[int] = (64, 64)):
        super().__init__()
        if obs_dim <= 0 or n_actions <= 0 or any(h <= 0 for h in hidden):
            raise ValueError(f"QNetwork needs positive sizes, got obs_dim={obs_dim}, n_actions={n_actions}, hidden={tuple(hidden)}")
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        layers, width = [], self.obs_dim
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, self.n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs: [..., obs_dim] -> q: [..., n_actions]``."""
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"QNetwork expected observations with last dimension {self.obs_dim}, got shape {tuple(obs.shape)}")
        return self.net(obs)
