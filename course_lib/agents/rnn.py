"""The recurrent Q-network shared by DRQN (notebook 02) and every multi-agent method (pymarl's agent).

``Linear(input_dim, hidden) -> ReLU -> GRUCell(hidden, hidden) -> Linear(hidden, n_actions)``.
In the multi-agent setting one ``RNNAgent`` is shared by all agents (parameter sharing); the input is
the agent's observation, the one-hot of its previous action and the one-hot of its agent id, so the
batch dimension simply folds ``[batch, n_agents]`` together.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

__all__ = ["RNNAgent"]


class RNNAgent(nn.Module):
    """GRU Q-network: one step of the action-observation history at a time.

    Args:
        input_dim: size of one input vector.
        n_actions: number of discrete actions (Q-values out).
        hidden_dim: GRU width (pymarl default 64).
    """

    def __init__(self, input_dim: int, n_actions: int, hidden_dim: int = 64):
        super().__init__()
        if input_dim <= 0 or n_actions <= 0 or hidden_dim <= 0:
            raise ValueError(
                f"RNNAgent needs positive sizes, got input_dim={input_dim}, n_actions={n_actions}, "
                f"hidden_dim={hidden_dim}"
            )
        self.input_dim = input_dim
        self.n_actions = n_actions
        self.hidden_dim = hidden_dim
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.rnn = nn.GRUCell(hidden_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, n_actions)

    def init_hidden(self, batch_size: int, device: Optional[torch.device] = None) -> torch.Tensor:
        """Zero hidden state ``h: [batch_size, hidden_dim]`` on the module's (or given) device."""
        device = device if device is not None else self.fc1.weight.device
        return torch.zeros(batch_size, self.hidden_dim, device=device)

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One recurrent step.

        Args:
            inputs: ``[batch, input_dim]`` (any leading shape is flattened into the batch).
            hidden: ``[batch, hidden_dim]`` previous hidden state.
        Returns:
            ``(q, h)`` with ``q: [batch, n_actions]`` and ``h: [batch, hidden_dim]``.
        """
        if inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"RNNAgent expected inputs with last dimension {self.input_dim}, got shape {tuple(inputs.shape)}"
            )
        lead = inputs.shape[:-1]
        x = torch.relu(self.fc1(inputs.reshape(-1, self.input_dim)))
        h = self.rnn(x, hidden.reshape(-1, self.hidden_dim))
        q = self.fc2(h)
        return q.reshape(*lead, self.n_actions), h.reshape(*lead, self.hidden_dim)
