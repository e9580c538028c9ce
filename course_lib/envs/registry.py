"""``make_env`` and ``list_maps``: the front doors to the SMAC maps (simulator or real game)."""
from __future__ import annotations

from typing import List, Optional

from .smac.maps import list_map_names

__all__ = ["make_env", "list_maps", "BACKENDS"]

BACKENDS = ("sim", "sc2")


def list_maps(include_extensions: bool = False) -> List[str]:
    """The 23 SMAC map names of the spec table (``include_extensions=True`` adds ``5s10z``, not in SMAC)."""
    return list_map_names(include_extensions)


def make_env(map_name: str, backend: str = "sim", n_envs: Optional[int] = None, **kwargs):
    """Build an environment for ``map_name``.

    Args:
        map_name: one of ``list_maps()``.
        backend: ``"sim"`` (the built-in simulator) or ``"sc2"`` (oxwhirl SMAC on StarCraft II).
        n_envs: None -> one battle with SMAC's API (``StarCraft2Env``); an int -> ``BatchedSMAC`` with
            that many battles (``"sc2"``: an adapter stepping that many real games).
        **kwargs: SMAC keywords, plus ``device``/``seed``/``auto_reset`` for the simulator.
    Raises:
        ValueError: unknown backend or map.
    """
    if backend == "sim":
        from .smac.env import BatchedSMAC
        from .smac.facade import StarCraft2Env

        if n_envs is None:
            return StarCraft2Env(map_name=map_name, **kwargs)
        return BatchedSMAC(map_name, n_envs, **kwargs)
    if backend == "sc2":
        from course_lib.envs.smac.sc2 import make_sc2_env

        return make_sc2_env(map_name, n_envs=n_envs, **kwargs)
    raise ValueError(f"unknown backend {backend!r}; valid backends: {BACKENDS}")
