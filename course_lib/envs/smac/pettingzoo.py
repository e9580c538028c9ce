"""SMAC as a PettingZoo ``ParallelEnv`` (over the ``StarCraft2Env`` facade).

Agents are ``"agent_0" ... "agent_{N-1}"``. Each observes ``Box(-1, 1, (obs_dim,), float32)`` and acts
in ``Discrete(n_actions)``; the available-action mask is ``infos[agent]["action_mask"]`` (int8
``[n_actions]``) and the global state is ``env.state()`` (``[state_dim]`` float32). The team reward is
given to every agent that acted in the step.

Agents that die are *terminated* in that step and leave ``env.agents``; the wrapper sends SMAC the only
action a dead agent may take, no-op (0). When the battle is won or lost every remaining agent is
terminated; when the episode hits its time limit every remaining agent is *truncated* (PettingZoo's
way to say "stopped by a time limit", so learners may bootstrap), and ``infos[agent]["episode_limit"]``
is True.

Unavailable actions. PettingZoo's ``parallel_api_test`` (and many generic PettingZoo trainers)
sample uniformly from ``Discrete(n_actions)`` and ignore masks in ``infos``. SMAC itself rejects an
unavailable action, so the wrapper has two modes:

- ``invalid_action="replace"`` (default): an unavailable action of a living agent is replaced by
  **stop (1)**, the one action SMAC always allows a living agent; ``infos[agent]["action_replaced"]``
  is True for that step. A live agent missing from the ``actions`` dict also stops.
- ``invalid_action="raise"``: an unavailable action raises ``ValueError`` (names agent, action and
  the available actions), like the facade does.

Masked learners should use ``infos[agent]["action_mask"]`` and never trigger a replacement.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

try:  # pettingzoo is a course dependency, but keep the import error readable
    from gymnasium import spaces
    from pettingzoo import ParallelEnv
    from pettingzoo.utils.conversions import parallel_to_aec
except ImportError as exc:  # pragma: no cover - exercised only without pettingzoo
    raise ImportError("course_lib.envs.smac.pettingzoo needs `pettingzoo` and `gymnasium`: "
                      "pip install pettingzoo gymnasium") from exc

__all__ = ["SMACParallelEnv", "parallel_env", "aec_env", "STOP_ACTION", "NOOP_ACTION"]

NOOP_ACTION = 0
STOP_ACTION = 1
_MODES = ("replace", "raise")


class SMACParallelEnv(ParallelEnv):
    """PettingZoo parallel API for a SMAC map of the built-in simulator.

    Args:
        map_name: a SMAC map (``course_lib.envs.list_maps()``).
        seed: seed of the simulator (``reset(seed=...)`` re-seeds it).
        invalid_action: ``"replace"`` (unavailable -> stop, default) or ``"raise"``; see the module
            docstring.
        render_mode: ``None`` or ``"rgb_array"`` (``render()`` returns ``[H, W, 3]`` uint8).
        env_factory: callable building the facade, ``env_factory(map_name=..., seed=..., **kw)``;
            default ``course_lib.envs.StarCraft2Env``.
        **smac_kwargs: passed to the facade (``reward_sparse``, ``obs_last_action``, ...).
    """

    metadata = {"name": "smac_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, map_name: str = "3m", seed: Optional[int] = 0, invalid_action: str = "replace",
                 render_mode: Optional[str] = None, env_factory=None, **smac_kwargs):
        if invalid_action not in _MODES:
            raise ValueError(f"invalid_action must be one of {_MODES}, got {invalid_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, "
                             f"got {render_mode!r}")
        if env_factory is None:
            from course_lib.envs import StarCraft2Env as env_factory
        self.map_name = map_name
        self.invalid_action = invalid_action
        self.render_mode = render_mode
        self._factory = env_factory
        self._kwargs = dict(smac_kwargs)
        self._seed = seed
        self._env = env_factory(map_name=map_name, seed=seed, **smac_kwargs)
        info = self._env.get_env_info()
        self.n_agents = int(info["n_agents"])
        self.n_actions = int(info["n_actions"])
        self.obs_dim = int(info["obs_shape"])
        self.state_dim = int(info["state_shape"])
        self.episode_limit = int(info["episode_limit"])
        self.possible_agents = [f"agent_{i}" for i in range(self.n_agents)]
        self.agent_name_mapping = {a: i for i, a in enumerate(self.possible_agents)}
        self.observation_spaces = {a: spaces.Box(-1.0, 1.0, (self.obs_dim,), np.float32)
                                   for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(self.n_actions) for a in self.possible_agents}
        self.state_space = spaces.Box(-1.0, 1.0, (self.state_dim,), np.float32)
        self.agents: list = []
        self._avail = np.zeros((self.n_agents, self.n_actions), dtype=np.int8)
        self._t = 0

    # --------------------------------------------------------------------- spaces
    def observation_space(self, agent: str):
        """``Box(-1, 1, (obs_dim,), float32)``; the same object on every call."""
        self._check_agent(agent)
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        """``Discrete(n_actions)``; the same object on every call."""
        self._check_agent(agent)
        return self.action_spaces[agent]

    def _check_agent(self, agent):
        if agent not in self.agent_name_mapping:
            raise KeyError(f"unknown agent {agent!r}; agents are {self.possible_agents}")

    @property
    def unwrapped(self):
        return self

    @property
    def smac_env(self):
        """The underlying ``StarCraft2Env`` facade."""
        return self._env

    # --------------------------------------------------------------------- episode
    def _read(self):
        obs = np.asarray(self._env.get_obs(), dtype=np.float32).reshape(self.n_agents, self.obs_dim)
        self._avail = (np.asarray(self._env.get_avail_actions()).reshape(self.n_agents, self.n_actions) > 0
                       ).astype(np.int8)
        return obs

    def _info(self, i: int, **extra) -> Dict[str, Any]:
        d = {"action_mask": self._avail[i].copy()}
        d.update(extra)
        return d

    def reset(self, seed: Optional[int] = None, options: Optional[dict] = None):
        """Start an episode; ``seed`` rebuilds the simulator with that seed. Returns ``(obs, infos)``."""
        if seed is not None:
            self._env.close()
            self._seed = int(seed)
            self._env = self._factory(map_name=self.map_name, seed=self._seed, **self._kwargs)
            for i, a in enumerate(self.possible_agents):
                self.action_spaces[a].seed(self._seed + i)
                self.observation_spaces[a].seed(self._seed + i)
        self._env.reset()
        self._t = 0
        self._timeouts_seen = self._timeouts()
        obs = self._read()
        self.agents = list(self.possible_agents)
        return ({a: obs[i] for i, a in enumerate(self.agents)},
                {a: self._info(i) for i, a in enumerate(self.agents)})

    def _timeouts(self) -> Optional[int]:
        try:
            return int(self._env.get_stats().get("timeouts"))
        except Exception:  # a facade without counters: fall back on the step count
            return None

    def step(self, actions: Dict[str, Any]):
        """Step all living agents. Returns ``(obs, rewards, terminations, truncations, infos)``."""
        if not self.agents:
            raise RuntimeError("the episode is over (no live agents); call reset() first")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict {{agent_name: action}}, got {type(actions).__name__}")
        joint = [NOOP_ACTION] * self.n_agents
        replaced = {}
        live = set(self.agents)
        for agent, act in actions.items():
            self._check_agent(agent)
            if agent not in live:
                continue  # a dead agent always sends no-op
            i = self.agent_name_mapping[agent]
            a = int(np.asarray(act).item()) if not isinstance(act, (int, np.integer)) else int(act)
            if not (0 <= a < self.n_actions):
                raise ValueError(f"{agent}: action {a} is out of range [0, {self.n_actions})")
            if not self._avail[i, a]:
                if self.invalid_action == "raise":
                    raise ValueError(f"{agent}: action {a} is not available; available actions: "
                                     f"{np.flatnonzero(self._avail[i]).tolist()}")
                replaced[agent] = True
                a = STOP_ACTION
            joint[i] = a
        for agent in live - set(actions):
            joint[self.agent_name_mapping[agent]] = STOP_ACTION
            replaced[agent] = True
        reward, terminated, info = self._env.step(joint)
        self._t += 1
        obs = self._read()
        won = bool(info.get("battle_won", False))
        timeout = False
        if terminated and not won:
            seen, now = self._timeouts_seen, self._timeouts()
            if "episode_limit" in info:  # reported when continuing_episode=True
                timeout = bool(info["episode_limit"])
            elif seen is not None and now is not None:
                timeout = now > seen  # SMAC's get_stats() counts timeouts exactly
            else:
                timeout = self._t >= self.episode_limit
        dead_now = {a for a in self.agents if self._avail[self.agent_name_mapping[a], NOOP_ACTION]}
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for a in self.agents:
            i = self.agent_name_mapping[a]
            observations[a] = obs[i]
            rewards[a] = float(reward)
            terminations[a] = bool((terminated and not timeout) or a in dead_now)
            truncations[a] = bool(timeout and a not in dead_now)
            infos[a] = self._info(i, battle_won=won, episode_limit=timeout,
                                  action_replaced=replaced.get(a, False))
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """Global state ``[state_dim]`` float32 (for centralised training)."""
        return np.asarray(self._env.get_state(), dtype=np.float32).reshape(self.state_dim)

    def render(self):
        """``render_mode="rgb_array"``: the current frame ``[H, W, 3]`` uint8; ``None``: nothing."""
        if self.render_mode is None:
            return None
        from course_lib.envs.smac.render import frame_to_array

        return frame_to_array(self._env.snapshot())

    def close(self):
        self._env.close()


def parallel_env(map_name: str = "3m", **kwargs) -> SMACParallelEnv:
    """PettingZoo-style constructor: ``parallel_env("3m")``."""
    return SMACParallelEnv(map_name, **kwargs)


def aec_env(map_name: str = "3m", **kwargs):
    """The same game as a PettingZoo AEC env (agents act in turn), via ``parallel_to_aec``."""
    return parallel_to_aec(SMACParallelEnv(map_name, **kwargs))
