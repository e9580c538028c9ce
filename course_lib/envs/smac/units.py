"""StarCraft II unit statistics used by the simulator (spec section 7), in *game* seconds.

Time base (the one thing that is easy to get wrong): the game advances 16 loops per game second;
an environment step is ``step_mul`` (8) loops = 0.5 game seconds. Public tables quote real seconds at
*Faster* speed (1.4 game seconds each); the figures below are already converted (speeds / 1.4,
cooldowns x 1.4), so a marine moves at most 2.25 x 0.5 = 1.125 map units per step and fires once every
0.86 x 16 = 13.76 loops (about 1.7 steps).

``MAX_COOLDOWN`` holds SMAC's normalising constants for the weapon cooldown in the global state
(spec section 4, in game loops); the medivac's entry (200) normalises its energy instead.

Attributes: ``light``/``armored`` decide bonus damage; ``biological`` decides who a medivac may heal;
``air`` units (medivac) neither collide nor are hit by ground-only weapons (zealot, zergling,
baneling, colossus, marauder, spine crawler cannot hit air in StarCraft II); ``cliff_walk`` lets the
colossus walk over cliffs (the ravine of 2c_vs_64zg); ``massive`` units (colossus) step over the other
ground units, as in StarCraft II, so they only collide with each other; ``static`` units (spine
crawler) never move.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

__all__ = ["UnitType", "UNIT_TYPES", "MAX_COOLDOWN", "LOOPS_PER_SECOND", "get_unit_type"]

LOOPS_PER_SECOND = 16.0

MAX_COOLDOWN: Dict[str, float] = {
    "marine": 15.0,
    "marauder": 25.0,
    "medivac": 200.0,
    "stalker": 35.0,
    "zealot": 22.0,
    "colossus": 24.0,
    "hydralisk": 10.0,
    "zergling": 11.0,
    "baneling": 1.0,
    # Not in SMAC's table (its spine crawler is an enemy and enemies carry no cooldown in the state);
    # the value is used for completeness only.
    "spinecrawler": 30.0,
}


@dataclass(frozen=True)
class UnitType:
    """One unit type, figures in game seconds and map units.

    Attributes:
        name: lower-case name ("marine", "stalker", ...).
        race: "T", "P" or "Z".
        health, shield, armor: maxima (shield armor is 0 in StarCraft II).
        damage: damage per hit before bonus; ``hits`` hits per attack (zealot, colossus: 2).
        bonus: ``(attribute, extra damage)`` or None ("armored", "light").
        cooldown: seconds between attacks (game seconds); 0 for units that do not attack.
        range: weapon range, edge to edge (for a medivac: its heal range).
        speed: map units per game second.
        radius: collision radius.
        light, armored, biological, air, static, cliff_walk, massive: attributes.
        heal_rate: hp per game second a medivac restores (energy cost 1 per ``hp_per_energy`` hp).
        energy_max, energy_start, energy_regen: medivac energy (per game second for the regen).
        regen: passive hp regeneration per game second (zergling).
        splash: "line" (colossus thermal lances), "radius" (baneling explosion) or None.
        splash_radius: radius of the baneling explosion, half-width of the colossus line.
        suicide: the unit dies when it attacks (baneling).
    """

    name: str
    race: str
    health: float
    shield: float
    armor: float
    damage: float
    hits: int
    bonus: Optional[Tuple[str, float]]
    cooldown: float
    range: float
    speed: float
    radius: float
    light: bool = False
    armored: bool = False
    biological: bool = False
    air: bool = False
    static: bool = False
    cliff_walk: bool = False
    massive: bool = False
    heal_rate: float = 0.0
    hp_per_energy: float = 3.0
    energy_max: float = 0.0
    energy_start: float = 0.0
    energy_regen: float = 0.0
    regen: float = 0.0
    splash: Optional[str] = None
    splash_radius: float = 0.0
    suicide: bool = False

    @property
    def cooldown_loops(self) -> float:
        """Weapon cooldown in game loops (16 per game second)."""
        return self.cooldown * LOOPS_PER_SECOND

    @property
    def max_cooldown(self) -> float:
        """SMAC's normalising constant for the global state (spec section 4)."""
        return MAX_COOLDOWN[self.name]

    @property
    def can_attack(self) -> bool:
        return self.damage > 0

    @property
    def is_healer(self) -> bool:
        return self.heal_rate > 0

    def damage_against(self, other: "UnitType") -> float:
        """Damage of one hit against ``other`` before armor (base + attribute bonus)."""
        dmg = self.damage
        if self.bonus is not None:
            attr, extra = self.bonus
            if getattr(other, attr):
                dmg += extra
        return dmg

    def can_hit(self, other: "UnitType") -> bool:
        """Whether this unit's weapon can hit ``other`` (only the marine's weapon hits air here)."""
        if not self.can_attack:
            return False
        if other.air:
            return self.name in ("marine", "hydralisk", "stalker")
        return True


UNIT_TYPES: Dict[str, UnitType] = {
    u.name: u
    for u in [
        UnitType("marine", "T", 45, 0, 0, 6, 1, None, 0.86, 5, 2.25, 0.375, light=True, biological=True),
        UnitType("marauder", "T", 125, 0, 1, 10, 1, ("armored", 10), 1.5, 6, 2.25, 0.5625,
                 armored=True, biological=True),
        UnitType("medivac", "T", 150, 0, 1, 0, 0, None, 0.0, 4, 2.5, 0.75, armored=True, air=True,
                 heal_rate=9.0, hp_per_energy=3.0, energy_max=200.0, energy_start=50.0,
                 energy_regen=0.5625),
        UnitType("stalker", "P", 80, 80, 1, 13, 1, ("armored", 5), 1.87, 6, 2.95, 0.625, armored=True),
        UnitType("zealot", "P", 100, 50, 1, 8, 2, None, 1.2, 0.1, 2.25, 0.5, light=True, biological=True),
        UnitType("colossus", "P", 200, 150, 1, 10, 2, ("light", 5), 1.5, 7, 2.25, 1.0, armored=True,
                 cliff_walk=True, massive=True, splash="line", splash_radius=0.5),
        UnitType("hydralisk", "Z", 90, 0, 0, 12, 1, None, 0.83, 5, 2.25, 0.625, light=True,
                 biological=True),
        UnitType("zergling", "Z", 35, 0, 0, 5, 1, None, 0.7, 0.1, 2.95, 0.375, light=True,
                 biological=True, regen=0.27),
        UnitType("baneling", "Z", 30, 0, 0, 16, 1, ("light", 19), 0.0, 0.25, 2.5, 0.375,
                 biological=True, splash="radius", splash_radius=2.2, suicide=True),
        UnitType("spinecrawler", "Z", 300, 0, 2, 25, 1, ("armored", 5), 1.85, 7, 0.0, 1.0,
                 armored=True, static=True),
    ]
}


def get_unit_type(name: str) -> UnitType:
    """Look a unit type up by name; unknown names raise ``ValueError`` listing the valid ones."""
    try:
        return UNIT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown unit type {name!r}; valid: {sorted(UNIT_TYPES)}") from None
