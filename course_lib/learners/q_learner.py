"""Q-learning on episode batches for IQL, VDN and QMIX (pymarl's ``QLearner``).

One gradient step on a batch of padded episodes:

1. unroll the online agents over the episodes: ``Q_i(tau_t, .)`` for ``t = 0..T`` (``[B, T+1, N, A]``);
2. take ``Q_i(tau_t, u_t)`` at the actions played and, if a mixer is used, ``Q_tot = mixer(Q_i, s_t)``;
3. unroll the target agents; the next-state value is ``Q^-_i(tau_{t+1}, a*)`` where ``a*`` is the online
   argmax over *available* actions (double Q) or the target's own masked max; mix it with the target mixer;
4. targets: one-step or TD(lambda) (:mod:`course_lib.learners.targets`); a timeout is not terminal;
5. loss: squared TD error averaged over real (unpadded) steps (and over agents for IQL);
   gradient norm clipped (pymarl: 10); RMSprop or Adam;
6. target networks: hard copy every ``target_update_interval`` episodes, or a soft update with ``tau``.
"""
from __future__ import annotations

import copy
from typing import Dict, Optional

import torch
from torch import nn

from ..buffers.episode import EpisodeBatch
from .targets import td_lambda_targets

__all__ = ["QLearner", "make_optimizer", "masked_greedy"]

NEG = -1e9  # finite "minus infinity" for unavailable actions (keeps 0 * value finite)


def make_optimizer(params, config) -> torch.optim.Optimizer:
    """RMSprop(lr, alpha, eps) as pymarl or Adam(lr) as pymarl2, from ``config.optimizer``."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr, alpha=config.optim_alpha, eps=config.optim_eps)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; use 'rmsprop' or 'adam'")


def masked_greedy(q: torch.Tensor, avail: torch.Tensor) -> torch.Tensor:
    """Argmax over available actions: ``q [..., A]``, ``avail [..., A]`` bool -> ``[...]`` long."""
    return q.masked_fill(~avail.bool(), NEG).argmax(dim=-1)


class QLearner:
    """Trains a :class:`~course_lib.learners.mac.MultiAgentController` and an optional mixer.

    Args:
        mac: the online multi-agent controller.
        mixer: ``None`` (IQL), a :class:`VDNMixer` or a :class:`QMixer`.
        config: a :class:`course_lib.config.BaseConfig` (gamma, optimizer, lr, grad_norm_clip, double_q,
            target_update_interval, target_update_tau, td_lambda).
    """

    def __init__(self, mac: nn.Module, mixer: Optional[nn.Module], config):
        self.mac, self.mixer, self.config = mac, mixer, config
        self.target_mac = copy.deepcopy(mac)
        self.target_mixer = copy.deepcopy(mixer) if mixer is not None else None
        for p in self._target_params():
            p.requires_grad_(False)
        self.params = list(mac.parameters()) + (list(mixer.parameters()) if mixer is not None else [])
        self.optimizer = make_optimizer(self.params, config)
        self.last_target_update_episode = 0
        self.train_steps = 0

    # ------------------------------------------------------------------------------------------------
    def _target_params(self):
        yield from self.target_mac.parameters()
        if self.target_mixer is not None:
            yield from self.target_mixer.parameters()

    def _mix(self, mixer: Optional[nn.Module], qs: torch.Tensor, states: torch.Tensor,
             hidden: Optional[torch.Tensor] = None, mac: Optional[nn.Module] = None) -> torch.Tensor:
        """Joint values over whole episodes.

        Args:
            qs: ``[B, T+1, N]`` per-agent values at every step of the episodes.
            states: ``[B, T+1, S]``.
            hidden: ``[B, T+1, N, H]`` the agents' recurrent states, the source of the extra inputs a mixer
                declares in ``mixer.extra_inputs`` (e.g. ACORM's roles), read through ``mac.extras``.
            mac: the controller that produced ``hidden`` (default: the online one).
        Returns:
            ``[B, T+1]`` joint values, or ``qs`` unchanged for IQL (no mixer).

        The mixer always sees the whole sequence, so a mixer with its own recurrence over time (ACORM's)
        reads the states in order; callers slice ``[:, :-1]`` (values of the steps taken) or ``[:, 1:]``
        (values of the next states).
        """
        if mixer is None:
            return qs
        needs = tuple(getattr(mixer, "extra_inputs", ()))
        kw = {}
        if needs:
            mac = self.mac if mac is None else mac
            extras = mac.extras(hidden)
            missing = [k for k in needs if k not in extras]
            if missing:
                raise ValueError(f"{type(mixer).__name__} needs inputs {missing} that agent "
                                 f"{type(mac.agent).__name__} does not provide (it provides {sorted(extras)})")
            kw = self.mixer_extra_inputs({k: extras[k] for k in needs})
        return mixer(qs, states, **kw).squeeze(-1)

    def mixer_extra_inputs(self, extras: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Hook: the agent's extra outputs as the mixer receives them (unchanged here; a learner may detach them)."""
        return extras

    def update_targets(self, hard: bool = True, tau: float = 1.0) -> None:
        """Copy (``hard``) or Polyak-average (``tau``) the online networks into the targets."""
        with torch.no_grad():
            pairs = [(self.target_mac, self.mac)]
            if self.mixer is not None:
                pairs.append((self.target_mixer, self.mixer))
            for tgt, src in pairs:
                if hard:
                    tgt.load_state_dict(src.state_dict())
                else:
                    for pt, ps in zip(tgt.parameters(), src.parameters()):
                        pt.mul_(1.0 - tau).add_(ps, alpha=tau)

    def _maybe_update_targets(self, episode_num: int) -> None:
        cfg = self.config
        if cfg.target_update_tau is not None:
            self.update_targets(hard=False, tau=float(cfg.target_update_tau))
        elif episode_num - self.last_target_update_episode >= cfg.target_update_interval:
            self.update_targets(hard=True)
            self.last_target_update_episode = episode_num

    def compute_targets(self, batch: EpisodeBatch, q_online: torch.Tensor) -> torch.Tensor:
        """TD targets ``[B, T]`` (mixer) or ``[B, T, N]`` (IQL), without gradient.

        ``q_online: [B, T+1, N, A]`` online agent values (used for the double-Q argmax).
        """
        cfg = self.config
        with torch.no_grad():
            q_tgt, h_tgt = self.target_mac.unroll(batch.obs, batch.actions)  # [B, T+1, N, A]
            if cfg.double_q:
                a_star = masked_greedy(q_online.detach(), batch.avail)
                next_q = q_tgt.gather(-1, a_star.unsqueeze(-1)).squeeze(-1)  # [B, T+1, N]
            else:
                next_q = q_tgt.masked_fill(~batch.avail, NEG).max(dim=-1).values
            next_v = self._mix(self.target_mixer, next_q, batch.state, h_tgt, self.target_mac)[:, 1:]  # [B, T(, N)]
            m = batch.filled if next_v.dim() == 2 else batch.filled.unsqueeze(-1)
            next_v = next_v * m  # values past the final state are never used: zero them
            return td_lambda_targets(batch.reward, batch.terminated, batch.filled, next_v, cfg.gamma, cfg.td_lambda)

    def loss(self, batch: EpisodeBatch) -> Dict[str, torch.Tensor]:
        """Masked mean squared TD error and diagnostics for one batch (no optimiser step)."""
        q, h = self.mac.unroll(batch.obs, batch.actions)  # [B, T+1, N, A], [B, T+1, N, H]
        chosen = q[:, :-1].gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)  # [B, T, N]
        chosen_full = torch.cat([chosen, chosen.new_zeros(chosen[:, :1].shape)], dim=1)  # no action after the end
        q_taken = self._mix(self.mixer, chosen_full, batch.state, h)[:, :-1]
        targets = self.compute_targets(batch, q)
        mask = batch.filled if q_taken.dim() == 2 else batch.filled.unsqueeze(-1).expand_as(q_taken)
        td = (q_taken - targets) * mask
        n = mask.sum().clamp(min=1)
        loss = td.pow(2).sum() / n
        return {"loss": loss, "td_error_abs": td.abs().sum().detach() / n,
                "q_taken_mean": (q_taken.detach() * mask).sum() / n, "target_mean": (targets * mask).sum() / n}

    def train(self, batch: EpisodeBatch, episode_num: int) -> Dict[str, float]:
        """One gradient step; ``episode_num`` (episodes collected so far) drives hard target updates.

        Returns floats: ``loss``, ``td_error_abs``, ``q_taken_mean``, ``target_mean``, ``grad_norm``.
        """
        out = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_norm_clip)
        self.optimizer.step()
        self.train_steps += 1
        self._maybe_update_targets(episode_num)
        stats = {k: float(v.detach()) for k, v in out.items()}
        stats["grad_norm"] = float(grad_norm)
        return stats

    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, object]:
        """Networks, targets, optimiser and counters (copies: later training does not change them)."""
        sd = {
            "mac": self.mac.state_dict(), "target_mac": self.target_mac.state_dict(),
            "mixer": self.mixer.state_dict() if self.mixer is not None else None,
            "target_mixer": self.target_mixer.state_dict() if self.target_mixer is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "last_target_update_episode": self.last_target_update_episode, "train_steps": self.train_steps,
        }
        return copy.deepcopy(sd)

    def load_state_dict(self, sd: Dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.mac.load_state_dict(sd["mac"])
        self.target_mac.load_state_dict(sd["target_mac"])
        if self.mixer is not None:
            self.mixer.load_state_dict(sd["mixer"])
            self.target_mixer.load_state_dict(sd["target_mixer"])
        self.optimizer.load_state_dict(sd["optimizer"])
        self.last_target_update_episode = int(sd["last_target_update_episode"])
        self.train_steps = int(sd["train_steps"])
