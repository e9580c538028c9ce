"""Checkpoints that cannot run code when opened: the ``weights_only`` rule, and helpers to follow it.

``torch.load`` unpickles; a pickle can name any Python function to call while it is read, so a crafted
``.pt`` file (a downloaded checkpoint, an asset) could run code on the reader's machine. The course
therefore *reads* every checkpoint with ``torch.load(path, weights_only=True)`` (:func:`safe_load`), which
only rebuilds plain data, and *writes* only what that accepts (:func:`safe_save`, which checks first).

The rule for anything that goes into a checkpoint (``Trainer.state_dict``, a learner's, a runner's,
``BatchedSMAC.state_dict``, and the learners still to come, e.g. ACORM and MIXRTs):

- allowed: tensors, ``None``, ``bool``, ``int``, ``float``, ``str``, and ``list`` / ``tuple`` / ``dict``
  (``OrderedDict`` too, as ``nn.Module.state_dict()`` returns) of allowed values with ``str``/``int`` keys;
  a generator's state is a tensor already (``torch.Generator.get_state()``);
- not allowed: NumPy arrays and scalars, ``Path``, dataclasses, modules, functions, any other object.
  :func:`to_safe` converts the common ones (arrays to tensors, NumPy scalars to Python numbers, paths and
  ``str`` subclasses to ``str``); NumPy's and Python's global RNG states have exact converters
  (:func:`numpy_rng_state` / :func:`set_numpy_rng_state`, :func:`python_rng_state` /
  :func:`set_python_rng_state`); for anything else store its numbers and rebuild the object on load.

:func:`check_safe` (called by :func:`safe_save`) raises ``TypeError`` naming the first offending entry,
e.g. ``checkpoint['runner']['env']: BatchedSMAC is not allowed``; :func:`safe_load` refuses a file that
needs more than plain data with :class:`UnsafeCheckpointError` naming the file and the object it asked for.
"""
from __future__ import annotations

import os
import pickle
import random
import re
import zipfile
from collections import OrderedDict
from pathlib import Path, PurePath
from typing import Any, Dict, Union

import numpy as np
import torch

__all__ = ["UnsafeCheckpointError", "to_safe", "check_safe", "safe_save", "safe_load", "numpy_rng_state",
           "set_numpy_rng_state", "python_rng_state", "set_python_rng_state", "SAFE_SCALARS"]

#: Scalar types a weights-only checkpoint may hold (besides tensors and containers).
SAFE_SCALARS = (type(None), bool, int, float, str)
PathLike = Union[str, os.PathLike]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A file that ``torch.load(..., weights_only=True)`` refuses: it asks to build objects other than
    plain data, which could run code when opened."""


def _key_str(where: str, k) -> str:
    return f"{where}[{k!r}]"


def check_safe(obj: Any, where: str = "checkpoint") -> None:
    """Raise ``TypeError`` naming the first entry of ``obj`` that ``weights_only`` loading would refuse."""
    if isinstance(obj, torch.Tensor):
        if type(obj) is not torch.Tensor and not isinstance(obj, torch.nn.Parameter):
            raise TypeError(f"{where}: tensor subclass {type(obj).__name__} is not allowed in a checkpoint; "
                            "store a plain tensor (t.as_subclass(torch.Tensor))")
        return
    t = type(obj)
    if t in SAFE_SCALARS:
        return
    if t in (list, tuple):
        for i, v in enumerate(obj):
            check_safe(v, f"{where}[{i}]")
        return
    if t in (dict, OrderedDict):
        for k, v in obj.items():
            if type(k) not in (str, int):
                raise TypeError(f"{where}: key {k!r} of type {type(k).__name__} is not allowed in a checkpoint "
                                "(use str or int keys)")
            check_safe(v, _key_str(where, k))
        return
    hint = ""
    if isinstance(obj, (np.ndarray, np.generic, PurePath)) or isinstance(obj, (str, int, float)):
        hint = " (course_lib.checkpoints.to_safe converts it)"
    raise TypeError(f"{where}: {t.__module__}.{t.__qualname__} is not allowed in a checkpoint: "
                    f"checkpoints hold only tensors, None, bool, int, float, str and lists/tuples/dicts of them, "
                    f"so that they load with torch.load(..., weights_only=True){hint}")


def to_safe(obj: Any, where: str = "checkpoint") -> Any:
    """A copy of ``obj`` that :func:`check_safe` accepts: NumPy arrays become tensors (same dtype where
    PyTorch has it, ``uint32``/``uint64`` become ``int64``), NumPy scalars Python numbers, paths and ``str``
    subclasses ``str``, ``int``/``float`` subclasses plain numbers, sets sorted lists; containers are
    converted recursively. Anything else raises the ``TypeError`` of :func:`check_safe`."""
    if isinstance(obj, torch.Tensor):
        return obj if type(obj) is torch.Tensor or isinstance(obj, torch.nn.Parameter) else obj.as_subclass(
            torch.Tensor)
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, np.ndarray):
        arr = obj.astype(np.int64) if obj.dtype in (np.uint32, np.uint64) else obj
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{where}: a NumPy array of dtype {arr.dtype} cannot be stored in a checkpoint")
        return torch.from_numpy(np.ascontiguousarray(arr).copy())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, (list, tuple)):
        out = [to_safe(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return out if isinstance(obj, list) else tuple(out)
    if isinstance(obj, (set, frozenset)):
        return sorted(to_safe(v, where) for v in obj)
    if isinstance(obj, dict):
        out = {to_safe(k, where): to_safe(v, _key_str(where, k)) for k, v in obj.items()}
        return OrderedDict(out) if isinstance(obj, OrderedDict) else out
    check_safe(obj, where)  # raises with the explanation
    return obj


def safe_save(obj: Any, path: PathLike, where: str = "checkpoint") -> Path:
    """:func:`check_safe` then ``torch.save`` to ``path`` atomically (a temporary file, then a rename)."""
    check_safe(obj, where)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, p)
    return p


def safe_load(path: PathLike, map_location=None) -> Any:
    """``torch.load(path, map_location=..., weights_only=True)`` with clear errors.

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the file asks for objects weights-only loading refuses (a crafted file that
            would run code, or a checkpoint written with NumPy arrays or other objects by older code); the
            message names the file and the object.
        ValueError: the file is not a PyTorch checkpoint at all.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no checkpoint file at {p}")
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        foreign = "Unsupported operand" in msg and not zipfile.is_zipfile(p)  # e.g. a text file, not torch.save's
        if foreign:
            raise ValueError(f"{p} is not a PyTorch checkpoint file (torch.save writes a zip archive)") from None
        if "weights only" not in msg.lower() and "weights_only" not in msg.lower():
            raise ValueError(f"{p} is not a PyTorch checkpoint file ({msg.splitlines()[0][:200]})") from None
        found = re.search(r"(Unsupported global: GLOBAL [^\s]+|Unsupported operand [^\s]+|"
                          r"Trying to call reduce for [^\s]+|[^\n]*not an allowed global[^\n]*)", msg)
        detail = found.group(1) if found else msg.strip().splitlines()[-1][:300]
        raise UnsafeCheckpointError(
            f"refusing to open {p}: it is not plain data ({detail}). Opening it with weights_only=False could "
            "run code hidden in the file, so course_lib never does. If you made this file yourself with an "
            "older course_lib (NumPy arrays in the RNG state), re-create it; checkpoints written now hold "
            "only tensors and plain Python values.") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"{p} is not a PyTorch checkpoint file ({str(exc).splitlines()[0][:200]})") from None


# ------------------------------------------------------------------------------------- RNG states
def numpy_rng_state() -> Dict[str, Any]:
    """NumPy's global (legacy ``np.random``) RNG state as checkpoint-safe values (key as an int64 tensor)."""
    name, key, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {"bit_generator": str(name), "key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def set_numpy_rng_state(st: Dict[str, Any]) -> None:
    """Restore :func:`numpy_rng_state` exactly."""
    key = st["key"].cpu().numpy().astype(np.uint32)
    np.random.set_state((st["bit_generator"], key, int(st["pos"]), int(st["has_gauss"]),
                         float(st["cached_gaussian"])))


def python_rng_state() -> Dict[str, Any]:
    """Python's ``random`` state (``(version, 625 ints, gauss_next)``) as checkpoint-safe values."""
    version, internal, gauss_next = random.getstate()
    return {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next}


def set_python_rng_state(st: Dict[str, Any]) -> None:
    """Restore :func:`python_rng_state` exactly."""
    random.setstate((int(st["version"]), tuple(int(v) for v in st["internal"].tolist()), st["gauss_next"]))
