"""``BatchedSMAC``: many SMAC battles at once, as tensors on one device.

.. code-block:: python

    env = BatchedSMAC("3m", n_envs=1024, device="cpu", seed=0)
    nxt = env.reset()                       # {"obs": [B,N,obs_dim], "state": [B,state_dim], "avail": [B,N,A] bool}
    nxt, reward, terminated, info = env.step(actions)   # actions: LongTensor[B, N]

Contract (others build on it):

- ``reset(mask=None)`` restarts all environments (or those where ``mask: BoolTensor[B]`` is True) and
  returns the full dict. ``"avail"`` is a **bool** tensor (cheapest; ``.float()`` gives SMAC's 0/1).
- ``step(actions)`` returns ``(next, reward [B] float32, terminated [B] bool, info)`` with ``info``
  tensors ``battle_won`` (bool), ``dead_allies``/``dead_enemies`` (long), ``episode_limit`` (bool: the
  episode ended by timeout; reported whatever ``continuing_episode`` says, so learners can choose
  whether to bootstrap).
- ``auto_reset=True`` (default): environments that terminate restart inside ``step``. The returned
  reward/terminated/info are the *final* step's; ``next`` holds the **first observation of the new
  episode** for those environments (the terminal observation is not returned: SMAC learners do not use
  it, they only need ``terminated``). ``auto_reset=False``: stepping an environment that terminated
  without ``reset(mask)`` raises ``RuntimeError``.
- Actions are checked (``check_actions=True``): wrong type/dtype -> ``TypeError``; wrong shape or an
  action outside ``[0, n_actions)`` or unavailable -> ``ValueError`` naming env, agent, action and the
  available actions (SMAC asserts; we explain).
- Randomness: only the start positions and the AI's first choice of target are random (each group is
  shifted by up to 1 map unit, each unit jittered by up to 0.2). Environment ``b``'s ``k``-th episode
  draws from ``hash(seed, b, k)`` (:mod:`course_lib.envs.smac.rng`), so a given environment plays the
  same episodes whatever ``n_envs`` and the device, and resetting some environments never changes the
  others' randomness.
- Test hook: ``_place(env_index, unit, pos=..., health=..., shield=..., cooldown=..., energy=...)`` writes
  one unit's state (unit index: allies ``0..N-1``, enemies ``N..N+E-1``) and refreshes the
  observations; ``observe()`` returns the current dict.
- Speed: a step is a fixed sequence of ~160 tensor operations (no Python loop over environments or
  units), so small batches are bound by PyTorch's per-operation overhead (~3 us on a laptop CPU) and
  large batches by memory bandwidth. Batches of up to 16 environments on the CPU therefore replay a
  ``torch.jit.trace`` recording of the step (``trace=None``, the default; identical results, 1.2-1.4x
  faster); ``compile=True`` runs the step through ``torch.compile`` instead (about half a minute to compile
  per map and batch size, then several times faster for few environments). ``inference_mode=True`` saves
  another ~20% per operation (the single-battle facade uses it; the tensors it returns refuse autograd).

The built-in enemy, modelled on StarCraft II's attack-move tactical AI (difficulty 7, spec section 7;
target rules from Liquipedia's "Automatic Targeting"):

- Every enemy attack-moves toward the nearest ally (at the start that is the allies' start area; the
  real AI attack-moves to that point and would idle there if the allies left it; following them keeps
  episodes from stalling and removes the run-away exploit).
- It acquires targets within its *scan range* ``max(5, weapon range + 0.5)`` edge to edge (StarCraft
  II's Legacy-of-the-Void rule; the spec's "about 5 beyond weapon range" would let ranged units lock on
  from 10+ and always strike before the agents, whose attack action only exists within 6, can). Medivacs
  are preferred (spec). Among equally good targets StarCraft II uses distance only "if I lost my previous
  target"; so a unit's first target is a seeded random pick among the valid targets in scan range, and
  every later one is the nearest.
- It keeps its target while the target is alive and within weapon range (criterion of the real AI),
  walks to weapon range and fires whenever its cooldown allows. It only fires at a target acquired at
  the start of the step (the agents' attack action has the same one-step latency).
- An enemy medivac heals the most damaged biological friend within heal range + 5, else follows the
  nearest friendly non-medivac unit.
- Difficulty "7" and above are the same (the cheating levels only cheat on vision and resources);
  "1"-"6" shorten the scan range by 0.5 per level below 7 (never below weapon range).

These choices make the spec's anchors hold: uniformly random agents essentially never win 3m, the
focus-fire script of :mod:`course_lib.envs.smac.policies` wins most 3m battles and no 5m_vs_6m battle.

Ally orders follow SMAC's commands: *stop* holds position and, as an idle StarCraft II unit does,
fires at the nearest enemy within weapon range (a medivac auto-heals the most damaged biological ally
within its heal range); *move* walks ``min(move_amount, speed * dt)`` in that direction without
attacking; *attack j* walks toward enemy j until within weapon range, then fires whenever the cooldown
allows (a marauder cannot hit air: ordered to attack a medivac it holds); *heal j* (medivac) flies to
ally j and heals 9 hp per game second for 1 energy per 3 hp. Movement, combat and terrain rules are in
:mod:`course_lib.envs.smac.dynamics`; observations, state and masks in
:mod:`course_lib.envs.smac.observe`; reward and termination below follow SMAC (spec section 5).
"""
from __future__ import annotations

import math
import os
import sys
from types import SimpleNamespace
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch

from ... import threads
from ...checkpoints import to_safe
from ...utils import resolve_device
from . import dynamics as dyn
from . import observe as ob
from .maps import MapSpec, get_map
from .rng import hash_uniform
from .terrain import geodesic_table, get_terrain
from .units import LOOPS_PER_SECOND, UnitType

__all__ = ["BatchedSMAC", "SMAC_DEFAULTS", "IGNORED_SMAC_KWARGS"]

# StarCraft2Env keywords (spec section 1) and their defaults; map_name and seed are explicit arguments.
SMAC_DEFAULTS: Dict[str, object] = {
    "step_mul": 8,
    "move_amount": 2,
    "difficulty": "7",
    "continuing_episode": False,
    "obs_all_health": True,
    "obs_own_health": True,
    "obs_last_action": False,
    "obs_pathing_grid": False,
    "obs_terrain_height": False,
    "obs_instead_of_state": False,
    "obs_timestep_number": False,
    "state_last_action": True,
    "state_timestep_number": False,
    "reward_sparse": False,
    "reward_only_positive": True,
    "reward_death_value": 10,
    "reward_win": 200,
    "reward_defeat": 0,
    "reward_negative_scale": 0.5,
    "reward_scale": True,
    "reward_scale_rate": 20,
}
# Keywords of oxwhirl's StarCraft2Env that only concern the real game; accepted and ignored so that
# SMAC code runs unchanged (heuristic_ai must stay False: agents are always controlled by the caller;
# StarCraft2Env.save_replay uses replay_dir and replay_prefix for its own replay files).
IGNORED_SMAC_KWARGS = ("game_version", "replay_dir", "replay_prefix", "window_size_x", "window_size_y",
                       "debug", "heuristic_ai", "heuristic_rest")

_DIFFICULTIES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "A")
_MALLOC_TUNED = False


def _tune_malloc() -> None:
    """Keep large freed blocks in the heap (glibc ``mallopt``), once per process.

    Batched steps allocate many tensors of hundreds of kB to tens of MB; glibc serves those with fresh
    ``mmap`` pages, and the page faults can cost more than the arithmetic (a 30 MB multiply: ~50 ms
    instead of ~8 ms on the course machine). Raising the mmap and trim thresholds makes such blocks
    reusable. Linux/glibc only, CPU batches of 32+ environments; ``COURSE_SMAC_NO_MALLOPT=1`` disables.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or os.environ.get("COURSE_SMAC_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except Exception:  # not glibc: nothing to tune
        pass
_MARGIN = 0.05        # units stop this far inside their weapon range
_RANGE_EPS = 1e-3     # tolerance of the in-range test
_SHIELD_DELAY = 10.0  # game seconds without damage before shields regenerate
_SHIELD_REGEN = 2.0   # shield per game second
_SEPARATION_PASSES = 2  # collision passes after the moves of a step (dynamics.separate)
_PRIORITY = 100.0     # distance bonus of prioritised targets (medivacs) for the enemy AI
_TRACE_MAX_ENVS = 16  # trace=None traces CPU batches up to this size (1.2-1.4x at 1-8 envs, none at 64)
# the tensors one step reads and writes (the traced step takes and returns them in this order)
_STEP_STATE = ("_p", "health", "shield", "cd", "since_dmg", "alive", "ai_cur", "ai_has", "ai_lost", "prio",
               "last_action", "last_target", "t", "_stats", "_off", "_dist", "_em", "_nv", "_ni", "_avail")
_INFO_KEYS = ("battle_won", "dead_allies", "dead_enemies", "episode_limit")
# what observing reads, and the caches it writes (the traced observation takes and returns them)
_OBS_IN = ("_p", "alive", "health", "shield", "cd", "last_action", "t")
_OBS_CACHE = ("_off", "_dist", "_em", "_nv", "_ni", "_avail")


def validate_smac_kwargs(kwargs: dict, owner: str = "BatchedSMAC") -> dict:
    """Fill SMAC defaults; unknown keywords raise ``TypeError`` naming them and listing valid ones."""
    valid = set(SMAC_DEFAULTS) | set(IGNORED_SMAC_KWARGS)
    unknown = [k for k in kwargs if k not in valid]
    if unknown:
        raise TypeError(
            f"{owner} got unexpected keyword argument(s) {unknown}; valid keywords: "
            f"{sorted(SMAC_DEFAULTS)} (accepted and ignored: {list(IGNORED_SMAC_KWARGS)})")
    if kwargs.get("heuristic_ai"):
        raise ValueError("heuristic_ai=True is not supported: the simulator's agents are always "
                         "controlled by your actions (use course_lib.envs.smac.policies.focus_fire_policy)")
    out = dict(SMAC_DEFAULTS)
    out.update({k: v for k, v in kwargs.items() if k in SMAC_DEFAULTS})
    if out["obs_all_health"]:  # SMAC: "obs_own_health is ignored when obs_all_health == True"
        out["obs_own_health"] = True
    if not isinstance(out["step_mul"], (int, np.integer)) or out["step_mul"] <= 0:
        raise ValueError(f"step_mul must be a positive integer, got {out['step_mul']!r}")
    if not isinstance(out["move_amount"], (int, float, np.number)) or out["move_amount"] <= 0:
        raise ValueError(f"move_amount must be a positive number, got {out['move_amount']!r}")
    diff = str(out["difficulty"])
    if diff not in _DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {list(_DIFFICULTIES)}, got {out['difficulty']!r}")
    out["difficulty"] = diff
    return out


class BatchedSMAC:
    """``n_envs`` SMAC battles on ``map_name``, stepped together as tensors on ``device``.

    Args:
        map_name: one of ``list_maps()`` (or the extension ``"5s10z"``).
        n_envs: number of environments ``B`` (>= 1).
        device: "cpu", "cuda", "cuda:N", "auto" or a ``torch.device`` (see ``resolve_device``).
        seed: non-negative integer seed of the start positions and of the AI's tie-breaks.
        auto_reset: restart finished environments inside ``step`` (see module docstring).
        check_actions: validate actions in ``step`` (costs a few microseconds; keep it on).
        compile: compile the step with ``torch.compile`` (needs a C++ compiler; the first step takes
            about half a minute, later steps run several times faster, most useful for a single or a
            few environments on the CPU). Results equal the eager ones up to float rounding.
        trace: record the step once with ``torch.jit.trace`` and replay it (identical results, about 1.5x
            faster for one environment on the CPU; tracing takes a fraction of a second). ``None`` (default):
            trace CPU batches of up to 16 environments. Falls back to the eager step, with a warning, where
            ``torch.jit`` is unavailable.
        inference_mode: run the simulator under ``torch.inference_mode()`` instead of ``no_grad`` (about 20%
            faster per step for one environment), at a price: the returned tensors and the state are
            *inference tensors*, which autograd refuses (clone them before feeding a network you train).
            ``StarCraft2Env`` uses it, since it hands out NumPy arrays only.
        **smac_kwargs: StarCraft2Env keywords (``SMAC_DEFAULTS``); unknown ones raise ``TypeError``.

    Attributes:
        n_envs, n_agents, n_enemies, n_actions, obs_dim, state_dim, episode_limit, map_name, device,
        spec (the :class:`MapSpec`), smac_kwargs (the effective keywords), max_reward.
        State tensors (read them, write them only through ``_place``): ``pos [B, U, 2]`` (a view of the
        internal ``[B, 2, U]`` storage: x and y rows, faster for the batched geometry),
        ``health``, ``shield``, ``cd`` (remaining weapon cooldown in game loops; a medivac's energy)
        ``[B, U]``, ``alive [B, U]`` bool, ``t [B]`` steps into the episode, ``last_action [B, N]``,
        ``last_target [B, U]``. Units: allies ``0..N-1`` then enemies ``N..N+E-1``.
    """

    def __init__(self, map_name: str = "8m", n_envs: int = 1, device: Union[str, torch.device] = "cpu",
                 seed: Optional[int] = 0, auto_reset: bool = True, check_actions: bool = True,
                 compile: bool = False, trace: Optional[bool] = None, inference_mode: bool = False,
                 **smac_kwargs):
        self.spec: MapSpec = get_map(map_name)
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        if seed is None:
            seed = 0
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.smac_kwargs = validate_smac_kwargs(smac_kwargs, "BatchedSMAC")
        self.device = resolve_device(device)
        threads.apply(self.device)  # one CPU thread for the course's small batches (see course_lib.threads)
        self.map_name = self.spec.name
        self.n_envs = int(n_envs)
        self.seed_value = int(seed)
        self.auto_reset = bool(auto_reset)
        self.check_actions = bool(check_actions)
        self.n_agents = self.spec.n_agents
        self.n_enemies = self.spec.n_enemies
        self.n_actions = self.spec.n_actions
        self.episode_limit = self.spec.episode_limit
        kw = self.smac_kwargs
        self.obs_dim = self.spec.obs_size(kw["obs_all_health"], kw["obs_own_health"], kw["obs_last_action"],
                                          kw["obs_pathing_grid"], kw["obs_terrain_height"],
                                          kw["obs_timestep_number"])
        if kw["obs_instead_of_state"]:
            self.state_dim = self.obs_dim * self.n_agents
        else:
            self.state_dim = self.spec.state_size(kw["state_last_action"], kw["state_timestep_number"])
        self.C = self._build_constants()
        if self.device.type == "cpu" and self.n_envs >= 32:
            _tune_malloc()
        self.max_reward = (self.n_enemies * float(kw["reward_death_value"]) + float(kw["reward_win"])
                           + sum(u.health + u.shield for u in self.spec.enemy_type_list()))
        self.inference_mode = bool(inference_mode)
        self.compiled = bool(compile)
        if trace and self.compiled:
            raise ValueError("choose one of compile=True and trace=True, not both")
        if self.compiled:
            self.C.check_overlap = False  # no host synchronisation inside a compiled graph
            self._core = torch.compile(self._step_core, dynamic=False)
            self._obs_fn = torch.compile(self._observe, dynamic=False)
        else:
            self._core = self._step_core
            self._obs_fn = self._observe
        self._alloc_state()
        self._traced = None
        self.reset()
        if trace is None:  # auto: small CPU batches, where per-operation overhead dominates
            trace = self.device.type == "cpu" and self.n_envs <= _TRACE_MAX_ENVS and not self.compiled
        if trace:
            self._install_trace()
        self.traced = self._traced is not None

    # ------------------------------------------------------------------------------ constants
    def _build_constants(self) -> SimpleNamespace:
        spec, kw, dev = self.spec, self.smac_kwargs, self.device
        f32 = dict(device=dev, dtype=torch.float32)
        allies: List[UnitType] = spec.ally_type_list()
        enemies: List[UnitType] = spec.enemy_type_list()
        units = allies + enemies
        N, E = len(allies), len(enemies)
        U, A = N + E, spec.n_actions
        dt_s = kw["step_mul"] / LOOPS_PER_SECOND  # game seconds per step
        terrain = get_terrain(spec.terrain, spec.width, spec.height)

        def t(vals, dtype=torch.float32):
            return torch.tensor(vals, device=dev, dtype=dtype)

        C = SimpleNamespace()
        C.device = dev
        C.spec, C.N, C.E, C.U, C.A = spec, N, E, U, A
        C.obs_dim = self.obs_dim
        C.units = units
        C.names = [u.name for u in units]
        C.step_mul = float(kw["step_mul"])
        # a unit fires in this step when its remaining cooldown expires before the step ends; an attack
        # due exactly at the boundary belongs to the next step (the 1e-3 loop guards float32 round-off)
        C.fire_window = C.step_mul - 1e-3
        C.width, C.height = spec.width, spec.height
        C.n_cells = spec.width * spec.height
        C.size_xy = t([spec.width, spec.height])
        C.size_xy3 = C.size_xy[:, None, None]
        C.center = t([spec.width / 2.0, spec.height / 2.0])
        C.inv_size = t([1.0 / spec.width, 1.0 / spec.height])
        C.neg_center_scaled = (-C.center * C.inv_size)[:, None]                  # [2, 1]
        C.inv_size2 = C.inv_size[:, None]
        C.episode_limit = float(spec.episode_limit)
        for k in ("obs_all_health", "obs_own_health", "obs_last_action", "obs_pathing_grid",
                  "obs_terrain_height", "obs_instead_of_state", "obs_timestep_number",
                  "state_last_action", "state_timestep_number"):
            setattr(C, k, bool(kw[k]))
        C.utb = spec.unit_type_bits
        C.ally_shield = spec.ally_shield_bits == 1
        C.enemy_shield = spec.enemy_shield_bits == 1
        C.is_enemy = t([False] * N + [True] * E, torch.bool)
        C.is_enemy2 = C.is_enemy[:, None]
        C.inf = torch.tensor(float("inf"), device=dev)

        # per-unit statistics [U]
        C.radius = t([u.radius for u in units])
        C.speed_step = t([u.speed * dt_s for u in units])
        C.range = t([u.range for u in units])
        C.range_eps = C.range + _RANGE_EPS
        C.reach = C.radius + C.range - _MARGIN
        C.reach_fire = C.radius + C.range_eps
        C.hp_max = t([u.health for u in units])
        C.sh_max = t([u.shield for u in units])
        C.inv_hp = 1.0 / C.hp_max
        C.inv_sh = 1.0 / C.sh_max.clamp(min=1.0)
        C.armor = t([u.armor for u in units])
        C.hits = t([u.hits for u in units])
        C.max_hits = max(u.hits for u in units)
        C.inv_maxcd = t([1.0 / u.max_cooldown for u in units])
        C.inv3 = torch.stack([C.inv_hp, C.inv_sh, C.inv_maxcd], -1)          # [U, 3]
        healer = [u.is_healer for u in units]
        # cd holds the remaining weapon cooldown in loops; for a medivac it holds its energy instead:
        # every step cd <- clamp(cd - cd_decay, 0, cd_cap), after a shot cd <- cd + cd_next.
        C.cd_decay = t([-u.energy_regen * dt_s if u.is_healer else float(kw["step_mul"]) for u in units])
        C.cd_cap = t([u.energy_max if u.is_healer else 1e9 for u in units])
        C.cd_next = t([u.cooldown_loops - float(kw["step_mul"]) for u in units])
        C.cd_start = t([u.energy_start for u in units])
        C.heal_step = t([u.heal_rate * dt_s for u in units])
        C.regen_step = t([u.regen * dt_s for u in units])
        C.has_regen = any(u.regen > 0 for u in units)
        C.has_shield = any(u.shield > 0 for u in units)
        C.shield_step = _SHIELD_REGEN * dt_s
        C.shield_delay = _SHIELD_DELAY * LOOPS_PER_SECOND
        C.healer_u = t(healer, torch.bool)
        C.has_healer = any(healer)
        C.healer_agent = C.healer_u[:N]
        C.has_healer_agent = bool(C.healer_agent.any())
        C.has_healer_enemy = bool(C.healer_u[N:].any())
        C.bio = t([u.biological for u in units], torch.bool)
        C.suicide = t([u.suicide for u in units], torch.bool)
        C.has_suicide = bool(C.suicide.any())
        C.is_medivac = t([u.name == "medivac" for u in units], torch.bool)
        C.mmm = spec.map_type == "MMM"
        C.line_idx = [i for i, u in enumerate(units) if u.splash == "line"]
        C.radius_idx = [i for i, u in enumerate(units) if u.splash == "radius"]
        C.line_idx_t = t(C.line_idx, torch.long)
        C.radius_idx_t = t(C.radius_idx, torch.long)
        C.splash_u = t([u.splash is not None for u in units], torch.bool)
        C.has_splash = bool(C.splash_u.any())
        C.line_half = 1.4
        C.line_depth = 0.1
        C.bane_radius = max([u.splash_radius for u in units if u.splash == "radius"], default=0.0)

        # pairwise tables [U, U]: can-hit, raw damage per hit, hull damage per attack (all hits)
        can = [[u.can_hit(v) and (i < N) != (j < N) for j, v in enumerate(units)] for i, u in enumerate(units)]
        raw = [[u.damage_against(v) if can[i][j] else 0.0 for j, v in enumerate(units)]
               for i, u in enumerate(units)]
        hull = [[max(raw[i][j] - v.armor, 0.5) * units[i].hits if can[i][j] else 0.0
                 for j, v in enumerate(units)] for i in range(U)]
        C.can_hit = t(can, torch.bool)
        C.all_can_hit = all(can[i][j] for i in range(U) for j in range(U)
                            if (i < N) != (j < N) and units[i].can_attack)
        rad = [u.radius for u in units]
        C.rsum = t([[rad[i] + rad[j] for j in range(U)] for i in range(U)])
        # edge distance to valid targets = dist + neg_rsum_inf (inf where u cannot hit v)
        C.neg_rsum_inf = torch.where(C.can_hit, -C.rsum, torch.full_like(C.rsum, float("inf")))
        C.can_hit_flat = C.can_hit.reshape(-1)
        C.raw_flat = t(raw).reshape(-1)
        C.hull_flat = t(hull).reshape(-1)
        C.raw_pair = t(raw)
        C.hull_pair = t(hull)
        C.u_base = torch.arange(U, device=dev) * U
        C.tgt_shift = t([(0 if u.is_healer else N) - 6 for u in allies] + [0] * E, torch.long)
        C.heal_target_ok = t([[units[j].biological and not units[j].is_healer for j in range(N)]
                              for _ in range(N)], torch.bool)
        C.heal_ok_u = t([[units[j].biological and not units[j].is_healer and (i < N) == (j < N)
                          for j in range(U)] for i in range(U)], torch.bool)
        C.medivac_bonus = t([_PRIORITY if u.name == "medivac" else 0.0 for u in units])
        C.has_medivac_target = bool(C.is_medivac[:N].any())

        # collisions: ground units against ground units, except that massive units (colossus) step over
        # the others; static units (spine crawler) are never pushed
        mob = [0.0 if u.static else 1.0 for u in units]
        pw = [[0.0] * U for _ in range(U)]
        for i in range(U):
            for j in range(U):
                if (i != j and not units[i].air and not units[j].air and mob[i] + mob[j] > 0
                        and units[i].massive == units[j].massive):
                    pw[i][j] = mob[i] / (mob[i] + mob[j])
        C.push_w = t(pw)
        C.collide = (C.push_w > 0) | (C.push_w > 0).T                       # [U, U] pairs that collide
        C.collide_f = C.collide.to(torch.float32)
        C.mobile = t(mob)
        C.has_collisions = any(pw[i][j] > 0 for i in range(U) for j in range(U))
        C.rsum_push = torch.where(C.push_w > 0, C.rsum, torch.zeros_like(C.rsum))
        # small batches: skip the push-apart pass when nothing overlaps (a cheap test on the CPU)
        C.check_overlap = self.n_envs <= 16 and dev.type == "cpu"
        C.far = t([[-1000.0 - 20.0 * u for u in range(U)], [-1000.0] * U])  # [2, U]: where dead units are "seen"

        # terrain
        C.terrain = terrain
        C.open_terrain = terrain.is_open
        free = [1 if (u.air or u.cliff_walk) else 0 for u in units]
        C.walk_free = t(free, torch.long) * C.n_cells
        C.walk_free_a = C.walk_free[:N, None]
        walk = torch.as_tensor(terrain.pathing.reshape(-1).copy(), device=dev)
        C.walk_flat = torch.cat([walk, torch.ones_like(walk)])
        C.path_grid_f = walk.to(torch.float32)
        C.height_grid_f = torch.as_tensor(terrain.height_map.reshape(-1).copy(), **f32)
        if not C.open_terrain:
            C.geo_flat = torch.as_tensor(
                geodesic_table(spec.terrain, spec.width, spec.height).reshape(-1).copy(), **f32)
            C.route_u = t([not (u.air or u.cliff_walk or u.static) for u in units], torch.bool)
            s2 = math.sqrt(0.5)
            C.compass8 = t([[0, 1], [0, -1], [1, 0], [-1, 0], [s2, s2], [-s2, -s2], [s2, -s2], [-s2, s2]]).T[:, None, :]
            C.straight_bonus = t([-0.5] + [0.0] * 8)
        C.pos_lo = torch.full((2, U), 1e-3, **f32)
        C.pos_hi = (C.size_xy - 1e-3)[:, None]

        # actions
        ma = float(kw["move_amount"])
        C.move_amount = ma
        C.dirs = t([[0, 0], [0, 0], [0, ma], [0, -ma], [ma, 0], [-ma, 0]] + [[0, 0]] * (A - 6))
        C.move_check = (C.dirs[2:6] * 0.5).T[:, None, :]                      # [2, 1, 4]
        C.move_check5 = torch.cat([C.dirs[:1], C.dirs[2:6] * 0.5]).T[:, None, :]  # [2, 1, 5]: stay + moves
        # one-hot rows of the last actions; index -1 (no action yet, after a reset) is an all-zero row,
        # as SMAC's last_action right after reset()
        C.eye_actions = torch.cat([torch.eye(A, **f32), torch.zeros(1, A, **f32)])
        so = [[0, 2 * ma], [0, -2 * ma], [2 * ma, 0], [-2 * ma, 0], [ma, ma], [-ma, -ma], [ma, -ma],
              [-ma, ma], [0, 0]]
        C.surround_offsets = t(so).T[:, None, :]                                # [2, 1, 9]

        # observation helpers
        if C.utb:
            oh = torch.zeros(U, C.utb, **f32)
            for i, u in enumerate(units):
                order = spec.ally_type_order if i < N else spec.enemy_type_order
                oh[i, order.index(u.name)] = 1.0
            C.onehot = oh
        C.zero_b = torch.zeros(self.n_envs, 1, **f32)
        C.one_b = torch.ones(self.n_envs, 1, **f32)
        ob.build_index_tables(C)
        assert C.obs_dim_bank == self.obs_dim, (C.obs_dim_bank, self.obs_dim)
        C.ally_type_rank = t([spec.ally_type_order.index(u.name) if C.utb else 0 for u in allies])

        # enemy AI: scan range max(5, weapon range + 0.5) (Liquipedia, Legacy of the Void)
        d = self.smac_kwargs["difficulty"]
        scan = [max(5.0, u.range + 0.5) for u in units]
        if d not in ("7", "8", "9", "A"):  # easier AI: shorter scan range, never below weapon range
            scan = [max(s - 0.5 * (7 - int(d)), u.range) for s, u in zip(scan, units)]
        C.scan_col = t(scan)[:, None] + _RANGE_EPS

        # start formation (offsets from the group centre) [U, 2]: front rows face the other side
        C.start_offsets = t(self._formation(allies, spec.ally_spacing, spec.front_types, +1.0)
                            + self._formation(enemies, spec.enemy_spacing, spec.front_types, -1.0)).T  # [2, U]
        C.start_center = t([list(spec.ally_start)] * N + [list(spec.enemy_start)] * E).T           # [2, U]
        C.team = t([0] * N + [1] * E, torch.long)
        # reward weights (SMAC's reward_battle as a weighted sum over units), scaling folded in
        only_pos = bool(kw["reward_only_positive"])
        ns, dv = float(kw["reward_negative_scale"]), float(kw["reward_death_value"])
        max_reward = (E * dv + float(kw["reward_win"]) + sum(u.health + u.shield for u in enemies))
        scale = float(kw["reward_scale_rate"]) / max_reward if kw["reward_scale"] else 1.0
        C.reward_sparse = bool(kw["reward_sparse"])
        C.reward_only_positive = only_pos
        C.w_delta = t([0.0 if only_pos else -ns] * N + [1.0] * E) * scale
        C.w_died = t([0.0 if only_pos else -ns * dv] * N + [dv] * E) * scale
        C.win_bonus = float(kw["reward_win"]) * scale
        C.defeat_bonus = float(kw["reward_defeat"]) * scale
        C.sparse_scale = scale
        return C

    @staticmethod
    def _formation(units: List[UnitType], spacing_factor: float, front: Tuple[str, ...],
                   facing: float) -> List[List[float]]:
        """Compact square grid (rows across x, columns along y) centred on (0, 0), one slot per unit.

        Row 0 is the front (toward ``facing`` * x); units of the types listed first in ``front`` take the
        front slots. Returns the offsets in the order of ``units``.
        """
        n = len(units)
        cols = int(math.ceil(math.sqrt(n)))
        rows = int(math.ceil(n / cols))
        s = (2 * max(u.radius for u in units) + 0.5) * spacing_factor
        rank = {name: k for k, name in enumerate(front)}
        order = sorted(range(n), key=lambda i: (rank.get(units[i].name, len(rank)), i))
        out: List[List[float]] = [[0.0, 0.0]] * n
        for slot, i in enumerate(order):
            r, c = divmod(slot, cols)
            out[i] = [facing * ((rows - 1) / 2.0 - r) * s, (c - (cols - 1) / 2.0) * s]
        return out

    # ------------------------------------------------------------------------------ state
    def _alloc_state(self) -> None:
        B, U, N, E, dev = self.n_envs, self.C.U, self.C.N, self.C.E, self.device
        z = lambda *s: torch.zeros(*s, device=dev, dtype=torch.float32)
        self._p = z(B, 2, U)
        self.health = z(B, U)
        self.shield = z(B, U)
        self.cd = z(B, U)
        self.since_dmg = z(B, U)
        self.alive = torch.zeros(B, U, device=dev, dtype=torch.bool)
        self.ai_cur = torch.zeros(B, U, device=dev, dtype=torch.long)
        self.ai_has = torch.zeros(B, U, device=dev, dtype=torch.bool)
        self.ai_lost = torch.zeros(B, U, device=dev, dtype=torch.bool)
        self.prio = z(B, U, U)
        self.last_action = torch.full((B, N), -1, device=dev, dtype=torch.long)
        self.last_target = torch.full((B, U), -1, device=dev, dtype=torch.long)
        self.t = torch.zeros(B, device=dev, dtype=torch.long)
        self.episode = torch.full((B,), -1, device=dev, dtype=torch.long)
        self.done = torch.zeros(B, device=dev, dtype=torch.bool)
        self.env_ids = torch.arange(B, device=dev, dtype=torch.long)
        self._enemy_act = torch.zeros(B, E, device=dev, dtype=torch.long)
        self._zeros_bu = z(B, U)
        self._minus1 = torch.full((B, U), -1, device=dev, dtype=torch.long)
        self._stats = torch.zeros(B, 3, device=dev, dtype=torch.long)  # won, games, timeouts per env

    def _fresh(self, episode: torch.Tensor, env_ids: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Start state of the given episodes: ``episode, env_ids: [b]`` -> dict of ``[b, ...]`` tensors."""
        C, N, U = self.C, self.C.N, self.C.U
        b = env_ids.shape[0]
        r = hash_uniform(self.seed_value, env_ids, episode, 4 + 2 * U + U * U)  # [b, ...] in [0, 1)
        s = r[:, :4 + 2 * U] * 2.0 - 1.0
        shift = torch.cat([s[:, 0:2, None].expand(b, 2, N), s[:, 2:4, None].expand(b, 2, U - N)], 2)
        jitter = s[:, 4:].reshape(b, 2, U) * 0.2
        pos = C.start_center + C.start_offsets + shift + jitter                    # [b, 2, U]
        pos = torch.minimum(torch.maximum(pos, C.pos_lo), C.pos_hi)
        # SMAC orders the agents by (unit type, x, y)
        pa = pos[:, :, :N].to(torch.float64)
        key = C.ally_type_rank.to(torch.float64) * 1e8 + pa[:, 0] * 1e3 + pa[:, 1]
        perm = key.argsort(dim=1)
        pos = torch.cat([pos[:, :, :N].gather(2, perm[:, None, :].expand(b, 2, N)), pos[:, :, N:]], 2)
        # the AI's preference among equally good targets (lower first; medivacs first)
        prio = r[:, 4 + 2 * U:].reshape(b, U, U) - C.medivac_bonus
        return {"pos": pos, "prio": prio}

    def _reset_envs(self, mask: Optional[torch.Tensor]) -> None:
        """Restart the environments selected by ``mask: [B]`` (all when None)."""
        C = self.C
        if mask is None:
            mask = torch.ones(self.n_envs, device=self.device, dtype=torch.bool)
        self.episode = self.episode + mask.long()
        f = self._fresh(self.episode, self.env_ids)
        m1, m2 = mask[:, None], mask[:, None, None]
        self._p = torch.where(m2, f["pos"], self._p)
        self.prio = torch.where(m2, f["prio"], self.prio)
        self.health = torch.where(m1, C.hp_max, self.health)
        self.shield = torch.where(m1, C.sh_max, self.shield)
        self.cd = torch.where(m1, C.cd_start, self.cd)
        self.since_dmg = self.since_dmg.masked_fill(m1, 0.0)
        self.alive = self.alive | m1
        self.ai_has = self.ai_has & ~m1
        self.ai_lost = self.ai_lost & ~m1
        self.last_action = self.last_action.masked_fill(m1, -1)
        self.last_target = self.last_target.masked_fill(m1, -1)
        self.t = self.t.masked_fill(mask, 0)
        self.done = self.done & ~mask

    # ------------------------------------------------------------------------------ API
    def reset(self, mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Restart all environments, or those where ``mask: BoolTensor[B]`` is True; return the full dict."""
        if mask is not None:
            if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
                got = type(mask).__name__ + (f" of dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else "")
                raise TypeError(f"reset(mask) needs a BoolTensor of shape [{self.n_envs}], got {got}")
            if tuple(mask.shape) != (self.n_envs,):
                raise ValueError(f"reset(mask) needs shape [{self.n_envs}], got {tuple(mask.shape)}")
            mask = mask.to(self.device)
        with self._no_grad():
            self._reset_envs(mask)
            return self._obs_fn()

    def _no_grad(self):
        """The autograd context of every entry point: ``inference_mode()`` or ``no_grad()``."""
        return torch.inference_mode() if self.inference_mode else torch.no_grad()

    def observe(self) -> Dict[str, torch.Tensor]:
        """The current ``{"obs", "state", "avail"}`` (recomputed from the state tensors)."""
        with self._no_grad():
            return self._obs_fn()

    def _observe(self) -> Dict[str, torch.Tensor]:
        """Refresh the distance caches from ``pos``/``alive`` and build obs, state and masks."""
        C = self.C
        epos = torch.where(self.alive.unsqueeze(1), self._p, C.far)           # [B, 2, U]
        off, dist = dyn.pairwise(epos)
        self._off, self._dist = off, dist
        self._em = dist + C.neg_rsum_inf          # edge distance to each valid target (inf otherwise)
        self._nv, self._ni = self._em.min(-1)     # nearest valid target
        if C.check_overlap:
            self._overlap = (dist < C.rsum_push).any()
        avail = ob.build_avail(epos, self.alive, dist, C)
        ufeat = ob.build_unit_feats(self._p, self.health, self.shield, self.cd, self.alive, C)
        obs = ob.build_obs(epos, off, dist, avail, ufeat, self.last_action, self.t, C)
        state = ob.build_state(ufeat, self.last_action, self.t, C, obs=obs)
        self._avail = avail
        return {"obs": obs, "state": state, "avail": avail}

    def _check(self, actions) -> torch.Tensor:
        if not isinstance(actions, torch.Tensor):
            raise TypeError(f"BatchedSMAC.step expects actions as a torch LongTensor of shape "
                            f"[{self.n_envs}, {self.n_agents}], got {type(actions).__name__}")
        if actions.dtype == torch.bool or actions.is_floating_point() or actions.is_complex():
            raise TypeError(f"actions must be an integer tensor (torch.long), got dtype {actions.dtype}")
        if tuple(actions.shape) != (self.n_envs, self.n_agents):
            raise ValueError(f"actions must have shape [n_envs, n_agents] = [{self.n_envs}, {self.n_agents}], "
                             f"got {tuple(actions.shape)}")
        actions = actions.to(device=self.device, dtype=torch.long)
        if not self.auto_reset and bool(self.done.any()):
            idx = self.done.nonzero().flatten().tolist()
            raise RuntimeError(f"environment(s) {idx[:10]} terminated; call reset(mask) for them before "
                               "stepping again (or create BatchedSMAC with auto_reset=True)")
        if self.check_actions:
            clamped = actions.clamp(0, self.n_actions - 1)
            ok = self._avail.gather(2, clamped[..., None]).squeeze(-1) & (clamped == actions)
            if not bool(ok.all()):
                b, i = (~ok).nonzero()[0].tolist()
                self._raise_unavailable(b, i, int(actions[b, i]))
        return actions

    def _raise_unavailable(self, b: int, i: int, a: int) -> None:
        av = self._avail[b, i].nonzero().flatten().tolist()
        names = ob.action_names(self.n_enemies, bool(self.C.healer_agent[i]))
        what = (f"action {a} is outside [0, {self.n_actions})" if not 0 <= a < self.n_actions else
                f"action {a} ({names[a]}) is not available")
        raise ValueError(f"env {b}, agent {i}: {what}; available actions: {av} "
                         f"({', '.join(names[k] for k in av)})")

    def step(self, actions: torch.Tensor):
        """Advance every environment by one step (``step_mul`` game loops).

        Args:
            actions: ``LongTensor[B, N]``.
        Returns:
            ``(next, reward, terminated, info)``: ``next`` dict as ``reset()``; ``reward: [B]`` float32;
            ``terminated: [B]`` bool; ``info``: ``battle_won [B] bool, dead_allies [B] long,
            dead_enemies [B] long, episode_limit [B] bool``.
        """
        actions = self._check(actions)
        with self._no_grad():
            return self._step(actions)

    # ------------------------------------------------------------------------------ the step
    def _decide(self, act: torch.Tensor):
        """Orders of every unit from the state at the start of the step.

        ``act: [B, U]`` (the agents' actions, then 0 for the enemies). Returns ``tgt [B, U]`` (a unit
        index), ``has [B, U]`` (the unit has a target to attack or heal), ``chase [B, U]`` (it walks to its
        target) and ``goal [B, U, 2]`` (the move vector of units that do not chase).
        """
        C = self.C
        em, nv, ni = self._em, self._nv, self._ni
        att = act >= 6
        tgt_exp = (act + C.tgt_shift).clamp_(0, C.U - 1)
        # ---- enemy AI (computed for every row, used for the enemies' rows)
        cur = self.ai_cur
        cur_ok = self.ai_has & (em.gather(2, cur.unsqueeze(-1)).squeeze(-1) <= C.range_eps)
        acq = em <= C.scan_col
        # first acquisition: the seeded preference among targets in scan range; afterwards: the nearest
        near_score = em - C.medivac_bonus if C.has_medivac_target else em   # medivacs first (spec)
        pick = torch.where(acq, torch.where(self.ai_lost.unsqueeze(-1), near_score, self.prio), C.inf).argmin(-1)
        acq_any = acq.any(-1)
        tgt_ai = torch.where(cur_ok, cur, torch.where(acq_any, pick, ni))
        has_ai = cur_ok | acq_any       # an acquired target (it may fire at it this step)
        hunt = nv < 1e8                 # otherwise attack-move toward the nearest ally
        self.ai_lost = self.ai_lost | self.ai_has
        # ---- combine with the agents' orders
        stop_auto = (act == 1) & (nv <= C.range_eps)       # idle units fire at the nearest in range
        tgt = torch.where(att, tgt_exp, torch.where(C.is_enemy, tgt_ai, ni))
        has = torch.where(C.is_enemy, has_ai, att | stop_auto)
        chase = torch.where(C.is_enemy, hunt, att)
        goal = C.dirs[act].transpose(1, 2)                  # [B, 2, U]
        if C.has_healer:
            tgt, has, chase, has_ai = self._healer_orders(act, tgt, has, chase, has_ai)
        if not C.all_can_hit:  # e.g. a marauder ordered to attack a medivac: the order fails, it holds
            chase = chase & (C.can_hit_flat.take(C.u_base + tgt) | C.healer_u)
        self.ai_cur = tgt
        self.ai_has = has_ai & C.is_enemy
        return tgt, has, chase, goal

    def _healer_orders(self, act, tgt, has, chase, has_ai):
        """Medivacs. Agents: *heal j* flies to ally j; *stop* auto-heals the most damaged biological ally
        within heal range. AI: heal the most damaged biological friend within heal range + 5, else follow
        the nearest friendly non-medivac unit."""
        C = self.C
        inf = float("inf")
        edge = self._dist - C.rsum
        frac = self.health * C.inv_hp
        hurt = C.heal_ok_u & (frac < 1.0)[:, None, :] & (self._dist < 1e3)
        near = hurt & (edge <= C.range_eps[:, None])
        auto = frac[:, None, :].expand_as(hurt).masked_fill(~near, inf).argmin(-1)
        wide = hurt & (edge <= C.range_eps[:, None] + 5.0)
        ai_heal = frac[:, None, :].expand_as(hurt).masked_fill(~wide, inf).argmin(-1)
        friend = C.heal_ok_u & (self._dist < 1e3)
        follow = self._dist.masked_fill(~friend, inf).argmin(-1)
        ai_tgt = torch.where(wide.any(-1), ai_heal, follow)
        is_ai = C.healer_u & C.is_enemy
        is_ag = C.healer_u & ~C.is_enemy
        stop_heal = (act == 1) & near.any(-1)
        tgt = torch.where(is_ai, ai_tgt, torch.where(is_ag & (act == 1), auto, tgt))
        has = torch.where(is_ai, friend.any(-1), torch.where(is_ag, (act >= 6) | stop_heal, has))
        chase = torch.where(is_ai, friend.any(-1), chase)
        has_ai = has_ai & ~C.healer_u
        return tgt, has, chase, has_ai

    def _step(self, act_a: torch.Tensor):
        """One step without input checks: dynamics, reward, auto-reset, observations."""
        if self._traced is not None:
            out = self._traced(act_a, *[getattr(self, k) for k in _STEP_STATE])
            ns = len(_STEP_STATE)
            for k, v in zip(_STEP_STATE, out[:ns]):
                setattr(self, k, v)
            reward, terminated = out[ns], out[ns + 1]
            info = dict(zip(_INFO_KEYS, out[ns + 2:ns + 6]))
            nxt = {"obs": out[ns + 6], "state": out[ns + 7], "avail": out[ns + 8]}
        else:
            reward, terminated, info = self._core(act_a)
            nxt = None
        if self.auto_reset:
            if bool(terminated.any()):
                self._reset_envs(terminated)
                nxt = None
        else:
            self.done = self.done | terminated
        if nxt is None:
            nxt = self._obs_fn()
        return nxt, reward, terminated, info

    def _step_and_observe(self, act_a: torch.Tensor, *state: torch.Tensor):
        """The step as a pure function of ``(act_a, *state)`` (``_STEP_STATE`` order) for ``torch.jit.trace``:
        returns ``(*new_state, reward, terminated, *info values, obs, state, avail)``."""
        for k, v in zip(_STEP_STATE, state):
            setattr(self, k, v)
        reward, terminated, info = self._step_core(act_a)
        nxt = self._observe()
        return (tuple(getattr(self, k) for k in _STEP_STATE) + (reward, terminated)
                + tuple(info[k] for k in _INFO_KEYS) + (nxt["obs"], nxt["state"], nxt["avail"]))

    def _observe_pure(self, *inputs: torch.Tensor):
        """``_observe`` as a pure function of the ``_OBS_IN`` tensors, for ``torch.jit.trace``: returns the
        ``_OBS_CACHE`` tensors, then obs and state."""
        for k, v in zip(_OBS_IN, inputs):
            setattr(self, k, v)
        nxt = self._observe()
        return tuple(getattr(self, k) for k in _OBS_CACHE) + (nxt["obs"], nxt["state"])

    def _observe_traced(self) -> Dict[str, torch.Tensor]:
        out = self._traced_obs(*[getattr(self, k) for k in _OBS_IN])
        for k, v in zip(_OBS_CACHE, out):
            setattr(self, k, v)
        return {"obs": out[-2], "state": out[-1], "avail": self._avail}

    def _install_trace(self) -> None:
        """Trace the step and the observation (after a reset); on failure keep the eager functions."""
        self._traced = self._trace_step()
        if self._traced is not None:
            self._traced_obs = self._trace(self._observe_pure, tuple(getattr(self, k) for k in _OBS_IN))
            if self._traced_obs is not None:
                self._obs_fn = self._observe_traced

    def _trace(self, fn, example):
        """``torch.jit.trace(fn, example)`` with the object's state restored afterwards; None on failure."""
        import warnings

        saved = {k: getattr(self, k) for k in set(_STEP_STATE) | set(_OBS_IN)}
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                traced = torch.jit.trace(fn, example, check_trace=False)
        except Exception as exc:  # pragma: no cover - depends on the PyTorch build
            warnings.warn(f"BatchedSMAC: tracing failed ({type(exc).__name__}: {exc}); running eagerly",
                          RuntimeWarning, stacklevel=4)
            traced = None
        for k, v in saved.items():
            setattr(self, k, v)
        return traced

    def _trace_step(self):
        """Record one step with ``torch.jit.trace`` and return the replayable graph (None if tracing fails).

        The graph replays exactly the operations of the eager step (same results, bit for bit) without
        the Python interpreter between them: about 1.5x faster for a single environment on the CPU.
        Everything that depends on data is inside tensor operations, so one recording holds for every
        state; only the sizes (map, ``n_envs``) and the keywords are fixed, as they are per instance.
        ``torch.jit`` is deprecated in recent PyTorch; where it is missing or fails, the step runs eagerly.
        """
        check_overlap = self.C.check_overlap
        self.C.check_overlap = False  # the traced step always runs the push-apart pass (zero when no overlap)
        example = (torch.zeros(self.n_envs, self.n_agents, dtype=torch.long, device=self.device),)
        traced = self._trace(self._step_and_observe, example + tuple(getattr(self, k) for k in _STEP_STATE))
        if traced is None:
            self.C.check_overlap = check_overlap
        return traced

    def _step_core(self, act_a: torch.Tensor):
        """Orders, movement, combat and outcome of one step (no host synchronisation when compiled)."""
        C = self.C
        B = self.n_envs
        alive0 = self.alive
        hs0 = self.health + self.shield if C.has_shield else self.health
        act = torch.cat([act_a, self._enemy_act], 1)   # [B, U]: the agents' actions, then 0 for the enemies

        # ---- 1. orders (from the state at the start of the step)
        tgt, has, chase, goal = self._decide(act)

        # ---- 2. movement: walk toward the target (to weapon range) or along the goal vector; ground
        #         units that overlapped at the start of the step are pushed apart at the same time
        pos0 = self._p                                                           # [B, 2, U]
        tgt2 = tgt.unsqueeze(1).expand(B, 2, C.U)
        r_t = C.radius.take(tgt)
        g = torch.where(chase.unsqueeze(1), pos0.gather(2, tgt2) - pos0, goal)
        glen = dyn.norm2(g)
        stop_d = (C.reach + r_t) * chase
        step = torch.minimum((glen - stop_d).clamp_(min=0.0), C.speed_step) * alive0
        if C.has_collisions and (not C.check_overlap or bool(self._overlap)):
            push = dyn.push_apart(self._off, self._dist, C)
        else:
            push = 0.0
        if C.open_terrain:
            pos = pos0 + g * (step / glen.clamp(min=1e-6)).unsqueeze(1) + push
            pos = torch.minimum(torch.maximum(pos, C.pos_lo), C.pos_hi)
        else:
            direction = g / glen.clamp(min=1e-6).unsqueeze(1)
            routed = dyn.route_directions(pos0, g, step, C)
            use = (chase & C.route_u).unsqueeze(1)
            pos = pos0 + torch.where(use, routed, direction) * step.unsqueeze(1) + push
            pos = dyn.fix_walls(pos, pos0, C)
        if C.has_collisions:
            # then settle the overlaps the moves created (two passes: crowds need more than one)
            share = dyn.separation_shares(alive0, step, C)
            for _ in range(_SEPARATION_PASSES):
                pos_s = pos + dyn.separate(pos, share, C)
                if C.open_terrain:
                    pos = torch.minimum(torch.maximum(pos_s, C.pos_lo), C.pos_hi)
                else:
                    pos = dyn.fix_walls(pos_s, pos, C)
        self._p = pos

        # ---- 3. combat at the new positions: the target must be alive, hittable and within range
        d_t = dyn.norm2(pos.gather(2, tgt2) - pos)
        in_range = d_t - r_t <= C.reach_fire
        fire = has & in_range & alive0.gather(1, tgt) & (self.cd < C.fire_window)
        if not C.all_can_hit or C.has_healer:
            fire = fire & C.can_hit_flat.take(C.u_base + tgt)
        health, shield, cd = self.health, self.shield, self.cd
        if C.has_splash:
            normal = fire & ~C.splash_u
            splash = self._splash(pos, alive0, tgt, fire)
        else:
            normal = fire
        if not C.has_shield:
            hull = self._zeros_bu.scatter_add(1, tgt, C.hull_flat.take(C.u_base + tgt) * normal)
            if C.has_splash:
                hull = hull + splash[2]
            health = (health - hull).clamp_(min=0.0)
        else:
            raw_v = C.raw_flat.take(C.u_base + tgt)
            hull = self._zeros_bu
            sh_loss = self._zeros_bu
            sh = shield
            for h in range(C.max_hits):
                m = (normal & (C.hits > h)).to(health.dtype)
                raw = self._zeros_bu.scatter_add(1, tgt, raw_v * m)
                cnt = self._zeros_bu.scatter_add(1, tgt, m)
                if C.has_splash:
                    raw = raw + splash[0][h]
                    cnt = cnt + splash[1][h]
                a, hl = dyn.apply_damage_round(raw, cnt, sh, C.armor)
                sh = sh - a
                sh_loss = sh_loss + a
                hull = hull + hl
            health = (health - hull).clamp_(min=0.0)
            shield = (shield - sh_loss).clamp_(min=0.0)
            self.since_dmg = torch.where((hull + sh_loss) > 0, self._zeros_bu, self.since_dmg + C.step_mul)
        cd = torch.where(fire, cd + C.cd_next, torch.clamp(cd - C.cd_decay, min=self._zeros_bu, max=C.cd_cap))
        if C.has_suicide:
            health = torch.where(fire & C.suicide, self._zeros_bu, health)
        acted = fire
        if C.has_healer:
            health, cd, heal = self._heal(health, cd, tgt, has, d_t)
            acted = fire | heal
        if C.has_shield:
            regen = (self.since_dmg >= C.shield_delay) & (health > 0)
            shield = torch.where(regen, torch.minimum(shield + C.shield_step, C.sh_max), shield)
        if C.has_regen:
            health = torch.where(health > 0, torch.minimum(health + C.regen_step, C.hp_max), health)
        alive = health > 0
        self.alive = alive
        self.health = health
        self.cd = cd * alive
        if C.has_shield:
            self.shield = shield * alive
        self.last_target = torch.where(acted, tgt, self._minus1)
        self.last_action = act_a

        # ---- 4. reward, termination (SMAC's reward_battle and step)
        hs = self.health + self.shield if C.has_shield else self.health
        reward, terminated, info = self._outcome(alive0, alive, hs0 - hs)

        return reward, terminated, info

    def _splash(self, pos, alive0, tgt, fire):
        """Splash damage of colossi (line) and banelings (radius).

        Returns ``(raw per round, hit count per round, hull total)``: lists over the ``max_hits`` rounds
        of ``[B, U]`` tensors, and ``[B, U]`` hull damage (for maps without shields).
        """
        C = self.C
        B = pos.shape[0]
        rounds_raw = [self._zeros_bu for _ in range(C.max_hits)]
        rounds_cnt = [self._zeros_bu for _ in range(C.max_hits)]
        hull_total = self._zeros_bu
        groups = []
        if C.line_idx:
            idx = C.line_idx_t
            ti = tgt[:, idx]                                                # [B, S]
            pt = pos.gather(2, ti[:, None, :].expand(B, 2, len(C.line_idx)))   # [B, 2, S]
            u = pt - pos[:, :, idx]
            u = u / dyn.norm2(u).clamp(min=1e-6)[:, None]
            rel = pos[:, :, None, :] - pt[:, :, :, None]                    # [B, 2, S, U]
            along = (rel * u[..., None]).sum(1).abs()                       # [B, S, U]
            across = (rel[:, 0] * -u[:, 1, :, None] + rel[:, 1] * u[:, 0, :, None]).abs()
            vic = (along <= C.line_depth + C.radius) & (across <= C.line_half)
            groups.append((idx, vic))
        if C.radius_idx:
            idx = C.radius_idx_t
            d = dyn.norm2(pos[:, :, None, :] - pos[:, :, idx, None])       # [B, S, U]
            vic = d - C.radius <= C.bane_radius
            groups.append((idx, vic))
        for idx, vic in groups:
            # living enemy ground units it can hit
            vf = (vic & C.can_hit[idx] & alive0[:, None, :] & fire[:, idx, None]).to(torch.float32)
            hits = C.hits[idx]
            hull_total = hull_total + (vf * C.hull_pair[idx]).sum(1)
            for h in range(C.max_hits):
                vh = vf * (hits > h).to(vf.dtype)[:, None]
                rounds_raw[h] = rounds_raw[h] + (vh * C.raw_pair[idx]).sum(1)
                rounds_cnt[h] = rounds_cnt[h] + vh.sum(1)
        return rounds_raw, rounds_cnt, hull_total

    def _heal(self, health, cd, tgt, has, d_t):
        """Medivac healing after damage: ``min(9 hp/s * dt, missing hp, 3 * energy)`` on a living,
        damaged biological ally within heal range (edge to edge). The medivac's energy is its ``cd``."""
        C = self.C
        t_hp = health.gather(1, tgt)
        missing = C.hp_max.take(tgt) - t_hp
        edge = d_t - C.radius - C.radius.take(tgt)
        heal = (has & C.healer_u & (edge <= C.range_eps) & (t_hp > 0) & (missing > 0)
                & C.heal_ok_u.reshape(-1).take(C.u_base + tgt))
        amount = torch.minimum(torch.minimum(C.heal_step.expand_as(t_hp), missing), cd * 3.0) * heal
        cd = cd - amount / 3.0
        health = torch.minimum(health.scatter_add(1, tgt, amount), C.hp_max)
        return health, cd, heal

    def _outcome(self, alive0, alive, delta):
        """SMAC's reward, game end, timeout and statistics for one step (spec section 5).

        ``delta: [B, U]`` health + shield lost this step (negative when healed or regenerated).
        SMAC's ``reward_battle`` is a weighted sum over units: enemies count their lost health + shield
        and ``reward_death_value`` when they die; with ``reward_only_positive=False`` allies subtract
        ``reward_negative_scale`` times the same; the scaling by ``max_reward / reward_scale_rate`` is
        folded into the weights (``C.w_delta``, ``C.w_died``, ``C.win_bonus``, ``C.defeat_bonus``).
        """
        C, N = self.C, self.C.N
        self.t = self.t + 1
        n_ally = alive.narrow(1, 0, N).sum(1)
        n_enemy = alive.narrow(1, N, C.E).sum(1)
        if C.mmm:  # only a medivac left counts as defeat (allies) / victory (enemies), as in SMAC
            lose = (alive[:, :N] & ~C.is_medivac[:N]).sum(1) == 0
            only_med = (n_enemy == 1) & (alive[:, N:] & C.is_medivac[N:]).any(1)
            win = ~lose & ((n_enemy == 0) | only_med)
            ended = lose | win | (n_enemy == 0)
        else:
            ended = (n_ally * n_enemy) == 0
            win = ended & (n_ally > 0)
            lose = ended & (n_enemy > 0)
        timeout = (self.t >= self.episode_limit) > ended   # (t >= limit) and not ended
        terminated = ended | timeout
        if C.reward_sparse:
            reward = (win.to(delta.dtype) - lose.to(delta.dtype)) * C.sparse_scale
        else:
            per_unit = delta * C.w_delta + (alive0 ^ alive) * C.w_died
            reward = per_unit.sum(1)
            if C.reward_only_positive:
                reward = reward.abs()
            reward = reward + win * C.win_bonus
            if C.defeat_bonus:
                reward = reward + lose * C.defeat_bonus
        self._stats = self._stats + torch.stack([win, terminated, timeout], 1)
        info = {"battle_won": win, "dead_allies": N - n_ally, "dead_enemies": C.E - n_enemy,
                "episode_limit": timeout}
        return reward, terminated, info

    # ------------------------------------------------------------------------------ extras
    @property
    def pos(self) -> torch.Tensor:
        """Unit positions ``[B, U, 2]`` (x, y): a read-only view of the internal ``[B, 2, U]`` storage."""
        return self._p.transpose(1, 2)

    def get_env_info(self) -> Dict[str, int]:
        """SMAC's ``get_env_info()`` keys plus ``n_enemies``."""
        return {"state_shape": self.state_dim, "obs_shape": self.obs_dim, "n_actions": self.n_actions,
                "n_agents": self.n_agents, "episode_limit": self.episode_limit, "n_enemies": self.n_enemies}

    def get_stats(self) -> Dict[str, float]:
        """Counters summed over all environments since construction (SMAC's ``get_stats``).

        ``battles_draw`` equals ``timeouts`` as in SMAC; ``win_rate = battles_won / battles_game``
        (0 before the first finished battle, where SMAC would divide by zero); ``restarts`` is always 0
        (the simulator never needs a forced restart).
        """
        won, games, to = self._stats.sum(0).tolist()
        return {"battles_won": won, "battles_game": games, "battles_draw": to,
                "win_rate": won / games if games else 0.0, "timeouts": to, "restarts": 0}

    def get_obs_feature_names(self) -> List[str]:
        """Names of the ``obs_dim`` features (``"move_north"``, ``"enemy_2_health"``, ``"ally_0_dist"``,
        ``"own_health"``, ...); ``ally_k`` is the k-th other ally in the observing agent's view."""
        return ob.obs_feature_names(self.C)

    def get_state_feature_names(self) -> List[str]:
        """Names of the ``state_dim`` features (``"ally_0_health"``, ``"enemy_1_rel_x"``, ...)."""
        return ob.state_feature_names(self.C)

    def get_action_names(self, agent: int = 0) -> List[str]:
        """Names of the ``n_actions`` actions of ``agent`` (a medivac's attack slots heal allies)."""
        return ob.action_names(self.n_enemies, bool(self.C.healer_agent[agent]))

    def snapshot(self, env_index: int = 0) -> dict:
        """Everything a renderer needs about environment ``env_index`` (numpy arrays, python values).

        Keys: ``map_name, t, width, height, pathing [H, W] bool (True = walkable), n_agents, n_enemies,
        pos [U, 2], team [U] (0 ally, 1 enemy), unit_type (U names), radius, health, health_max, shield,
        shield_max, alive [U] bool, target [U] (unit attacked or healed during the last step, else -1),
        last_actions [N] (-1 before the first step of an episode)``. Allies come first, then enemies; dead units keep their last position.
        """
        if isinstance(env_index, bool) or not isinstance(env_index, (int, np.integer)) or not (
                0 <= env_index < self.n_envs):
            raise ValueError(f"env_index must be an int in [0, {self.n_envs}), got {env_index!r}")
        C, b = self.C, int(env_index)
        return {
            "map_name": self.map_name,
            "t": int(self.t[b]),
            "width": C.width,
            "height": C.height,
            "pathing": C.terrain.pathing.copy(),
            "n_agents": C.N,
            "n_enemies": C.E,
            "pos": self._p[b].T.cpu().numpy().astype(np.float32),
            "team": C.team.cpu().numpy().astype(np.int64),
            "unit_type": list(C.names),
            "radius": C.radius.cpu().numpy(),
            "health": self.health[b].cpu().numpy(),
            "health_max": C.hp_max.cpu().numpy(),
            "shield": self.shield[b].cpu().numpy(),
            "shield_max": C.sh_max.cpu().numpy(),
            "alive": self.alive[b].cpu().numpy(),
            "target": self.last_target[b].cpu().numpy().astype(np.int64),
            "last_actions": self.last_action[b].cpu().numpy().astype(np.int64),
        }

    def _place(self, env_index: int, unit: int, pos=None, health=None, shield=None, cooldown=None,
               energy=None) -> Dict[str, torch.Tensor]:
        """Test hook: overwrite one unit's state (None keeps a value) and return the refreshed dict.

        ``unit``: allies ``0..N-1``, enemies ``N..N+E-1``. ``health <= 0`` kills the unit;
        ``cooldown`` is the remaining weapon cooldown in game loops; ``energy`` a medivac's energy.
        """
        b, u = int(env_index), int(unit)
        if not (0 <= b < self.n_envs and 0 <= u < self.C.U):
            raise ValueError(f"env_index must be in [0, {self.n_envs}) and unit in [0, {self.C.U}), "
                             f"got {env_index}, {unit}")
        with self._no_grad():
            if pos is not None:
                self._p[b, :, u] = torch.as_tensor(pos, dtype=torch.float32, device=self.device)
            if health is not None:
                self.health[b, u] = max(float(health), 0.0)
                self.alive[b, u] = float(health) > 0
                if not float(health) > 0:
                    self.shield[b, u] = 0.0
                    self.cd[b, u] = 0.0
            if shield is not None:
                self.shield[b, u] = float(shield)
            if cooldown is not None:
                self.cd[b, u] = float(cooldown)
            if energy is not None:
                if not bool(self.C.healer_u[u]):
                    raise ValueError(f"unit {u} ({self.C.names[u]}) has no energy")
                self.cd[b, u] = float(energy)
            return self._obs_fn()

    # ------------------------------------------------------------------------------ saving
    def state_dict(self) -> Dict[str, object]:
        """Everything that changes while playing (state tensors, episode counters, seed, statistics), to
        continue exactly where this simulator stopped: ``load_state_dict`` on a simulator built with the
        same map, ``n_envs`` and keywords. Training checkpoints store this."""
        tensors = {k: v.clone() for k, v in vars(self).items() if isinstance(v, torch.Tensor)}
        return {"map_name": self.map_name, "n_envs": self.n_envs,
                "smac_kwargs": to_safe(dict(self.smac_kwargs), "smac_kwargs"),  # weights_only-loadable
                "seed": self.seed_value, "tensors": tensors}

    def load_state_dict(self, sd: Dict[str, object]) -> None:
        """Restore :meth:`state_dict`; a different map, ``n_envs`` or keywords raise ``ValueError``."""
        for key, mine in (("map_name", self.map_name), ("n_envs", self.n_envs),
                          ("smac_kwargs", self.smac_kwargs)):
            if sd.get(key) != mine:
                raise ValueError(f"cannot load a simulator state saved with {key}={sd.get(key)!r} into "
                                 f"BatchedSMAC with {key}={mine!r}")
        self.seed_value = int(sd["seed"])
        for k, v in sd["tensors"].items():
            setattr(self, k, v.to(self.device).clone())

    def __getstate__(self) -> dict:
        """Pickling/deep copies skip the traced or compiled step (rebuilt by ``__setstate__``)."""
        d = dict(self.__dict__)
        d["_retrace"] = self._traced is not None
        d["_traced"] = None
        for k in ("_core", "_obs_fn", "_traced_obs"):
            d.pop(k, None)
        return d

    def __setstate__(self, d: dict) -> None:
        retrace = d.pop("_retrace", False)
        self.__dict__.update(d)
        if self.compiled:
            self._core = torch.compile(self._step_core, dynamic=False)
            self._obs_fn = torch.compile(self._observe, dynamic=False)
        else:
            self._core, self._obs_fn = self._step_core, self._observe
        self._traced = None
        if retrace:
            self._install_trace()

    def close(self) -> None:
        """Nothing to release (kept for API symmetry)."""

    def __repr__(self) -> str:
        return (f"BatchedSMAC(map_name={self.map_name!r}, n_envs={self.n_envs}, device={str(self.device)!r}, "
                f"n_agents={self.n_agents}, n_enemies={self.n_enemies}, obs_dim={self.obs_dim}, "
                f"state_dim={self.state_dim})")
