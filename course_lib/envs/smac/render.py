"""Drawing SMAC battles: one frame, a frame as an image, an episode as an animation or a slider.

Everything works from a *snapshot*, the plain dict returned by ``env.snapshot(env_index)``
(``BatchedSMAC``) or ``env.snapshot()`` (``StarCraft2Env``)::

    {"map_name", "t", "width", "height", "pathing": bool [H, W] (True = walkable),
     "n_agents", "n_enemies", "pos": [U, 2] (allies first), "team": [U] (0 ally, 1 enemy),
     "unit_type": list[str], "radius": [U], "health": [U], "health_max": [U], "shield": [U],
     "shield_max": [U], "alive": [U] bool, "target": [U] (unit attacked/healed last step, or -1),
     "last_actions": [N]}

Arrays may be NumPy arrays, tensors (any device) or lists.

- :func:`render_frame` draws units as circles sized by their type's radius (all scaled by one factor so
  the smallest unit stays visible when the camera is far out; blue allies, vermillion enemies, from
  :mod:`course_lib.style`), a letter for the unit type, a health bar (and a shield bar for Protoss),
  dead units as faded crosses, attack lines from attacker to target (heals in green), unwalkable terrain
  shaded, and a legend under the picture.
- :func:`frame_to_array` returns the picture as an ``[H, W, 3]`` uint8 image.
- :func:`record_episode` plays one episode with a policy and collects snapshots.
- :func:`animate` replays them as an **animated GIF embedded in the notebook** (an ``<img>`` with a
  ``data:`` URL: it plays offline, in JupyterLab, VS Code, nbviewer, GitHub and exported HTML, and needs
  nothing from the internet); ``fmt="jshtml"`` gives matplotlib's JavaScript player instead.
  :func:`replay_widget` (an ipywidgets slider) needs a live kernel.
- A trained policy plays with ``record_episode(env, run.as_policy(env))`` (:meth:`course_lib.train.Run.as_policy`).
- :func:`load_replay` reads an episode of a replay file (``StarCraft2Env.save_replay()``,
  :mod:`course_lib.envs.smac.replay`) as snapshots for them: ``animate(load_replay(path))``.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from .replay import load_replay

__all__ = ["render_frame", "frame_to_array", "record_episode", "animate", "replay_widget", "auto_view", "follow_views",
           "load_replay", "UNIT_LETTERS", "TEAM_COLOURS"]

from course_lib import style as _style

TEAM_COLOURS = {0: _style.ALLY, 1: _style.ENEMY}  # allies blue, enemies vermillion (colour-blind safe)
HEAL_COLOUR = _style.HEAL
SHIELD_COLOUR = _style.SHIELD
TERRAIN_COLOUR = "#6b6b6b"
#: A unit is drawn at least this fraction of the view's width in radius (all units scaled together).
MIN_DRAWN_RADIUS = 0.018

#: Letter drawn inside each unit (lower case for the small Terran/Zerg units).
UNIT_LETTERS = {
    "marine": "m", "marauder": "M", "medivac": "+", "stalker": "S", "zealot": "Z", "colossus": "C",
    "hydralisk": "H", "zergling": "z", "baneling": "b", "spinecrawler": "SC",
}

_REQUIRED = ("width", "height", "pos", "team", "unit_type", "radius", "health", "health_max", "alive")


def _np(x, dtype=None) -> np.ndarray:
    """NumPy copy of a tensor (any device), array or list."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _norm_type(name) -> str:
    return str(name).lower().replace("_", "").replace(" ", "").replace("-", "")


def _letter(name) -> str:
    key = _norm_type(name)
    return UNIT_LETTERS.get(key, key[:1].upper() or "?")


def _validate(snapshot) -> Dict:
    if not isinstance(snapshot, dict):
        raise TypeError(f"snapshot must be the dict returned by env.snapshot(), got {type(snapshot).__name__}")
    missing = [k for k in _REQUIRED if k not in snapshot]
    if missing:
        raise KeyError(f"snapshot lacks key(s) {missing}; expected the dict returned by env.snapshot() "
                       f"with keys {list(_REQUIRED)} (+ pathing, shield, shield_max, target, map_name, t)")
    s = dict(snapshot)
    s["pos"] = _np(s["pos"], float).reshape(-1, 2)
    U = len(s["pos"])
    for k, dt in (("team", int), ("radius", float), ("health", float), ("health_max", float), ("alive", bool)):
        s[k] = _np(s[k], dt).reshape(-1)
        if len(s[k]) != U:
            raise ValueError(f"snapshot[{k!r}] has {len(s[k])} entries but snapshot['pos'] has {U} units")
    s["shield"] = _np(s.get("shield", np.zeros(U)), float).reshape(-1)
    s["shield_max"] = _np(s.get("shield_max", np.zeros(U)), float).reshape(-1)
    s["target"] = _np(s.get("target", -np.ones(U)), int).reshape(-1)
    if len(s["unit_type"]) != U:
        raise ValueError(f"snapshot['unit_type'] has {len(s['unit_type'])} entries, expected {U}")
    return s


def auto_view(snapshots, margin: float = 3.0, min_span: float = 10.0, alive_only: bool = False):
    """A square window ``(x0, x1, y0, y1)`` around every unit of the given snapshot(s), inside the map.

    SMAC arenas are large compared with the units, so frames zoom on the fight by default.
    ``alive_only`` ignores dead units (falls back to all units when none is alive).
    """
    snaps = [snapshots] if isinstance(snapshots, dict) else list(snapshots)
    W, H = float(snaps[0]["width"]), float(snaps[0]["height"])
    chunks = []
    for s in snaps:
        p = _np(s["pos"], float).reshape(-1, 2)
        if alive_only and "alive" in s:
            live = _np(s["alive"], bool).reshape(-1)
            if live.any():
                p = p[live]
        chunks.append(p)
    pts = np.concatenate(chunks)
    if len(pts) == 0:
        return (0.0, W, 0.0, H)
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    span = min(max(float((hi - lo).max()), min_span), max(W, H))
    c = (lo + hi) / 2
    x0 = float(np.clip(c[0] - span / 2, 0, max(W - span, 0)))
    y0 = float(np.clip(c[1] - span / 2, 0, max(H - span, 0)))
    return (x0, min(x0 + span, W), y0, min(y0 + span, H))


def _draw(ax, snapshot, show_title: bool = True, show_letters: bool = True, view=None,
          show_legend: bool = False) -> None:
    """Draw one snapshot on ``ax`` (cleared by the caller); ``view = (x0, x1, y0, y1)`` or None (whole map)."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Circle, Rectangle

    s = _validate(snapshot)
    W, H = float(s["width"]), float(s["height"])
    x0, x1, y0, y1 = view if view is not None else (0.0, W, 0.0, H)
    span = max(x1 - x0, y1 - y0)
    fig_w_in = ax.get_position().width * ax.figure.get_figwidth()
    pts_per_unit = fig_w_in * 72.0 / max(x1 - x0, 1e-6)
    pos, team, rad, alive = s["pos"], s["team"], s["radius"], s["alive"]
    # One zoom factor for every unit: sizes keep the ratios of the unit types, the smallest stays visible.
    smallest = float(rad[rad > 0].min()) if (rad > 0).any() else 0.5
    rad = np.maximum(rad, 0.1) * max(1.0, MIN_DRAWN_RADIUS * span / max(smallest, 1e-6))
    hp_frac = np.clip(np.divide(s["health"], s["health_max"], out=np.zeros_like(s["health"]),
                                where=s["health_max"] > 0), 0, 1)
    sh_frac = np.clip(np.divide(s["shield"], s["shield_max"], out=np.zeros_like(s["shield"]),
                                where=s["shield_max"] > 0), 0, 1)

    # Terrain: unwalkable cells shaded.
    ax.set_facecolor("#f4f1e8")
    if s.get("pathing") is not None:
        walk = _np(s["pathing"], bool)
        if walk.ndim == 2 and (~walk).any():
            ax.imshow((~walk).astype(float), cmap=ListedColormap([(0, 0, 0, 0), TERRAIN_COLOUR]), vmin=0, vmax=1,
                      origin="lower", extent=(0, W, 0, H), interpolation="nearest", zorder=0)

    # Attack / heal lines (drawn under the units).
    segs, cols = [], []
    for u in np.flatnonzero(alive & (s["target"] >= 0)):
        v = int(s["target"][u])
        if v >= len(pos):
            continue
        segs.append([pos[u], pos[v]])
        cols.append(HEAL_COLOUR if team[u] == team[v] else TEAM_COLOURS.get(int(team[u]), "k"))
    if segs:
        ax.add_collection(LineCollection(segs, colors=cols, linewidths=1.6, alpha=0.8, zorder=1))
        tgt = np.array([seg[1] for seg in segs])
        ax.scatter(tgt[:, 0], tgt[:, 1], s=10, c=cols, zorder=1)

    # Living units: circles, letters, bars.
    live = np.flatnonzero(alive)
    circles = [Circle(tuple(pos[u]), max(float(rad[u]), 0.1)) for u in live]
    if circles:
        pc = PatchCollection(circles, facecolors=[TEAM_COLOURS.get(int(team[u]), "grey") for u in live],
                             edgecolors="black", linewidths=0.6, alpha=0.9, zorder=2)
        ax.add_collection(pc)
    bars = []
    bar_h = 0.012 * span
    for u in live:
        x, y, r = pos[u, 0], pos[u, 1], max(float(rad[u]), 0.1)
        w = max(2 * r, 0.8)
        yb = y + r + 0.5 * bar_h
        bars.append(Rectangle((x - w / 2, yb), w, bar_h, facecolor="#d9d9d9", edgecolor="none"))
        c = "#009E73" if hp_frac[u] > 0.5 else ("#E69F00" if hp_frac[u] > 0.25 else "#CC0000")
        bars.append(Rectangle((x - w / 2, yb), w * hp_frac[u], bar_h, facecolor=c, edgecolor="none"))
        if s["shield_max"][u] > 0:
            ys = yb + bar_h * 1.15
            bars.append(Rectangle((x - w / 2, ys), w, bar_h, facecolor="#d9d9d9", edgecolor="none"))
            bars.append(Rectangle((x - w / 2, ys), w * sh_frac[u], bar_h, facecolor=SHIELD_COLOUR,
                                  edgecolor="none"))
        if show_letters:
            fs = 1.1 * r * pts_per_unit / max(len(_letter(s["unit_type"][u])), 1) ** 0.5
            if fs >= 3.5:
                ax.text(x, y, _letter(s["unit_type"][u]), ha="center", va="center", color="white",
                        fontsize=min(fs, 11.0), fontweight="bold", zorder=3)
    if bars:
        ax.add_collection(PatchCollection(bars, match_original=True, zorder=3))

    # Dead units: faded crosses.
    dead = np.flatnonzero(~alive)
    if len(dead):
        ax.scatter(pos[dead, 0], pos[dead, 1], marker="x", s=max(10.0, min(60.0, (0.8 * pts_per_unit) ** 2)), linewidths=1.2, alpha=0.35, zorder=1,
                   c=[TEAM_COLOURS.get(int(team[u]), "grey") for u in dead])

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if show_title:
        n_al = int(((team == 0) & alive).sum())
        n_en = int(((team == 1) & alive).sum())
        tot_al, tot_en = int((team == 0).sum()), int((team == 1).sum())
        ax.set_title(f"{s.get('map_name', 'SMAC')}  step {s.get('t', '?')}\n"
                     f"allies {n_al}/{tot_al} (blue)   enemies {n_en}/{tot_en} (orange)", fontsize=10)
    if show_legend:
        _legend(ax, s)


def _legend(ax, s) -> None:
    """Legend under the axes: teams, unit letters present, attack/heal lines, bars, dead units."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=TEAM_COLOURS[0], edgecolor="black", label="ally (agent)"),
               Patch(facecolor=TEAM_COLOURS[1], edgecolor="black", label="enemy (built-in AI)"),
               Line2D([], [], color=TEAM_COLOURS[0], lw=1.6, label="attack (from shooter)"),
               Line2D([], [], color=HEAL_COLOUR, lw=1.6, label="heal"),
               Patch(facecolor="#009E73", label="health bar"),
               Line2D([], [], color="grey", marker="x", ls="none", label="dead")]
    if (s["shield_max"] > 0).any():
        handles.insert(5, Patch(facecolor=SHIELD_COLOUR, label="shield bar"))
    types = list(dict.fromkeys(str(t) for t in s["unit_type"]))
    letters = ", ".join(f"{_letter(t)} = {_norm_type(t)}" for t in types)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, fontsize=9,
              frameon=False, title=f"units: {letters}", title_fontsize=9, handlelength=1.5,
              columnspacing=1.0)


def _resolve_view(snapshots, view):
    """``"auto"`` -> :func:`auto_view` of the snapshot(s); ``"full"``/None -> the whole map; else a 4-tuple."""
    first = snapshots if isinstance(snapshots, dict) else (snapshots[0] if len(snapshots) else None)
    if not isinstance(first, dict):
        raise TypeError(f"expected the dict returned by env.snapshot() (or a list of them), "
                        f"got {type(snapshots).__name__}")
    if "width" not in first or "height" not in first:
        _validate(first)  # raises the KeyError that lists the expected keys
    if view is None or (isinstance(view, str) and view == "full"):
        return (0.0, float(first["width"]), 0.0, float(first["height"]))
    if isinstance(view, str) and view == "auto":
        return auto_view(snapshots)
    v = tuple(float(x) for x in view)
    if len(v) != 4 or v[1] <= v[0] or v[3] <= v[2]:
        raise ValueError(f"view must be 'auto', 'full' or (x0, x1, y0, y1) with x0 < x1 and y0 < y1, got {view!r}")
    return v


def _figsize(view, size: float, legend: bool = False):
    w, h = view[1] - view[0], view[3] - view[2]
    ratio = h / w if w > 0 else 1.0
    extra = _LEGEND_INCHES if legend else 0.0
    if ratio >= 1:
        return (max(size / ratio + 0.2, 4.6 if legend else 0.0), size + 0.6 + extra)
    return (max(size + 0.2, 4.6 if legend else 0.0), size * ratio + 0.7 + extra)


_LEGEND_INCHES = 1.0


def _layout(fig, legend: bool) -> None:
    """Margins: title on top, legend (if any) below the picture."""
    h = fig.get_figheight()
    bottom = (_LEGEND_INCHES + 0.05) / h if legend else 0.03
    fig.subplots_adjust(left=0.03, right=0.97, bottom=bottom, top=1 - 0.55 / h)


def render_frame(snapshot, ax=None, size: float = 4.0, dpi: int = 100, view="auto", show_letters: bool = True,
                 legend: Optional[bool] = None):
    """Draw one snapshot and return the matplotlib ``Figure``.

    Args:
        snapshot: dict from ``env.snapshot()`` (see the module docstring).
        ax: draw on this ``Axes``; otherwise a new ``size``-inch figure at ``dpi`` is made. A new figure
            is closed in pyplot, so in a notebook it appears exactly once (as the cell's value or via
            ``display(fig)``) and does not pile up in memory.
        view: ``"auto"`` zooms on the units (:func:`auto_view`), ``"full"`` shows the whole map, or
            ``(x0, x1, y0, y1)`` in map units.
        show_letters: write the unit-type letter (:data:`UNIT_LETTERS`) in each circle.
        legend: draw the legend under the picture (default: only on a new figure, not on a given ``ax``).
    """
    import matplotlib.pyplot as plt

    v = _resolve_view(snapshot, view)
    if legend is None:
        legend = ax is None
    if ax is None:
        fig, ax = plt.subplots(figsize=_figsize(v, size, legend), dpi=dpi)
        plt.close(fig)
        _layout(fig, legend)
    else:
        fig = ax.figure
    _draw(ax, snapshot, show_letters=show_letters, view=v, show_legend=legend)
    return fig


def frame_to_array(snapshot, size: float = 4.0, dpi: int = 100, view="auto", legend: bool = False) -> np.ndarray:
    """The rendered frame as an RGB image ``[H, W, 3]`` uint8 (no pyplot state is touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    v = _resolve_view(snapshot, view)
    fig = Figure(figsize=_figsize(v, size, legend), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    _layout(fig, legend)
    _draw(fig.add_subplot(1, 1, 1), snapshot, view=v, show_legend=legend)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


# ----------------------------------------------------------------------------- playing an episode
def _is_batched(env) -> bool:
    return hasattr(env, "n_envs") and hasattr(env, "step") and not hasattr(env, "get_avail_agent_actions")


def _resolve_policy(env, policy, seed: int):
    """Turn ``policy`` into ``fn(avail: BoolTensor[B, N, A]) -> LongTensor[B, N]``."""
    import torch

    if isinstance(policy, str):
        from course_lib.envs.smac import policies as P

        if policy == "random":
            gen = torch.Generator().manual_seed(int(seed))

            def fn(avail):
                return P.random_policy(avail.cpu(), gen).to(avail.device)

            return fn
        if policy in ("focus_fire", "focus-fire"):
            batched = getattr(env, "batched", env)  # the facade wraps a BatchedSMAC with n_envs=1
            return lambda avail: P.focus_fire_policy(batched)
        raise ValueError(f"unknown policy {policy!r}; use 'random', 'focus_fire' or a callable "
                         "policy(avail: BoolTensor[B, N, n_actions]) -> LongTensor[B, N]")
    if not callable(policy):
        raise TypeError(f"policy must be a callable or 'random'/'focus_fire', got {type(policy).__name__}")
    return policy


def record_episode(env, policy: Union[str, Callable] = "random", env_index: int = 0,
                   max_steps: Optional[int] = None, seed: int = 0) -> List[dict]:
    """Play one episode and return its snapshots (the reset state first, the final state last).

    Args:
        env: a ``StarCraft2Env`` facade or a ``BatchedSMAC``. The environment is reset first. For a
            batched environment the episode of ``env_index`` is recorded (the others step along; with
            ``auto_reset`` temporarily switched off so the final frame can be captured, finished
            environments other than ``env_index`` are restarted as usual).
        policy: ``"random"`` (uniform over available actions, seeded by ``seed``), ``"focus_fire"``
            (``course_lib.envs.smac.policies.focus_fire_policy``) or a callable
            ``policy(avail: BoolTensor[B, N, n_actions]) -> LongTensor[B, N]`` (for the facade
            ``B = 1``; a NumPy array or a nested list of ints is accepted as well).
        max_steps: stop after this many steps even if the episode is not over.

    Returns:
        ``list[dict]`` of snapshots, ``len = steps + 1``.
    """
    import torch

    if max_steps is not None and (not isinstance(max_steps, (int, np.integer)) or max_steps < 0):
        raise ValueError(f"max_steps must be a non-negative integer or None, got {max_steps!r}")
    if not hasattr(env, "snapshot"):
        raise TypeError(f"{type(env).__name__} has no snapshot(): record_episode needs the course simulator "
                        "(StarCraft2Env or BatchedSMAC); the real game has its own replays (save_replay)")
    fn = _resolve_policy(env, policy, seed)
    limit = max_steps if max_steps is not None else int(getattr(env, "episode_limit", 10_000))
    if _is_batched(env):
        if not (0 <= env_index < env.n_envs):
            raise ValueError(f"env_index must be in [0, {env.n_envs}), got {env_index}")
        saved_auto = getattr(env, "auto_reset", None)
        if saved_auto is not None:
            env.auto_reset = False
        try:
            nxt = env.reset()
            snaps = [env.snapshot(env_index)]
            for _ in range(limit):
                acts = torch.as_tensor(fn(nxt["avail"]), dtype=torch.long, device=nxt["avail"].device)
                nxt, _, term, _ = env.step(acts)
                snaps.append(env.snapshot(env_index))
                if bool(term[env_index]):
                    break
                if saved_auto is not None and bool(term.any()):
                    nxt = env.reset(term)
        finally:
            if saved_auto is not None:
                env.auto_reset = saved_auto
        if saved_auto:
            env.reset()  # leave the environment ready to step, as an auto-reset env always is
        return snaps
    # Facade (numpy API).
    env.reset()
    snaps = [env.snapshot()]
    for _ in range(limit):
        avail = torch.as_tensor(np.asarray(env.get_avail_actions()), dtype=torch.bool).unsqueeze(0)
        acts = fn(avail)
        acts = _np(acts).reshape(-1).astype(int).tolist()
        _, terminated, _ = env.step(acts)
        snaps.append(env.snapshot())
        if terminated:
            break
    return snaps


# ----------------------------------------------------------------------------- replays
def _subsample(snapshots: Sequence[dict], max_frames: Optional[int]) -> List[dict]:
    snaps = list(snapshots)
    if not snaps:
        raise ValueError("snapshots is empty: record an episode first (record_episode)")
    if max_frames is not None and len(snaps) > max_frames:
        if max_frames < 2:
            raise ValueError(f"max_frames must be >= 2, got {max_frames}")
        idx = np.unique(np.linspace(0, len(snaps) - 1, max_frames).round().astype(int))
        snaps = [snaps[i] for i in idx]  # keeps the first and the last frame
    return snaps


def follow_views(snapshots: Sequence[dict], window: int = 4, margin: float = 2.5, min_span: float = 9.0):
    """A camera that follows the fight: for frame ``i`` the square window around the living units of frames
    ``i - window .. i + window`` (smoothing the zoom), so the units fill the picture as they close in."""
    snaps = list(snapshots)
    return [auto_view(snaps[max(0, i - window): i + window + 1], margin=margin, min_span=min_span, alive_only=True)
            for i in range(len(snaps))]


def animate(snapshots: Sequence[dict], interval: int = 200, size: float = 4.0, dpi: int = 90,
            max_frames: Optional[int] = 80, view="follow", fmt: str = "gif", legend: bool = True,
            overlay: Optional[Callable] = None):
    """Replay an episode inside a notebook; returns an ``IPython.display.HTML``.

    Args:
        interval: milliseconds per frame.
        max_frames: keep at most this many frames (evenly spaced, first and last kept) so the
            notebook stays light; ``None`` keeps all.
        view: ``"follow"`` (default): a camera that follows the living units (:func:`follow_views`);
            ``"auto"``: one fixed window covering every frame's units; ``"full"`` or ``(x0, x1, y0, y1)``.
        fmt: ``"gif"`` (default): an animated GIF inlined as ``<img src="data:image/gif;base64,...">``,
            which plays wherever the notebook is viewed, offline included, and loops after a pause on the
            last frame. ``"jshtml"``: matplotlib's JavaScript player (play/pause/step buttons; its icons
            are drawn as plain text here so they need no web font).
        legend: draw the legend under the picture.
        overlay: optional ``overlay(ax, snapshot)`` called after each frame is drawn, to add marks of your
            own (ACORM's cluster rings: :func:`course_lib.viz.acorm.animate_clusters`).
    """
    import base64
    import io

    from IPython.display import HTML
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if fmt not in ("gif", "jshtml"):
        raise ValueError(f"fmt must be 'gif' or 'jshtml', got {fmt!r}")
    if not isinstance(interval, (int, np.integer)) or interval <= 0:
        raise ValueError(f"interval must be a positive number of milliseconds, got {interval!r}")
    snaps = _subsample(snapshots, max_frames)
    if isinstance(view, str) and view == "follow":
        views = follow_views(snaps)
        v = views[0]
    else:
        v = _resolve_view(snaps, view)
        views = [v] * len(snaps)
    fig = Figure(figsize=_figsize(v, size, legend), dpi=dpi)
    FigureCanvasAgg(fig)
    _layout(fig, legend)
    ax = fig.add_subplot(1, 1, 1)

    if fmt == "jshtml":
        from matplotlib.animation import FuncAnimation

        def update(i):
            ax.clear()
            _draw(ax, snaps[i], view=views[i], show_legend=legend)
            if overlay is not None:
                overlay(ax, snaps[i])
            return []

        anim = FuncAnimation(fig, update, frames=len(snaps), interval=interval, blit=False)
        return HTML(_offline_jshtml(anim.to_jshtml(default_mode="once")))

    from PIL import Image

    frames = []
    for snap, frame_view in zip(snaps, views):
        ax.clear()
        _draw(ax, snap, view=frame_view, show_legend=legend)
        if overlay is not None:
            overlay(ax, snap)
        fig.canvas.draw()
        rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
        frames.append(Image.fromarray(rgb).quantize(colors=64, method=Image.Quantize.MEDIANCUT))
    durations = [int(interval)] * len(frames)
    durations[-1] = max(int(interval), 1500)  # rest on the outcome before looping
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=True, disposal=1)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    title = f"{snaps[0].get('map_name', 'SMAC')}: {len(snaps)} frames"
    return HTML(f'<img src="data:image/gif;base64,{data}" alt="{title}" title="{title}" '
                f'style="max-width: 100%; image-rendering: auto;"/>')


_ICON_TEXT = {"fa-minus": "&minus;", "fa-plus": "+", "fa-fast-backward": "|&#9664;&#9664;",
              "fa-step-backward": "|&#9664;", "fa-play": "&#9654;", "fa-pause": "&#10074;&#10074;",
              "fa-step-forward": "&#9654;|", "fa-fast-forward": "&#9654;&#9654;|"}


def _offline_jshtml(html: str) -> str:
    """matplotlib's player draws its buttons with Font Awesome icons from a CDN: put text glyphs in them and
    drop the web-font link, so the player works offline."""
    import re

    html = re.sub(r'<link[^>]+font-awesome[^>]*>', "", html)
    html = html.replace('<i class="fa fa-play fa-flip-horizontal"></i>', "&#9664;")  # play backwards
    for cls, glyph in _ICON_TEXT.items():
        html = html.replace(f'<i class="fa {cls}"></i>', glyph)
    return html


def replay_widget(snapshots: Sequence[dict], size: float = 4.0, dpi: int = 90, interval: int = 200,
                  view="auto"):
    """An ipywidgets player: a Play button and a slider over the frames, images drawn on demand.

    Returns an ``ipywidgets.VBox`` (display it as a cell's value; it needs a live kernel). Its
    ``frame_png(i)`` gives frame ``i`` as PNG bytes.
    """
    import io

    import ipywidgets as widgets
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    snaps = _subsample(snapshots, None)
    v = _resolve_view(snaps, view)
    cache: Dict[int, bytes] = {}

    def png(i: int) -> bytes:
        if i not in cache:
            fig = Figure(figsize=_figsize(v, size, True), dpi=dpi)
            FigureCanvasAgg(fig)
            _layout(fig, True)
            _draw(fig.add_subplot(1, 1, 1), snaps[i], view=v, show_legend=True)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            cache[i] = buf.getvalue()
        return cache[i]

    image = widgets.Image(value=png(0), format="png")
    slider = widgets.IntSlider(value=0, min=0, max=len(snaps) - 1, step=1, description="step")
    play = widgets.Play(value=0, min=0, max=len(snaps) - 1, step=1, interval=interval)
    widgets.jslink((play, "value"), (slider, "value"))

    def on_change(change):
        image.value = png(int(change["new"]))

    slider.observe(on_change, names="value")
    box = widgets.VBox([widgets.HBox([play, slider]), image])
    box.frame_png = png
    box.slider = slider
    box.image = image
    return box
