"""Sequence replay for DRQN: store whole episodes, sample fixed-length windows of them.

Following Hausknecht & Stone (2015, "bootstrapped random updates"), a training sample is a window of
``seq_len`` consecutive steps starting anywhere in a stored episode; the GRU is unrolled over the window
from a zero hidden state. Windows that run past the episode's end are padded and masked.
"""
from __future__ import annotations

from collections import deque
from typing import Dict, Union

import numpy as np
import torch

__all__ = ["SequenceReplayBuffer"]


class SequenceReplayBuffer:
    """Whole-episode storage with window sampling (single agent).

    Args:
        capacity: the most *transitions* kept, summed over episodes; the oldest episodes go first.
        obs_dim: size of one observation.
        device: where :meth:`sample` puts its tensors.
        seed: seeds the sampling.
    """

    def __init__(self, capacity: int, obs_dim: int, device: Union[str, torch.device] = "cpu", seed: int = 0):
        if capacity <= 0 or obs_dim <= 0:
            raise ValueError(f"capacity and obs_dim must be positive, got capacity={capacity}, obs_dim={obs_dim}")
        self.capacity, self.obs_dim = int(capacity), int(obs_dim)
        self.device = torch.device(device)
        self._rng = np.random.default_rng(seed)
        self._episodes: deque = deque()
        self._steps = 0

    def __len__(self) -> int:
        """Number of stored transitions."""
        return self._steps

    @property
    def n_episodes(self) -> int:
        return len(self._episodes)

    def add_episode(self, obs, actions, rewards, terminated) -> None:
        """Store one episode of ``T`` steps.

        Args:
            obs: ``[T + 1, obs_dim]`` observations, the one after the last step included.
            actions: ``[T]`` ints; rewards: ``[T]``;
            terminated: ``[T]`` 1 where the episode terminated (only possibly the last step; a
                time-limit truncation is 0 everywhere).
        """
        obs = np.asarray(obs, dtype=np.float32)
        actions, rewards = np.asarray(actions, dtype=np.int64), np.asarray(rewards, dtype=np.float32)
        terminated = np.asarray(terminated, dtype=np.float32)
        T = len(actions)
        if T == 0:
            raise ValueError("cannot store an empty episode (0 steps)")
        if obs.shape != (T + 1, self.obs_dim) or rewards.shape != (T,) or terminated.shape != (T,):
            raise ValueError(
                f"expected obs [{T + 1}, {self.obs_dim}], rewards [{T}], terminated [{T}] for {T} actions; "
                f"got {obs.shape}, {rewards.shape}, {terminated.shape}"
            )
        self._episodes.append((obs, actions, rewards, terminated))
        self._steps += T
        while self._steps > self.capacity and len(self._episodes) > 1:
            self._steps -= len(self._episodes.popleft()[1])

    def sample(self, batch_size: int, seq_len: int) -> Dict[str, torch.Tensor]:
        """``batch_size`` windows of ``seq_len`` steps; start steps uniform over all stored steps.

        Returns tensors on ``device`` (``B = batch_size``, ``L = seq_len``):
        ``obs: [B, L + 1, obs_dim]`` (observations at the window's steps and the one after),
        ``prev_action: [B, L + 1]`` (the action before each of those observations, -1 at an
        episode's first step), ``action, reward, done, mask: [B, L]`` (``mask`` is 0 on padding).
        """
        if batch_size <= 0 or seq_len <= 0:
            raise ValueError(f"batch_size and seq_len must be positive, got {batch_size}, {seq_len}")
        if not self._episodes:
            raise ValueError("cannot sample from an empty SequenceReplayBuffer")
        lengths = np.array([len(e[1]) for e in self._episodes])
        flat = self._rng.integers(0, lengths.sum(), size=batch_size)
        ep_idx = np.searchsorted(np.cumsum(lengths), flat, side="right")
        starts = flat - (np.cumsum(lengths) - lengths)[ep_idx]
        L = seq_len
        obs = np.zeros((batch_size, L + 1, self.obs_dim), dtype=np.float32)
        prev_action = np.full((batch_size, L + 1), -1, dtype=np.int64)
        action = np.zeros((batch_size, L), dtype=np.int64)
        reward = np.zeros((batch_size, L), dtype=np.float32)
        done = np.zeros((batch_size, L), dtype=np.float32)
        mask = np.zeros((batch_size, L), dtype=np.float32)
        for b, (e, t0) in enumerate(zip(ep_idx, starts)):
            e_obs, e_act, e_rew, e_term = self._episodes[e]
            n = min(L, len(e_act) - t0)  # real steps in this window
            obs[b, : n + 1] = e_obs[t0: t0 + n + 1]
            action[b, :n], reward[b, :n], done[b, :n], mask[b, :n] = e_act[t0: t0 + n], e_rew[t0: t0 + n], e_term[t0: t0 + n], 1.0
            lo = max(t0 - 1, 0)
            prev = e_act[lo: t0 + n]
            prev_action[b, (1 if t0 == 0 else 0): (1 if t0 == 0 else 0) + len(prev)] = prev
        out = dict(obs=obs, prev_action=prev_action, action=action, reward=reward, done=done, mask=mask)
        return {k: torch.as_tensor(v, device=self.device) for k, v in out.items()}
