"""Replay files of simulated SMAC battles: write, read (validated) and turn back into renderer snapshots.

``StarCraft2Env.save_replay()`` writes one; :func:`save_replay` writes episodes recorded with
``course_lib.envs.smac.render.record_episode``; :func:`load_replay` gives one episode back as the list of
snapshots that ``render.animate`` / ``render.replay_widget`` play::

    path = env.save_replay()                               # replays/3m_2026-11-30_13-05-00.npz
    from course_lib.envs.smac import render
    render.animate(render.load_replay(path, episode=-1))   # the last episode

Format (``REPLAY_FORMAT``, version ``REPLAY_VERSION`` = 1): one compressed NumPy archive (``.npz``, read
with ``allow_pickle=False``: opening a replay never runs code). ``U = n_agents + n_enemies`` units, allies
first; ``F`` frames in all, the episodes one after the other (each starts with its reset frame):

==================  ==============  ===================================================================
key                 shape, dtype    meaning
==================  ==============  ===================================================================
``format``          ``()`` str      ``"course_lib.smac_replay"``
``version``         ``()`` int64    1 (files from a newer version are refused with a clear message)
``map_name``        ``()`` str      the SMAC map
``width, height``   ``()`` int64    map size in map units
``n_agents``        ``()`` int64    ``N``; ``n_enemies`` likewise ``E``
``pathing``         ``[H, W]`` bool walkable cells
``unit_type``       ``[U]`` str     unit type names (``"marine"``, ...)
``team``            ``[U]`` int64   0 ally, 1 enemy
``radius``          ``[U]`` float32 unit radii
``health_max``      ``[U]`` float32 maximal health; ``shield_max`` likewise
``episode_lengths`` ``[n_ep]`` int64 frames of each episode (steps + 1), sum ``F``
``t``               ``[F]`` int32   step of the episode (0 = after reset)
``pos``             ``[F, U, 2]``   float32 positions (x, y); dead units keep their last position
``health``          ``[F, U]``      float32 health; ``shield`` likewise
``alive``           ``[F, U]`` bool
``target``          ``[F, U]``      int32 unit attacked or healed during the step leading to the frame, or -1
``actions``         ``[F, N]``      int32 the agents' actions of that step (-1 on a reset frame)
==================  ==============  ===================================================================
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np

__all__ = ["REPLAY_FORMAT", "REPLAY_VERSION", "save_replay", "write_replay", "read_replay", "load_replay",
           "replay_episodes"]

REPLAY_FORMAT = "course_lib.smac_replay"
REPLAY_VERSION = 1

_STATIC = {"pathing": (bool, None), "unit_type": (str, ("U",)), "team": (np.int64, ("U",)),
           "radius": (np.float32, ("U",)), "health_max": (np.float32, ("U",)),
           "shield_max": (np.float32, ("U",))}
_FRAMES = {"t": (np.int32, ("F",)), "pos": (np.float32, ("F", "U", 2)), "health": (np.float32, ("F", "U")),
           "shield": (np.float32, ("F", "U")), "alive": (bool, ("F", "U")), "target": (np.int32, ("F", "U")),
           "actions": (np.int32, ("F", "N"))}
_SCALARS = ("format", "version", "map_name", "width", "height", "n_agents", "n_enemies", "episode_lengths")
PathLike = Union[str, Path]


def write_replay(path: PathLike, static: Dict, frames: Dict, episode_lengths: Sequence[int]) -> Path:
    """Write a replay from arrays (the building block of :func:`save_replay` and ``StarCraft2Env``).

    Args:
        static: ``map_name, width, height, n_agents, n_enemies, pathing, unit_type, team, radius,
            health_max, shield_max`` (as in a snapshot).
        frames: ``t [F], pos [F, U, 2], health, shield, alive, target [F, U], actions [F, N]``.
        episode_lengths: frames per episode (each >= 1), summing to ``F``.
    Returns the path written (parents are created).
    """
    lengths = np.asarray(list(episode_lengths), dtype=np.int64)
    data = {"format": np.array(REPLAY_FORMAT), "version": np.array(REPLAY_VERSION, dtype=np.int64),
            "map_name": np.array(str(static["map_name"])), "episode_lengths": lengths}
    for k in ("width", "height", "n_agents", "n_enemies"):
        data[k] = np.array(int(static[k]), dtype=np.int64)
    for k, (dt, _) in _STATIC.items():
        data[k] = np.asarray(static[k]).astype(dt)
    for k, (dt, _) in _FRAMES.items():
        data[k] = np.asarray(frames[k]).astype(dt)
    _check(data, "the replay to write")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "wb") as f:
        np.savez_compressed(f, **data)
    return p


def save_replay(path: PathLike, episodes: Sequence[Sequence[dict]]) -> Path:
    """Write episodes of snapshots (each a list as returned by ``render.record_episode``) to ``path``.

    A single episode (a list of snapshot dicts) is accepted too. Every snapshot must come from the same map.
    """
    eps = list(episodes)
    if eps and isinstance(eps[0], dict):
        eps = [eps]
    if not eps or any(len(e) == 0 for e in eps):
        raise ValueError("save_replay needs at least one episode, each with at least one snapshot "
                         "(render.record_episode returns one episode)")
    first = eps[0][0]
    snaps = [s for e in eps for s in e]
    maps = {s.get("map_name") for s in snaps}
    if len(maps) != 1:
        raise ValueError(f"all snapshots of a replay must come from one map, got {sorted(map(str, maps))}")

    def arr(s, k):
        v = s[k]
        return v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)

    static = {k: first[k] for k in ("map_name", "width", "height", "n_agents", "n_enemies")}
    static.update({k: arr(first, k) for k in _STATIC if k != "unit_type"})
    static["unit_type"] = np.asarray([str(u) for u in first["unit_type"]])
    frames = {"t": [int(s["t"]) for s in snaps],
              "pos": np.stack([arr(s, "pos") for s in snaps]),
              "health": np.stack([arr(s, "health") for s in snaps]),
              "shield": np.stack([arr(s, "shield") for s in snaps]),
              "alive": np.stack([arr(s, "alive") for s in snaps]),
              "target": np.stack([arr(s, "target") for s in snaps]),
              "actions": np.stack([arr(s, "last_actions") for s in snaps])}
    return write_replay(path, static, frames, [len(e) for e in eps])


def _check(data: Dict, where: str) -> None:
    """Validate keys, dtypes and shapes; raise ``ValueError`` naming ``where`` and the problem."""
    missing = [k for k in list(_SCALARS) + list(_STATIC) + list(_FRAMES) if k not in data]
    if missing:
        raise ValueError(f"{where} is not a complete course_lib replay: missing {missing}")
    fmt = str(data["format"])
    if fmt != REPLAY_FORMAT:
        raise ValueError(f"{where} has format {fmt!r}, expected {REPLAY_FORMAT!r}")
    version = int(data["version"])
    if version > REPLAY_VERSION or version < 1:
        raise ValueError(f"{where} is replay format version {version}; this course_lib reads versions "
                         f"1..{REPLAY_VERSION} (update course_lib to read newer replays)")
    N, E = int(data["n_agents"]), int(data["n_enemies"])
    lengths = np.asarray(data["episode_lengths"])
    F = int(np.asarray(data["t"]).shape[0]) if np.ndim(data["t"]) == 1 else -1
    sizes = {"U": N + E, "N": N, "F": F}
    if lengths.ndim != 1 or len(lengths) == 0 or (lengths < 1).any() or int(lengths.sum()) != F:
        raise ValueError(f"{where}: episode_lengths {lengths.tolist()} must be >= 1 each and sum to the "
                         f"{F} frames")
    H, W = int(data["height"]), int(data["width"])
    if np.shape(data["pathing"]) != (H, W):
        raise ValueError(f"{where}: pathing has shape {np.shape(data['pathing'])}, expected ({H}, {W})")
    for table in (_STATIC, _FRAMES):
        for k, (dt, dims) in table.items():
            if dims is None:
                continue
            want = tuple(sizes[d] if isinstance(d, str) else d for d in dims)
            if np.shape(data[k]) != want:
                raise ValueError(f"{where}: {k!r} has shape {np.shape(data[k])}, expected {want} "
                                 f"(U = {N + E} units, N = {N} agents, F = {F} frames)")


def read_replay(path: PathLike) -> Dict[str, np.ndarray]:
    """Read and validate a replay file; returns its arrays (keys of the format table).

    Raises ``FileNotFoundError`` (no such file) or ``ValueError`` naming the file and what is wrong (not a
    ``.npz`` archive, another format, a newer version, missing keys, inconsistent shapes).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no replay file at {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{p} is not a course_lib replay (a compressed NumPy .npz archive written by "
                         f"save_replay): {exc}") from None
    _check(data, str(p))
    return data


def replay_episodes(data: Dict[str, np.ndarray]) -> List[List[dict]]:
    """All episodes of a replay read by :func:`read_replay`, each a list of renderer snapshots."""
    starts = np.concatenate([[0], np.cumsum(data["episode_lengths"])])
    unit_type = [str(u) for u in data["unit_type"]]
    N, E = int(data["n_agents"]), int(data["n_enemies"])
    static = {"map_name": str(data["map_name"]), "width": int(data["width"]), "height": int(data["height"]),
              "pathing": data["pathing"], "n_agents": N, "n_enemies": E, "team": data["team"],
              "radius": data["radius"], "health_max": data["health_max"], "shield_max": data["shield_max"]}
    out = []
    for e in range(len(starts) - 1):
        eps = []
        for f in range(int(starts[e]), int(starts[e + 1])):
            s = dict(static)
            s.update({"t": int(data["t"][f]), "unit_type": list(unit_type), "pos": data["pos"][f],
                      "health": data["health"][f], "shield": data["shield"][f], "alive": data["alive"][f],
                      "target": data["target"][f].astype(np.int64),
                      "last_actions": data["actions"][f].astype(np.int64)})
            eps.append(s)
        out.append(eps)
    return out


def load_replay(path: PathLike, episode: int = -1) -> List[dict]:
    """One episode of a replay file as the list of snapshots ``render.animate`` plays.

    Args:
        episode: index of the episode (default ``-1``: the last one; negative indices count from the end).
    """
    data = read_replay(path)
    n = len(data["episode_lengths"])
    if isinstance(episode, bool) or not isinstance(episode, (int, np.integer)) or not -n <= episode < n:
        raise ValueError(f"episode must be an int in [{-n}, {n}) for {path} ({n} episodes), got {episode!r}")
    return replay_episodes(data)[int(episode)]
