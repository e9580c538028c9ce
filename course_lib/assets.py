"""Saved full-length learning curves in ``assets/curves/`` (written by ``benchmarks/learning.py``).

One CSV per run, named ``<alg>_<map>_seed<k>.csv`` (for example ``qmix_2s3z_seed1.csv``), with the columns
of :attr:`course_lib.train.Run.curves` (``env_steps, episodes, test_win_rate, test_return, loss, epsilon,
wall_time``, ...). The notebooks show them next to their own short live runs:

- :func:`list_saved_curves` says which runs exist;
- :func:`load_curves` reads the matching ones into one DataFrame with ``alg``, ``map_name`` and ``seed``
  columns (taken from the file names), or raises ``FileNotFoundError`` listing what exists;
- :func:`plot_saved_curves` plots them, or prints a short note and returns ``None`` when they have not been
  made yet (so a notebook cell never crashes on a fresh clone).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

__all__ = ["CURVES_DIR", "MAKE_CURVES_COMMAND", "list_saved_curves", "load_curves", "plot_saved_curves",
           "compare_at_steps"]

CURVES_DIR = Path(__file__).resolve().parents[1] / "assets" / "curves"
MAKE_CURVES_COMMAND = "python benchmarks/learning.py"
# alg names have no underscore (iql, vdn, qmix, qtran); map names may (5m_vs_6m).
_NAME_RE = re.compile(r"^(?P<alg>[A-Za-z0-9]+)_(?P<map>.+)_seed(?P<seed>\d+)\.csv$")
_REQUIRED = ("env_steps", "test_win_rate")

Names = Optional[Union[str, Iterable[str]]]


def _as_set(value: Names, what: str) -> Optional[set]:
    """None -> None (no filter); a string -> {string}; an iterable of strings -> a set."""
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{what} must be None, a string or a list of strings, got {value!r}") from None
    if not items or not all(isinstance(v, str) for v in items):
        raise TypeError(f"{what} must be None, a string or a non-empty list of strings, got {value!r}")
    return set(items)


def _directory(directory: Optional[Union[str, Path]]) -> Path:
    return Path(directory) if directory is not None else CURVES_DIR


def list_saved_curves(directory: Optional[Union[str, Path]] = None) -> pd.DataFrame:
    """The saved runs: one row per CSV with columns ``alg, map_name, seed, path`` (sorted).

    Files whose names do not follow ``<alg>_<map>_seed<k>.csv`` are ignored. A missing folder gives an
    empty table.
    """
    d = _directory(directory)
    rows = []
    if d.is_dir():
        for p in sorted(d.glob("*.csv")):
            m = _NAME_RE.match(p.name)
            if m:
                rows.append({"alg": m["alg"].lower(), "map_name": m["map"], "seed": int(m["seed"]), "path": p})
    out = pd.DataFrame(rows, columns=["alg", "map_name", "seed", "path"])
    return out.sort_values(["map_name", "alg", "seed"], ignore_index=True)


def _describe(available: pd.DataFrame) -> str:
    if available.empty:
        return "none"
    parts = []
    for (m, a), g in available.groupby(["map_name", "alg"], sort=True):
        parts.append(f"{a} on {m} (seeds {', '.join(str(s) for s in sorted(g['seed']))})")
    return "; ".join(parts)


def _select(alg: Names, map_name: Names, directory):
    """(matching rows of list_saved_curves, all rows, folder, a description of what was asked for)."""
    algs, maps = _as_set(alg, "alg"), _as_set(map_name, "map_name")
    d = _directory(directory)
    available = list_saved_curves(d)
    sel = available
    if algs is not None:
        sel = sel[sel["alg"].isin({a.lower() for a in algs})]
    if maps is not None:
        sel = sel[sel["map_name"].isin(maps)]
    want = (f"alg={sorted(algs) if algs is not None else 'any'}, "
            f"map_name={sorted(maps) if maps is not None else 'any'}")
    return sel, available, d, want


def load_curves(alg: Names = None, map_name: Names = None,
                directory: Optional[Union[str, Path]] = None) -> pd.DataFrame:
    """Read the saved curves of ``alg`` on ``map_name`` (each a name, a list of names, or None for all).

    Returns:
        One long DataFrame: the CSV columns plus ``alg``, ``map_name`` and ``seed`` (from the file name),
        sorted by ``alg, map_name, seed, env_steps``.
    Raises:
        FileNotFoundError: no saved run matches; the message lists the runs that exist and the command
            that makes them.
        ValueError: a matching file lacks the ``env_steps`` / ``test_win_rate`` columns.
    """
    sel, available, d, want = _select(alg, map_name, directory)
    if sel.empty:
        raise FileNotFoundError(
            f"no saved learning curves for {want} in {d}. Available: {_describe(available)}. "
            f"Make them with `{MAKE_CURVES_COMMAND}` (from the repository root).")
    frames = []
    for row in sel.itertuples(index=False):
        df = pd.read_csv(row.path)
        missing = [c for c in _REQUIRED if c not in df.columns]
        if missing:
            raise ValueError(f"{row.path} lacks the column(s) {missing}; expected the columns of Run.curves, "
                             f"got {list(df.columns)}")
        df["alg"], df["map_name"], df["seed"] = row.alg, row.map_name, int(row.seed)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["alg", "map_name", "seed", "env_steps"], ignore_index=True)


def plot_saved_curves(alg: Names = None, map_name: Names = None, y: str = "test_win_rate",
                      directory: Optional[Union[str, Path]] = None, maps_order: Optional[Sequence[str]] = None):
    """Plot the saved curves (mean over seeds with a 95% band), one panel per map.

    Returns the matplotlib ``Figure``, or ``None`` after printing
    ``saved curves not found: run `python benchmarks/learning.py` ...`` when nothing matches (the curves
    are made once by the benchmark; a fresh clone may not have them yet).
    """
    sel, available, _, want = _select(alg, map_name, directory)
    if sel.empty:
        print(f"saved curves not found: run `{MAKE_CURVES_COMMAND}` from the repository root to make them "
              f"(hours on a CPU). Asked for {want}; available: {_describe(available)}.")
        return None
    df = load_curves(alg, map_name, directory)
    import matplotlib.pyplot as plt

    from .plotting import plot_comparison_grid, plot_learning_curves

    present = list(dict.fromkeys(df["map_name"]))
    maps: List[str] = [m for m in (maps_order or present) if m in present]
    if len(maps) == 1:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        n_seeds = df.groupby("alg")["seed"].nunique().max()
        plot_learning_curves(df, y=y, ax=ax, title=f"{maps[0]}: saved curves ({n_seeds} seed(s) per method)")
    else:
        fig = plot_comparison_grid(df, maps=maps, y=y)
    for ax in fig.get_axes():
        for m, note in CURVE_NOTES.items():
            if ax.get_title() == m or ax.get_title().startswith(f"{m}:"):
                ax.set_title(f"{ax.get_title()}\n({note})")
    fig.tight_layout()
    return fig


def compare_at_steps(curves: pd.DataFrame, steps: Sequence[int], y: str = "test_win_rate",
                     window: int = 3) -> pd.DataFrame:
    """Methods side by side at equal env steps: mean over seeds of each seed's last ``window`` evaluations at or
    before each budget in ``steps``.

    Args:
        curves: long curves (``alg, seed, env_steps`` and ``y`` columns), e.g. from :func:`load_curves`.
        steps: the budgets (env steps) to compare at.
        y: the column to compare (default the greedy test win rate).
        window: evaluations averaged per seed (one evaluation of 32 battles is noisy).
    Returns:
        A DataFrame indexed by ``alg`` with one column per budget holding ``"mean ± std (n seeds)"`` strings,
        and ``"not reached"`` where some seed's run stopped more than one evaluation interval before that budget
        (a method is compared only where all its seeds got there).
    Raises:
        ValueError: ``steps`` empty or not positive, ``window`` < 1, or a required column missing.
    """
    steps = [int(s) for s in steps]
    if not steps or min(steps) <= 0:
        raise ValueError(f"steps must be a non-empty list of positive env-step budgets, got {steps}")
    if int(window) < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    missing = [c for c in ("alg", "seed", "env_steps", y) if c not in curves.columns]
    if missing:
        raise ValueError(f"curves lack the column(s) {missing}; got {list(curves.columns)}")
    table: Dict[str, Dict[str, str]] = {}
    for alg, g in curves.groupby("alg", sort=False):
        row: Dict[str, str] = {}
        for budget in steps:
            vals = []
            for _, gs in g.groupby("seed"):
                gs = gs.sort_values("env_steps")
                interval = float(gs["env_steps"].diff().median()) if len(gs) > 1 else 0.0
                if gs["env_steps"].max() < budget - interval:
                    vals = None
                    break
                vals.append(float(gs.loc[gs["env_steps"] <= budget, y].iloc[-int(window):].mean()))
            key = f"{budget:,} steps"
            if vals is None:
                row[key] = "not reached"
            else:
                arr = np.asarray(vals)
                row[key] = f"{arr.mean():.2f} ± {arr.std():.2f} ({len(arr)})"
        table[str(alg)] = row
    return pd.DataFrame(table).T.rename_axis("alg")


#: Caveats printed under a map's panel by :func:`plot_saved_curves` (see ``assets/curves/README.md``).
CURVE_NOTES = {
    "2s3z": "saved before the simulator's collision change",
}
