"""QTRAN-base learner (pymarl's ``QTranLearner`` with ``qtran_base``).

Per batch: the online agents give ``Q_i`` and hidden states ``h_i``; the joint network gives
``Q_jt(s_t, h_t, u_t)`` and ``V_jt(s_t)``. Losses (:func:`course_lib.mixers.qtran.qtran_losses`):

- TD: ``Q_jt(s_t, u_t)`` towards ``r_t + gamma (1 - d_t) Q^-_jt(s_{t+1}, u*_{t+1})`` (or the
  TD(lambda) version), with ``u*`` the online agents' greedy joint action (double Q) over available actions;
- opt: ``sum_i max Q_i - Q_jt(s, u*) + V_jt = 0``;
- nopt: ``min(0, sum_i Q_i(u_i) - Q_jt(s, u) + V_jt) = 0``;

total ``td + opt_loss * opt + nopt_min_loss * nopt`` (pymarl: 1.0 and 0.1).
"""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn.functional as F

from ..buffers.episode import EpisodeBatch
from ..mixers.qtran import qtran_losses
from .q_learner import NEG, QLearner, masked_greedy
from .targets import td_lambda_targets

__all__ = ["QTranLearner"]


class QTranLearner(QLearner):
    """QLearner whose mixer is a :class:`~course_lib.mixers.qtran.QTranMixer` and whose loss has three terms."""

    def __init__(self, mac, mixer, config):
        if mixer is None or not hasattr(mixer, "action_encoding"):
            raise ValueError(f"QTranLearner needs a QTranMixer, got {type(mixer).__name__}")
        super().__init__(mac, mixer, config)

    def loss(self, batch: EpisodeBatch) -> Dict[str, torch.Tensor]:
        cfg = self.config
        A = self.mac.n_actions
        q, h = self.mac.unroll(batch.obs, batch.actions)  # [B, T+1, N, A], [B, T+1, N, H]
        chosen = q[:, :-1].gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)  # [B, T, N]
        greedy = masked_greedy(q.detach(), batch.avail)  # [B, T+1, N]
        max_q = q.gather(-1, greedy.unsqueeze(-1)).squeeze(-1)  # [B, T+1, N] (with gradient)
        state = batch.state[:, :-1]
        taken_onehot = F.one_hot(batch.actions, A).float()
        joint_q, v = self.mixer(state, h[:, :-1], taken_onehot)
        joint_q_max, _ = self.mixer(state, h[:, :-1], F.one_hot(greedy[:, :-1], A).float())
        with torch.no_grad():
            q_tgt, h_tgt = self.target_mac.unroll(batch.obs, batch.actions)
            if cfg.double_q:
                u_next = greedy[:, 1:]
            else:
                u_next = q_tgt[:, 1:].masked_fill(~batch.avail[:, 1:], NEG).argmax(dim=-1)
            next_v, _ = self.target_mixer(batch.state[:, 1:], h_tgt[:, 1:], F.one_hot(u_next, A).float())
            next_v = next_v.squeeze(-1) * batch.filled
            targets = td_lambda_targets(batch.reward, batch.terminated, batch.filled, next_v, cfg.gamma, cfg.td_lambda)
        out = qtran_losses(joint_q.squeeze(-1), targets, v.squeeze(-1), chosen.sum(-1), max_q[:, :-1].sum(-1),
                           joint_q_max.squeeze(-1), batch.filled, opt_coef=cfg.opt_loss, nopt_coef=cfg.nopt_min_loss)
        n = batch.filled.sum().clamp(min=1)
        out["td_error_abs"] = ((joint_q.squeeze(-1).detach() - targets).abs() * batch.filled).sum() / n
        out["q_taken_mean"] = (joint_q.squeeze(-1).detach() * batch.filled).sum() / n
        out["target_mean"] = (targets * batch.filled).sum() / n
        out["td_loss"], out["opt_loss"], out["nopt_loss"] = out.pop("td"), out.pop("opt"), out.pop("nopt")
        return out
