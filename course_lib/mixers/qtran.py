"""QTRAN-base (Son et al., 2019) as in the code base the MIXRTs authors built on (and their talk's table).

Two networks of the global state and the agents' recurrent hidden states:

- joint action value ``Q_jt(s, u)``: each agent's ``[h_i, onehot(u_i)]`` goes through a 2-layer encoder
  of width ``H + A``; the encodings are summed over agents, concatenated with the state and fed to a
  3-layer MLP (width ``embed_dim``, 64) with one output;
- state value ``V_jt``: by default (``v_input="hidden"``) each agent's hidden state goes through its own
  2-layer encoder ``Linear(H, H) -> ReLU -> Linear(H, H)``, the encodings are summed over agents and
  ``[s, sum_i enc(h_i)]`` feeds a 3-layer MLP; with ``v_input="state"`` it is pymarl's ``qtran_base``
  ``V(s)``, a 3-layer MLP of the state alone (config field ``qtran_v``).

The agents' utilities ``Q_i`` are trained so that ``Q'_jt(u) = sum_i Q_i(u_i)`` factorises ``Q_jt``:
``sum_i Q_i(u_i) - Q_jt(s, u) + V_jt(s)`` must be 0 at the greedy joint action (L_opt) and >= 0
elsewhere (L_nopt, here pymarl's "min" form). :func:`qtran_losses` computes the three losses.
"""
from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

__all__ = ["QTranMixer", "qtran_losses"]


class QTranMixer(nn.Module):
    """QTRAN-base joint Q and V networks.

    Args:
        n_agents: N.
        state_dim: S.
        n_actions: A (the action one-hots are part of the encoder input).
        rnn_hidden_dim: H, width of the agents' GRU hidden state.
        embed_dim: width of the Q and V MLPs (pymarl ``mixing_embed_dim`` for QTRAN: 64).
        v_input: ``"hidden"`` (default, QTRAN-base of the MIXRTs code: V sees the state and the summed
            encodings of the agents' hidden states) or ``"state"`` (pymarl's ``V(s)``).
    """

    def __init__(self, n_agents: int, state_dim: int, n_actions: int, rnn_hidden_dim: int = 64, embed_dim: int = 64,
                 v_input: str = "hidden"):
        super().__init__()
        if min(n_agents, state_dim, n_actions, rnn_hidden_dim, embed_dim) <= 0:
            raise ValueError(f"QTranMixer needs positive sizes, got n_agents={n_agents}, state_dim={state_dim}, "
                             f"n_actions={n_actions}, rnn_hidden_dim={rnn_hidden_dim}, embed_dim={embed_dim}")
        if v_input not in ("hidden", "state"):
            raise ValueError(f"QTranMixer v_input={v_input!r} is not allowed: 'hidden' or 'state'")
        self.n_agents, self.state_dim, self.n_actions = n_agents, state_dim, n_actions
        self.rnn_hidden_dim, self.embed_dim, self.v_input = rnn_hidden_dim, embed_dim, v_input
        ae, H = rnn_hidden_dim + n_actions, rnn_hidden_dim
        self.action_encoding = nn.Sequential(nn.Linear(ae, ae), nn.ReLU(), nn.Linear(ae, ae))
        self.Q = nn.Sequential(nn.Linear(state_dim + ae, embed_dim), nn.ReLU(),
                               nn.Linear(embed_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))
        v_in = state_dim
        if v_input == "hidden":
            self.hidden_encoding = nn.Sequential(nn.Linear(H, H), nn.ReLU(), nn.Linear(H, H))
            v_in = state_dim + H
        self.V = nn.Sequential(nn.Linear(v_in, embed_dim), nn.ReLU(),
                               nn.Linear(embed_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, states: torch.Tensor, hidden_states: torch.Tensor,
                actions_onehot: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Joint action value and state value.

        Args:
            states: ``[..., S]`` (e.g. ``[batch, time, S]``).
            hidden_states: ``[..., N, H]`` agents' GRU states.
            actions_onehot: ``[..., N, A]`` one-hot joint action.
        Returns:
            ``(q_jt, v): ([..., 1], [..., 1])``.
        """
        lead = states.shape[:-1]
        if states.shape[-1] != self.state_dim:
            raise ValueError(f"QTranMixer expected states [..., {self.state_dim}], got {tuple(states.shape)}")
        if hidden_states.shape != (*lead, self.n_agents, self.rnn_hidden_dim):
            raise ValueError(f"QTranMixer expected hidden_states {(*lead, self.n_agents, self.rnn_hidden_dim)}, "
                             f"got {tuple(hidden_states.shape)}")
        if actions_onehot.shape != (*lead, self.n_agents, self.n_actions):
            raise ValueError(f"QTranMixer expected actions_onehot {(*lead, self.n_agents, self.n_actions)}, "
                             f"got {tuple(actions_onehot.shape)}")
        enc = self.action_encoding(torch.cat([hidden_states, actions_onehot.to(hidden_states.dtype)], dim=-1))
        q = self.Q(torch.cat([states, enc.sum(dim=-2)], dim=-1))
        if self.v_input == "hidden":
            v = self.V(torch.cat([states, self.hidden_encoding(hidden_states).sum(dim=-2)], dim=-1))
        else:
            v = self.V(states)
        return q, v


def _masked_mean_sq(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x.pow(2) * mask).sum() / mask.sum().clamp(min=1)


def qtran_losses(joint_q: torch.Tensor, td_targets: torch.Tensor, v: torch.Tensor, chosen_q_sum: torch.Tensor,
                 max_q_sum: torch.Tensor, joint_q_at_max: torch.Tensor, mask: torch.Tensor,
                 opt_coef: float = 1.0, nopt_coef: float = 0.1) -> Dict[str, torch.Tensor]:
    """QTRAN-base losses, each a mean of squares over the valid (``mask == 1``) steps.

    All inputs share one shape, e.g. ``[batch, time]``:

    - ``joint_q``: ``Q_jt(s_t, u_t)`` at the taken joint action;
    - ``td_targets``: ``y_t`` (for example ``r_t + gamma * Q_jt^target(s_{t+1}, u*_{t+1})``);
    - ``v``: ``V_jt(s_t)``;
    - ``chosen_q_sum``: ``sum_i Q_i(tau_i, u_i)`` at the taken actions;
    - ``max_q_sum``: ``sum_i max_{u_i} Q_i(tau_i, u_i)`` (greedy over available actions);
    - ``joint_q_at_max``: ``Q_jt(s_t, u*_t)`` at the greedy joint action;
    - ``mask``: 1 for a real step, 0 for padding.

    Returns a dict of scalars:

    - ``td = mean((joint_q - y)^2)``;
    - ``opt = mean((max_q_sum - joint_q_at_max + v)^2)`` (``joint_q_at_max`` detached);
    - ``nopt = mean(min(0, chosen_q_sum - joint_q + v)^2)`` (``joint_q`` detached);
    - ``loss = td + opt_coef * opt + nopt_coef * nopt`` (pymarl: 1.0 and 0.1).

    ``y`` is always detached. Gradients of ``opt`` and ``nopt`` reach the agents and V, not Q_jt.
    """
    shapes = {tuple(t.shape) for t in (joint_q, td_targets, v, chosen_q_sum, max_q_sum, joint_q_at_max, mask)}
    if len(shapes) != 1:
        raise ValueError(f"qtran_losses needs inputs of one shape, got shapes {sorted(shapes)}")
    mask = mask.to(joint_q.dtype)
    td = _masked_mean_sq(joint_q - td_targets.detach(), mask)
    opt = _masked_mean_sq(max_q_sum - joint_q_at_max.detach() + v, mask)
    nopt = _masked_mean_sq((chosen_q_sum - joint_q.detach() + v).clamp(max=0.0), mask)
    return {"td": td, "opt": opt, "nopt": nopt, "loss": td + opt_coef * opt + nopt_coef * nopt}
