"""Movement, collisions, routing and damage arithmetic of the simulator (batched, no loops over units).

All functions work on a batch of ``B`` environments with ``U = n_agents + n_enemies`` units (allies
first). ``C`` is the environment's table of per-unit constants (see ``BatchedSMAC._build_constants``).

Rules (StarCraft II, spec section 7; where the spec is silent, the choice is stated):

- Time: one environment step = ``step_mul`` game loops (8 = 0.5 game s). Everything happens once per
  step: orders are read from the state at the start of the step; units move (at most
  ``speed * step_mul / 16``) while ground units that overlapped at the start of the step are pushed
  apart; then every unit whose target is alive and within weapon range *after* moving and whose remaining
  cooldown expires within the step fires once. No unit can fire twice in a step (shortest cooldown
  0.7 s = 11.2 loops > 8); the remaining cooldown is tracked exactly in loops (after a shot
  ``cd <- cd + cooldown - step_mul``), so the long-run rate of fire equals the statistics and a duel ends
  in the step the statistics imply. Shots are instantaneous (no projectile flight or attack wind-up) and
  simultaneous: two marines can kill each other in the same step.
- Reach: a unit attacking (or healing) a target walks straight at it until the edge-to-edge distance is
  ``range - 0.05``; it fires when the distance is ``<= range``.
- Collisions between living *ground* units (air units never collide; a massive colossus steps over
  the other ground units, as in StarCraft II, and collides only with colossi; a static spine crawler is
  never pushed, the other unit takes the whole push): ground units that overlap at the start of the step
  are pushed apart by half the overlap each while they move (:func:`push_apart`); after the moves, two
  passes of :func:`separate` settle the overlaps the moves created, the unit that moved further giving
  way. Crowds of melee units therefore form around their target (measured: the mean nearest-neighbour
  distance of zerglings swarming two colossi is 0.7 radius sums, it was 0.5 with the start-of-step pass
  alone), which sets how many can attack at once and how many a splash hits.
- Bounds and walls: positions stay inside the map; on layouts with walls a ground unit that would end in
  an unwalkable cell slides along the wall (keeps the x or the y part of its move) or stays. Orders that
  move toward a point (attack, heal, the enemy AI) are routed around walls by descending the geodesic
  distance field of :func:`course_lib.envs.smac.terrain.geodesic_table`; compass moves go straight.
  Colossi (cliff walk) and air units ignore walls.
- Damage of one hit: base + attribute bonus. Shields absorb first (no armor on shields); what passes
  to the hull is reduced by armor, at least 0.5 per hit. Multi-hit attacks (zealot, colossus x2) are
  separate hits. When several hits land on one shielded unit in the same step we apply them as if
  they came in sequence with equal damage each (exact when they are equal, the usual case).
- Splash: a colossus hits every enemy ground unit whose centre lies within 1.4 of its target across
  the line of fire and whose circle touches a 0.2-thick beam through the target, perpendicular to the
  line of fire (thermal lances sweep a short line; about 3-4 zerglings of a clump); a baneling
  explodes when within 0.25 of its target (edge to edge) and hits every enemy ground unit whose edge is
  within 2.2 of its centre, then dies. No friendly fire.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

__all__ = ["norm2", "pairwise", "push_apart", "separation_shares", "separate", "route_directions", "fix_walls",
           "apply_damage_round"]


def norm2(v: torch.Tensor) -> torch.Tensor:
    """Length of vectors stored as x and y rows: ``v: [B, 2, ...] -> [B, ...]`` (``hypot``; PyTorch's
    ``vector_norm`` over a non-innermost dimension is orders of magnitude slower on the CPU)."""
    x, y = v.unbind(1)
    return torch.hypot(x, y)


def pairwise(pos: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``pos: [B, 2, U]`` (x and y rows) -> ``off: [B, 2, U, U]`` (``off[:, :, u, v] = pos[v] - pos[u]``,
    the offset from u to v) and ``dist: [B, U, U]``."""
    off = pos.unsqueeze(2) - pos.unsqueeze(3)
    return off, norm2(off)


def push_apart(off: torch.Tensor, dist: torch.Tensor, C, share: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Displacement ``[B, 2, U]`` that separates overlapping ground units (one pass).

    ``off, dist`` from :func:`pairwise` (dead units are far away, so they never overlap);
    ``C.rsum: [U, U]`` sums of radii; ``share: [U, U]`` or ``[B, U, U]`` the share of an overlap that unit
    ``u`` takes, by default ``C.push_w`` (0.5 between two mobile units, 1 against a static one, 0 on the
    diagonal and for air units).
    """
    share = C.push_w if share is None else share
    ov = (C.rsum - dist).clamp_(min=0.0).mul_(share).div_(dist.clamp(min=1e-6))
    return -(off * ov.unsqueeze(1)).sum(-1)


def separation_shares(alive: torch.Tensor, moved: torch.Tensor, C) -> torch.Tensor:
    """``[B, U, U]``: the share of the overlap of ``u`` and ``v`` that ``u`` takes in :func:`separate`:
    ``moved_u / (moved_u + moved_v)`` (a little more than zero for units that stood still, zero for static
    units), zero for pairs that do not collide and for dead units. ``alive, moved: [B, U]``."""
    alive_f = alive.to(moved.dtype)
    m = (moved + 1e-3) * C.mobile * alive_f                              # [B, U]
    mi = m.unsqueeze(2)
    share = mi / (mi + m.unsqueeze(1)).clamp(min=1e-9)
    return share * C.collide_f * alive_f.unsqueeze(1)


def separate(pos: torch.Tensor, share: torch.Tensor, C) -> torch.Tensor:
    """Displacement ``[B, 2, U]`` that separates the ground units overlapping after this step's moves.

    ``pos: [B, 2, U]`` positions after moving; ``share`` from :func:`separation_shares`. The unit that
    moved further gives way: units arriving at a crowd make room around those already standing and
    fighting there, so melee units end up around their target instead of on top of each other, and a
    splash hits the crowd StarCraft II would form.
    """
    off, dist = pairwise(pos)
    return push_apart(off, dist, C, share)


def _cells(p: torch.Tensor, C) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cell index ``y * W + x`` (clamped) and in-bounds flag of points ``p: [B, 2, ...]``."""
    x, y = p.unbind(1)
    inb = (x >= 0) & (y >= 0) & (x < C.width) & (y < C.height)
    cx = x.floor().long().clamp_(0, C.width - 1)
    cy = y.floor().long().clamp_(0, C.height - 1)
    return cy * C.width + cx, inb


def route_directions(pos: torch.Tensor, goal_vec: torch.Tensor, length: torch.Tensor, C) -> torch.Tensor:
    """Direction of one step toward ``pos + goal_vec`` that goes around walls.

    ``pos, goal_vec: [B, 2, U]``, ``length: [B, U]``. Candidates: the straight direction and the 8
    compass directions, each advanced by ``length`` (at least 0.5); the candidate whose cell is walkable
    and nearest to the goal's cell along the geodesic table wins (the straight direction wins ties, with a
    0.5 bonus). Returns unit vectors ``[B, 2, U]``.
    """
    B, _, U = pos.shape
    g = norm2(goal_vec).clamp(min=1e-6)[:, None]
    straight = goal_vec / g
    dirs = torch.cat([straight[..., None], C.compass8.expand(B, 2, U, 8)], dim=-1)     # [B, 2, U, 9]
    cand = pos[..., None] + dirs * length.clamp(min=0.5)[:, None, :, None]
    cell, inb = _cells(cand, C)                                                         # [B, U, 9]
    goal_cell, _ = _cells(pos + goal_vec, C)                                            # [B, U]
    score = C.geo_flat[cell * C.n_cells + goal_cell[..., None]]
    score = score + (~inb).to(score.dtype) * 1e5 + C.straight_bonus
    best = score.argmin(dim=-1)
    return dirs.gather(3, best[:, None, :, None].expand(B, 2, U, 1)).squeeze(-1)


def fix_walls(new: torch.Tensor, old: torch.Tensor, C) -> torch.Tensor:
    """Keep ground units out of unwalkable cells: try the move, its x part, its y part, else stay.

    ``new, old: [B, 2, U]``.
    """
    free = C.walk_free  # [U] long: 0 = ground grid, n_cells = ignores walls (colossus, air)

    def ok(p):
        cell, inb = _cells(p, C)
        return (inb & C.walk_flat[cell + free])[:, None, :]

    xonly = torch.stack([new[:, 0], old[:, 1]], dim=1)
    yonly = torch.stack([old[:, 0], new[:, 1]], dim=1)
    out = torch.where(ok(yonly), yonly, old)
    out = torch.where(ok(xonly), xonly, out)
    return torch.where(ok(new), new, out)


def apply_damage_round(raw: torch.Tensor, count: torch.Tensor, shield: torch.Tensor,
                       armor: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Damage of one round of hits on shielded units.

    Args:
        raw: ``[B, U]`` total raw damage (before armor) landing on each unit this round.
        count: ``[B, U]`` number of hits landing on each unit.
        shield: ``[B, U]`` current shields.
        armor: ``[U]`` hull armor.
    Returns:
        ``(shield_loss, hull_loss)`` both ``[B, U]``: shields absorb first; the overflow reaches the
        hull reduced by ``armor`` for each hit that (partly) passed the shield, at least 0.5 per hit.
    """
    absorb = torch.minimum(shield, raw)
    over = raw - absorb
    mean_hit = raw / count.clamp(min=1.0)
    full = torch.floor(shield / mean_hit.clamp(min=1e-6))
    n_over = (count - full).clamp(min=1.0)
    hull = torch.maximum(over - armor * n_over, 0.5 * n_over)
    hull = torch.where(over > 0, hull, torch.zeros_like(hull))
    return absorb, hull
