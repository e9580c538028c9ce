"""Optional adapter to the *real* SMAC (oxwhirl/smac on StarCraft II).

The course runs on its own simulator (:class:`course_lib.envs.BatchedSMAC`). Learners who have
StarCraft II can run the same code on the real game:

- ``make_sc2_env(map_name)`` returns oxwhirl's ``smac.env.StarCraft2Env`` (same methods as our facade);
- ``make_sc2_env(map_name, n_envs=8)`` returns :class:`SC2BatchedAdapter`, which gives the
  ``BatchedSMAC`` API (``reset()``/``step()`` with dicts of tensors, ``auto_reset``) over ``n_envs``
  real games stepped one after the other, so the course's training loops run unchanged.

When something is missing, :class:`SC2NotAvailableError` says exactly what to install and where.
A trap it detects: ``pip install smac`` from PyPI installs **SMAC3**, an unrelated hyperparameter
optimiser that also provides a module named ``smac``.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

__all__ = [
    "SC2NotAvailableError",
    "INSTALL_INSTRUCTIONS",
    "find_sc2_path",
    "import_oxwhirl_smac",
    "check_sc2_available",
    "make_sc2_env",
    "SC2BatchedAdapter",
]

INSTALL_INSTRUCTIONS = """\
To run on the real game you need three things:
  1. oxwhirl's SMAC:   pip install git+https://github.com/oxwhirl/smac.git
     (never `pip install smac`: that PyPI name is SMAC3, an unrelated hyperparameter optimiser;
      if you installed it by mistake: pip uninstall smac, then the command above)
  2. StarCraft II:     Linux: download the Blizzard Linux package 4.10
     (https://github.com/Blizzard/s2client-proto#downloads, SC2.4.10.zip, password 'iagreetotheeula')
     and unzip it to ~/StarCraftII ; Windows/macOS: install the game with Battle.net
     (C:\\Program Files (x86)\\StarCraft II or /Applications/StarCraft II).
  3. The SMAC maps:    download SMAC_Maps.zip (https://github.com/oxwhirl/smac/releases) and unzip it
     into <StarCraftII>/Maps/SMAC_Maps/ (so that e.g. Maps/SMAC_Maps/3m.SC2Map exists).
Then set SC2PATH to the game folder if it is not in the default place, e.g.
     export SC2PATH=~/StarCraftII
Until then, use the built-in simulator: make_env(map_name, backend="sim")."""


class SC2NotAvailableError(RuntimeError):
    """Real SMAC cannot run here; the message says what is missing and how to install it."""


def _default_sc2_paths() -> List[Path]:
    """Standard StarCraft II install folders (Linux, macOS, Windows), checked in this order."""
    return [
        Path("~/StarCraftII").expanduser(),
        Path("/Applications/StarCraft II"),
        Path("C:/Program Files (x86)/StarCraft II"),
        Path("C:/Program Files/StarCraft II"),
    ]


def find_sc2_path() -> Path:
    """Locate the StarCraft II folder: ``$SC2PATH`` if set, else the default install folders.

    A folder counts as an installation when it holds a ``Versions`` sub-folder (where the game
    binaries live).

    Raises:
        SC2NotAvailableError: ``SC2PATH`` points to a missing/incomplete folder, or nothing was found.
    """
    env_path = os.environ.get("SC2PATH", "").strip()
    if env_path:
        p = Path(env_path).expanduser()
        if not p.is_dir():
            raise SC2NotAvailableError(
                f"SC2PATH is set to {env_path!r}, but that folder does not exist.\n{INSTALL_INSTRUCTIONS}")
        if not (p / "Versions").is_dir():
            raise SC2NotAvailableError(
                f"SC2PATH={env_path!r} exists but does not look like a StarCraft II installation "
                f"(no 'Versions' folder inside).\n{INSTALL_INSTRUCTIONS}")
        return p
    tried = _default_sc2_paths()
    for p in tried:
        if (p / "Versions").is_dir():
            return p
    raise SC2NotAvailableError(
        "StarCraft II was not found: SC2PATH is not set and none of the default folders holds a game "
        f"({', '.join(str(p) for p in tried)}).\n{INSTALL_INSTRUCTIONS}")


def _looks_like_smac3(mod) -> bool:
    """True for automl's SMAC3 (hyperparameter optimisation), which also installs a module ``smac``."""
    if getattr(mod, "name", None) == "SMAC3":
        return True
    if any(hasattr(mod, a) for a in ("Scenario", "HyperparameterOptimizationFacade", "BlackBoxFacade")):
        return True
    for base in list(getattr(mod, "__path__", []) or []):
        if (Path(base) / "facade").is_dir() or (Path(base) / "intensifier").is_dir():
            return True
    return False


def import_oxwhirl_smac():
    """Import oxwhirl's ``smac.env`` and return its ``StarCraft2Env`` class.

    Raises:
        SC2NotAvailableError: ``smac`` is missing, is SMAC3, or is broken (e.g. ``pysc2`` missing).
    """
    try:
        smac = importlib.import_module("smac")
    except ImportError as exc:
        raise SC2NotAvailableError(
            f"oxwhirl's SMAC is not installed (import smac failed: {exc}).\n{INSTALL_INSTRUCTIONS}") from None
    where = getattr(smac, "__file__", None) or list(getattr(smac, "__path__", []) or [])
    if _looks_like_smac3(smac):
        raise SC2NotAvailableError(
            f"The installed module 'smac' ({where}) is SMAC3, the hyperparameter optimiser from PyPI, not "
            "oxwhirl's StarCraft Multi-Agent Challenge. Run `pip uninstall smac`, then install the right "
            f"one.\n{INSTALL_INSTRUCTIONS}")
    try:
        env_mod = importlib.import_module("smac.env")
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing and not missing.startswith("smac"):
            raise SC2NotAvailableError(
                f"oxwhirl's SMAC is installed ({where}) but importing smac.env failed because "
                f"'{missing}' is missing ({exc}). Reinstall SMAC with its dependencies: "
                f"pip install git+https://github.com/oxwhirl/smac.git\n{INSTALL_INSTRUCTIONS}") from None
        raise SC2NotAvailableError(
            f"The installed module 'smac' ({where}) has no 'smac.env': it is not oxwhirl's SMAC "
            f"({exc}).\n{INSTALL_INSTRUCTIONS}") from None
    cls = getattr(env_mod, "StarCraft2Env", None)
    if cls is None:
        raise SC2NotAvailableError(
            f"smac.env ({where}) has no StarCraft2Env: this is not oxwhirl's SMAC.\n{INSTALL_INSTRUCTIONS}")
    return cls


def check_sc2_available(map_name: Optional[str] = None):
    """Check everything the real game needs; return ``(StarCraft2Env class, StarCraft II folder)``.

    With ``map_name`` it also checks that ``Maps/SMAC_Maps/<map_name>.SC2Map`` exists.

    Raises:
        SC2NotAvailableError: with install instructions for whatever is missing.
    """
    cls = import_oxwhirl_smac()
    path = find_sc2_path()
    if map_name is not None:
        map_file = path / "Maps" / "SMAC_Maps" / f"{map_name}.SC2Map"
        if not map_file.is_file():
            raise SC2NotAvailableError(
                f"StarCraft II found at {path}, but the SMAC map file {map_file} is missing. Copy the SMAC "
                f"maps into {path / 'Maps' / 'SMAC_Maps'}.\n{INSTALL_INSTRUCTIONS}")
    return cls, path


def make_sc2_env(map_name: str, n_envs: Optional[int] = None, device="cpu", seed: Optional[int] = 0,
                 auto_reset: bool = True, **smac_kwargs):
    """Real SMAC on StarCraft II.

    Args:
        map_name: a SMAC map (e.g. ``"3m"``).
        n_envs: ``None`` returns one oxwhirl ``StarCraft2Env`` (numpy API, identical to our facade);
            an integer returns :class:`SC2BatchedAdapter` with the ``BatchedSMAC`` API.
        device: where the adapter puts its tensors (batched mode only).
        seed: game seed (batched: environment ``i`` gets ``seed + i``); ``None`` lets the game choose.
        auto_reset: batched mode: restart a finished game inside ``step``.
        **smac_kwargs: passed to oxwhirl's ``StarCraft2Env`` (``step_mul``, ``difficulty``, ...).

    Raises:
        SC2NotAvailableError: oxwhirl's SMAC, StarCraft II or the map is missing (message says what to do).
    """
    cls, _ = check_sc2_available(map_name)
    if n_envs is None:
        return cls(map_name=map_name, seed=seed, **smac_kwargs)
    return SC2BatchedAdapter(map_name, n_envs, device=device, seed=seed, auto_reset=auto_reset,
                             env_fn=cls, **smac_kwargs)


def _timeout_count(env) -> Optional[int]:
    """``env.get_stats()["timeouts"]`` (SMAC's counter), or None when the env has no such counter."""
    try:
        return int(env.get_stats()["timeouts"])
    except Exception:
        return None


class SC2BatchedAdapter:
    """``BatchedSMAC``'s API over ``n_envs`` oxwhirl-style environments stepped in sequence.

    Shapes (``B = n_envs``, ``N = n_agents``, ``A = n_actions``):
    ``reset() -> {"obs": [B, N, obs_dim], "state": [B, state_dim], "avail": [B, N, A] bool}``;
    ``step(actions: LongTensor[B, N]) -> (next, reward [B] float32, terminated [B] bool, info)`` with
    ``info`` = ``battle_won`` [B] bool, ``dead_allies`` [B] long, ``dead_enemies`` [B] long,
    ``episode_limit`` [B] bool (a timeout). With ``auto_reset=True`` a finished game restarts inside
    ``step`` (its final reward/terminated/info are reported, ``next`` is the new episode's first
    observation); otherwise call ``reset(mask)``.

    Args:
        env_fn: the environment class/factory, called as ``env_fn(map_name=..., seed=..., **kw)``;
            defaults to oxwhirl's ``StarCraft2Env`` (tests inject a fake).
    """

    def __init__(self, map_name: str, n_envs: int, device="cpu", seed: Optional[int] = 0,
                 auto_reset: bool = True, env_fn: Optional[Callable] = None, **smac_kwargs):
        from course_lib.utils import resolve_device

        if not isinstance(n_envs, (int, np.integer)) or isinstance(n_envs, bool) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.device = resolve_device(device)
        if env_fn is None:
            env_fn, _ = check_sc2_available(map_name)
        self.map_name = map_name
        self.n_envs = int(n_envs)
        self.auto_reset = bool(auto_reset)
        self.envs = [env_fn(map_name=map_name, seed=None if seed is None else int(seed) + i, **smac_kwargs)
                     for i in range(self.n_envs)]
        info = self.envs[0].get_env_info()
        self.n_agents = int(info["n_agents"])
        self.n_actions = int(info["n_actions"])
        self.obs_dim = int(info["obs_shape"])
        self.state_dim = int(info["state_shape"])
        self.episode_limit = int(info["episode_limit"])
        self.n_enemies = int(getattr(self.envs[0], "n_enemies", self.n_actions - 6))
        B, N = self.n_envs, self.n_agents
        self._obs = np.zeros((B, N, self.obs_dim), dtype=np.float32)
        self._state = np.zeros((B, self.state_dim), dtype=np.float32)
        self._avail = np.zeros((B, N, self.n_actions), dtype=bool)
        self._steps = np.zeros(B, dtype=np.int64)
        self._done = np.ones(B, dtype=bool)  # needs a reset before the first step
        self._timeouts_seen = [_timeout_count(e) for e in self.envs]
        self._started = False

    # ------------------------------------------------------------------ helpers
    def get_env_info(self) -> Dict[str, int]:
        """SMAC's keys (``state_shape``, ``obs_shape``, ``n_actions``, ``n_agents``, ``episode_limit``) plus
        ``n_enemies``, as ``BatchedSMAC.get_env_info()``."""
        return {"state_shape": self.state_dim, "obs_shape": self.obs_dim, "n_actions": self.n_actions,
                "n_agents": self.n_agents, "episode_limit": self.episode_limit, "n_enemies": self.n_enemies}

    def _read(self, b: int, reset: bool) -> None:
        env = self.envs[b]
        if reset:
            out = env.reset()
            obs, state = out if isinstance(out, tuple) and len(out) == 2 else (env.get_obs(), env.get_state())
        else:
            obs, state = env.get_obs(), env.get_state()
        self._obs[b] = np.asarray(obs, dtype=np.float32).reshape(self.n_agents, self.obs_dim)
        self._state[b] = np.asarray(state, dtype=np.float32).reshape(self.state_dim)
        self._avail[b] = np.asarray(env.get_avail_actions()).reshape(self.n_agents, self.n_actions) > 0

    def _next(self) -> Dict[str, torch.Tensor]:
        return {"obs": torch.as_tensor(self._obs.copy(), device=self.device),
                "state": torch.as_tensor(self._state.copy(), device=self.device),
                "avail": torch.as_tensor(self._avail.copy(), device=self.device)}

    def _mask_to_indices(self, mask) -> np.ndarray:
        if mask is None:
            return np.arange(self.n_envs)
        m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
        if m.shape != (self.n_envs,) or m.dtype != bool:
            raise ValueError(f"reset mask must be a bool tensor of shape [{self.n_envs}], "
                             f"got shape {tuple(m.shape)} dtype {m.dtype}")
        return np.flatnonzero(m)

    # ------------------------------------------------------------------ API
    def reset(self, mask=None) -> Dict[str, torch.Tensor]:
        """Restart all games (or those where ``mask: [B] bool`` is True); return the full batch dict."""
        for b in self._mask_to_indices(mask):
            self._read(int(b), reset=True)
            self._steps[b] = 0
            self._done[b] = False
        self._started = True
        return self._next()

    def _check_actions(self, actions) -> np.ndarray:
        if isinstance(actions, torch.Tensor):
            if actions.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
                raise TypeError(f"actions must be an integer tensor (torch.long), got dtype {actions.dtype}")
            a = actions.detach().cpu().numpy()
        else:
            a = np.asarray(actions)
            if not np.issubdtype(a.dtype, np.integer):
                raise TypeError(f"actions must be integers, got dtype {a.dtype}")
        if a.shape != (self.n_envs, self.n_agents):
            raise ValueError(f"actions must have shape [n_envs, n_agents] = [{self.n_envs}, {self.n_agents}], "
                             f"got {list(a.shape)}")
        bad = (a < 0) | (a >= self.n_actions)
        if bad.any():
            b, i = map(int, np.argwhere(bad)[0])
            raise ValueError(f"env {b}, agent {i}: action {int(a[b, i])} is out of range [0, {self.n_actions})")
        ok = np.take_along_axis(self._avail, a[..., None], axis=-1)[..., 0]
        if not ok.all():
            b, i = map(int, np.argwhere(~ok)[0])
            raise ValueError(f"env {b}, agent {i}: action {int(a[b, i])} is not available; available actions: "
                             f"{np.flatnonzero(self._avail[b, i]).tolist()}")
        return a.astype(np.int64)

    def step(self, actions):
        """Step every game once with ``actions: LongTensor[B, N]``; see the class docstring."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._done.any():
            raise RuntimeError(f"environments {np.flatnonzero(self._done).tolist()} have terminated; "
                               "call reset(mask) for them before stepping (or use auto_reset=True)")
        a = self._check_actions(actions)
        B = self.n_envs
        reward = np.zeros(B, dtype=np.float32)
        term = np.zeros(B, dtype=bool)
        won = np.zeros(B, dtype=bool)
        timeout = np.zeros(B, dtype=bool)
        dead_al = np.zeros(B, dtype=np.int64)
        dead_en = np.zeros(B, dtype=np.int64)
        for b, env in enumerate(self.envs):
            r, t, info = env.step([int(x) for x in a[b]])
            self._steps[b] += 1
            reward[b], term[b] = float(r), bool(t)
            won[b] = bool(info.get("battle_won", False))
            dead_al[b] = int(info.get("dead_allies", 0))
            dead_en[b] = int(info.get("dead_enemies", 0))
            if term[b] and not won[b]:
                seen, now = self._timeouts_seen[b], _timeout_count(env)
                self._timeouts_seen[b] = now
                if "episode_limit" in info:  # SMAC reports it when continuing_episode=True
                    timeout[b] = bool(info["episode_limit"])
                elif seen is not None and now is not None:
                    timeout[b] = now > seen  # SMAC's get_stats() counts timeouts exactly
                else:  # fallback: ran to the limit without losing every ally
                    timeout[b] = self._steps[b] >= self.episode_limit and dead_al[b] < self.n_agents
            if term[b] and self.auto_reset:
                self._read(b, reset=True)
                self._steps[b] = 0
            else:  # running, or finished without auto_reset: report the game's latest observation
                self._done[b] = term[b]
                self._read(b, reset=False)
        dev = self.device
        info_t = {"battle_won": torch.as_tensor(won, device=dev),
                  "dead_allies": torch.as_tensor(dead_al, device=dev),
                  "dead_enemies": torch.as_tensor(dead_en, device=dev),
                  "episode_limit": torch.as_tensor(timeout, device=dev)}
        return (self._next(), torch.as_tensor(reward, device=dev), torch.as_tensor(term, device=dev), info_t)

    def get_stats(self) -> Dict[str, float]:
        """Sum of the games' ``get_stats()`` counters (win rate recomputed over all games)."""
        keys = ("battles_won", "battles_game", "battles_draw", "timeouts", "restarts")
        tot = {k: 0 for k in keys}
        for env in self.envs:
            s = env.get_stats() if hasattr(env, "get_stats") else {}
            for k in keys:
                tot[k] += s.get(k, 0)
        tot["win_rate"] = tot["battles_won"] / tot["battles_game"] if tot["battles_game"] else 0.0
        return tot

    def close(self) -> None:
        """Close every game (frees the StarCraft II processes)."""
        for env in self.envs:
            env.close()

    def __repr__(self) -> str:
        return (f"SC2BatchedAdapter(map_name={self.map_name!r}, n_envs={self.n_envs}, "
                f"device={str(self.device)!r}, auto_reset={self.auto_reset})")
