"""Replay of whole episodes for recurrent multi-agent learners (pymarl's ``ReplayBuffer``).

Every episode is stored padded to ``episode_limit`` steps (``episode_limit + 1`` for the per-state
fields, whose last entry is the state reached after the final action) in preallocated tensors on the
training device, so sampling is a single index into memory that already lives where the networks are.
Sampling draws ``batch_size`` distinct stored episodes uniformly with a seeded ``torch.Generator`` and
trims the batch to the longest sampled episode.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Dict, Optional, Union

import torch

__all__ = ["EpisodeBatch", "EpisodeReplayBuffer"]


@dataclass
class EpisodeBatch:
    """A batch of ``B`` padded episodes of at most ``T`` steps.

    Attributes:
        obs: ``[B, T+1, N, O]`` float, observations at steps ``0..T`` (index ``len`` is the final one).
        state: ``[B, T+1, S]`` float, global states.
        avail: ``[B, T+1, N, A]`` bool, available actions (all False in padding).
        actions: ``[B, T, N]`` long, actions taken.
        reward: ``[B, T]`` float, team reward.
        terminated: ``[B, T]`` float, 1 where the step ended the episode for real (a timeout is NOT
            terminal: its target bootstraps from the final state).
        filled: ``[B, T]`` float, 1 for real steps, 0 for padding.
        lengths: ``[B]`` long, number of real steps of each episode.
    """

    obs: torch.Tensor
    state: torch.Tensor
    avail: torch.Tensor
    actions: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    filled: torch.Tensor
    lengths: torch.Tensor

    @property
    def batch_size(self) -> int:
        """B."""
        return int(self.actions.shape[0])

    @property
    def max_t(self) -> int:
        """T, the (trimmed) number of steps."""
        return int(self.actions.shape[1])

    def to(self, device) -> "EpisodeBatch":
        """A copy on ``device``."""
        return EpisodeBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


_STEP_FIELDS = ("actions", "reward", "terminated", "filled")
_STATE_FIELDS = ("obs", "state", "avail")


class EpisodeReplayBuffer:
    """FIFO store of whole episodes, on ``device``.

    Args:
        capacity: episodes kept (pymarl: 5000); the oldest is overwritten first.
        episode_limit: T, the most steps an episode can have.
        n_agents, obs_dim, state_dim, n_actions: sizes of the map.
        device: where the storage lives (the training device).
        seed: seeds the sampling generator.
    """

    def __init__(self, capacity: int, episode_limit: int, n_agents: int, obs_dim: int, state_dim: int,
                 n_actions: int, device: Union[str, torch.device] = "cpu", seed: int = 0):
        for name, v in (("capacity", capacity), ("episode_limit", episode_limit), ("n_agents", n_agents),
                        ("obs_dim", obs_dim), ("state_dim", state_dim), ("n_actions", n_actions)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"EpisodeReplayBuffer: {name} must be a positive integer, got {v!r}")
        self.capacity, self.episode_limit = capacity, episode_limit
        self.n_agents, self.obs_dim, self.state_dim, self.n_actions = n_agents, obs_dim, state_dim, n_actions
        self.device = torch.device(device)
        C, T, N = capacity, episode_limit, n_agents
        z = dict(device=self.device)
        self.storage: Dict[str, torch.Tensor] = {
            "obs": torch.zeros(C, T + 1, N, obs_dim, **z),
            "state": torch.zeros(C, T + 1, state_dim, **z),
            "avail": torch.zeros(C, T + 1, N, n_actions, dtype=torch.bool, **z),
            "actions": torch.zeros(C, T, N, dtype=torch.long, **z),
            "reward": torch.zeros(C, T, **z),
            "terminated": torch.zeros(C, T, **z),
            "filled": torch.zeros(C, T, **z),
            "lengths": torch.zeros(C, dtype=torch.long, **z),
        }
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(seed))
        self._next = 0
        self._size = 0
        self.episodes_in = 0  # total episodes ever inserted

    # ------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._size

    @staticmethod
    def estimate_bytes(capacity: int, episode_limit: int, n_agents: int, obs_dim: int, state_dim: int,
                       n_actions: int) -> int:
        """Bytes the storage of a buffer with these sizes will take (before allocating it)."""
        T1, T = episode_limit + 1, episode_limit
        per_episode = (T1 * n_agents * obs_dim * 4 + T1 * state_dim * 4 + T1 * n_agents * n_actions
                       + T * n_agents * 8 + 3 * T * 4 + 8)
        return capacity * per_episode

    def memory_bytes(self) -> int:
        """Bytes held by the storage tensors."""
        return sum(t.numel() * t.element_size() for t in self.storage.values())

    def can_sample(self, batch_size: int) -> bool:
        """True once at least ``batch_size`` episodes are stored."""
        return self._size >= batch_size

    def insert(self, episodes: Dict[str, torch.Tensor]) -> None:
        """Store ``k`` padded episodes at once.

        Args:
            episodes: dict with ``obs [k, T+1, N, O]``, ``state [k, T+1, S]``, ``avail [k, T+1, N, A]``,
                ``actions [k, T, N]``, ``reward [k, T]``, ``terminated [k, T]``, ``filled [k, T]`` and
                ``lengths [k]``; ``T`` must equal ``episode_limit``. Entries past each length must be zero.
        """
        missing = [k for k in self.storage if k not in episodes]
        if missing:
            raise KeyError(f"insert() is missing fields {missing}; needs {list(self.storage)}")
        k = int(episodes["lengths"].shape[0])
        if k == 0:
            return
        for name, buf in self.storage.items():
            x = episodes[name]
            if tuple(x.shape) != (k, *buf.shape[1:]):
                raise ValueError(f"insert(): field {name!r} should have shape {(k, *buf.shape[1:])}, got {tuple(x.shape)}")
        if k > self.capacity:  # keep only the newest `capacity` episodes
            episodes = {n: x[-self.capacity:] for n, x in episodes.items()}
            k = self.capacity
        idx = (self._next + torch.arange(k, device=self.device)) % self.capacity
        for name, buf in self.storage.items():
            buf[idx] = episodes[name].to(device=self.device, dtype=buf.dtype)
        self._next = (self._next + k) % self.capacity
        self._size = min(self._size + k, self.capacity)
        self.episodes_in += k

    def sample(self, batch_size: int) -> EpisodeBatch:
        """``batch_size`` distinct episodes drawn uniformly, trimmed to the longest one's length."""
        if not self.can_sample(batch_size):
            raise ValueError(f"cannot sample {batch_size} episodes: only {self._size} stored")
        idx = torch.randperm(self._size, generator=self.generator, device=self.device)[:batch_size]
        return self.gather(idx)

    def gather(self, idx: torch.Tensor) -> EpisodeBatch:
        """The stored episodes at slot indices ``idx: [B]`` as an :class:`EpisodeBatch` (trimmed)."""
        lengths = self.storage["lengths"][idx]
        T = max(int(lengths.max().item()), 1)
        s = self.storage
        return EpisodeBatch(
            obs=s["obs"][idx, : T + 1], state=s["state"][idx, : T + 1], avail=s["avail"][idx, : T + 1],
            actions=s["actions"][idx, :T], reward=s["reward"][idx, :T], terminated=s["terminated"][idx, :T],
            filled=s["filled"][idx, :T], lengths=lengths,
        )

    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, object]:
        """Contents (only the filled slots), write position and sampling RNG state, for checkpoints.

        A full buffer's storage is returned **without a copy** (the live tensors): a 5,000-episode buffer on
        MMM2 holds 7 GB, and copying it for every checkpoint doubled the memory a long run needs (a run was
        killed for it). Save or copy the state before inserting more episodes. A partly filled buffer returns a
        copy of its filled slots (``torch.save`` of a slice would write the whole storage).
        """
        n = self._size
        full = n == self.capacity
        return {
            "storage": {k: (v if full else v[:n].clone()) for k, v in self.storage.items()},
            "next": self._next, "size": self._size, "episodes_in": self.episodes_in,
            "generator": self.generator.get_state(), "capacity": self.capacity,
            "episode_limit": self.episode_limit,
        }

    def load_state_dict(self, sd: Dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved (same capacity and sizes)."""
        if sd["capacity"] != self.capacity or sd["episode_limit"] != self.episode_limit:
            raise ValueError(f"buffer state has capacity={sd['capacity']}, episode_limit={sd['episode_limit']} "
                             f"but this buffer has capacity={self.capacity}, episode_limit={self.episode_limit}")
        n = int(sd["size"])
        for k, v in self.storage.items():
            src = sd["storage"][k]
            if tuple(src.shape[1:]) != tuple(v.shape[1:]):
                raise ValueError(f"buffer state field {k!r} has shape {tuple(src.shape)}, expected [*, {tuple(v.shape[1:])}]")
            v.zero_()
            v[:n] = src.to(v.device)
        self._next, self._size, self.episodes_in = int(sd["next"]), n, int(sd["episodes_in"])
        self.generator.set_state(sd["generator"])
