"""Plots for value-decomposition runs: learning curves over seeds, a maps x methods grid, QMIX weights."""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch

from . import style

__all__ = ["curves_frame", "plot_learning_curves", "plot_comparison_grid", "plot_qmix_weights"]


def curves_frame(df_or_runs) -> pd.DataFrame:
    """One long DataFrame from a DataFrame, a :class:`~course_lib.train.Run`, a list of Runs/DataFrames,
    or CSV paths. Runs contribute ``alg``, ``map_name`` and ``seed`` columns."""
    if isinstance(df_or_runs, pd.DataFrame):
        return df_or_runs
    items = df_or_runs if isinstance(df_or_runs, (list, tuple)) else [df_or_runs]
    frames = []
    for it in items:
        if isinstance(it, pd.DataFrame):
            frames.append(it)
        elif hasattr(it, "curves"):
            f = it.curves.copy()
            for col, val in (("alg", it.alg), ("map_name", it.map_name), ("seed", it.seed)):
                if col not in f.columns or f[col].isna().all():
                    f[col] = val
            frames.append(f)
        else:
            frames.append(pd.read_csv(it))
    if not frames:
        raise ValueError("no curves given")
    return pd.concat(frames, ignore_index=True)


def _compact_formatter():
    """Tick labels such as ``200k`` and ``1.5M`` so long step counts do not overlap."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if abs(v) >= 1e6:
            return f"{v / 1e6:g}M"
        if abs(v) >= 1e3:
            return f"{v / 1e3:g}k"
        return f"{v:g}"

    return FuncFormatter(fmt)


def plot_learning_curves(df_or_runs, x: str = "env_steps", y: str = "test_win_rate", hue: Optional[str] = "alg",
                         ax=None, title: Optional[str] = None, errorbar=("ci", 95), bin_size: Optional[int] = None):
    """Mean over seeds with a confidence band (seaborn ``lineplot``).

    Seeds are evaluated at slightly different env steps (episodes end at different times), so x is
    rounded to ``bin_size`` (default: the median gap between evaluations) before averaging.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    style.use()
    df = curves_frame(df_or_runs).copy()
    for col in (x, y) + ((hue,) if hue else ()):
        if col not in df.columns:
            raise ValueError(f"column {col!r} not in the curves; columns: {list(df.columns)}")
    if bin_size is None and x == "env_steps" and len(df) > 1:
        keys = [c for c in ("alg", "map_name", "seed") if c in df.columns]
        if keys:
            gaps = df.groupby(keys)[x].apply(lambda s: s.sort_values().diff().median()).to_numpy(dtype=float)
        else:
            gaps = df[x].sort_values().diff().to_numpy(dtype=float)
        med = np.nanmedian(gaps) if np.isfinite(gaps).any() else float("nan")
        bin_size = int(med) if np.isfinite(med) and med > 0 else None
    if bin_size:
        df[x] = (df[x] / bin_size).round() * bin_size
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    palette = None
    if hue == "alg" and set(df[hue].dropna().unique()) <= set(style.METHOD_COLOURS):
        palette = {a: style.METHOD_COLOURS[a] for a in df[hue].dropna().unique()}
    sns.lineplot(data=df, x=x, y=y, hue=hue, errorbar=errorbar, ax=ax, palette=palette)
    ax.set_xlabel(style.LABELS.get(x, x.replace("_", " ")))
    ax.set_ylabel(style.LABELS.get(y, y.replace("_", " ")))
    if x in ("env_steps", "episodes"):
        ax.xaxis.set_major_formatter(_compact_formatter())
    if y.endswith("win_rate"):
        ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax


def plot_comparison_grid(df, maps: Sequence[str], algs: Optional[Sequence[str]] = None, x: str = "env_steps",
                         y: str = "test_win_rate", col_wrap: int = 3):
    """One panel per map, one line (mean and band over seeds) per algorithm. Returns the figure."""
    import matplotlib.pyplot as plt

    style.use()
    df = curves_frame(df)
    if "map_name" not in df.columns:
        raise ValueError("the curves need a 'map_name' column")
    missing = [m for m in maps if m not in set(df["map_name"])]
    if missing:
        raise ValueError(f"no curves for maps {missing}; maps present: {sorted(set(df['map_name']))}")
    if algs is not None:
        df = df[df["alg"].isin(list(algs))]
    n = len(maps)
    ncols = min(col_wrap, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 3.5 * nrows), squeeze=False, sharey=True)
    for ax, m in zip(axes.flat, maps):
        plot_learning_curves(df[df["map_name"] == m], x=x, y=y, hue="alg", ax=ax, title=m)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_qmix_weights(mixer, state: torch.Tensor, agent_names: Optional[List[str]] = None, axes=None):
    """Heatmap of ``|W1|`` (agents x mixing units) and the bar of ``w2`` for one state.

    Args:
        mixer: a :class:`~course_lib.mixers.qmix.QMixer`.
        state: ``[S]`` (or ``[1, S]``) global state.
    Returns:
        the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    style.use()
    if not hasattr(mixer, "mixing_weights"):
        raise TypeError(f"plot_qmix_weights needs a QMixer, got {type(mixer).__name__}")
    s = state.reshape(-1, mixer.state_dim)[:1].to(next(mixer.parameters()).device).float()
    with torch.no_grad():
        w = mixer.mixing_weights(s)
    w1 = w["w1"][0].cpu().numpy()  # [N, E]
    w2 = w["w2"][0].cpu().numpy()  # [E]
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(8, 4), gridspec_kw={"height_ratios": [mixer.n_agents, 1.5]})
    else:
        fig = axes[0].figure
    names = agent_names or [f"agent {i}" for i in range(mixer.n_agents)]
    sns.heatmap(w1, ax=axes[0], cmap="viridis", yticklabels=names, xticklabels=False,
                cbar_kws={"label": "|W1|"})
    axes[0].set_title(f"QMIX first-layer weights |W1| (>= 0), V(s) = {float(w['v'][0]):.2f}")
    sns.heatmap(w2[None, :], ax=axes[1], cmap="viridis", yticklabels=["w2"], xticklabels=False,
                cbar_kws={"label": "|w2|"})
    axes[1].set_xlabel("mixing unit (index)")
    axes[0].set_ylabel("agent")
    fig.tight_layout()
    return fig
