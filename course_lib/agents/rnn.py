"""The recurrent Q-network shared by DRQN (notebook 02) and every multi-agent method (pymarl's agent).

``Linear(input_dim, hidden) -> ReLU -> GRUCell(hidden, hidden) -> Linear(hidden, n_actions)``.
In the multi-agent setting one ``RNNAgent`` is shared by all agents (parameter sharing); the input is
the agent's observation, the one-hot of its previous action and the one-hot of its agent id, so the
batch dimension simply folds ``[batch, n_agents]`` together.

Two ways to run it, with the same weights. :meth:`RNNAgent.forward` takes one step with the ``GRUCell``
(collection, evaluation, the notebooks' by-hand cells). :meth:`RNNAgent.unroll` runs whole sequences in one
fused call, the way the learners use it: the input layer and the output layer are applied to every time step
at once, and the recurrence is PyTorch's multi-step GRU kernel (``torch.gru``, what ``nn.GRU`` calls) fed with
the ``GRUCell``'s own weights (the gate layout ``r, z, n`` is the same). It equals the step-by-step loop
within float tolerance (tested) and is several times faster on the long, narrow sequences of SMAC episodes.
"""
from __future__ import annotations

import warnings
from typing import Optional, Tuple

import torch
from torch import nn

from .base import AgentBase

__all__ = ["RNNAgent", "gru_sequence"]

# cuDNN's note that the GRUCell's weights are not one contiguous chunk (see gru_sequence): expected, harmless
warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous", category=UserWarning)


def gru_sequence(cell: nn.GRUCell, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """Run ``cell`` over whole sequences in one fused call (``torch.gru``, what ``nn.GRU`` calls).

    Args:
        cell: the ``GRUCell`` whose weights to use (the gate layout ``r, z, n`` is the same as ``nn.GRU``'s).
        x: ``[batch, time, input_size]``.
        h0: ``[batch, hidden_size]`` initial state.
    Returns:
        ``[batch, time, hidden_size]``: the hidden state after every step.

    On CUDA, cuDNN packs the four weight tensors into one buffer on every call and warns that they are not
    one contiguous chunk; for these small cells the copy costs microseconds, so that one warning is filtered
    out when this module is imported (a process-wide filter: ``catch_warnings`` per call is not thread-safe,
    and the learner runs in a second thread with ``overlap_collection``).
    """
    hs, _ = torch.gru(x, h0.unsqueeze(0).contiguous(), [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh],
                      True, 1, 0.0, cell.training, False, True)  # biases, 1 layer, no dropout, batch_first
    return hs


class RNNAgent(AgentBase):
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

    def unroll(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Whole sequences in one fused call (same numbers as looping :meth:`forward`).

        Args:
            inputs: ``[batch, time, input_dim]``.
            h0: ``[batch, hidden_dim]`` initial state (zeros when None).
        Returns:
            ``(q: [batch, time, n_actions], hidden: [batch, time, hidden_dim])``.
        """
        self._check_inputs(inputs, 3)
        B = inputs.shape[0]
        h = self.init_hidden(B, inputs.device) if h0 is None else h0.reshape(B, self.hidden_dim)
        x = torch.relu(self.fc1(inputs))  # [B, T, H], every step at once
        hs = gru_sequence(self.rnn, x, h)
        return self.fc2(hs), hs
