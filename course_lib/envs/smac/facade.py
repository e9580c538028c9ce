"""``StarCraft2Env``: a NumPy facade with oxwhirl SMAC's exact methods and return values (spec section 1).

Code written for ``smac.env.StarCraft2Env`` runs unchanged::

    env = StarCraft2Env(map_name="3m", seed=0)
    obs, state = env.reset()
    reward, terminated, info = env.step(actions)       # no observations: call get_obs()/get_state()
    avail = env.get_avail_actions()                    # list of N lists of 0/1 ints

It wraps ``BatchedSMAC(map_name, n_envs=1, auto_reset=False)``, so for a seed its trajectories are
identical to the batched simulator's environment 0. Differences from SMAC, on purpose:

- An unavailable action raises ``ValueError`` naming the env, agent, action and the available actions
  (SMAC asserts); a wrong action shape or dtype raises ``ValueError``/``TypeError``.
- ``step`` after the episode terminated, without ``reset()``, raises ``RuntimeError``.
- ``seed=None`` draws a random seed (as SMAC); ``seed()`` returns it; ``seed(s)`` sets a new seed for the
  following episodes.
- ``render()`` returns an RGB frame drawn by :func:`course_lib.envs.smac.render.render_frame`;
  ``save_replay()`` only warns (there is no StarCraft II replay to save).
- ``info["episode_limit"] = True`` appears on a timeout only when ``continuing_episode=True``, exactly as
  SMAC; ``info`` always holds ``battle_won``, ``dead_allies``, ``dead_enemies``.

Speed: the battle runs as a replayed ``torch.jit.trace`` recording of the step under
``torch.inference_mode()`` (see ``BatchedSMAC``'s ``trace`` and ``inference_mode``), about 2,400 steps per
second on 3m on a 2-core laptop-class CPU for a SMAC-style loop (``python benchmarks/env_throughput.py``).
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional

import numpy as np
import torch

from .env import BatchedSMAC, validate_smac_kwargs

__all__ = ["StarCraft2Env"]


class StarCraft2Env:
    """SMAC's ``StarCraft2Env`` API on the simulator (one battle, NumPy in and out).

    Args:
        map_name: SMAC map name (default "8m", as SMAC).
        seed: start-position seed; None draws one at random.
        device: where the simulator's tensors live (default "cpu"; a single battle is fastest there).
        compile: compile the simulator step with ``torch.compile`` (see ``BatchedSMAC``).
        trace: replay a ``torch.jit.trace`` recording of the step (see ``BatchedSMAC``; default: on the CPU).
        **kwargs: SMAC's StarCraft2Env keywords (``step_mul``, ``reward_*``, ``obs_*``, ...).
    """

    def __init__(self, map_name: str = "8m", seed: Optional[int] = None, device="cpu", compile: bool = False,
                 trace: Optional[bool] = None, **kwargs):
        validate_smac_kwargs(kwargs, "StarCraft2Env")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        self._env = BatchedSMAC(map_name, n_envs=1, device=device, seed=seed, auto_reset=False,
                                compile=compile, trace=trace, inference_mode=True, **kwargs)
        self._seed = int(seed)
        self.map_name = self._env.map_name
        self.n_agents = self._env.n_agents
        self.n_enemies = self._env.n_enemies
        self.n_actions = self._env.n_actions
        self.episode_limit = self._env.episode_limit
        self.continuing_episode = bool(self._env.smac_kwargs["continuing_episode"])
        self._episode_steps = 0
        self._done = False
        self._set(self._env.observe())

    # -------------------------------------------------------------------------------- internals
    def _set(self, nxt: Dict[str, torch.Tensor]) -> None:
        self._nxt = nxt
        self._np = None
        self._avail_list = None

    def _numpy(self):
        """``(obs [N, obs_dim], state [state_dim], avail [N, A] int64)`` NumPy views of the current step."""
        if self._np is None:
            n = self._nxt
            if self._env.device.type == "cpu":
                self._np = (n["obs"].numpy()[0], n["state"].numpy()[0], n["avail"].numpy()[0].astype(np.int64))
            else:
                self._np = (n["obs"][0].cpu().numpy(), n["state"][0].cpu().numpy(),
                            n["avail"][0].cpu().numpy().astype(np.int64))
        return self._np

    def _avail_lists(self) -> List[List[int]]:
        if self._avail_list is None:
            self._avail_list = self._numpy()[2].tolist()
        return self._avail_list

    def _to_actions(self, actions) -> torch.Tensor:
        """Validate one action per agent (type, shape, range, availability) and return ``[1, N]`` long."""
        if isinstance(actions, (list, tuple)) and all(type(a) is int for a in actions):
            acts = list(actions)
        else:
            if isinstance(actions, torch.Tensor):
                arr = actions.detach().cpu().numpy()
            elif isinstance(actions, (list, tuple, np.ndarray)):
                arr = np.asarray(actions)
            else:
                raise TypeError(f"actions must be a list, tuple, NumPy array or tensor of {self.n_agents} "
                                f"ints, got {type(actions).__name__}")
            if arr.dtype.kind not in "iu":  # bool, float, object... are not actions
                raise TypeError(f"actions must be integers, got dtype {arr.dtype} ({actions!r})")
            if arr.shape != (self.n_agents,):
                raise ValueError(f"actions must hold one action per agent, shape ({self.n_agents},), "
                                 f"got shape {arr.shape}")
            acts = arr.tolist()
        if len(acts) != self.n_agents:
            raise ValueError(f"actions must hold one action per agent, shape ({self.n_agents},), "
                             f"got {len(acts)} actions")
        if self._done:
            raise RuntimeError("the episode has terminated; call reset() before step()")
        avail = self._avail_lists()
        n_act = self.n_actions
        for i, a in enumerate(acts):
            if not (0 <= a < n_act and avail[i][a]):
                self._env._raise_unavailable(0, i, int(a))
        return torch.tensor([acts], dtype=torch.long, device=self._env.device)

    # -------------------------------------------------------------------------------- SMAC API
    def reset(self):
        """Start a new episode; returns ``(obs_list, state)``."""
        self._set(self._env.reset())
        self._episode_steps = 0
        self._done = False
        return self.get_obs(), self.get_state()

    def step(self, actions):
        """Apply one action per agent; returns ``(reward: float, terminated: bool, info: dict)``."""
        acts = self._to_actions(actions)
        with torch.inference_mode():
            nxt, reward, terminated, info = self._env._step(acts)
        self._set(nxt)
        self._episode_steps += 1
        term = bool(terminated.item())
        self._done = term
        out = {"battle_won": bool(info["battle_won"].item()), "dead_allies": int(info["dead_allies"].item()),
               "dead_enemies": int(info["dead_enemies"].item())}
        if self.continuing_episode and term and bool(info["episode_limit"].item()):
            out["episode_limit"] = True
        return float(reward.item()), term, out

    def get_obs(self) -> List[np.ndarray]:
        """One float32 observation ``[obs_dim]`` per agent."""
        obs = self._numpy()[0]
        return [obs[i].copy() for i in range(self.n_agents)]

    def get_obs_agent(self, agent_id: int) -> np.ndarray:
        self._check_agent(agent_id)
        return self._numpy()[0][agent_id].copy()

    def get_state(self) -> np.ndarray:
        """The global state ``[state_dim]`` float32."""
        return self._numpy()[1].copy()

    def get_avail_actions(self) -> List[List[int]]:
        """SMAC's list of ``n_agents`` lists of 0/1 ints."""
        return [list(row) for row in self._avail_lists()]

    def get_avail_agent_actions(self, agent_id: int) -> List[int]:
        self._check_agent(agent_id)
        return list(self._avail_lists()[agent_id])

    def get_obs_size(self) -> int:
        return self._env.obs_dim

    def get_state_size(self) -> int:
        return self._env.state_dim

    def get_total_actions(self) -> int:
        return self.n_actions

    def get_env_info(self) -> Dict[str, int]:
        """SMAC's keys: ``state_shape``, ``obs_shape``, ``n_actions``, ``n_agents``, ``episode_limit``
        (plus ``n_enemies``)."""
        return self._env.get_env_info()

    def get_stats(self) -> Dict[str, float]:
        return self._env.get_stats()

    def get_obs_feature_names(self) -> List[str]:
        return self._env.get_obs_feature_names()

    def get_state_feature_names(self) -> List[str]:
        return self._env.get_state_feature_names()

    def get_action_names(self, agent_id: int = 0) -> List[str]:
        self._check_agent(agent_id)
        return self._env.get_action_names(agent_id)

    def snapshot(self) -> dict:
        """The renderer's view of the battle (see ``BatchedSMAC.snapshot``)."""
        return self._env.snapshot(0)

    def seed(self, seed: Optional[int] = None) -> int:
        """Return the seed; with an argument, use it for the following episodes (call ``reset()``)."""
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
            self._seed = int(seed)
            self._env.seed_value = int(seed)
            self._env.episode = torch.zeros_like(self._env.episode)  # next reset() plays episode 1
        return self._seed

    def render(self, mode: str = "rgb_array"):
        """An RGB frame of the battle (``render_frame(self.snapshot())``)."""
        from course_lib.envs.smac.render import render_frame

        return render_frame(self.snapshot())

    def save_replay(self) -> None:
        warnings.warn("save_replay() does nothing: the simulator has no StarCraft II replay "
                      "(use course_lib.envs.smac.render for an animated replay)", stacklevel=2)

    def close(self) -> None:
        """Nothing to close (kept for SMAC compatibility)."""

    def full_restart(self) -> None:
        self.reset()

    @property
    def batched(self) -> BatchedSMAC:
        """The underlying ``BatchedSMAC`` (n_envs=1, ``inference_mode=True``: its tensors are inference
        tensors; read them freely, clone them before using them with autograd)."""
        return self._env

    def _check_agent(self, agent_id) -> None:
        if isinstance(agent_id, bool) or not isinstance(agent_id, (int, np.integer)) or not (
                0 <= agent_id < self.n_agents):
            raise ValueError(f"agent_id must be an int in [0, {self.n_agents}), got {agent_id!r}")

    def __repr__(self) -> str:
        return f"StarCraft2Env(map_name={self.map_name!r}, seed={self._seed})"
