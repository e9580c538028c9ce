"""Learning curves over seeds with confidence bands (notebook 02)."""
from __future__ import annotations

from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = ["bin_by_step", "plot_learning_curves"]


def bin_by_step(df: pd.DataFrame, n_bins: int = 20, y: str = "return", group: str = "algo") -> pd.DataFrame:
    """Put episodes on a common step axis so seeds can be averaged.

    Episodes end at different environment steps in different runs, so each run's episodes are grouped
    into ``n_bins`` equal bins of ``step`` (the bins' right edges become the new ``step``) and ``y`` is
    averaged inside a bin. Returns columns ``[group, "seed", "step", y]``; empty bins are dropped.
    """
    missing = [c for c in (group, "seed", "step", y) if c not in df.columns]
    if missing:
        raise ValueError(f"DataFrame is missing columns {missing}; it has {list(df.columns)}")
    if n_bins <= 0:
        raise ValueError(f"n_bins must be positive, got {n_bins}")
    edges = np.linspace(0, df["step"].max(), n_bins + 1)
    d = df[[group, "seed", "step", y]].copy()
    d["step"] = edges[np.clip(np.searchsorted(edges, d["step"], side="left"), 1, n_bins)].round().astype(int)
    return d.groupby([group, "seed", "step"], as_index=False)[y].mean()


def plot_learning_curves(df: pd.DataFrame, y: str = "return", hue: str = "algo", n_bins: int = 20,
                         ax: Optional[plt.Axes] = None, errorbar=("ci", 95), title: Optional[str] = None) -> plt.Axes:
    """Mean ``y`` over seeds against environment steps, one line per ``hue`` with a confidence band.

    ``df`` is one or more :func:`~course_lib.dqn.train.train_dqn` results concatenated (columns
    ``hue``, ``seed``, ``step``, ``y``). The band is seaborn's bootstrap 95% interval across seeds
    (bootstrap seeded, so the picture is reproducible).
    """
    d = bin_by_step(df, n_bins=n_bins, y=y, group=hue)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(data=d, x="step", y=y, hue=hue, errorbar=errorbar, seed=0, ax=ax)
    n_seeds = df.groupby(hue)["seed"].nunique()
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"episode {y}")
    ax.set_title(title or f"{', '.join(f'{k}: {v} seeds' for k, v in n_seeds.items())}")
    return ax
