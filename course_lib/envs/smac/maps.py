"""The SMAC map table (spec section 6): compositions, episode limits, races, unit-type bits, layout.

Every map is a :class:`MapSpec`. Unit lists are ordered by *type index* (the order of the unit-type
one-hot, spec section 3): SMAC sorts allies by (unit type, x, y), so e.g. on MMM the marauders come
first, then the marines, then the medivac. Enemy type indices follow SMAC's ``get_unit_type_id``; on
the stalkers-and-zealots maps SMAC's *enemy* one-hot is zealot 0, stalker 1 (the reverse of the ally
order) and we reproduce that quirk (``enemy_type_order``).

Layout (where the real maps' terrain is not public in code, we chose equivalents):

- ``open``: a 32 x 32 walkable arena; allies start around (9, 16), enemies around (23, 16), each group
  in a compact square grid (spacing ``2 * largest radius + 0.5``, wider on the baneling maps) whose front
  rows face the other group (``front_types`` first, e.g. zealots before stalkers); every episode shifts
  each group by up to 1 and every unit by up to 0.2.
- ``corridor`` (corridor): a left room (x 2-12, y 6-26) joined to a right room (x 20-30, y 2-30) by a
  corridor 4 wide (x 12-20, y 14-18). The zealots start in the left room, the 24 zerglings in the right
  room; holding the corridor's mouth is the intended tactic, as on the real map's choke.
- ``ravine`` (2c_vs_64zg): a cliff band (x 15-17, y 4-28) splits the arena; zerglings must run around
  its ends, while colossi walk over it (cliff walk), which is how the real map is won.
- ``pentagon`` (2s_vs_1sc): a regular pentagon (circumradius 15 around (16, 16)) arena; the spine
  crawler sits at (21, 16), the stalkers start out of its range at (9, 16).
- ``octagon`` (bane_vs_bane): a regular octagon (circumradius 15.5 around (16, 16)) arena.

``5s10z`` (5 stalkers + 10 zealots each side) is not a SMAC map; it is available as an *extension*
(``list_maps(include_extensions=True)``); its sizes follow the same formulas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from .units import UNIT_TYPES, UnitType

__all__ = ["MapSpec", "MAPS", "SMAC_MAPS", "EXTENSION_MAPS", "get_map", "list_map_names"]


@dataclass(frozen=True)
class MapSpec:
    """One map.

    Attributes:
        name: SMAC map name.
        ally_units / enemy_units: ``((type name, count), ...)`` in unit-type-index order.
        episode_limit: steps before a timeout.
        ally_race / enemy_race: "T", "P", "Z" (shield features exist for Protoss sides).
        unit_type_bits: length of the unit-type one-hot (0 on single-type maps).
        map_type: SMAC's map family ("marines", "MMM", "stalkers_and_zealots", ...).
        ally_type_order / enemy_type_order: type names by one-hot index.
        width, height: map size in map units (1 unit = one pathing cell).
        terrain: layout kind (see module docstring).
        ally_start / enemy_start: centre of each group's formation.
        enemy_spacing / ally_spacing: spacing factor of each formation (the baneling maps spread out,
            as on the real maps, so that one explosion does not wipe a whole group).
        front_types: unit types placed in the front rows first (default: type-index order); both
            sides use the same order, mirrored, so the front rows face each other.
        extension: True for maps that are not part of SMAC (``5s10z``).
    """

    name: str
    ally_units: Tuple[Tuple[str, int], ...]
    enemy_units: Tuple[Tuple[str, int], ...]
    episode_limit: int
    ally_race: str
    enemy_race: str
    unit_type_bits: int
    map_type: str
    ally_type_order: Tuple[str, ...] = ()
    enemy_type_order: Tuple[str, ...] = ()
    width: int = 32
    height: int = 32
    terrain: str = "open"
    ally_start: Tuple[float, float] = (9.0, 16.0)
    enemy_start: Tuple[float, float] = (23.0, 16.0)
    enemy_spacing: float = 1.0
    ally_spacing: float = 1.0
    front_types: Tuple[str, ...] = ()
    extension: bool = False

    @property
    def n_agents(self) -> int:
        return sum(c for _, c in self.ally_units)

    @property
    def n_enemies(self) -> int:
        return sum(c for _, c in self.enemy_units)

    @property
    def n_actions(self) -> int:
        return 6 + self.n_enemies

    @property
    def ally_shield_bits(self) -> int:
        return 1 if self.ally_race == "P" else 0

    @property
    def enemy_shield_bits(self) -> int:
        return 1 if self.enemy_race == "P" else 0

    def ally_type_list(self) -> List[UnitType]:
        """Unit types of the allies in agent order (before the per-episode (type, x, y) sort)."""
        return [UNIT_TYPES[n] for n, c in self.ally_units for _ in range(c)]

    def enemy_type_list(self) -> List[UnitType]:
        return [UNIT_TYPES[n] for n, c in self.enemy_units for _ in range(c)]

    def obs_size(self, obs_all_health: bool = True, obs_own_health: bool = True,
                 obs_last_action: bool = False, obs_pathing_grid: bool = False,
                 obs_terrain_height: bool = False, obs_timestep_number: bool = False) -> int:
        """SMAC's ``get_obs_size()`` for the given observation options."""
        utb = self.unit_type_bits
        nf_en = 4 + utb + ((1 + self.enemy_shield_bits) if obs_all_health else 0)
        nf_al = 4 + utb + ((1 + self.ally_shield_bits) if obs_all_health else 0)
        if obs_last_action:
            nf_al += self.n_actions
        own = utb + ((1 + self.ally_shield_bits) if obs_own_health else 0)
        move = 4 + (8 if obs_pathing_grid else 0) + (9 if obs_terrain_height else 0)
        size = move + self.n_enemies * nf_en + (self.n_agents - 1) * nf_al + own
        return size + (1 if obs_timestep_number else 0)

    def state_size(self, state_last_action: bool = True, state_timestep_number: bool = False) -> int:
        """SMAC's ``get_state_size()`` (without ``obs_instead_of_state``)."""
        utb = self.unit_type_bits
        size = (self.n_agents * (4 + self.ally_shield_bits + utb)
                + self.n_enemies * (3 + self.enemy_shield_bits + utb))
        if state_last_action:
            size += self.n_agents * self.n_actions
        return size + (1 if state_timestep_number else 0)


def _m(name, allies, enemies, limit, ar, er, utb, mtype, **kw) -> MapSpec:
    ally_order = kw.pop("ally_order", ())
    enemy_order = kw.pop("enemy_order", ally_order)
    return MapSpec(name, tuple(allies), tuple(enemies), limit, ar, er, utb, mtype, tuple(ally_order),
                   tuple(enemy_order), **kw)


_SZ = dict(ally_order=("stalker", "zealot"), enemy_order=("zealot", "stalker"),
           front_types=("zealot", "stalker"))
_CSZ = dict(ally_order=("colossus", "stalker", "zealot"), front_types=("zealot", "stalker", "colossus"))
_MMM = dict(ally_order=("marauder", "marine", "medivac"))
_BANE = dict(ally_order=("baneling", "zergling"))

_TABLE: List[MapSpec] = [
    _m("3m", [("marine", 3)], [("marine", 3)], 60, "T", "T", 0, "marines"),
    _m("8m", [("marine", 8)], [("marine", 8)], 120, "T", "T", 0, "marines"),
    _m("25m", [("marine", 25)], [("marine", 25)], 150, "T", "T", 0, "marines"),
    _m("5m_vs_6m", [("marine", 5)], [("marine", 6)], 70, "T", "T", 0, "marines"),
    _m("8m_vs_9m", [("marine", 8)], [("marine", 9)], 120, "T", "T", 0, "marines"),
    _m("10m_vs_11m", [("marine", 10)], [("marine", 11)], 150, "T", "T", 0, "marines"),
    _m("27m_vs_30m", [("marine", 27)], [("marine", 30)], 180, "T", "T", 0, "marines"),
    _m("MMM", [("marauder", 2), ("marine", 7), ("medivac", 1)],
       [("marauder", 2), ("marine", 7), ("medivac", 1)], 150, "T", "T", 3, "MMM", **_MMM),
    _m("MMM2", [("marauder", 2), ("marine", 7), ("medivac", 1)],
       [("marauder", 3), ("marine", 8), ("medivac", 1)], 180, "T", "T", 3, "MMM", **_MMM),
    _m("2s3z", [("stalker", 2), ("zealot", 3)], [("stalker", 2), ("zealot", 3)], 120, "P", "P", 2,
       "stalkers_and_zealots", **_SZ),
    _m("3s5z", [("stalker", 3), ("zealot", 5)], [("stalker", 3), ("zealot", 5)], 150, "P", "P", 2,
       "stalkers_and_zealots", **_SZ),
    _m("3s5z_vs_3s6z", [("stalker", 3), ("zealot", 5)], [("stalker", 3), ("zealot", 6)], 170, "P", "P",
       2, "stalkers_and_zealots", **_SZ),
    _m("3s_vs_3z", [("stalker", 3)], [("zealot", 3)], 150, "P", "P", 0, "stalkers"),
    _m("3s_vs_4z", [("stalker", 3)], [("zealot", 4)], 200, "P", "P", 0, "stalkers"),
    _m("3s_vs_5z", [("stalker", 3)], [("zealot", 5)], 250, "P", "P", 0, "stalkers"),
    _m("1c3s5z", [("colossus", 1), ("stalker", 3), ("zealot", 5)],
       [("colossus", 1), ("stalker", 3), ("zealot", 5)], 180, "P", "P", 3, "colossi_stalkers_zealots",
       **_CSZ),
    _m("2m_vs_1z", [("marine", 2)], [("zealot", 1)], 150, "T", "P", 0, "marines"),
    _m("corridor", [("zealot", 6)], [("zergling", 24)], 400, "P", "Z", 0, "zealots",
       terrain="corridor", ally_start=(7.0, 16.0), enemy_start=(25.0, 16.0)),
    _m("6h_vs_8z", [("hydralisk", 6)], [("zealot", 8)], 150, "Z", "P", 0, "hydralisks"),
    _m("2s_vs_1sc", [("stalker", 2)], [("spinecrawler", 1)], 300, "P", "Z", 0, "stalkers",
       terrain="pentagon", ally_start=(9.0, 16.0), enemy_start=(21.0, 16.0)),
    _m("so_many_baneling", [("zealot", 7)], [("baneling", 32)], 100, "P", "Z", 0, "zealots",
       enemy_spacing=1.6),
    _m("bane_vs_bane", [("baneling", 4), ("zergling", 20)], [("baneling", 4), ("zergling", 20)], 200,
       "Z", "Z", 2, "bane", terrain="octagon", ally_spacing=1.6, enemy_spacing=1.6, **_BANE),
    _m("2c_vs_64zg", [("colossus", 2)], [("zergling", 64)], 400, "P", "Z", 0, "colossus",
       terrain="ravine", ally_start=(8.0, 16.0), enemy_start=(24.0, 16.0)),
]

_EXTENSIONS: List[MapSpec] = [
    _m("5s10z", [("stalker", 5), ("zealot", 10)], [("stalker", 5), ("zealot", 10)], 150, "P", "P", 2,
       "stalkers_and_zealots", extension=True, **_SZ),
]

SMAC_MAPS: Dict[str, MapSpec] = {m.name: m for m in _TABLE}
EXTENSION_MAPS: Dict[str, MapSpec] = {m.name: m for m in _EXTENSIONS}
MAPS: Dict[str, MapSpec] = {**SMAC_MAPS, **EXTENSION_MAPS}


def list_map_names(include_extensions: bool = False) -> List[str]:
    """The 23 SMAC map names in table order (plus ``5s10z`` when ``include_extensions``)."""
    names = list(SMAC_MAPS)
    return names + list(EXTENSION_MAPS) if include_extensions else names


def get_map(name: str) -> MapSpec:
    """Look a map up by name; unknown names raise ``ValueError`` listing every map."""
    if not isinstance(name, str) or name not in MAPS:
        raise ValueError(
            f"unknown SMAC map {name!r}; available maps: {', '.join(list_map_names(True))}")
    return MAPS[name]
