"""One plotting style for the whole course.

:func:`use` sets matplotlib's defaults so that every figure is readable at 100% zoom in a stored
notebook: 100 dpi, text of 9 pt or more, a colour-blind-safe palette (Okabe & Ito, 2008) as the colour
cycle, light grids. The plotting helpers of ``course_lib`` call it, and every notebook calls it once in
its set-up cell::

    from course_lib import style
    style.use()

Colours: :data:`PALETTE` (the cycle, in order), :data:`ALLY` / :data:`ENEMY` for the two teams of a
battle, :data:`METHOD_COLOURS` so a method keeps its colour from notebook to notebook.
Axis labels name the quantity and its unit, e.g. :data:`LABELS` ``["env_steps"] = "env steps"``,
``["test_win_rate"] = "greedy test win rate (fraction of battles)"``; :func:`unlabelled_axes` finds the
axes of a figure that lack one (the tests use it).
"""
from __future__ import annotations

from typing import Dict, List

__all__ = ["use", "PALETTE", "ALLY", "ENEMY", "HEAL", "SHIELD", "METHOD_COLOURS", "LABELS", "RC",
           "unlabelled_axes", "MIN_FONT_PT", "DPI", "DIVERGING"]

#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
PALETTE: List[str] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
ALLY, ENEMY = "#0072B2", "#D55E00"          # blue and vermillion
HEAL, SHIELD = "#009E73", "#56B4E9"          # bluish green, sky blue
METHOD_COLOURS: Dict[str, str] = {"iql": PALETTE[0], "vdn": PALETTE[1], "qmix": PALETTE[2], "qtran": PALETTE[3],
                                  "random": "#7f7f7f"}
#: Diverging colour map for signed tables (payoffs, Q-values): red negative, blue positive, no red-green.
DIVERGING = "RdBu"
DPI = 100
MIN_FONT_PT = 9.0

#: Axis labels with units for the columns of ``Run.curves``.
LABELS: Dict[str, str] = {
    "env_steps": "env steps",
    "episodes": "episodes",
    "test_win_rate": "greedy test win rate (fraction of battles)",
    "train_win_rate": "training win rate (fraction of battles)",
    "test_return": "greedy test return (reward units)",
    "train_return": "training return (reward units)",
    "loss": "TD loss (squared reward units)",
    "epsilon": "epsilon (probability)",
    "wall_time": "wall time (s)",
}

RC = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (6.4, 4.0),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 12,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use() -> None:
    """Apply the course style to matplotlib (idempotent, cheap: call it as often as you like)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)


def unlabelled_axes(fig) -> List[str]:
    """Descriptions of the visible, non-image axes of ``fig`` with an empty x or y label.

    Colour bars and axes with no ticks (pictures, diagrams) are skipped.
    """
    bad = []
    for i, ax in enumerate(fig.get_axes()):
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        if not ax.get_xticks().size and not ax.get_yticks().size:
            continue
        xlabel = ax.get_xlabel() or any(o.get_xlabel() for o in ax.get_shared_x_axes().get_siblings(ax))
        ylabel = ax.get_ylabel() or any(o.get_ylabel() for o in ax.get_shared_y_axes().get_siblings(ax))
        if not xlabel or not ylabel:
            bad.append(f"axes {i} ({ax.get_title() or 'untitled'}): xlabel={ax.get_xlabel()!r}, "
                       f"ylabel={ax.get_ylabel()!r}")
    return bad
