"""Small shared utilities: seeding, device selection and budgets for notebooks."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

__all__ = ["set_seed", "resolve_device", "quick_mode", "pick_budget", "save_json"]


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and all CUDA devices)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    torch.manual_seed(int(seed))


def resolve_device(device: Union[str, torch.device, None] = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N" | torch.device`` into a ``torch.device``.

    ``"auto"`` picks CUDA when a GPU is visible, else the CPU. Asking for CUDA on a machine without
    one raises a ``RuntimeError`` that says so, instead of failing deep inside PyTorch later.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device={str(device)!r} was requested but no CUDA GPU is available on this machine "
                "(torch.cuda.is_available() is False). Use device='cpu' or device='auto'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device={str(device)!r} was requested but only {torch.cuda.device_count()} CUDA "
                f"device(s) exist (valid: {', '.join(f'cuda:{i}' for i in range(torch.cuda.device_count()))})."
            )
    elif dev.type not in ("cpu", "mps"):
        raise ValueError(f"unsupported device {str(device)!r}; use 'auto', 'cpu' or 'cuda'")
    return dev


def quick_mode() -> bool:
    """True when the environment variable ``COURSE_QUICK`` is set to 1/true (CI's tiny budgets)."""
    return os.environ.get("COURSE_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


def pick_budget(default, quick, full, full_run: bool = False):
    """Choose a training budget for a notebook.

    Budgets are counted in **work, never in seconds**: env steps, episodes, gradient steps or seeds.
    The same seed then gives the same numbers on any machine and under any load, and the text of a
    notebook can promise what its default budget shows.

    Three budgets, one switch: CI sets ``COURSE_QUICK=1`` and gets ``quick`` (a tiny run that only
    proves the cell works); ``full_run=True`` (a notebook's ``FULL_RUN`` flag) gets ``full``
    (paper-length, for a GPU); otherwise ``default`` (a few minutes on a 2-core laptop CPU with one
    PyTorch thread, large enough for the notebook's claims to hold).
    ``COURSE_QUICK`` wins over ``full_run`` so CI never runs a full-length job by accident.

    Example: ``T = pick_budget(default=100_000, quick=2_000, full=2_050_000, full_run=FULL_RUN)  # env steps``
    """
    if quick_mode():
        return quick
    return full if full_run else default


def save_json(obj, path) -> Path:
    """Write ``obj`` as indented JSON to ``path`` (creating its folder), print where, return the path.
    Used by the benchmark scripts for their result files."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(obj, indent=2))
    print(f"wrote {out}")
    return out


def git_commit(short: bool = True) -> str:
    """The repository's current commit (``git rev-parse [--short] HEAD``), or ``"unknown"`` outside a git checkout
    (e.g. a copied working tree). The benchmark scripts record it beside their results."""
    import subprocess

    args = ["git", "rev-parse"] + (["--short"] if short else []) + ["HEAD"]
    try:
        out = subprocess.run(args, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=20)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
