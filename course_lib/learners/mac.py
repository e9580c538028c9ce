"""Multi-agent controller: one shared agent network acting for all N agents (pymarl's ``BasicMAC``).

Each agent's input at step t is ``[o_t^i, onehot(u_{t-1}^i), onehot(i)]`` (the last two optional);
the batch dimension folds ``[batch, n_agents]`` together, so all agents of all environments run in one
call of the shared network. :meth:`MultiAgentController.step` is used while acting (one step, hidden
state carried by the runner) and :meth:`MultiAgentController.unroll` by the learners (a whole batch of
episodes at once, through the agent's :meth:`~course_lib.agents.AgentBase.unroll`, fused for the GRU agent).
The agent network comes from :func:`course_lib.agents.make_agent`, so any agent that follows
:class:`~course_lib.agents.AgentBase` (the GRU agent, ACORM's, MIXRTs' soft trees) plugs in here.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..agents import make_agent

__all__ = ["MultiAgentController"]


class MultiAgentController(nn.Module):
    """Shared-parameter agents with observation + last action + agent id inputs.

    Args:
        n_agents: N.
        n_actions: A.
        obs_dim: size O of one agent's observation.
        hidden_dim: the agent's width (GRU width H for pymarl's agent: 64).
        obs_last_action: append ``onehot(u_{t-1})`` (zeros at t = 0).
        obs_agent_id: append ``onehot(i)``.
        agent: registry name for :func:`course_lib.agents.make_agent`.
        agent_kwargs: further keywords for that agent (e.g. a soft tree's depth).

    ``self.hidden_dim`` is the size of the agent's whole recurrent state (``agent.hidden_dim``), which can
    differ from ``hidden_dim`` for agents with several recurrent parts.
    """

    def __init__(self, n_agents: int, n_actions: int, obs_dim: int, hidden_dim: int = 64,
                 obs_last_action: bool = True, obs_agent_id: bool = True, agent: str = "rnn",
                 agent_kwargs: Optional[Dict[str, Any]] = None):
        super().__init__()
        if min(n_agents, n_actions, obs_dim, hidden_dim) <= 0:
            raise ValueError(f"MultiAgentController needs positive sizes, got n_agents={n_agents}, "
                             f"n_actions={n_actions}, obs_dim={obs_dim}, hidden_dim={hidden_dim}")
        self.n_agents, self.n_actions, self.obs_dim = n_agents, n_actions, obs_dim
        self.obs_last_action, self.obs_agent_id = obs_last_action, obs_agent_id
        self.agent = make_agent(agent, self.input_dim, n_actions, hidden_dim, **(agent_kwargs or {}))
        self.hidden_dim = int(self.agent.hidden_dim)
        self.register_buffer("_agent_ids", torch.eye(n_agents), persistent=False)

    @property
    def input_dim(self) -> int:
        """Size of one agent's input vector: ``O (+ A) (+ N)``."""
        return self.obs_dim + (self.n_actions if self.obs_last_action else 0) + (self.n_agents if self.obs_agent_id else 0)

    def build_inputs(self, obs: torch.Tensor, last_actions_onehot: torch.Tensor) -> torch.Tensor:
        """Agent inputs.

        Args:
            obs: ``[..., N, O]``.
            last_actions_onehot: ``[..., N, A]`` (ignored when ``obs_last_action`` is False).
        Returns:
            ``[..., N, input_dim]``.
        """
        if obs.shape[-2:] != (self.n_agents, self.obs_dim):
            raise ValueError(f"expected observations [..., {self.n_agents}, {self.obs_dim}], got {tuple(obs.shape)}")
        parts = [obs.float()]
        if self.obs_last_action:
            parts.append(last_actions_onehot.to(parts[0].dtype))
        if self.obs_agent_id:
            parts.append(self._agent_ids.to(parts[0].dtype).expand(*obs.shape[:-1], self.n_agents))
        return torch.cat(parts, dim=-1)

    @property
    def device(self) -> torch.device:
        """Device of the controller's parameters."""
        return self._agent_ids.device

    def init_hidden(self, batch_size: int) -> torch.Tensor:
        """Zero hidden state ``[batch_size, N, H]`` on the controller's device."""
        return torch.zeros(batch_size, self.n_agents, self.hidden_dim, device=self._agent_ids.device)

    def step(self, obs: torch.Tensor, last_actions_onehot: torch.Tensor,
             hidden: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One step for a batch of environments.

        Args:
            obs: ``[B, N, O]``; last_actions_onehot: ``[B, N, A]``; hidden: ``[B, N, H]``.
        Returns:
            ``(q: [B, N, A], hidden: [B, N, H])``.
        """
        inputs = self.build_inputs(obs, last_actions_onehot)
        q, h = self.agent(inputs, hidden)
        return q, h

    @staticmethod
    def last_actions_onehot(actions: torch.Tensor, n_actions: int, n_steps: int) -> torch.Tensor:
        """Previous-action one-hots for steps ``0 .. n_steps-1``.

        Args:
            actions: ``[B, T, N]`` long, the actions taken at steps ``0 .. T-1``.
            n_steps: how many steps of inputs are needed (``T`` or ``T + 1``).
        Returns:
            ``[B, n_steps, N, A]`` with zeros at step 0 and ``onehot(actions[:, t-1])`` at step t.
        """
        B, T, N = actions.shape
        if not T <= n_steps <= T + 1:
            raise ValueError(f"n_steps must be T={T} or T+1={T + 1}, got {n_steps}")
        out = torch.zeros(B, n_steps, N, n_actions, device=actions.device)
        out[:, 1:] = F.one_hot(actions[:, : n_steps - 1], n_actions).to(out.dtype)
        return out

    def unroll(self, obs: torch.Tensor, actions: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run the agents over whole episodes from a zero hidden state.

        Args:
            obs: ``[B, T+1, N, O]`` (or ``[B, T, N, O]``) observations.
            actions: ``[B, T, N]`` actions taken (they build the last-action inputs).
        Returns:
            ``(q: [B, T', N, A], hidden: [B, T', N, H])`` for every input step (``T' = obs.shape[1]``);
            ``hidden[:, t]`` is the state after reading step t's input.
        """
        B, Tp = obs.shape[:2]
        last = self.last_actions_onehot(actions, self.n_actions, Tp) if self.obs_last_action else None
        if last is None:
            last = obs.new_zeros(B, Tp, self.n_agents, self.n_actions)
        inputs = self.build_inputs(obs, last)  # [B, T', N, in]
        N = self.n_agents
        flat = inputs.transpose(1, 2).reshape(B * N, Tp, inputs.shape[-1])  # one sequence per (episode, agent)
        q, h = self.agent.unroll(flat)  # [B*N, T', A], [B*N, T', H]
        q = q.reshape(B, N, Tp, self.n_actions).transpose(1, 2)
        h = h.reshape(B, N, Tp, self.hidden_dim).transpose(1, 2)
        return q, h

    def extras(self, hidden: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The agent's named per-step outputs besides Q (e.g. ACORM's roles) from states ``[..., N, H]``."""
        return self.agent.extras(hidden)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Same as :meth:`unroll`."""
        return self.unroll(obs, actions)
