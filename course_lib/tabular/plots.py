"""Pictures for tabular Q-learning: value heatmaps with greedy-policy arrows and sensitivity plots."""
from __future__ import annotations

from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .gridworld import ACTION_ARROWS, GridWorld

__all__ = ["plot_value_heatmap", "plot_sensitivity_curves", "plot_sensitivity_summary"]


def plot_value_heatmap(Q: np.ndarray, env: GridWorld, ax: Optional[plt.Axes] = None, title: Optional[str] = None,
                       annotate: bool = False, cmap: str = "viridis") -> plt.Axes:
    """Heatmap of ``V(s) = max_a Q[s, a]`` over the grid with the greedy action drawn as an arrow.

    Args:
        Q: ``[n_states, n_actions]`` table with ``n_states = env.n_rows * env.n_cols``.
        env: the :class:`GridWorld` the table belongs to.
        annotate: also print the value in each cell (small grids only).
    Walls are dark grey; goal (``G``), hole (``H``) and cliff (``C``) cells are labelled and left out of
    the colour scale; cells whose Q-row is still all-equal (never updated) show a dot instead of an arrow.
    """
    Q = np.asarray(Q)
    if Q.shape != (env.n_states, env.n_actions):
        raise ValueError(
            f"Q must have shape (n_states, n_actions) = {(env.n_states, env.n_actions)} for grid world "
            f"{env.name!r}, got {Q.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.55 * env.n_cols + 1.5), max(3, 0.55 * env.n_rows + 0.5)))
    V = Q.max(axis=1).reshape(env.n_rows, env.n_cols)
    special = np.array([[ch in "#GHC" for ch in row] for row in env.layout])
    shown = V[~special]
    vmin, vmax = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    sns.heatmap(V, mask=special, cmap=cmap, vmin=vmin, vmax=vmax, ax=ax, square=True,
                cbar_kws={"label": r"$V(s)=\max_a Q(s,a)$"}, linewidths=0.5, linecolor="white",
                xticklabels=False, yticklabels=False)
    ax.set_facecolor("0.3")  # walls
    colours = plt.get_cmap(cmap)
    badge = {"G": "seagreen", "H": "steelblue", "C": "crimson"}
    for s in range(env.n_states):
        r, c = env.to_cell(s)
        kind = env.layout[r][c]
        if kind == "#":
            continue
        if kind in badge:
            ax.add_patch(plt.Rectangle((c, r), 1, 1, color="0.92", zorder=1))
            ax.text(c + 0.5, r + 0.5, kind, ha="center", va="center", fontsize=10, color="white", fontweight="bold",
                    zorder=2, bbox=dict(boxstyle="round,pad=0.25", fc=badge[kind], ec="none"))
            continue
        label = "·" if np.all(Q[s] == Q[s, 0]) else ACTION_ARROWS[int(np.argmax(Q[s]))]
        if annotate:
            label = f"{label}\n{V[r, c]:.2f}"
        red, green, blue, _ = colours((V[r, c] - vmin) / (vmax - vmin))
        text_colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
        ax.text(c + 0.5, r + 0.5, label, ha="center", va="center", fontsize=9 if annotate else 12,
                color=text_colour, fontweight="bold")
    ax.set_title(title if title is not None else f"{env.name}: greedy policy and value")
    return ax


def _check_columns(df: pd.DataFrame, needed) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"DataFrame is missing columns {missing}; it has {list(df.columns)}")


def plot_sensitivity_curves(df: pd.DataFrame, param: str, y: str = "return", smooth: int = 20,
                            ax: Optional[plt.Axes] = None, errorbar=("ci", 95)) -> plt.Axes:
    """Learning curves for several values of one hyperparameter, mean over seeds with a band.

    ``df`` has one row per training episode with columns ``param`` (the value tried), ``"seed"``,
    ``"episode"`` and ``y``. Each run is first averaged over blocks of ``smooth`` consecutive episodes
    (plotted at the block's last episode), then seaborn averages the runs of one value over seeds.
    """
    _check_columns(df, [param, "seed", "episode", y])
    if smooth <= 0:
        raise ValueError(f"smooth must be a positive number of episodes, got {smooth}")
    d = df[[param, "seed", "episode", y]].copy()
    d["episode"] = (d["episode"] // smooth + 1) * smooth
    d = d.groupby([param, "seed", "episode"], as_index=False)[y].mean()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(data=d, x="episode", y=y, hue=param, palette="viridis", errorbar=errorbar, seed=0, ax=ax)
    ax.set_ylabel(f"{y} (mean of {smooth} episodes)")
    ax.set_title(f"Sensitivity to {param}")
    return ax


def plot_sensitivity_summary(df: pd.DataFrame, param: str, y: str = "return", last_fraction: float = 0.2,
                             ax: Optional[plt.Axes] = None) -> plt.Axes:
    """Mean ``y`` over the last ``last_fraction`` of episodes, against the hyperparameter value (one
    point per value, mean over seeds with a 95% confidence interval). ``last_fraction=1`` averages the
    whole run: the area under the learning curve, which rewards learning fast."""
    _check_columns(df, [param, "seed", "episode", y])
    if not 0.0 < last_fraction <= 1.0:
        raise ValueError(f"last_fraction must be in (0, 1], got {last_fraction}")
    cut = df["episode"].max() * (1.0 - last_fraction)
    d = df[df["episode"] >= cut].groupby([param, "seed"], as_index=False)[y].mean()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.5))
    sns.pointplot(data=d, x=param, y=y, errorbar=("ci", 95), seed=0, ax=ax, color="tab:blue")
    if last_fraction == 1.0:
        ax.set_ylabel(f"mean {y} over all episodes")
        ax.set_title(f"Area under the curve vs {param}")
    else:
        ax.set_ylabel(f"mean {y}, last {int(last_fraction * 100)}% of episodes")
        ax.set_title(f"Final performance vs {param}")
    return ax
