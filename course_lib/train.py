"""Train IQL, VDN, QMIX, QTRAN, ACORM or MIXRTs (any method of ``ALG_CONFIGS``) on a SMAC map:
``train(alg, map_name, ...) -> Run``, and its CLI.

The loop (pymarl's ``run.py`` with pymarl2's parallel runner):

1. collect ``n_envs`` episodes with epsilon-greedy agents from ``n_envs`` batched games into the episode
   replay buffer (epsilon annealed linearly per env step);
2. once ``batch_size`` episodes are stored, take ``train_steps_per_iter`` gradient steps on batches of
   episodes sampled uniformly;
3. every ``test_interval`` env steps, play ``test_nepisodes`` greedy episodes in separate games and add a
   row to the learning curves; every ``checkpoint_interval`` env steps save a checkpoint.

Files under ``runs/<name>/``: ``config.json`` (the config), ``curves.csv`` (rewritten after every
evaluation) and ``checkpoint.pt``.

Checkpoints and exact resume (the design choice). A checkpoint is written only *between* iterations,
where nothing is half done, and it holds everything that influences later parameters: networks, target
networks, optimiser state, the replay buffer, the runner (a copy of the training environments with their
generators, the partly played episodes, the agents' hidden states and last actions), the exploration and
replay-sampling generators, the global RNG states and all counters. Resuming therefore reproduces the
uninterrupted run exactly on the same device: training ``N`` steps in one go and ``N/2 + resume + N/2``
give identical parameters on CPU. Evaluation uses its own games, seeded from ``(seed, evaluation index)``,
and greedy actions, so it never touches the training state.

Ctrl-C (``KeyboardInterrupt``). During ``train`` the first Ctrl-C only raises a flag; the current iteration
finishes (well under a second on 3m), a checkpoint is saved, its path is printed, and ``train`` *returns*
the :class:`Run` (``run.interrupted`` is True) so a notebook keeps the partial curves. Resume with
``train(..., run_dir=run.run_dir, resume=True)`` or ``python -m course_lib.train --resume DIR``.
A second Ctrl-C, or a ``KeyboardInterrupt`` raised from inside an iteration, stops immediately; the
checkpoint then keeps networks, optimiser and buffer but drops the half-played episodes (the resumed run
restarts the games), so it is not bit-identical to an uninterrupted run. A ``KeyboardInterrupt`` raised by
``callback`` (called between iterations) is treated like the first Ctrl-C.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np
import pandas as pd
import torch

from .buffers.episode import EpisodeReplayBuffer
from .checkpoints import (numpy_rng_state, python_rng_state, safe_load, safe_save, set_numpy_rng_state,
                          set_python_rng_state, to_safe)
from .config import PRESETS, BaseConfig, config_from_dict, list_algs, make_config
from .learners import MultiAgentController, make_learner
from .mixers import make_mixer
from .runners.episode_runner import EpisodeRunner, greedy_episodes
from .schedules import EpsilonSchedule
from . import threads
from .utils import resolve_device, set_seed

__all__ = ["Run", "Trainer", "train", "load_checkpoint", "build_networks", "default_env_factory", "main",
           "CHECKPOINT_NAME", "CURVE_COLUMNS"]

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "course_lib.value_decomposition/1"
CURVE_COLUMNS = ["env_steps", "episodes", "test_win_rate", "test_return", "loss", "epsilon", "wall_time",
                 "train_win_rate", "train_return", "alg", "map_name", "seed"]


# ----------------------------------------------------------------------------------------------------
# environment and networks
# ----------------------------------------------------------------------------------------------------
def default_env_factory(map_name: str, n_envs: int, device="cpu", seed: int = 0, auto_reset: bool = True, **kw):
    """``course_lib.envs.BatchedSMAC(map_name, n_envs, device=..., seed=..., auto_reset=..., **kw)``."""
    from .envs import BatchedSMAC  # imported lazily: the simulator is only needed to play

    return BatchedSMAC(map_name, n_envs, device=device, seed=seed, auto_reset=auto_reset, **kw)


def _env_sizes(env) -> Dict[str, int]:
    return {"n_agents": int(env.n_agents), "n_actions": int(env.n_actions), "obs_dim": int(env.obs_dim),
            "state_dim": int(env.state_dim), "episode_limit": int(env.episode_limit)}


def build_networks(config: BaseConfig, sizes: Dict[str, int], device="cpu"):
    """The controller and mixer of ``config`` for a map with ``sizes`` (n_agents, n_actions, obs_dim, state_dim).

    Which networks, and with which options, comes from the registries and the config alone
    (``config.agent`` + ``config.agent_kwargs(sizes)``, ``config.mixer`` + ``config.mixer_kwargs(sizes)``),
    so a new method adds a registry entry and a config class, never a branch here.

    Returns ``(mac, mixer)``; ``mixer`` is None for IQL.
    """
    mac = MultiAgentController(sizes["n_agents"], sizes["n_actions"], sizes["obs_dim"], config.rnn_hidden_dim,
                               config.obs_last_action, config.obs_agent_id, config.agent,
                               agent_kwargs=config.agent_kwargs(sizes)).to(device)
    mixer = make_mixer(config.mixer, sizes["n_agents"], sizes["state_dim"], **config.mixer_kwargs(sizes))
    if mixer is not None:
        mixer = mixer.to(device)
    return mac, mixer


# ----------------------------------------------------------------------------------------------------
# checkpoints
# ----------------------------------------------------------------------------------------------------
def _checkpoint_path(path: Union[str, Path]) -> Path:
    p = Path(path)
    return p / CHECKPOINT_NAME if p.is_dir() else p


def load_checkpoint(path: Union[str, Path], alg: Optional[str] = None, map_name: Optional[str] = None,
                    device: Union[str, torch.device] = "cpu") -> Dict[str, Any]:
    """Read a checkpoint (a ``checkpoint.pt`` file or the run directory holding one).

    Args:
        alg, map_name: when given, they must match the checkpoint's; otherwise a ``ValueError`` names both.
        device: where to map the tensors.

    The file is read with ``torch.load(..., weights_only=True)`` (:func:`course_lib.checkpoints.safe_load`):
    a file that asks for anything but plain data (a crafted checkpoint that would run code, or one written
    by an older course_lib) raises :class:`~course_lib.checkpoints.UnsafeCheckpointError` naming it.
    """
    p = _checkpoint_path(path)
    if not p.exists():
        raise FileNotFoundError(f"no checkpoint at {p} (give a checkpoint file or a run directory holding "
                                f"{CHECKPOINT_NAME})")
    ckpt = safe_load(p, map_location=torch.device(device))  # weights_only=True: opening never runs code
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{p} is not a course_lib value-decomposition checkpoint")
    want_alg = alg.lower() if isinstance(alg, str) else alg
    bad_alg = want_alg is not None and want_alg != ckpt["alg"]
    bad_map = map_name is not None and map_name != ckpt["map_name"]
    if bad_alg or bad_map:
        raise ValueError(
            f"checkpoint {p} holds alg={ckpt['alg']!r} on map {ckpt['map_name']!r}, but "
            f"alg={(want_alg if want_alg is not None else ckpt['alg'])!r} on map "
            f"{(map_name if map_name is not None else ckpt['map_name'])!r} was asked for "
            f"(mismatch: {', '.join(n for n, b in (('algorithm', bad_alg), ('map', bad_map)) if b)})")
    return ckpt


def _rng_state() -> Dict[str, Any]:
    """The global RNG states, as checkpoint-safe values (tensors, ints, floats, strings)."""
    st = {"torch": torch.get_rng_state(), "numpy": numpy_rng_state(), "python": python_rng_state()}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: Dict[str, Any]) -> None:
    torch.set_rng_state(st["torch"].cpu())
    set_numpy_rng_state(st["numpy"])
    set_python_rng_state(st["python"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in st["cuda"]])


# ----------------------------------------------------------------------------------------------------
# the result object
# ----------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """What :func:`train` returns.

    Attributes:
        alg, map_name, seed: what was trained.
        config: the full :class:`~course_lib.config.BaseConfig`.
        run_dir: folder with ``config.json``, ``curves.csv`` and ``checkpoint.pt``.
        curves: one row per greedy evaluation (``env_steps, episodes, test_win_rate, test_return, loss,
            epsilon, wall_time`` plus ``train_win_rate, train_return, alg, map_name, seed``).
        final: the last evaluation ``{"env_steps", "win_rate", "return"}``.
        learner: the learner (``learner.mac`` is the policy, ``learner.mixer`` the mixer).
        interrupted: True when stopped by Ctrl-C / KeyboardInterrupt.
        stopped_by: ``"t_max"``, ``"time_limit"``, ``"callback"`` (``trainer.request_stop()``) or ``"interrupt"``.
    """

    alg: str
    map_name: str
    seed: int
    config: BaseConfig
    run_dir: Path
    curves: pd.DataFrame
    final: Dict[str, float]
    learner: Any
    device: torch.device
    interrupted: bool = False
    stopped_by: str = "t_max"

    @property
    def mac(self) -> MultiAgentController:
        """The trained multi-agent controller (the decentralised policy)."""
        return self.learner.mac

    @property
    def mixer(self):
        """The trained mixer (None for IQL)."""
        return self.learner.mixer

    @property
    def checkpoint_path(self) -> Path:
        """``run_dir / "checkpoint.pt"``."""
        return Path(self.run_dir) / CHECKPOINT_NAME

    def policy(self, obs: torch.Tensor, avail: torch.Tensor, last_actions_onehot: torch.Tensor,
               hidden: torch.Tensor):
        """Greedy decentralised actions for one step: returns ``(actions [B, N], hidden [B, N, H])``."""
        from .runners.episode_runner import select_actions

        with torch.no_grad():
            q, h = self.mac.step(obs, last_actions_onehot, hidden)
        return select_actions(q, avail, 0.0), h

    def as_policy(self, env) -> "GreedyPolicy":
        """A callable ``policy(avail) -> actions`` that plays this run's greedy agents in ``env``.

        It is what :func:`course_lib.envs.smac.render.record_episode` (and any replay code) expects:
        called once per step with ``avail: BoolTensor[B, N, A]``, it reads the observations from ``env``
        (a ``BatchedSMAC`` or the ``StarCraft2Env`` facade), steps the recurrent agents and returns
        ``LongTensor[B, N]``. Hidden states and previous actions start from zero in every environment
        whose episode is at step 0, so one policy can follow many episodes.
        """
        return GreedyPolicy(self, env)

    def __repr__(self) -> str:
        final = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.final.items()}
        return (f"Run(alg={self.alg!r}, map_name={self.map_name!r}, seed={self.seed}, final={final}, "
                f"run_dir={str(self.run_dir)!r}, stopped_by={self.stopped_by!r})")


class GreedyPolicy:
    """``Run.as_policy(env)``: greedy decentralised actions of a trained run, one call per env step.

    Args:
        run: a :class:`Run` (its ``mac`` acts).
        env: a ``BatchedSMAC`` (observations from ``env.observe()["obs"]: [B, N, O]``) or a
            ``StarCraft2Env`` facade (``env.get_obs()``, ``B = 1``).
    """

    def __init__(self, run: "Run", env):
        if not hasattr(env, "n_agents") or not (hasattr(env, "observe") or hasattr(env, "get_obs")):
            raise TypeError(f"as_policy needs a BatchedSMAC or StarCraft2Env, got {type(env).__name__}")
        if int(env.n_agents) != run.mac.n_agents:
            raise ValueError(f"the run was trained with {run.mac.n_agents} agents ({run.map_name}) but the "
                             f"environment has {env.n_agents} ({getattr(env, 'map_name', '?')})")
        self.run, self.env = run, env
        self.batched = hasattr(env, "n_envs") and hasattr(env, "observe")
        self.n_envs = int(env.n_envs) if self.batched else 1
        self.device = run.mac.device
        self.reset()

    def reset(self) -> None:
        """Forget the history: zero hidden states and previous actions."""
        self.hidden = self.run.mac.init_hidden(self.n_envs)
        self.last = torch.zeros(self.n_envs, self.run.mac.n_agents, int(self.env.n_actions), device=self.device)

    def _obs_and_t(self):
        if self.batched:
            return self.env.observe()["obs"].to(self.device), getattr(self.env, "t", None)
        inner = getattr(self.env, "_env", None)
        obs = torch.as_tensor(np.asarray(self.env.get_obs(), dtype=np.float32), device=self.device).unsqueeze(0)
        return obs, (getattr(inner, "t", None) if inner is not None else None)

    def __call__(self, avail: torch.Tensor) -> torch.Tensor:
        """avail: ``[B, N, A]`` bool (0/1) -> actions ``[B, N]`` long, on ``avail``'s device."""
        obs, t = self._obs_and_t()
        if t is not None:
            fresh = (torch.as_tensor(t).reshape(-1) == 0).to(self.device)
            if fresh.any():
                self.hidden = self.hidden.masked_fill(fresh.view(-1, 1, 1), 0.0)
                self.last = self.last.masked_fill(fresh.view(-1, 1, 1), 0.0)
        actions, self.hidden = self.run.policy(obs, avail.to(self.device).bool(), self.last, self.hidden)
        self.last = torch.nn.functional.one_hot(actions, self.last.shape[-1]).float()
        return actions.to(avail.device)


# ----------------------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------------------
class Trainer:
    """Holds every piece of a training run; :func:`train` is the friendly front door.

    Args:
        config: the run's configuration.
        seed: seeds networks, environments, exploration and replay sampling.
        device: a ``torch.device``.
        run_dir: output folder.
        env_factory: ``f(map_name, n_envs, device=, seed=, auto_reset=, **env_args)`` returning a
            ``BatchedSMAC``-like environment (default: the course simulator).
    """

    def __init__(self, config: BaseConfig, seed: int, device: torch.device, run_dir: Path,
                 env_factory: Optional[Callable] = None):
        self.config, self.seed, self.device, self.run_dir = config, int(seed), device, Path(run_dir)
        self.env_factory = env_factory or default_env_factory
        set_seed(self.seed)
        self.env = self.env_factory(config.map_name, config.n_envs, device=device, seed=self.seed,
                                    auto_reset=False, **config.env_args)
        self.sizes = _env_sizes(self.env)
        self.mac, self.mixer = build_networks(config, self.sizes, device)
        self.learner = make_learner(config.learner, self.mac, self.mixer, config)
        s = self.sizes
        need = EpisodeReplayBuffer.estimate_bytes(config.buffer_size, s["episode_limit"], s["n_agents"], s["obs_dim"],
                                                  s["state_dim"], s["n_actions"])
        if need > 4 * 2**30:
            warnings.warn(f"the replay buffer of {config.buffer_size} episodes on {config.map_name} needs "
                          f"{need / 2**30:.1f} GiB on {device}; pass buffer_size=... to use less", stacklevel=3)
        self.buffer = EpisodeReplayBuffer(config.buffer_size, s["episode_limit"], s["n_agents"], s["obs_dim"],
                                          s["state_dim"], s["n_actions"], device=device, seed=self.seed + 1)
        # With overlap_collection the runner acts with its own copy of the agents (synchronised with the
        # learner's at the start of every iteration), so the learner can update ``self.mac`` meanwhile.
        self.act_mac = copy.deepcopy(self.mac) if config.overlap_collection else self.mac
        self.runner = EpisodeRunner(self.env, self.act_mac, self.buffer, seed=self.seed + 2, device=device)
        self.schedule = EpsilonSchedule(config.epsilon_start, config.epsilon_finish, config.epsilon_anneal_time)
        self.episodes = 0
        self.last_test_t: Optional[int] = None
        self.last_ckpt_t = 0
        self.n_evals = 0
        self.rows: List[Dict[str, Any]] = []
        self.wall_before = 0.0  # seconds spent in earlier sessions (before a resume)
        self.last_loss = float("nan")
        self._recent_won: List[float] = []
        self._recent_ret: List[float] = []
        self.stop_requested = False

    def request_stop(self) -> None:
        """Ask the loop to end after the current iteration (final evaluation and checkpoint included).

        Meant for ``callback``s, e.g. stop once a target win rate is reached."""
        self.stop_requested = True

    # -------------------------------------------------------------------------------------------------
    @property
    def t_env(self) -> int:
        """Env steps collected so far (summed over parallel games)."""
        return self.runner.t_env

    def epsilon(self) -> float:
        """Current exploration rate."""
        return self.schedule(self.t_env)

    def test_seed(self, k: int) -> int:
        """Seed of the games used by the k-th evaluation."""
        return (self.seed + 1) * 1_000_003 + 7919 * k

    def evaluate_now(self, wall_time: float) -> Dict[str, Any]:
        """Greedy evaluation in fresh games; appends and returns a curve row."""
        cfg = self.config
        env = self.env_factory(cfg.map_name, cfg.test_nepisodes, device=self.device,
                               seed=self.test_seed(self.n_evals), auto_reset=True, **cfg.env_args)
        res = greedy_episodes(env, self.mac)
        if hasattr(env, "close"):
            env.close()
        self.n_evals += 1
        self.last_test_t = self.t_env
        row = {"env_steps": self.t_env, "episodes": self.episodes, "test_win_rate": res["win_rate"],
               "test_return": res["return"], "loss": self.last_loss, "epsilon": self.epsilon(),
               "wall_time": wall_time,
               "train_win_rate": float(np.mean(self._recent_won)) if self._recent_won else float("nan"),
               "train_return": float(np.mean(self._recent_ret)) if self._recent_ret else float("nan"),
               "alg": cfg.alg, "map_name": cfg.map_name, "seed": self.seed}
        self._recent_won, self._recent_ret = [], []
        self.rows.append(row)
        return row

    def iteration(self) -> None:
        """Collect ``n_envs`` episodes and take ``train_steps_per_iter`` gradient steps (once the buffer holds a batch).

        Sequential (``overlap_collection=False``, pymarl): collect, store, then train on batches that may
        contain the new episodes. Overlapped (``overlap_collection=True``): the batches are sampled first, from
        the episodes stored *before* this iteration, and the learner trains on them in a second thread while
        this thread collects with the agents' weights as they were when the iteration began. Both halves use
        only their own random generators and the schedule is fixed, so results do not depend on timing: the
        same seed gives the same numbers, and resume stays exact. The price is a lag of one iteration (the
        newest ``n_envs`` episodes join the next iteration's batches), the gain a second CPU core at work.
        """
        cfg = self.config
        if not cfg.overlap_collection:
            self._record(self.runner.collect(cfg.n_envs, self.schedule))
            if self.buffer.can_sample(cfg.batch_size):
                self._train_on([self.buffer.sample(cfg.batch_size) for _ in range(cfg.train_steps_per_iter)],
                               self.episodes)
            return
        with torch.no_grad():
            for pa, pm in zip(self.act_mac.parameters(), self.mac.parameters()):
                pa.copy_(pm)
        if not self.buffer.can_sample(cfg.batch_size):
            self._record(self.runner.collect(cfg.n_envs, self.schedule))
            return
        batches = [self.buffer.sample(cfg.batch_size) for _ in range(cfg.train_steps_per_iter)]
        errors: List[BaseException] = []
        episodes = self.episodes

        def learn():
            try:
                self._train_on(batches, episodes)
            except BaseException as exc:  # handed to the main thread below
                errors.append(exc)

        worker = threading.Thread(target=learn, name="course_lib-learner", daemon=True)
        worker.start()
        try:
            st = self.runner.collect(cfg.n_envs, self.schedule)
        finally:
            worker.join()  # never leave the learner running (Ctrl-C waits for its current step, well under 1 s)
        if errors:
            raise errors[0]
        self._record(st)

    def _record(self, st) -> None:
        self.episodes += st.episodes
        self._recent_won.extend(st.won.float().tolist())
        self._recent_ret.extend(st.returns.tolist())

    def _train_on(self, batches, episodes: int) -> None:
        for batch in batches:
            out = self.learner.train(batch, episodes)
            self.last_loss = out["loss"]

    def curves(self) -> pd.DataFrame:
        """The evaluation rows as a DataFrame."""
        return pd.DataFrame(self.rows, columns=CURVE_COLUMNS)

    # -------------------------------------------------------------------------------------------------
    def state_dict(self, clean: bool = True) -> Dict[str, Any]:
        """The checkpoint dictionary. ``clean=False`` drops the runner's games (mid-iteration stop).

        It holds only what ``torch.load(..., weights_only=True)`` accepts (tensors, numbers, strings, lists,
        dicts): :func:`course_lib.checkpoints.to_safe` converts the rest, and raises for an object it cannot
        store (e.g. an environment without ``state_dict``). New learners follow the same rule.
        """
        cfg = self.config
        return to_safe({
            "format": CHECKPOINT_FORMAT, "alg": cfg.alg, "map_name": cfg.map_name, "seed": self.seed,
            "config": cfg.to_dict(), "sizes": dict(self.sizes), "device": str(self.device), "clean": clean,
            "learner": self.learner.state_dict(),
            "buffer": self.buffer.state_dict() if cfg.save_buffer else None,
            "runner": self.runner.state_dict() if clean else {"t_env": self.runner.t_env,
                                                              "episodes": self.runner.episodes,
                                                              "generator": self.runner.generator.get_state(),
                                                              "started": False},
            "rng": _rng_state(),
            "trainer": {"episodes": self.episodes, "last_test_t": self.last_test_t, "last_ckpt_t": self.last_ckpt_t,
                        "n_evals": self.n_evals, "rows": list(self.rows), "wall_time": self.wall_before,
                        "last_loss": self.last_loss, "recent_won": list(self._recent_won),
                        "recent_ret": list(self._recent_ret)},
            "torch_version": str(torch.__version__),
        })

    def load_state_dict(self, ckpt: Dict[str, Any]) -> None:
        """Restore a checkpoint made by :meth:`state_dict` (same algorithm, map and sizes)."""
        if ckpt["sizes"] != self.sizes:
            raise ValueError(f"checkpoint sizes {ckpt['sizes']} differ from this environment's {self.sizes}")
        self.learner.load_state_dict(ckpt["learner"])
        if ckpt["buffer"] is not None:
            self.buffer.load_state_dict(ckpt["buffer"])
        self.runner.load_state_dict(ckpt["runner"])
        self.env = self.runner.env
        tr = ckpt["trainer"]
        self.episodes, self.last_test_t, self.last_ckpt_t = tr["episodes"], tr["last_test_t"], tr["last_ckpt_t"]
        self.n_evals, self.rows, self.wall_before = tr["n_evals"], list(tr["rows"]), float(tr["wall_time"])
        self.last_loss = tr["last_loss"]
        self._recent_won, self._recent_ret = list(tr["recent_won"]), list(tr["recent_ret"])
        _set_rng_state(ckpt["rng"])

    def save_checkpoint(self, clean: bool = True) -> Path:
        """Write ``run_dir/checkpoint.pt`` atomically; returns its path."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / CHECKPOINT_NAME
        safe_save(self.state_dict(clean=clean), path)  # checks the weights_only rule, writes atomically
        self.last_ckpt_t = self.t_env
        return path

    def save_curves(self) -> Path:
        """Write ``run_dir/curves.csv``."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "curves.csv"
        self.curves().to_csv(path, index=False)
        return path

    def save_config(self) -> Path:
        """Write ``run_dir/config.json`` (config plus seed, device and map sizes)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "config.json"
        meta = {"config": self.config.to_dict(), "seed": self.seed, "device": str(self.device), "sizes": self.sizes}
        path.write_text(json.dumps(meta, indent=2))
        return path


# ----------------------------------------------------------------------------------------------------
# Ctrl-C handling
# ----------------------------------------------------------------------------------------------------
class _SigintFlag:
    """First Ctrl-C sets ``requested``; a second one raises KeyboardInterrupt at once."""

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.getsignal(signal.SIGINT)
                signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):  # not allowed here (embedded interpreter): keep the default
                self._old = None
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this iteration, then saving a checkpoint (press again to stop at once)",
              file=sys.stderr)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


class _StopAtBoundary(KeyboardInterrupt):
    """A KeyboardInterrupt that arrived between iterations (the state is consistent)."""


# ----------------------------------------------------------------------------------------------------
# train()
# ----------------------------------------------------------------------------------------------------
def _default_run_dir(alg: str, map_name: str, preset: str, seed: int) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{alg}_{map_name}_{preset}_seed{seed}_{stamp}"


def train(alg: str, map_name: str, preset: str = "pymarl", seed: int = 0, t_max: Optional[int] = None,
          time_limit_s: Optional[float] = None, device: Union[str, torch.device] = "auto",
          run_dir: Optional[Union[str, Path]] = None, progress: bool = True,
          resume: Union[bool, str, Path] = False, callback: Optional[Callable[["Trainer"], None]] = None,
          env_factory: Optional[Callable] = None, **overrides) -> Run:
    """Train ``alg`` on ``map_name`` and return a :class:`Run`.

    Args:
        alg: ``"iql" | "vdn" | "qmix" | "qtran" | "acorm"``.
        map_name: a SMAC map (``course_lib.envs.list_maps()``).
        preset: ``"pymarl"`` (published defaults) or ``"fast"`` (pymarl2 tricks, quick on a CPU).
        seed: one seed for everything (same seed, same device: same numbers).
        t_max: env steps to train for (default: the config's, 2.05M for pymarl).
        time_limit_s: wall-clock budget; when spent, training stops cleanly after the current iteration,
            evaluates once more and saves a checkpoint.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``; simulator, buffer and networks all live there.
        run_dir: output folder (default ``runs/<alg>_<map>_<preset>_seed<k>_<time>``).
        progress: show a progress bar (:mod:`course_lib.progress`) with the latest greedy win rate.
        resume: ``True`` (resume from ``run_dir``) or a run directory / checkpoint path to continue from.
            The config comes from the checkpoint; ``t_max`` and ``time_limit_s`` may be changed.
        callback: called as ``callback(trainer)`` after every iteration (e.g. live plots); it may call
            ``trainer.request_stop()`` to end the run cleanly; a ``KeyboardInterrupt`` raised there is
            handled like Ctrl-C.
        env_factory: build environments another way (e.g. the real StarCraft II adapter, or a test fake).
        **overrides: config fields, e.g. ``lr=1e-3, batch_size=64`` (unknown names raise ``TypeError``).
    Returns:
        :class:`Run`. On Ctrl-C, the Run of the interrupted training (``run.interrupted`` is True) after a
        checkpoint was saved and its path printed.
    """
    dev = resolve_device(device)
    threads.apply(dev)
    if resume:
        if resume is True and run_dir is None:
            raise ValueError("resume=True needs run_dir=<the run's folder> (or pass the folder as resume=...)")
        src = Path(run_dir) if resume is True else Path(resume)
        if overrides:
            raise ValueError(f"cannot change config fields {sorted(overrides)} when resuming: the config comes "
                             f"from the checkpoint (only t_max and time_limit_s may change)")
        ckpt = load_checkpoint(src, alg=alg, map_name=map_name, device=dev)
        config = config_from_dict(ckpt["config"])
        if t_max is not None:
            config.t_max = int(t_max)
        seed = int(ckpt["seed"])
        out_dir = Path(run_dir) if run_dir is not None else _checkpoint_path(src).parent
        trainer = Trainer(config, seed, dev, out_dir, env_factory)
        trainer.load_state_dict(ckpt)
    else:
        if t_max is not None:
            overrides["t_max"] = int(t_max)
        config = make_config(alg, map_name, preset, **overrides)
        out_dir = Path(run_dir) if run_dir is not None else _default_run_dir(config.alg, map_name, preset, seed)
        trainer = Trainer(config, seed, dev, out_dir, env_factory)
    trainer.save_config()
    return _loop(trainer, time_limit_s, progress, callback)


def _postfix(row: Optional[Dict[str, Any]], trainer: Trainer) -> Dict[str, str]:
    d = {"eps": f"{trainer.epsilon():.2f}"}
    if row is not None:
        d = {"win": f"{row['test_win_rate']:.2f}", "ret": f"{row['test_return']:.1f}", **d}
    if not math.isnan(trainer.last_loss):
        d["loss"] = f"{trainer.last_loss:.3g}"
    return d


def _loop(trainer: Trainer, time_limit_s: Optional[float], progress: bool,
          callback: Optional[Callable[[Trainer], None]]) -> Run:
    cfg = trainer.config
    t_max = cfg.t_max
    start = time.time()
    wall = lambda: trainer.wall_before + (time.time() - start)  # noqa: E731
    deadline = start + float(time_limit_s) if time_limit_s is not None else None
    bar = None
    if progress:
        from .progress import progress as tqdm  # a text bar that ends on a summary line in notebooks

        bar = tqdm(total=t_max, initial=min(trainer.t_env, t_max), unit="step", dynamic_ncols=True,
                   desc=f"{cfg.alg} {cfg.map_name}", smoothing=0.1)
    stopped_by, interrupted, clean = "t_max", False, True
    row = trainer.rows[-1] if trainer.rows else None
    try:
        with _SigintFlag() as flag:
            try:
                if trainer.last_test_t is None:
                    row = trainer.evaluate_now(wall())
                    trainer.save_curves()
                while trainer.t_env < t_max:
                    if flag.requested:
                        raise _StopAtBoundary
                    if deadline is not None and time.time() >= deadline:
                        stopped_by = "time_limit"
                        msg = (f"time_limit_s={time_limit_s} cut the run short at {trainer.t_env:,} of {t_max:,} env "
                               f"steps: results now depend on this machine's speed and load. For reproducible "
                               f"results give a budget in env steps (t_max) instead.")
                        warnings.warn(msg, RuntimeWarning, stacklevel=3)
                        break
                    before = trainer.t_env
                    trainer.iteration()
                    if trainer.t_env - trainer.last_test_t >= cfg.test_interval:
                        row = trainer.evaluate_now(wall())
                        trainer.save_curves()
                    if trainer.t_env - trainer.last_ckpt_t >= cfg.checkpoint_interval:
                        _save(trainer, wall())
                    if bar is not None:
                        bar.update(min(trainer.t_env, t_max) - min(before, t_max))
                        bar.set_postfix(_postfix(row, trainer), refresh=False)
                    if callback is not None:
                        try:
                            callback(trainer)
                        except KeyboardInterrupt:
                            raise _StopAtBoundary from None
                    if trainer.stop_requested:
                        stopped_by = "callback"
                        break
            except _StopAtBoundary:
                stopped_by, interrupted, clean = "interrupt", True, True
            except KeyboardInterrupt:
                stopped_by, interrupted, clean = "interrupt", True, False
        if not interrupted and trainer.last_test_t != trainer.t_env:
            row = trainer.evaluate_now(wall())  # the final evaluation, shown on the bar's closing line
            if bar is not None:
                bar.set_postfix(_postfix(row, trainer), refresh=False)
    finally:
        if bar is not None:
            bar.close()
    trainer.save_curves()
    path = _save(trainer, wall(), clean=clean)
    if interrupted:
        how = "exact resume" if clean else "resume restarts the games (stopped mid-iteration)"
        print(f"Training interrupted at {trainer.t_env} env steps. Checkpoint saved to {path} ({how}). "
              f"Resume with train({cfg.alg!r}, {cfg.map_name!r}, run_dir={str(trainer.run_dir)!r}, resume=True)",
              flush=True)
    nan = float("nan")
    final_row = trainer.rows[-1] if trainer.rows else {"env_steps": trainer.t_env, "test_win_rate": nan, "test_return": nan}
    return Run(alg=cfg.alg, map_name=cfg.map_name, seed=trainer.seed, config=cfg, run_dir=trainer.run_dir,
               curves=trainer.curves(), learner=trainer.learner, device=trainer.device, interrupted=interrupted,
               stopped_by=stopped_by,
               final={"env_steps": int(final_row["env_steps"]), "win_rate": float(final_row["test_win_rate"]),
                      "return": float(final_row["test_return"])})


def _save(trainer: Trainer, wall_time: float, clean: bool = True) -> Path:
    trainer.wall_before, saved = wall_time, trainer.wall_before
    try:
        return trainer.save_checkpoint(clean=clean)
    finally:
        trainer.wall_before = saved


# ----------------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------------
def _map_names() -> List[str]:
    try:
        from .envs import list_maps

        return list(list_maps())
    except Exception:  # the simulator package is optional for --help
        from .envs.smac.maps import list_map_names

        return list_map_names()


def _parser() -> argparse.ArgumentParser:
    maps = _map_names()
    p = argparse.ArgumentParser(
        prog="python -m course_lib.train",
        description="Train a value-decomposition method (IQL, VDN, QMIX, QTRAN) on a SMAC map.",
        epilog=f"algorithms: {', '.join(list_algs())}\nmaps: {', '.join(maps)}\n\n"
               "example: python -m course_lib.train --alg qmix --map 3m --preset fast --time-limit 300",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alg", choices=list_algs(), default="qmix", help="algorithm (default: qmix)")
    p.add_argument("--map", dest="map_name", default="3m", metavar="MAP", help="SMAC map (default: 3m); see the list below")
    p.add_argument("--preset", choices=list(PRESETS), default="pymarl",
                   help="pymarl (= published) = the method's published defaults; fast = pymarl2 tricks sized for a CPU")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--t-max", type=int, default=None, help="env steps to train for")
    p.add_argument("--time-limit", type=float, default=None, help="wall-clock limit in seconds")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--run-dir", default=None, help="output folder (default runs/<alg>_<map>_<preset>_seed<k>_<time>)")
    p.add_argument("--resume", default=None, metavar="DIR", help="continue the run saved in DIR")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set lr=0.001 (repeatable; values parsed as JSON)")
    return p


def _parse_overrides(items: List[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"--set expects FIELD=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def main(argv: Optional[List[str]] = None) -> int:
    """CLI entry point; returns the exit status (130 after Ctrl-C, like a shell)."""
    args = _parser().parse_args(argv)
    maps = _map_names()
    if args.resume is None and args.map_name not in maps:
        print(f"unknown map {args.map_name!r}; available maps: {', '.join(maps)}", file=sys.stderr)
        return 2
    overrides = _parse_overrides(args.set)
    if args.resume is not None:
        ckpt = load_checkpoint(args.resume)
        run = train(ckpt["alg"], ckpt["map_name"], seed=ckpt["seed"], t_max=args.t_max, time_limit_s=args.time_limit,
                    device=args.device, progress=not args.no_progress, resume=args.resume, **overrides)
    else:
        run = train(args.alg, args.map_name, preset=args.preset, seed=args.seed, t_max=args.t_max,
                    time_limit_s=args.time_limit, device=args.device, run_dir=args.run_dir,
                    progress=not args.no_progress, **overrides)
    print(f"{run.alg} on {run.map_name}: greedy win rate {run.final['win_rate']:.3f}, return "
          f"{run.final['return']:.2f} after {run.final['env_steps']} env steps; files in {run.run_dir}")
    return 130 if run.interrupted else 0



class _CallableModule(type(sys)):
    """``course_lib.train`` is both this module and the function: the package's lazy ``train`` export can
    resolve to the module (Python binds a submodule onto its package when it is imported), so calling the
    module calls :func:`train`."""

    def __call__(self, *args, **kwargs):
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


if __name__ == "__main__":
    sys.exit(main())
