"""course_lib: the helper library behind the marl-course notebooks.

Heavy entry points are imported lazily so that ``import course_lib`` stays fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "train": ("course_lib.train", "train"),
    "evaluate": ("course_lib.evaluate", "evaluate"),
    "count_parameters": ("course_lib.params", "count_parameters"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


__all__ = list(_LAZY) + ["__version__"]
