"""How many CPU threads PyTorch uses for ``course_lib``'s work, chosen for small networks on few cores.

PyTorch starts with one intra-op thread per core. The course's workloads are small: GRU agents of width
64 on batches of a few hundred sequences, mixers of width 32, simulator batches of 1-1024 battles whose every
operation touches a few kilobytes. Splitting such operations over threads gains little, and when another
process is busy (a browser, a second notebook, a lecture's screen recording) a thread that waits for a
descheduled partner stalls every operation. Measured on the course's 2-core machine
(``python benchmarks/threads.py``, ``benchmarks/results/threads.json``; 2 threads relative to 1):

=========================  ===========  ==========================
workload                   idle machine  one other busy process
=========================  ===========  ==========================
simulator, 8 battles       0.99x        0.30x
simulator, 64 battles      0.99x        0.36x
simulator, 1024 battles    1.23x        0.48x
training (QMIX, 3m)        1.19x        0.43x
DRQN (notebook 02)         1.02x        0.32x
=========================  ===========  ==========================

A second thread gains at most about 20% on an idle machine and loses a factor of 2-3 as soon as anything
else runs, which on a laptop is most of the time.

So, on the CPU, :func:`apply` sets **one thread** (``torch.set_num_threads(1)``), once per process, the first time
course_lib trains, evaluates or builds a simulator; the GPU is unaffected. ``train`` can then use the second core
for something useful instead (collecting episodes while the learner updates, see ``overlap_collection``).

To choose yourself: set the environment variable ``COURSE_THREADS=N`` before starting Python/Jupyter, or call
:func:`set_threads` (``course_lib.threads.set_threads(2)``); either one wins over the default. Setting
``OMP_NUM_THREADS`` also counts as your choice (course_lib then leaves PyTorch alone).
"""
from __future__ import annotations

import os
from typing import Optional

import torch

__all__ = ["apply", "set_threads", "chosen_threads", "DEFAULT_THREADS"]

DEFAULT_THREADS = 1
_state = {"applied": False, "user": None}


def _env_choice() -> Optional[int]:
    raw = os.environ.get("COURSE_THREADS", "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"COURSE_THREADS={raw!r} is not allowed: a positive integer (e.g. COURSE_THREADS=1)") from None
    if n < 1:
        raise ValueError(f"COURSE_THREADS={raw!r} is not allowed: a positive integer (e.g. COURSE_THREADS=1)")
    return n


def chosen_threads() -> Optional[int]:
    """The thread count course_lib will set: your choice (``set_threads``, ``COURSE_THREADS``), else
    :data:`DEFAULT_THREADS`; ``None`` when ``OMP_NUM_THREADS`` is set (then PyTorch's own choice stands)."""
    if _state["user"] is not None:
        return _state["user"]
    env = _env_choice()
    if env is not None:
        return env
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return None
    return DEFAULT_THREADS


def set_threads(n: int) -> None:
    """Use ``n`` intra-op CPU threads from now on (overrides the default and ``COURSE_THREADS``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_threads(n={n!r}) is not allowed: n must be a positive integer")
    _state["user"] = n
    _state["applied"] = True
    torch.set_num_threads(n)


def apply(device=None) -> int:
    """Set PyTorch's CPU thread count once per process (see the module docstring); returns the count in use.

    ``device``: the device the work runs on; on CUDA nothing changes. Called by ``train``, ``evaluate`` and
    ``BatchedSMAC``; calling it again does nothing unless :func:`set_threads` changed the choice.
    """
    if device is not None and torch.device(device).type == "cuda":
        return torch.get_num_threads()
    if not _state["applied"]:
        n = chosen_threads()
        if n is not None and torch.get_num_threads() != n:
            torch.set_num_threads(n)
        _state["applied"] = True
    return torch.get_num_threads()
