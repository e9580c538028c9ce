"""Pathing grids of the map layouts, and the geodesic distance table used to route around walls.

A layout is a :class:`Terrain`: a ``[height, width]`` boolean grid ``pathing`` (``pathing[y, x]`` is
True where a ground unit may stand; one cell = one map unit, as SMAC's pathing grid), a terrain-height
map in [0, 1] (for ``obs_terrain_height``) and, for non-open layouts, an all-pairs geodesic distance
table over cells (8-connected, octile steps, no corner cutting) that the movement code descends to
route units around walls. The real maps' terrain is not in SMAC's code; these are our equivalents
(see :mod:`course_lib.envs.smac.maps` for which map uses which):

- ``open``: everything inside the map bounds is walkable (height 0.5).
- ``corridor``: left room x 2-12, y 6-26; corridor x 12-20, y 14-18; right room x 20-30, y 2-30.
- ``ravine``: a cliff band x 15-17, y 4-28 that ground units cannot cross (colossi can: cliff walk);
  the band is higher ground (height 0.75).
- ``pentagon`` / ``octagon``: cells whose centre lies inside a regular polygon around the map centre.

Unwalkable cells have height 1.0 (high ground walls).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Terrain", "get_terrain", "geodesic_table", "TERRAIN_KINDS"]

TERRAIN_KINDS = ("open", "corridor", "ravine", "pentagon", "octagon")


@dataclass(frozen=True)
class Terrain:
    """A map layout.

    Attributes:
        kind: one of ``TERRAIN_KINDS``.
        width, height: map size (cells).
        pathing: ``[height, width]`` bool, True = walkable by ground units.
        height_map: ``[height, width]`` float32 terrain height in [0, 1].
        is_open: True when every cell is walkable (movement needs no routing).
    """

    kind: str
    width: int
    height: int
    pathing: np.ndarray
    height_map: np.ndarray

    @property
    def is_open(self) -> bool:
        return bool(self.pathing.all())


def _polygon_mask(width: int, height: int, n_sides: int, radius: float, rotation: float) -> np.ndarray:
    """Cells whose centre lies inside a regular polygon centred on the map (``[height, width]``)."""
    cx, cy = width / 2.0, height / 2.0
    angles = rotation + 2 * math.pi * np.arange(n_sides) / n_sides
    vx, vy = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
    ys, xs = np.mgrid[0:height, 0:width]
    px, py = xs + 0.5, ys + 0.5
    inside = np.ones((height, width), dtype=bool)
    for k in range(n_sides):  # convex polygon, counter-clockwise vertices: left of every edge
        x0, y0, x1, y1 = vx[k], vy[k], vx[(k + 1) % n_sides], vy[(k + 1) % n_sides]
        inside &= (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0) >= 0
    return inside


@functools.lru_cache(maxsize=None)
def get_terrain(kind: str, width: int = 32, height: int = 32) -> Terrain:
    """Build (once, cached) the layout ``kind`` of size ``width x height``."""
    if kind not in TERRAIN_KINDS:
        raise ValueError(f"unknown terrain kind {kind!r}; valid: {TERRAIN_KINDS}")
    grid = np.zeros((height, width), dtype=bool)
    hmap = np.full((height, width), 0.5, dtype=np.float32)
    if kind == "open":
        grid[:] = True
    elif kind == "corridor":
        grid[6:26, 2:12] = True    # left room   (rows = y, columns = x)
        grid[14:18, 12:20] = True  # corridor
        grid[2:30, 20:30] = True   # right room
    elif kind == "ravine":
        grid[:] = True
        grid[4:28, 15:17] = False  # cliff band: colossi walk over it
        hmap[4:28, 15:17] = 0.75
    elif kind == "pentagon":
        grid = _polygon_mask(width, height, 5, 15.0, math.pi)  # a vertex points west
    elif kind == "octagon":
        grid = _polygon_mask(width, height, 8, 15.5, math.pi / 8)
    if kind != "ravine":
        hmap[~grid] = 1.0
    grid.setflags(write=False)
    hmap.setflags(write=False)
    return Terrain(kind, width, height, grid, hmap)


@functools.lru_cache(maxsize=None)
def geodesic_table(kind: str, width: int = 32, height: int = 32) -> np.ndarray:
    """All-pairs shortest walking distance between cells, ``[C, C]`` float32 with ``C = width*height``.

    Cell index ``c = y * width + x``. Moves go to the 8 neighbours (cost 1 or sqrt 2); a diagonal step
    needs both orthogonal neighbours walkable (no corner cutting). Unreachable pairs and unwalkable
    cells get ``1e4``. Built once per layout with SciPy's Dijkstra (well under a second for 32 x 32).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    terrain = get_terrain(kind, width, height)
    walk = terrain.pathing
    n = width * height
    rows, cols, costs = [], [], []
    idx = np.arange(n).reshape(height, width)
    for dy, dx in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        cost = math.sqrt(2.0) if dx and dy else 1.0
        y0, y1 = max(0, -dy), height - max(0, dy)
        x0, x1 = max(0, -dx), width - max(0, dx)
        a = walk[y0:y1, x0:x1]
        b = walk[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
        ok = a & b
        if dx and dy:  # no corner cutting
            ok &= walk[y0 + dy:y1 + dy, x0:x1] & walk[y0:y1, x0 + dx:x1 + dx]
        src = idx[y0:y1, x0:x1][ok]
        dst = idx[y0 + dy:y1 + dy, x0 + dx:x1 + dx][ok]
        rows += [src, dst]
        cols += [dst, src]
        costs += [np.full(src.size, cost)] * 2
    graph = coo_matrix((np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n, n)).tocsr()
    dist = shortest_path(graph, method="D", directed=False)
    dist[~np.isfinite(dist)] = 1e4
    flat = walk.reshape(-1)
    dist[~flat, :] = 1e4
    dist[:, ~flat] = 1e4
    out = dist.astype(np.float32)
    out.setflags(write=False)
    return out
