"""ACORM's learner: autoencoder pre-training, contrastive role learning and attention-mixed Q-learning.

Three phases, driven by the learner's own counters (one call of :meth:`ACORMLearner.train` per gradient step,
as for every learner; the runner keeps collecting episodes meanwhile, so pre-training episodes count in the
env-step budget, which the released code does not do):

0. **autoencoder** (``pretrain_ae_steps``): the agent-embedding GRU ``f_phi`` and a decoder
   ``Linear(128, 128) -> ReLU -> Linear(128, O + N)`` learn to predict each agent's next observation and its
   id one-hot from ``e_t`` (masked MSE, Adam ``ae_lr``);
1. **contrastive pre-training** (``pretrain_cl_steps``, skipped when ``use_contrastive`` is False): one
   contrastive update per step;
2. **RL**: the TD loss of QMIX (one-step double-Q targets, soft target update ``tau`` every step) through the
   attention mixer. Its gradient reaches the Q-network and the mixer (Adam ``lr``) *and* the agent embedding
   and role encoder (a second Adam, same ``lr``); both learning rates decay by ``lr_decay`` every
   ``lr_decay_every`` RL steps; the gradient norm of everything is clipped together. Every ``cl_interval`` RL
   steps a contrastive update follows. The TD gradient reaches the roles through the Q-network's input only:
   the mixer reads them detached (``mixer_role_grad=False``), as the authors' ACORM-MAPPO critic does
   (``role_embeddings.detach()`` into its attention); the spec does not say which the QMIX variant does. In short
   3m runs (fast preset, one seed each) with the gradient also flowing from the attention mixer into the role
   encoder, the TD loss climbed from about 0.05 to 0.5-1.7 once contrastive updates started; with the roles
   detached in the mixer it stayed near 0.04-0.05 (and near 0.04 with either the attention or the contrastive
   loss switched off).

A **contrastive update**: agent embeddings of every (episode, step) of the batch, detached; K-means with
``cluster_num`` clusters over the N agents of each (episode, step), all at once
(:func:`course_lib.cluster.batched_kmeans`, on the training device); queries from the role encoder, keys from
its momentum copy; the bilinear InfoNCE loss (:func:`~course_lib.learners.contrastive.contrastive_role_loss`);
Adam ``cl_lr`` over the role encoder and ``W`` (64 x 64, initialised uniform in [0, 1)). After every contrastive
update the key encoder follows the role encoder by EMA with ``role_tau`` (MoCo-style: the momentum encoder
moves once per contrastive step, so its lag is counted in contrastive updates, whatever the preset).

Behaviour to know when reading the contrastive-loss curve (measured on 3m and 2s3z, published design kept):
roles are sigmoid outputs in (0, 1) and ``W`` starts uniform in [0, 1), so every score ``q^T W k`` is about 400
while the scores of one anchor differ by about 0.1; one Adam step (lr 8e-4 on every entry of ``W``) moves the
scores by up to ~0.8. On fresh batches the loss therefore falls for the first 10-20 contrastive steps and then
drifts up as the common scale grows; in the RL phase the TD gradient through the Q-network also moves the
role encoder and the loss can rise further. Nothing here normalises or adds a temperature, as in the spec.

Deviation from the released code (a bug there, the paper's intent here): the released code calls
``.detach()`` on the keys without assigning the result, so the keys stay attached to the graph. A momentum
encoder must not be trained by the loss: here the keys are computed under ``torch.no_grad()`` and the key
encoder's parameters never require gradients; it changes only through its EMA.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional

import torch
from torch import nn

from ..buffers.episode import EpisodeBatch
from ..cluster import batched_kmeans
from .contrastive import contrastive_role_loss, momentum_update
from .q_learner import QLearner

__all__ = ["ACORMLearner", "PHASE_NAMES"]

PHASE_NAMES = ("autoencoder", "contrastive pre-training", "RL")


class ACORMLearner(QLearner):
    """QMIX-style learner with ACORM's role learning (see the module docstring).

    Args:
        mac: controller whose agent is an :class:`~course_lib.agents.ACORMAgent`.
        mixer: an :class:`~course_lib.mixers.ACORMMixer`.
        config: an :class:`~course_lib.config.ACORMConfig`.

    Attributes:
        cl_history: ``[(train_step, cl_loss), ...]`` of every contrastive update (for plots).
        ae_history: ``[(train_step, ae_loss), ...]`` of the autoencoder pre-training.
        last_cl_loss: the latest contrastive loss (nan before the first).
    """

    def __init__(self, mac: nn.Module, mixer: Optional[nn.Module], config):
        from ..agents import ACORMAgent

        if not isinstance(mac.agent, ACORMAgent):
            raise ValueError(f"ACORMLearner needs the 'acorm' agent, got {type(mac.agent).__name__} "
                             f"(config agent={getattr(config, 'agent', None)!r})")
        if mixer is None:
            raise ValueError("ACORMLearner needs a mixer (config mixer='acorm')")
        super().__init__(mac, mixer, config)
        agent = mac.agent
        dev = mac.device
        self.agent = agent
        # the TD optimisers: Q-network + mixer, and agent embedding + role encoder
        self.rl_params = list(agent.q_net.parameters()) + list(mixer.parameters())
        self.embed_params = list(agent.embed_net.parameters()) + list(agent.role_encoder.parameters())
        self.optimizer = torch.optim.Adam(self.rl_params, lr=config.lr)
        self.embed_optimizer = torch.optim.Adam(self.embed_params, lr=config.lr)
        self.schedulers = [torch.optim.lr_scheduler.StepLR(o, step_size=config.lr_decay_every, gamma=config.lr_decay)
                           for o in (self.optimizer, self.embed_optimizer)]
        # contrastive part: momentum key encoder (no gradients) and the bilinear matrix W
        self.key_encoder = copy.deepcopy(agent.role_encoder)
        for p in self.key_encoder.parameters():
            p.requires_grad_(False)
        self.W = nn.Parameter(torch.rand(agent.role_dim, agent.role_dim).to(dev))
        self.cl_optimizer = torch.optim.Adam(list(agent.role_encoder.parameters()) + [self.W], lr=config.cl_lr)
        # autoencoder decoder: e_t -> [o_{t+1}, onehot(i)]
        self.decoder = nn.Sequential(nn.Linear(agent.embed_dim, agent.embed_dim), nn.ReLU(),
                                     nn.Linear(agent.embed_dim, mac.obs_dim + mac.n_agents)).to(dev)
        self.ae_optimizer = torch.optim.Adam(list(agent.embed_net.parameters()) + list(self.decoder.parameters()),
                                             lr=config.ae_lr)
        # K-means seeding generator (CPU: device-agnostic), seeded from the global RNG (set by train's seed)
        self.kmeans_generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))
        self.ae_steps = self.cl_pre_steps = self.rl_steps = self.cl_updates = 0
        self.last_cl_loss = self.last_ae_loss = float("nan")
        self.cl_history: List[tuple] = []
        self.ae_history: List[tuple] = []

    # ------------------------------------------------------------------------------------------------
    @property
    def phase(self) -> int:
        """0 = autoencoder pre-training, 1 = contrastive pre-training, 2 = RL."""
        cfg = self.config
        if self.ae_steps < cfg.pretrain_ae_steps:
            return 0
        if cfg.use_contrastive and self.cl_pre_steps < cfg.pretrain_cl_steps:
            return 1
        return 2

    def embeddings(self, batch: EpisodeBatch) -> torch.Tensor:
        """Agent embeddings ``e: [B, T+1, N, embed_dim]`` over the batch's episodes (with gradient)."""
        mac = self.mac
        B, Tp = batch.obs.shape[:2]
        last = mac.last_actions_onehot(batch.actions, mac.n_actions, Tp) if mac.obs_last_action else \
            batch.obs.new_zeros(B, Tp, mac.n_agents, mac.n_actions)
        inputs = mac.build_inputs(batch.obs, last)
        N = mac.n_agents
        flat = inputs.transpose(1, 2).reshape(B * N, Tp, inputs.shape[-1])
        e, _ = self.agent.embed_unroll(flat)
        return e.reshape(B, N, Tp, -1).transpose(1, 2)

    def autoencoder_loss(self, batch: EpisodeBatch) -> torch.Tensor:
        """Masked MSE of the decoder's ``[o_{t+1}, onehot(i)]`` from ``e_t`` over real steps ``t``."""
        e = self.embeddings(batch)[:, :-1]  # [B, T, N, E]
        pred = self.decoder(e)
        N = self.mac.n_agents
        ids = torch.eye(N, device=e.device).expand(*e.shape[:2], N, N)
        target = torch.cat([batch.obs[:, 1:].float(), ids], dim=-1)  # [B, T, N, O + N]
        mask = batch.filled[:, :, None, None].expand_as(pred)
        return (((pred - target) * mask) ** 2).sum() / mask.sum().clamp(min=1)

    def cluster_labels(self, emb: torch.Tensor) -> torch.Tensor:
        """K-means labels ``[G, N]`` of detached embeddings ``[G, N, E]`` (one problem per group)."""
        return batched_kmeans(emb.detach(), self.config.cluster_num, n_iter=self.config.kmeans_iters,
                              generator=self.kmeans_generator)

    def contrastive_loss(self, batch: EpisodeBatch) -> torch.Tensor:
        """The contrastive role loss over every real (episode, step) of the batch."""
        with torch.no_grad():
            e = self.embeddings(batch)[:, :-1]  # [B, T, N, E], detached
            valid = batch.filled.bool()
            emb = e[valid]  # [G, N, E]: only the real (episode, step) pairs
            labels = self.cluster_labels(emb)
            keys = self.key_encoder(emb)  # the momentum encoder: no gradient (the released code's bug fixed)
        queries = self.agent.role_encoder(emb)
        return contrastive_role_loss(queries, keys, self.W, labels)

    def contrastive_update(self, batch: EpisodeBatch) -> float:
        """One contrastive step (role encoder + W) and the key encoder's EMA; returns the loss."""
        loss = self.contrastive_loss(batch)
        self.cl_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.cl_optimizer.step()
        momentum_update(self.key_encoder, self.agent.role_encoder, self.config.role_tau)
        v = float(loss.detach())
        self.cl_updates += 1
        self.last_cl_loss = v
        self.cl_history.append((self.train_steps, v))
        return v

    def autoencoder_update(self, batch: EpisodeBatch) -> float:
        """One autoencoder pre-training step; returns the loss."""
        loss = self.autoencoder_loss(batch)
        self.ae_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.ae_optimizer.step()
        v = float(loss.detach())
        self.last_ae_loss = v
        self.ae_history.append((self.train_steps, v))
        return v

    def mixer_extra_inputs(self, extras: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The roles the mixer reads: detached unless ``config.mixer_role_grad`` (see the module docstring)."""
        if getattr(self.config, "mixer_role_grad", False):
            return extras
        return {k: v.detach() for k, v in extras.items()}

    def td_update(self, batch: EpisodeBatch) -> Dict[str, float]:
        """One TD step on both TD optimisers and the lr schedule (the caller does the soft target update)."""
        out = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.embed_optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_norm_clip)
        self.optimizer.step()
        self.embed_optimizer.step()
        for s in self.schedulers:
            s.step()
        self.rl_steps += 1
        stats = {k: float(v.detach()) for k, v in out.items()}
        stats["grad_norm"] = float(grad_norm)
        return stats

    def train(self, batch: EpisodeBatch, episode_num: int) -> Dict[str, float]:
        """One learner step in the current phase.

        Returns floats: ``loss`` (the phase's main loss), ``td_loss``, ``cl_loss``, ``ae_loss`` (nan when not
        computed this step), ``phase`` (0, 1, 2), ``lr``, and in phase 2 the TD diagnostics
        (``td_error_abs``, ``q_taken_mean``, ``target_mean``, ``grad_norm``).
        """
        cfg = self.config
        nan = float("nan")
        phase = self.phase
        stats: Dict[str, float] = {"td_loss": nan, "cl_loss": nan, "ae_loss": nan}
        if phase == 0:
            stats["ae_loss"] = stats["loss"] = self.autoencoder_update(batch)
            self.ae_steps += 1
        elif phase == 1:
            stats["cl_loss"] = stats["loss"] = self.contrastive_update(batch)
            self.cl_pre_steps += 1
        else:
            td = self.td_update(batch)
            stats.update(td)
            stats["td_loss"] = td["loss"]
            self._maybe_update_targets(episode_num)
            if cfg.use_contrastive and self.rl_steps % cfg.cl_interval == 0:
                stats["cl_loss"] = self.contrastive_update(batch)
        self.train_steps += 1
        stats["phase"] = float(phase)
        stats["lr"] = float(self.optimizer.param_groups[0]["lr"])
        return stats

    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, object]:
        """Everything for bit-identical resume (``torch.load(weights_only=True)``-safe)."""
        sd = super().state_dict()
        sd.update(copy.deepcopy({
            "embed_optimizer": self.embed_optimizer.state_dict(),
            "cl_optimizer": self.cl_optimizer.state_dict(),
            "ae_optimizer": self.ae_optimizer.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "key_encoder": self.key_encoder.state_dict(),
            "W": self.W.detach(),
            "decoder": self.decoder.state_dict(),
            "kmeans_generator": self.kmeans_generator.get_state(),
            "counters": {"ae_steps": self.ae_steps, "cl_pre_steps": self.cl_pre_steps, "rl_steps": self.rl_steps,
                         "cl_updates": self.cl_updates},
            "last_cl_loss": self.last_cl_loss, "last_ae_loss": self.last_ae_loss,
            "cl_history": [list(x) for x in self.cl_history], "ae_history": [list(x) for x in self.ae_history],
        }))
        return sd

    def load_state_dict(self, sd: Dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved."""
        super().load_state_dict(sd)
        self.embed_optimizer.load_state_dict(sd["embed_optimizer"])
        self.cl_optimizer.load_state_dict(sd["cl_optimizer"])
        self.ae_optimizer.load_state_dict(sd["ae_optimizer"])
        for s, st in zip(self.schedulers, sd["schedulers"]):
            s.load_state_dict(st)
        self.key_encoder.load_state_dict(sd["key_encoder"])
        with torch.no_grad():
            self.W.copy_(sd["W"])
        self.decoder.load_state_dict(sd["decoder"])
        self.kmeans_generator.set_state(sd["kmeans_generator"].cpu())
        c = sd["counters"]
        self.ae_steps, self.cl_pre_steps = int(c["ae_steps"]), int(c["cl_pre_steps"])
        self.rl_steps, self.cl_updates = int(c["rl_steps"]), int(c["cl_updates"])
        self.last_cl_loss, self.last_ae_loss = float(sd["last_cl_loss"]), float(sd["last_ae_loss"])
        self.cl_history = [(int(a), float(b)) for a, b in sd["cl_history"]]
        self.ae_history = [(int(a), float(b)) for a, b in sd["ae_history"]]
