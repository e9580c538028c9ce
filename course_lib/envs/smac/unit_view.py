"""Read-only unit objects shaped like SMAC's (``env.agents[i]``, ``env.enemies[j]``, ``env.get_unit_by_id(i)``).

SMAC hands out StarCraft II's raw protobuf units; code built on SMAC reads a handful of their fields. A
:class:`UnitView` has those fields, in SMAC's units (not normalised):

- ``health``, ``health_max``, ``shield``, ``shield_max`` (hit points; ``health == 0`` for a dead unit, as
  SMAC sets it; its shield is 0 too), ``energy``, ``energy_max`` (a medivac's energy, else 0),
  ``weapon_cooldown`` (game loops until the next shot; 0 for a medivac), ``radius``;
- ``pos.x``, ``pos.y`` (map units; ``pos.z`` is always 0), a dead unit keeps its last position;
- ``unit_type`` (see below), ``owner`` (1 allies, 2 enemies), ``tag`` (``unit index + 1``, unique and
  non-zero), and course extras ``name`` (``"marine"``, ...) and ``alive``.

Unit type ids follow SMAC: enemies carry StarCraft II's ids (:data:`SC2_UNIT_TYPE_IDS`: marine 48,
stalker 74, ...); allies carry the SMAC maps' custom ids, ``ALLY_TYPE_ID_BASE + k`` for the k-th type of
the map's ally one-hot (``StarCraft2Env._min_unit_type``; the real number depends on the map file, so
compare with ``env.marine_id`` etc. or use ``env.get_unit_type_id`` rather than literal numbers).

Views are snapshots of one moment: they do not change when the battle moves on (ask the environment again
after ``step``), and assigning to a field raises ``AttributeError``.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, NamedTuple, Tuple

import numpy as np

__all__ = ["Point", "UnitView", "SC2_UNIT_TYPE_IDS", "ALLY_TYPE_ID_BASE", "ally_type_ids", "build_unit_views"]

#: StarCraft II's unit type ids (the enemies' ``unit_type`` in SMAC).
SC2_UNIT_TYPE_IDS = {"colossus": 4, "baneling": 9, "marine": 48, "marauder": 51, "medivac": 54,
                     "zealot": 73, "stalker": 74, "spinecrawler": 98, "zergling": 105, "hydralisk": 107}
#: First custom ally unit type id (SMAC's ``_min_unit_type``; a chosen number, see the module docstring).
ALLY_TYPE_ID_BASE = 1970

_FIELDS = ("tag", "unit_type", "owner", "pos", "health", "health_max", "shield", "shield_max", "energy",
           "energy_max", "weapon_cooldown", "radius", "name", "alive")


class Point(NamedTuple):
    """A unit position (``pos.x``, ``pos.y`` as in StarCraft II's ``Point``; ``z`` is always 0)."""

    x: float
    y: float
    z: float = 0.0


class UnitView:
    """One unit, read-only, with the fields SMAC code reads (see the module docstring)."""

    __slots__ = _FIELDS

    def __init__(self, **fields):
        missing = set(_FIELDS) - set(fields)
        if missing:
            raise TypeError(f"UnitView needs the fields {sorted(missing)}")
        for k in _FIELDS:
            object.__setattr__(self, k, fields[k])

    def __setattr__(self, key, value):
        raise AttributeError(f"unit views are read-only (tried to set {key!r}); the simulator's state changes "
                             "only through step() (tests: BatchedSMAC._place)")

    def __delattr__(self, key):
        raise AttributeError(f"unit views are read-only (tried to delete {key!r})")

    def __eq__(self, other) -> bool:
        return isinstance(other, UnitView) and all(getattr(self, k) == getattr(other, k) for k in _FIELDS)

    __hash__ = None  # equal views may be different moments; keep them out of sets

    def __repr__(self) -> str:
        side = "ally" if self.owner == 1 else "enemy"
        return (f"UnitView({side} {self.name}, tag={self.tag}, unit_type={self.unit_type}, "
                f"pos=({self.pos.x:.2f}, {self.pos.y:.2f}), health={self.health:.1f}/{self.health_max:.0f}, "
                f"shield={self.shield:.1f}/{self.shield_max:.0f})")


def ally_type_ids(spec) -> dict:
    """``{type name: unit_type id}`` of a map's allies (``ALLY_TYPE_ID_BASE + one-hot index``)."""
    order = spec.ally_type_order or tuple(dict.fromkeys(u.name for u in spec.ally_type_list()))
    return {name: ALLY_TYPE_ID_BASE + k for k, name in enumerate(order)}


def build_unit_views(env, env_index: int = 0) -> Tuple[Mapping[int, UnitView], Mapping[int, UnitView]]:
    """``(agents, enemies)`` of one environment of a ``BatchedSMAC``: read-only ``{id: UnitView}`` mappings
    (allies ``0..N-1``, enemies ``0..E-1``, as SMAC's ``env.agents`` / ``env.enemies``)."""
    C, b = env.C, int(env_index)
    pos = env._p[b].T.cpu().numpy().astype(np.float64)            # [U, 2]
    health = env.health[b].cpu().numpy().astype(np.float64)
    shield = env.shield[b].cpu().numpy().astype(np.float64)
    cd = env.cd[b].cpu().numpy().astype(np.float64)
    alive = env.alive[b].cpu().numpy()
    ally_ids = ally_type_ids(C.spec)
    agents, enemies = {}, {}
    for u, ut in enumerate(C.units):
        ally = u < C.N
        healer = bool(ut.is_healer)
        view = UnitView(
            tag=u + 1, unit_type=ally_ids[ut.name] if ally else SC2_UNIT_TYPE_IDS[ut.name],
            owner=1 if ally else 2, pos=Point(float(pos[u, 0]), float(pos[u, 1])),
            health=float(health[u]) if alive[u] else 0.0, health_max=float(ut.health),
            shield=float(shield[u]) if alive[u] else 0.0, shield_max=float(ut.shield),
            energy=float(cd[u]) if healer else 0.0, energy_max=float(ut.energy_max) if healer else 0.0,
            weapon_cooldown=0.0 if healer else float(cd[u]), radius=float(ut.radius), name=ut.name,
            alive=bool(alive[u]))
        if ally:
            agents[u] = view
        else:
            enemies[u - C.N] = view
    return MappingProxyType(agents), MappingProxyType(enemies)
