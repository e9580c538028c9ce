"""The agent seam: what every agent network of ``course_lib`` provides.

An agent maps one step of one agent's input to Q-values and a new recurrent state. Every method's agent
(pymarl's GRU agent, ACORM's role-conditioned agent, MIXRTs' recurrent soft trees) implements the same four
things, so the runner, the controller, the learners and ``train`` never need to know which one they drive:

- ``hidden_dim``: size of the flat recurrent state carried between steps (``[batch, hidden_dim]``; an agent
  with several recurrent parts concatenates them);
- ``forward(inputs, hidden) -> (q, hidden)``: one step (collection, evaluation, the notebooks' by-hand cells);
- ``unroll(inputs, h0) -> (q, hidden)``: a whole sequence. The default loops over ``forward``; an agent may
  override it with a fused implementation, which must equal the loop within float tolerance;
- ``extras(hidden) -> dict``: named per-step quantities that a mixer or a learner needs besides Q (ACORM's
  role representations, for example), computed from the recurrent states ``[..., hidden_dim]``. Empty by
  default.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import nn

__all__ = ["AgentBase"]


class AgentBase(nn.Module):
    """Base class of the agent networks (see the module docstring).

    Subclasses set ``self.input_dim``, ``self.n_actions``, ``self.hidden_dim`` and implement :meth:`forward`.
    """

    input_dim: int
    n_actions: int
    hidden_dim: int

    def init_hidden(self, batch_size: int, device: Optional[torch.device] = None) -> torch.Tensor:
        """Zero recurrent state ``h: [batch_size, hidden_dim]`` on the module's (or given) device."""
        if device is None:
            device = next(self.parameters()).device
        return torch.zeros(batch_size, self.hidden_dim, device=device)

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One step: ``inputs: [batch, input_dim]``, ``hidden: [batch, hidden_dim]`` ->
        ``(q: [batch, n_actions], hidden: [batch, hidden_dim])``."""
        raise NotImplementedError

    def unroll(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run over whole sequences.

        Args:
            inputs: ``[batch, time, input_dim]``.
            h0: ``[batch, hidden_dim]`` initial state (zeros when None).
        Returns:
            ``(q: [batch, time, n_actions], hidden: [batch, time, hidden_dim])``; ``hidden[:, t]`` is the state
            after reading ``inputs[:, t]``.
        """
        self._check_inputs(inputs, 3)
        h = self.init_hidden(inputs.shape[0], inputs.device) if h0 is None else h0
        qs, hs = [], []
        for t in range(inputs.shape[1]):
            q, h = self(inputs[:, t], h)
            qs.append(q)
            hs.append(h)
        return torch.stack(qs, dim=1), torch.stack(hs, dim=1)

    def extras(self, hidden: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Named per-step outputs besides Q, from recurrent states ``[..., hidden_dim]`` (none here)."""
        return {}

    # ------------------------------------------------------------------------------------------------
    def _check_inputs(self, inputs: torch.Tensor, ndim: Optional[int] = None) -> None:
        if inputs.shape[-1] != self.input_dim or (ndim is not None and inputs.dim() != ndim):
            want = "[batch, time, input_dim]" if ndim == 3 else "[..., input_dim]"
            raise ValueError(f"{type(self).__name__} expected inputs {want} with input_dim={self.input_dim}, "
                             f"got shape {tuple(inputs.shape)}")
