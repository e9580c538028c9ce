"""Transition replay for DQN (notebook 02): a fixed-size FIFO store of ``(o, a, r, o', done)``.

The multi-agent learners replay whole episodes instead (``course_lib.buffers.episode.EpisodeReplayBuffer``);
this is the single-agent, one-transition-at-a-time version of the same idea.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """Uniform experience replay of single transitions (Lin, 1992; Mnih et al., 2015).

    Args:
        capacity: the most transitions kept; once full, the oldest is overwritten first (FIFO).
        obs_shape: shape of one observation, e.g. ``(4,)`` for CartPole.
        device: where :meth:`sample` puts its tensors.
        seed: seeds the sampling; same seed and same additions give the same batches.

    Stored per transition: ``obs: obs_shape``, ``action: int``, ``reward: float``,
    ``next_obs: obs_shape``, ``done: float`` (1.0 when the episode *terminated*; a time-limit
    truncation is not a termination and keeps bootstrapping).
    """

    def __init__(self, capacity: int, obs_shape: Union[int, Sequence[int]], device: Union[str, torch.device] = "cpu", seed: int = 0):
        if not isinstance(capacity, (int, np.integer)) or capacity <= 0:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        obs_shape = (int(obs_shape),) if isinstance(obs_shape, (int, np.integer)) else tuple(int(d) for d in obs_shape)
        if any(d <= 0 for d in obs_shape):
            raise ValueError(f"obs_shape must contain positive sizes, got {obs_shape}")
        self.capacity = int(capacity)
        self.obs_shape: Tuple[int, ...] = obs_shape
        self.device = torch.device(device)
        self._rng = np.random.default_rng(seed)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, *obs_shape), dtype=np.float32)
        self.action = np.zeros(self.capacity, dtype=np.int64)
        self.reward = np.zeros(self.capacity, dtype=np.float32)
        self.done = np.zeros(self.capacity, dtype=np.float32)
        self._next = 0  # slot written next
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, obs, action: int, reward: float, next_obs, done: bool) -> None:
        """Store one transition (``obs`` and ``next_obs`` of shape ``obs_shape``)."""
        self.add_batch(np.asarray(obs, dtype=np.float32)[None], np.asarray([action]), np.asarray([reward], dtype=np.float32),
                       np.asarray(next_obs, dtype=np.float32)[None], np.asarray([done], dtype=np.float32))

    def add_batch(self, obs, action, reward, next_obs, done) -> None:
        """Store ``B`` transitions: ``obs, next_obs: [B, *obs_shape]``, ``action, reward, done: [B]``."""
        obs = np.asarray(obs, dtype=np.float32)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        action, reward, done = np.asarray(action), np.asarray(reward, dtype=np.float32), np.asarray(done, dtype=np.float32)
        b = obs.shape[0] if obs.ndim > 0 else 0
        if obs.shape[1:] != self.obs_shape or next_obs.shape != obs.shape:
            raise ValueError(
                f"obs and next_obs must have shape [B, {', '.join(map(str, self.obs_shape))}], "
                f"got {obs.shape} and {next_obs.shape}"
            )
        if action.shape != (b,) or reward.shape != (b,) or done.shape != (b,):
            raise ValueError(f"action, reward and done must have shape [{b}], got {action.shape}, {reward.shape}, {done.shape}")
        if b > self.capacity:  # only the newest `capacity` survive anyway
            obs, next_obs, action, reward, done = (x[-self.capacity:] for x in (obs, next_obs, action, reward, done))
            b = self.capacity
        idx = (self._next + np.arange(b)) % self.capacity
        self.obs[idx], self.next_obs[idx] = obs, next_obs
        self.action[idx], self.reward[idx], self.done[idx] = action, reward, done
        self._next = int((self._next + b) % self.capacity)
        self._size = min(self._size + b, self.capacity)

    def sample(self, batch_size: int) -> Dict[str, torch.Tensor]:
        """A uniform random batch (without replacement) as tensors on ``device``.

        Returns ``{"obs": [B, *obs_shape] float32, "action": [B] int64, "reward": [B] float32,
        "next_obs": [B, *obs_shape] float32, "done": [B] float32}``.
        """
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > self._size:
            raise ValueError(f"cannot sample {batch_size} transitions: only {self._size} stored")
        idx = self._rng.choice(self._size, size=batch_size, replace=False)
        out = {
            "obs": self.obs[idx], "action": self.action[idx], "reward": self.reward[idx],
            "next_obs": self.next_obs[idx], "done": self.done[idx],
        }
        return {k: torch.as_tensor(v, device=self.device) for k, v in out.items()}

    def __repr__(self) -> str:
        return f"ReplayBuffer(size={self._size}/{self.capacity}, obs_shape={self.obs_shape}, device={self.device})"
