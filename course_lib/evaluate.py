"""Greedy evaluation of a trained run or a saved checkpoint: ``evaluate(run_or_checkpoint, ...)``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Dict, Optional, Union

import torch

from . import threads

from .config import config_from_dict
from .runners.episode_runner import greedy_episodes
from .train import Run, build_networks, default_env_factory, load_checkpoint
from .utils import resolve_device

__all__ = ["evaluate", "load_policy", "load_checkpoint"]


def load_policy(path: Union[str, Path], alg: Optional[str] = None, map_name: Optional[str] = None,
                device: Union[str, torch.device] = "cpu"):
    """Rebuild the trained controller (and mixer) from a checkpoint.

    Returns ``(mac, mixer, config)``. ``alg`` / ``map_name``, when given, must match the checkpoint
    (a mismatch raises ``ValueError`` naming both).
    """
    dev = resolve_device(device)
    threads.apply(dev)
    ckpt = load_checkpoint(path, alg=alg, map_name=map_name, device=dev)
    config = config_from_dict(ckpt["config"])
    mac, mixer = build_networks(config, ckpt["sizes"], dev)
    mac.load_state_dict(ckpt["learner"]["mac"])
    if mixer is not None:
        mixer.load_state_dict(ckpt["learner"]["mixer"])
    return mac, mixer, config


def evaluate(run_or_checkpoint: Union[Run, str, Path], n_episodes: int = 32, seed: int = 12345,
             device: Union[str, torch.device] = "auto", alg: Optional[str] = None, map_name: Optional[str] = None,
             env_factory: Optional[Callable] = None) -> Dict[str, float]:
    """Play ``n_episodes`` greedy episodes (all in parallel) and report the win rate and mean return.

    Args:
        run_or_checkpoint: a :class:`~course_lib.train.Run`, a ``checkpoint.pt`` path or a run directory.
        n_episodes: number of test games (one episode each).
        seed: seeds the test games (same seed, same games).
        device: where to play (``"auto"``: CUDA when present).
        alg, map_name: optional; a checkpoint for a different algorithm or map raises ``ValueError``.
        env_factory: alternative environment constructor (default: ``course_lib.envs.BatchedSMAC``).
    Returns:
        ``{"win_rate": float, "return": float}``.
    """
    if not isinstance(n_episodes, int) or n_episodes <= 0:
        raise ValueError(f"n_episodes must be a positive integer, got {n_episodes!r}")
    dev = resolve_device(device)
    if isinstance(run_or_checkpoint, Run):
        run = run_or_checkpoint
        for what, want, have in (("alg", alg, run.alg), ("map_name", map_name, run.map_name)):
            if want is not None and want != have:
                raise ValueError(f"this run holds alg={run.alg!r} on map {run.map_name!r}, but {what}={want!r} was asked for")
        config = run.config
        mac = run.mac
        if torch.device(next(mac.parameters()).device) != dev:
            import copy

            mac = copy.deepcopy(mac).to(dev)
    else:
        mac, _, config = load_policy(run_or_checkpoint, alg=alg, map_name=map_name, device=dev)
    factory = env_factory or default_env_factory
    env = factory(config.map_name, n_episodes, device=dev, seed=int(seed), auto_reset=True, **config.env_args)
    try:
        res = greedy_episodes(env, mac)
    finally:
        if hasattr(env, "close"):
            env.close()
    return {"win_rate": res["win_rate"], "return": res["return"]}


class _CallableModule(type(sys)):
    """``course_lib.evaluate`` is both this module and the function (see ``course_lib.train``)."""

    def __call__(self, *args, **kwargs):
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
