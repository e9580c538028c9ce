"""``StarCraft2Env``: a NumPy facade with oxwhirl SMAC's exact methods and return values (spec section 1).

Code written for ``smac.env.StarCraft2Env`` runs unchanged::

    env = StarCraft2Env(map_name="3m", seed=0)
    obs, state = env.reset()
    reward, terminated, info = env.step(actions)       # no observations: call get_obs()/get_state()
    avail = env.get_avail_actions()                    # list of N lists of 0/1 ints

It wraps ``BatchedSMAC(map_name, n_envs=1, auto_reset=False)``, so for a seed its trajectories are
identical to the batched simulator's environment 0. It subclasses :class:`MultiAgentEnv` (SMAC's base
class) and has SMAC's public surface beyond the training loop: the feature-size methods
(``get_obs_move_feats_size`` ...), ``get_state_dict``, ``get_visibility_matrix``, read-only unit views
(``agents``, ``enemies``, ``get_unit_by_id``; :mod:`course_lib.envs.smac.unit_view`), the counters
(``battles_won``, ``battles_game``, ``timeouts``), ``last_action``, ``max_reward`` and the map
attributes. The README's table lists every SMAC name and the few that need the real game.

Differences from SMAC, on purpose:

- ``step`` takes any sequence of ``n_agents`` whole numbers (Python or NumPy ints, integral floats, a
  tensor), as SMAC's ``int(a)`` does, but refuses what SMAC would silently truncate or misread (``2.5``,
  bools, strings) with a ``TypeError``/``ValueError``; an unavailable action raises ``ValueError`` naming
  the env, agent, action and the available actions (SMAC asserts).
- ``step`` after the episode terminated, without ``reset()``, raises ``RuntimeError``.
- ``seed=None`` draws a random seed (as SMAC); ``seed()`` returns it; ``seed(s)`` sets a new seed for the
  following episodes.
- ``render(mode="rgb_array")`` returns the frame of :func:`course_lib.envs.smac.render.frame_to_array`
  (``[H, W, 3]`` uint8); ``render(mode="human")`` (SMAC's default) shows it: in a matplotlib window, in
  a notebook as the cell's output, and not at all under a non-interactive backend (``MPLBACKEND=Agg``).
- ``save_replay()`` writes the last ``replay_episodes`` episodes (default 32) to a replay file of our
  own (:mod:`course_lib.envs.smac.replay`: compressed NumPy, positions, health, shields, targets and
  actions per step) under ``replay_dir`` (default ``replays/``), named ``<replay_prefix or map>_<time>.npz``,
  and returns its path; ``render.animate(render.load_replay(path))`` plays it. Recording keeps references
  to the state tensors the step creates anyway (0.3 microseconds per step); ``replay_episodes=0``
  switches it off.
- ``info["episode_limit"] = True`` appears on a timeout only when ``continuing_episode=True``, exactly as
  SMAC; ``info`` always holds ``battle_won``, ``dead_allies``, ``dead_enemies``.

Speed: the battle runs as a replayed ``torch.jit.trace`` recording of the step under
``torch.inference_mode()`` (see ``BatchedSMAC``'s ``trace`` and ``inference_mode``), about 2,400 steps per
second on 3m on a 2-core laptop-class CPU for a SMAC-style loop (``python benchmarks/env_throughput.py``).
"""
from __future__ import annotations

import enum
import logging
import math
import time
from collections import deque
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from .env import BatchedSMAC, validate_smac_kwargs
from .multiagentenv import MultiAgentEnv
from .observe import SHOOT, SIGHT
from .units import MAX_COOLDOWN, UNIT_TYPES
from .unit_view import ALLY_TYPE_ID_BASE, SC2_UNIT_TYPE_IDS, UnitView, ally_type_ids, build_unit_views

__all__ = ["StarCraft2Env", "Direction"]

_log = logging.getLogger(__name__)
_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
# SMAC's per-type id attributes (``marine_id`` ...); those of types absent from the map stay 0, as in SMAC
_TYPE_ID_ATTRS = ("marine", "marauder", "medivac", "hydralisk", "zergling", "baneling", "stalker", "colossus",
                  "zealot")


class Direction(enum.IntEnum):
    """SMAC's move directions (argument of :meth:`StarCraft2Env.can_move`)."""

    NORTH = 0
    SOUTH = 1
    EAST = 2
    WEST = 3


class StarCraft2Env(MultiAgentEnv):
    """SMAC's ``StarCraft2Env`` API on the simulator (one battle, NumPy in and out).

    Args:
        map_name: SMAC map name (default "8m", as SMAC).
        seed: start-position seed; None draws one at random.
        device: where the simulator's tensors live (default "cpu"; a single battle is fastest there).
        compile: compile the simulator step with ``torch.compile`` (see ``BatchedSMAC``).
        trace: replay a ``torch.jit.trace`` recording of the step (see ``BatchedSMAC``; default: on the CPU).
        replay_episodes: how many of the latest episodes ``save_replay()`` writes (0: record nothing).
        **kwargs: SMAC's StarCraft2Env keywords (``step_mul``, ``reward_*``, ``obs_*``, ``replay_dir``, ...).
    """

    n_actions_no_attack = 6
    n_actions_move = 4
    n_obs_pathing = 8
    n_obs_height = 9

    def __init__(self, map_name: str = "8m", seed: Optional[int] = None, device="cpu", compile: bool = False,
                 trace: Optional[bool] = None, replay_episodes: int = 32, **kwargs):
        validate_smac_kwargs(kwargs, "StarCraft2Env")
        if isinstance(replay_episodes, bool) or not isinstance(replay_episodes, (int, np.integer)) \
                or replay_episodes < 0:
            raise ValueError(f"replay_episodes must be a non-negative integer, got {replay_episodes!r}")
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
        self._set_smac_attributes(kwargs)
        self._episode_steps = 0
        self._total_steps = 0
        self._done = False
        self.reward = 0
        self._human_fig = None
        self._replay_max = int(replay_episodes)
        self._replays: deque = deque(maxlen=max(self._replay_max, 1))
        self._frames: Optional[list] = [] if self._replay_max else None
        self._set(self._env.observe())
        self._record()

    def _set_smac_attributes(self, kwargs: dict) -> None:
        """SMAC's constructor attributes: keywords, map description, feature names, unit type ids."""
        kw, spec, C = self._env.smac_kwargs, self._env.spec, self._env.C
        for k, v in kw.items():
            if k not in ("step_mul", "move_amount"):
                setattr(self, k, v)
        self._step_mul = kw["step_mul"]
        self._move_amount = kw["move_amount"]
        self.game_version = kwargs.get("game_version")
        self.replay_dir = kwargs.get("replay_dir", "")
        self.replay_prefix = kwargs.get("replay_prefix", "")
        self.window_size = (kwargs.get("window_size_x", 1920), kwargs.get("window_size_y", 1200))
        self.debug = bool(kwargs.get("debug", False))
        self.heuristic_ai = False
        self.heuristic_rest = bool(kwargs.get("heuristic_rest", False))
        self._agent_race, self._bot_race = spec.ally_race, spec.enemy_race
        self.shield_bits_ally = spec.ally_shield_bits
        self.shield_bits_enemy = spec.enemy_shield_bits
        self.unit_type_bits = spec.unit_type_bits
        self.map_type = spec.map_type
        self.max_reward = self._env.max_reward
        bits = [f"type_{b}" for b in range(self.unit_type_bits)]
        self.ally_state_attr_names = (["health", "energy/cooldown", "rel_x", "rel_y"]
                                      + (["shield"] if self.shield_bits_ally else []) + bits)
        self.enemy_state_attr_names = (["health", "rel_x", "rel_y"]
                                       + (["shield"] if self.shield_bits_enemy else []) + bits)
        self.map_x = self.max_distance_x = spec.width
        self.map_y = self.max_distance_y = spec.height
        self.pathing_grid = C.terrain.pathing.T.astype(bool)            # [x, y] True = walkable (SMAC's layout)
        self.terrain_height = np.asarray(C.terrain.height_map, dtype=np.float64).T  # [x, y]
        ids = ally_type_ids(spec)
        self._min_unit_type = ALLY_TYPE_ID_BASE
        for name in _TYPE_ID_ATTRS:
            setattr(self, f"{name}_id", ids.get(name, 0))
        self._ally_onehot = {ids[n]: k for k, n in enumerate(ids)}
        order = spec.enemy_type_order or tuple(dict.fromkeys(u.name for u in spec.enemy_type_list()))
        self._enemy_onehot = {SC2_UNIT_TYPE_IDS[n]: k for k, n in enumerate(order)}

    # -------------------------------------------------------------------------------- internals
    def _set(self, nxt: Dict[str, torch.Tensor]) -> None:
        self._nxt = nxt
        self._np = None
        self._avail_list = None
        self._units = None

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
        """Validate one action per agent (type, length, whole numbers, availability); ``[1, N]`` long."""
        N = self.n_agents
        if isinstance(actions, (list, tuple)) and all(type(a) is int for a in actions):
            acts = list(actions)
        else:
            acts = self._convert_actions(actions)
        if len(acts) != N:
            raise ValueError(f"actions must hold one action per agent, shape ({N},), got {len(acts)} actions")
        if self._done:
            raise RuntimeError("the episode has terminated; call reset() before step()")
        avail = self._avail_lists()
        n_act = self.n_actions
        for i, a in enumerate(acts):
            if not (0 <= a < n_act and avail[i][a]):
                self._env._raise_unavailable(0, i, int(a))
        return torch.tensor([acts], dtype=torch.long, device=self._env.device)

    def _convert_actions(self, actions) -> List[int]:
        """SMAC's ``[int(a) for a in actions]``, refusing what ``int()`` would truncate or misread."""
        N = self.n_agents
        if isinstance(actions, (str, bytes, dict, set)) or not hasattr(actions, "__len__"):
            raise TypeError(f"actions must be a sequence (list, tuple, NumPy array, tensor) of {N} integers, "
                            f"got {type(actions).__name__}")
        if isinstance(actions, torch.Tensor):
            actions = actions.detach().cpu().numpy()
        if isinstance(actions, np.ndarray):
            if actions.ndim != 1 or actions.shape[0] != N:
                raise ValueError(f"actions must hold one action per agent, shape ({N},), got shape "
                                 f"{actions.shape}")
            kind = actions.dtype.kind
            if kind in "iu":
                return actions.tolist()
            if kind != "f" and kind != "O":  # bool, complex, strings... are not actions
                raise TypeError(f"actions must be integers, got dtype {actions.dtype} ({actions!r})")
        items = list(actions)
        out = []
        for i, a in enumerate(items):
            if (isinstance(a, torch.Tensor) and a.numel() == 1) or (isinstance(a, np.ndarray) and a.size == 1):
                a = a.item()
            if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, np.integer, np.floating)):
                raise TypeError(f"actions must be integers: the action of agent {i} is {a!r} "
                                f"({type(a).__name__})")
            if isinstance(a, (float, np.floating)) and not (math.isfinite(a) and float(a).is_integer()):
                raise ValueError(f"actions must be whole numbers: the action of agent {i} is {a!r}")
            out.append(int(a))
        return out

    def _record(self) -> None:
        """Keep the state tensors of the current frame for ``save_replay`` (references: the step makes new
        tensors every time, so nothing is copied)."""
        if self._frames is not None:
            e = self._env
            self._frames.append((e._p, e.health, e.shield, e.alive, e.last_target, e.last_action, e.t))

    # -------------------------------------------------------------------------------- SMAC API
    def reset(self):
        """Start a new episode; returns ``(obs_list, state)``."""
        self._set(self._env.reset())
        self._episode_steps = 0
        self._done = False
        if self._frames is not None:
            if len(self._frames) > 1:
                self._replays.append(self._frames)
            self._frames = []
            self._record()
        return self.get_obs(), self.get_state()

    def step(self, actions):
        """Apply one action per agent; returns ``(reward: float, terminated: bool, info: dict)``."""
        acts = self._to_actions(actions)
        with torch.inference_mode():
            nxt, reward, terminated, info = self._env._step(acts)
        self._set(nxt)
        self._record()
        self._episode_steps += 1
        self._total_steps += 1
        term = bool(terminated.item())
        self._done = term
        out = {"battle_won": bool(info["battle_won"].item()), "dead_allies": int(info["dead_allies"].item()),
               "dead_enemies": int(info["dead_enemies"].item())}
        if self.continuing_episode and term and bool(info["episode_limit"].item()):
            out["episode_limit"] = True
        self.reward = float(reward.item())
        return self.reward, term, out

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

    def get_env_info(self) -> Dict[str, object]:
        """SMAC's keys: ``state_shape``, ``obs_shape``, ``n_actions``, ``n_agents``, ``episode_limit``,
        ``agent_features``, ``enemy_features`` (plus ``n_enemies``)."""
        info = super().get_env_info()
        info["n_enemies"] = self.n_enemies
        info["agent_features"] = list(self.ally_state_attr_names)
        info["enemy_features"] = list(self.enemy_state_attr_names)
        return info

    def get_stats(self) -> Dict[str, float]:
        return self._env.get_stats()

    # ---------------------------------------------------------------- SMAC: feature sizes and state dict
    def get_obs_move_feats_size(self) -> int:
        """Movement features: 4 move flags (+ 8 pathing, + 9 heights)."""
        return (self.n_actions_move + (self.n_obs_pathing if self.obs_pathing_grid else 0)
                + (self.n_obs_height if self.obs_terrain_height else 0))

    def get_obs_enemy_feats_size(self) -> Tuple[int, int]:
        """``(n_enemies, features per enemy)``."""
        nf = 4 + self.unit_type_bits + ((1 + self.shield_bits_enemy) if self.obs_all_health else 0)
        return self.n_enemies, nf

    def get_obs_ally_feats_size(self) -> Tuple[int, int]:
        """``(n_agents - 1, features per other ally)``."""
        nf = 4 + self.unit_type_bits + ((1 + self.shield_bits_ally) if self.obs_all_health else 0)
        if self.obs_last_action:
            nf += self.n_actions
        return self.n_agents - 1, nf

    def get_obs_own_feats_size(self) -> int:
        """Own features (health, shield, type one-hot), plus the timestep when ``obs_timestep_number``
        (SMAC counts it here; it is the observation's last entry)."""
        return (self.unit_type_bits + ((1 + self.shield_bits_ally) if self.obs_own_health else 0)
                + (1 if self.obs_timestep_number else 0))

    def get_ally_num_attributes(self) -> int:
        return len(self.ally_state_attr_names)

    def get_enemy_num_attributes(self) -> int:
        return len(self.enemy_state_attr_names)

    def get_state_dict(self) -> Dict[str, object]:
        """SMAC's global state as a dict: ``allies [n_agents, get_ally_num_attributes()]``, ``enemies
        [n_enemies, get_enemy_num_attributes()]`` (columns named by ``get_env_info()["agent_features"]`` /
        ``["enemy_features"]``; dead units are zero rows), ``last_action [n_agents, n_actions]`` (with
        ``state_last_action``) and ``timestep`` (with ``state_timestep_number``).

        Computed from the unit views, unit by unit as SMAC does (float64); ``get_state()`` is the same
        numbers laid out flat (float32) unless ``obs_instead_of_state``.
        """
        utb = self.unit_type_bits
        allies = np.zeros((self.n_agents, self.get_ally_num_attributes()))
        enemies = np.zeros((self.n_enemies, self.get_enemy_num_attributes()))
        cx, cy = self.map_x / 2, self.map_y / 2
        for i, u in self.agents.items():
            if u.health > 0:
                allies[i, 0] = u.health / u.health_max
                if self.map_type == "MMM" and u.unit_type == self.medivac_id:
                    allies[i, 1] = u.energy / self.unit_max_cooldown(u)
                else:  # the simulator clips, as SMAC's cooldown never exceeds its maximum
                    allies[i, 1] = min(u.weapon_cooldown / self.unit_max_cooldown(u), 1.0)
                allies[i, 2] = (u.pos.x - cx) / self.max_distance_x
                allies[i, 3] = (u.pos.y - cy) / self.max_distance_y
                if self.shield_bits_ally:
                    allies[i, 4] = u.shield / self.unit_max_shield(u)
                if utb:
                    allies[i, self.get_unit_type_id(u, True) - utb] = 1
        for j, u in self.enemies.items():
            if u.health > 0:
                enemies[j, 0] = u.health / u.health_max
                enemies[j, 1] = (u.pos.x - cx) / self.max_distance_x
                enemies[j, 2] = (u.pos.y - cy) / self.max_distance_y
                if self.shield_bits_enemy:
                    enemies[j, 3] = u.shield / self.unit_max_shield(u)
                if utb:
                    enemies[j, self.get_unit_type_id(u, False) - utb] = 1
        state: Dict[str, object] = {"allies": allies, "enemies": enemies}
        if self.state_last_action:
            state["last_action"] = self.last_action
        if self.state_timestep_number:
            state["timestep"] = self._episode_steps / self.episode_limit
        return state

    def get_visibility_matrix(self) -> np.ndarray:
        """``[n_agents, n_agents + n_enemies]`` bool: which living units each living agent sees (centre
        distance below the sight range 9); allies symmetric, the diagonal False (as SMAC)."""
        N = self.n_agents
        e = self._env
        alive = e.alive[0].cpu().numpy()
        d = e._dist[0, :N].cpu().numpy()           # [N, U] the distances the observations were built from
        vis = (d < SIGHT) & alive[:N, None] & alive[None, :]
        vis[np.arange(N), np.arange(N)] = False
        return vis

    # ---------------------------------------------------------------- SMAC: units
    @property
    def agents(self) -> Mapping[int, UnitView]:
        """``{agent id: UnitView}`` of the current step (read-only; see :mod:`~course_lib.envs.smac.unit_view`)."""
        if self._units is None:
            self._units = build_unit_views(self._env, 0)
        return self._units[0]

    @property
    def enemies(self) -> Mapping[int, UnitView]:
        """``{enemy id: UnitView}`` of the current step (read-only)."""
        if self._units is None:
            self._units = build_unit_views(self._env, 0)
        return self._units[1]

    def get_unit_by_id(self, a_id: int) -> UnitView:
        """The agent ``a_id``'s unit (SMAC: ``self.agents[a_id]``)."""
        self._check_agent(a_id)
        return self.agents[int(a_id)]

    def get_unit_types(self) -> List[int]:
        """Unit type ids of the allies (agent order), then of the enemies."""
        return [u.unit_type for u in self.agents.values()] + [u.unit_type for u in self.enemies.values()]

    def get_unit_type_id(self, unit: UnitView, ally: bool) -> int:
        """Index of ``unit``'s type in the ally (``ally=True``) or enemy unit-type one-hot."""
        table = self._ally_onehot if ally else self._enemy_onehot
        if unit.unit_type not in table:
            raise ValueError(f"unit type {unit.unit_type} is not an {'ally' if ally else 'enemy'} type of "
                             f"{self.map_name} (known: {sorted(table)})")
        return table[unit.unit_type]

    def unit_shoot_range(self, agent_id: int) -> float:
        """Range of the attack actions (6, every unit, as SMAC)."""
        return SHOOT

    def unit_sight_range(self, agent_id: int) -> float:
        """Sight range of the observations (9, every unit, as SMAC)."""
        return SIGHT

    def unit_max_cooldown(self, unit: UnitView) -> float:
        """SMAC's normalising weapon cooldown of the unit's type (a medivac: its maximal energy, 200)."""
        return MAX_COOLDOWN.get(unit.name, 15.0)

    def unit_max_shield(self, unit: UnitView) -> Optional[float]:
        """Maximal shield of a Protoss unit (stalker 80, zealot 50, colossus 150); None for the others, as SMAC."""
        return unit.shield_max if unit.shield_max > 0 else None

    def only_medivac_left(self, ally: bool) -> bool:
        """SMAC's MMM rule: no living ally but medivacs (``ally=True``), or only the enemy medivac alive."""
        if self.map_type != "MMM":
            return False
        if ally:
            return not any(u.health > 0 and u.name != "medivac" for u in self.agents.values())
        alive = [u for u in self.enemies.values() if u.health > 0]
        return len(alive) == 1 and alive[0].name == "medivac"

    @property
    def last_action(self) -> np.ndarray:
        """One-hot actions of the last step ``[n_agents, n_actions]`` (zeros after ``reset()``, as SMAC)."""
        out = np.zeros((self.n_agents, self.n_actions))
        for i, a in enumerate(self._env.last_action[0].tolist()):
            if a >= 0:
                out[i, a] = 1.0
        return out

    @property
    def battles_won(self) -> int:
        """Battles won since construction (SMAC's counter)."""
        return int(self._env._stats[0, 0])

    @property
    def battles_game(self) -> int:
        """Battles finished since construction (won, lost or timed out)."""
        return int(self._env._stats[0, 1])

    @property
    def timeouts(self) -> int:
        """Battles ended by the episode limit since construction."""
        return int(self._env._stats[0, 2])

    force_restarts = 0  # the simulator never needs SMAC's forced restart of StarCraft II

    # ---------------------------------------------------------------- SMAC: geometry helpers
    @staticmethod
    def distance(x1: float, y1: float, x2: float, y2: float) -> float:
        """Euclidean distance between two points."""
        return math.hypot(x2 - x1, y2 - y1)

    def check_bounds(self, x: int, y: int) -> bool:
        """Whether the cell ``(x, y)`` is on the map."""
        return 0 <= x < self.map_x and 0 <= y < self.map_y

    def can_move(self, unit: UnitView, direction: Direction) -> bool:
        """SMAC's move test: the cell ``move_amount / 2`` away in ``direction`` is on the map and walkable
        (the action mask's test: medivacs fly and colossi cross cliffs, so only the map edge stops them)."""
        m = self._move_amount / 2
        dx, dy = {Direction.NORTH: (0, m), Direction.SOUTH: (0, -m), Direction.EAST: (m, 0),
                  Direction.WEST: (-m, 0)}[Direction(direction)]
        x, y = unit.pos.x + dx, unit.pos.y + dy
        if not (0 <= x < self.map_x and 0 <= y < self.map_y):
            return False
        kind = UNIT_TYPES[unit.name]
        return kind.air or kind.cliff_walk or bool(self.pathing_grid[int(x), int(y)])

    def get_surrounding_points(self, unit: UnitView, include_self: bool = False) -> List[Tuple[int, int]]:
        """The 8 cells SMAC samples around ``unit`` (``2 * move_amount`` straight, ``move_amount`` diagonal)."""
        x, y, ma = int(unit.pos.x), int(unit.pos.y), self._move_amount
        pts = [(x, y + 2 * ma), (x, y - 2 * ma), (x + 2 * ma, y), (x - 2 * ma, y), (x + ma, y + ma),
               (x - ma, y - ma), (x + ma, y - ma), (x - ma, y + ma)]
        pts = [(int(px), int(py)) for px, py in pts]
        return pts + [(x, y)] if include_self else pts

    def get_surrounding_pathing(self, unit: UnitView) -> List[float]:
        """Walkability of the 8 surrounding cells (1 off the map), as in ``obs_pathing_grid``."""
        return [float(self.pathing_grid[x, y]) if self.check_bounds(x, y) else 1.0
                for x, y in self.get_surrounding_points(unit)]

    def get_surrounding_height(self, unit: UnitView) -> List[float]:
        """Terrain height of the 8 surrounding cells and the unit's own (1 off the map)."""
        return [float(self.terrain_height[x, y]) if self.check_bounds(x, y) else 1.0
                for x, y in self.get_surrounding_points(unit, include_self=True)]

    # ---------------------------------------------------------------- SMAC: names that need the real game
    def get_agent_action(self, a_id, action):
        """Not available: SMAC turns the action into a StarCraft II protobuf command."""
        raise NotImplementedError("get_agent_action() builds a StarCraft II protobuf command; the simulator "
                                  "takes the action ids in step() directly")

    def get_agent_action_heuristic(self, a_id, action):
        """Not available: heuristic_ai is not supported (use course_lib.envs.smac.policies.focus_fire_policy)."""
        raise NotImplementedError("heuristic_ai is not supported by the simulator; use "
                                  "course_lib.envs.smac.policies.focus_fire_policy(env.batched)")

    def reward_battle(self):
        """Not available: the simulator computes the reward inside ``step()`` (returned, and kept in ``reward``)."""
        raise NotImplementedError("the simulator computes the reward inside step(); use step()'s return value "
                                  "or env.reward")

    # -------------------------------------------------------------------------------- course extras
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

    def render(self, mode: str = "human"):
        """``"rgb_array"``: the current frame ``[H, W, 3]`` uint8; ``"human"``: show it (returns None).

        ``"human"`` draws into one matplotlib window that later calls update; in a notebook (inline
        backend) the frame replaces the cell's previous output; under a non-interactive backend
        (``MPLBACKEND=Agg``) nothing is shown.
        """
        from course_lib.envs.smac import render as R

        if mode == "rgb_array":
            return R.frame_to_array(self.snapshot())
        if mode != "human":
            raise ValueError(f"render mode must be 'human' or 'rgb_array', got {mode!r}")
        import matplotlib

        backend = matplotlib.get_backend().lower()
        if "inline" in backend or "ipympl" in backend or "widget" in backend:
            from IPython.display import clear_output, display

            clear_output(wait=True)
            display(R.render_frame(self.snapshot()))
        elif backend not in _NON_INTERACTIVE:
            import matplotlib.pyplot as plt

            if self._human_fig is None or not plt.fignum_exists(self._human_fig.number):
                self._human_fig = plt.figure(figsize=(4.5, 4.9))
            fig = self._human_fig
            fig.clf()
            R.render_frame(self.snapshot(), ax=fig.add_subplot(1, 1, 1))
            plt.pause(0.001)  # draws the window and handles its events without blocking
        return None

    def save_replay(self, path=None) -> Path:
        """Write the last ``replay_episodes`` episodes (the current one included once it has a step) to a
        replay file and return its path (see :mod:`course_lib.envs.smac.replay` for the format).

        ``path`` defaults to ``<replay_dir or "replays">/<replay_prefix or map_name>_<date>_<time>.npz``.
        """
        from .replay import write_replay

        if self._frames is None:
            raise RuntimeError("this StarCraft2Env records no replay (replay_episodes=0); create it with "
                               "replay_episodes=k to keep the last k episodes")
        episodes = list(self._replays) + ([self._frames] if len(self._frames) > 1 else [])
        episodes = episodes[-self._replay_max:]
        if not episodes:
            raise RuntimeError("no episode to save yet: play at least one step (reset(), step()) first")
        if path is None:
            folder = Path(self.replay_dir or "replays")
            stem = f"{self.replay_prefix or self.map_name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}"
            path, k = folder / f"{stem}.npz", 1
            while path.exists():
                path, k = folder / f"{stem}_{k}.npz", k + 1
        frames = [f for ep in episodes for f in ep]
        cols = list(zip(*frames))

        def stack(i):
            return torch.stack([x[0] for x in cols[i]]).cpu().numpy()

        snap = self.snapshot()
        static = {k: snap[k] for k in ("map_name", "width", "height", "n_agents", "n_enemies", "pathing", "team",
                                       "radius", "health_max", "shield_max")}
        static["unit_type"] = np.asarray(snap["unit_type"])
        data = {"pos": stack(0).transpose(0, 2, 1), "health": stack(1), "shield": stack(2), "alive": stack(3),
                "target": stack(4), "actions": stack(5), "t": stack(6)}
        out = write_replay(path, static, data, [len(ep) for ep in episodes])
        _log.info("Replay saved at: %s", out)
        return out

    def close(self) -> None:
        """Close the ``render("human")`` window, if any (nothing else to release)."""
        if self._human_fig is not None:
            import matplotlib.pyplot as plt

            plt.close(self._human_fig)
            self._human_fig = None

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
