"""Read, summarise and plot the course benchmark that ``benchmarks/suite.py`` writes under ``assets/benchmark/``.

Layout (format :data:`FORMAT`, recorded in ``manifest.json`` and in every ``result.json``)::

    assets/benchmark/
        manifest.json                       command, commit, device, package versions, format, budgets
        summary.csv, summary.md             one row per (map, method), over seeds
        curves.png                          maps x methods grid of learning curves (mean, min-max band over seeds)
        events.jsonl                        one line per result recorded (the suite appends; never rewritten)
        <map>/<method>/seed<k>/
            config.json, curves.csv         written by ``course_lib.train`` while the run trains
            checkpoint.pt                   the run's checkpoint (final one: replay buffer dropped to stay small)
            result.json                     written LAST, atomically: the run is finished iff it exists

A run's numbers (``result.json``): final and best greedy test win rate, env steps and wall time to the first
evaluation at 50% and 80%, parameters (``count_parameters``), the budget it trained for and the documented
full budget of its map and preset (``shortened`` when smaller).

This module only reads; it never trains. The notebook 09 and the README use it.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

__all__ = ["FORMAT", "BenchmarkFormatError", "DEFAULT_ROOT", "atomic_write_text", "atomic_write_bytes",
           "read_result", "load_results", "load_curves", "first_reach", "summarise", "summary_markdown",
           "plot_curves_grid", "check_format", "load_suite", "REPO_ROOT", "README_START", "README_END", "readme_table", "update_readme"]

FORMAT = "marl-course.benchmark/1"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO_ROOT / "assets" / "benchmark"
README_START = "<!-- benchmark-summary:start -->"
README_END = "<!-- benchmark-summary:end -->"
PathLike = Union[str, Path]


class BenchmarkFormatError(RuntimeError):
    """``assets/benchmark`` (or one of its files) was written by an incompatible version of the suite."""


def load_suite():
    """Import ``benchmarks/suite.py`` of this repository as a module (it is a script, not part of the package),
    e.g. to run a small sweep from a notebook: ``load_suite().run_suite(["vdn"], ["3m"], [0], t_max=2000, root=...)``."""
    import importlib.util
    import sys

    path = REPO_ROOT / "benchmarks" / "suite.py"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: load_suite needs the course repository, not only course_lib")
    if "benchmark_suite" in sys.modules:
        return sys.modules["benchmark_suite"]
    spec = importlib.util.spec_from_file_location("benchmark_suite", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["benchmark_suite"] = mod  # dataclasses and Ray's pickling look the module up by name
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------------------------------
# atomic files
# ----------------------------------------------------------------------------------------------------
def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A reader sees either the old file or the whole new one, never a half-written file (also after
    ``kill -9`` or a power cut: the temporary file is fsynced before the rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def atomic_write_text(path: PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# ----------------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------------
def check_format(root: PathLike) -> Optional[Dict[str, Any]]:
    """Return ``manifest.json`` of ``root`` (None when there is none); raise when its format is not ours.

    Raises:
        BenchmarkFormatError: naming the file, the format found and the one this version reads.
    """
    path = Path(root) / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise BenchmarkFormatError(f"{path} is not valid JSON ({exc}); this suite writes format {FORMAT!r}. "
                                   f"Move the folder away or pass another --root; nothing was changed") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT:
        raise BenchmarkFormatError(f"{path} was written in format {found!r}, this version reads and writes "
                                   f"{FORMAT!r}: move the folder away or pass another --root (nothing was changed)")
    return manifest


def read_result(path: PathLike) -> Optional[Dict[str, Any]]:
    """One run's ``result.json``; None when it does not exist. A file of another format raises
    :class:`BenchmarkFormatError`; a file that is not valid JSON (it cannot be a result: results are written
    atomically) raises ``ValueError`` naming it."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        res = json.loads(p.read_text())
    except ValueError as exc:
        raise ValueError(f"{p} is not valid JSON ({exc}); results are written atomically, so this file was "
                         f"not written by the suite: delete it to rerun that run") from None
    if not isinstance(res, dict) or res.get("format") != FORMAT:
        found = res.get("format") if isinstance(res, dict) else None
        raise BenchmarkFormatError(f"{p} has format {found!r}, expected {FORMAT!r}")
    return res


def load_results(root: PathLike = DEFAULT_ROOT) -> pd.DataFrame:
    """Every finished run under ``root`` as one row (columns of ``result.json``), sorted by map, method, seed."""
    root = Path(root)
    check_format(root)
    rows = [read_result(p) for p in sorted(root.glob("*/*/seed*/result.json"))]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    return df.sort_values(["map_name", "method", "seed"], kind="stable").reset_index(drop=True)


def load_curves(root: PathLike = DEFAULT_ROOT, finished_only: bool = True) -> pd.DataFrame:
    """All runs' learning curves in one long DataFrame (``curves.csv`` plus ``method`` and ``seed`` columns)."""
    root = Path(root)
    frames = []
    for csv in sorted(root.glob("*/*/seed*/curves.csv")):
        if finished_only and not (csv.parent / "result.json").exists():
            continue
        f = pd.read_csv(csv)
        f["map_name"] = csv.parent.parent.parent.name
        f["method"] = csv.parent.parent.name
        f["seed"] = int(csv.parent.name[len("seed"):])
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def first_reach(curves: pd.DataFrame, target: float) -> Dict[str, Optional[float]]:
    """Env steps and wall time of the first evaluation with ``test_win_rate >= target`` (None: never)."""
    hit = curves[curves["test_win_rate"] >= target]
    if hit.empty:
        return {"steps": None, "time_s": None}
    row = hit.iloc[0]
    return {"steps": int(row["env_steps"]), "time_s": float(row["wall_time"])}


# ----------------------------------------------------------------------------------------------------
# summary
# ----------------------------------------------------------------------------------------------------
SUMMARY_COLUMNS = ["map_name", "method", "seeds", "final_win_rate", "final_win_rate_std", "best_win_rate",
                   "reached_50", "steps_to_50", "time_to_50_s", "reached_80", "steps_to_80", "time_to_80_s",
                   "parameters", "budget", "full_budget", "shortened", "preset", "device"]


def _median(values: Iterable[Optional[float]]) -> Optional[float]:
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.median(v)) if v else None


def summarise(results: pd.DataFrame, maps: Optional[Sequence[str]] = None,
              methods: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """One row per (map, method) over seeds: mean (and std) final win rate, mean best win rate, how many seeds
    reached 50% / 80% and the median env steps and wall time to get there (over the seeds that did),
    parameters, budget and whether any run was shortened. Rows follow ``maps`` and ``methods`` order."""
    if results is None or len(results) == 0:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    maps = list(maps) if maps is not None else list(dict.fromkeys(results["map_name"]))
    methods = list(methods) if methods is not None else list(dict.fromkeys(results["method"]))
    out = []
    for m in maps:
        for a in methods:
            g = results[(results["map_name"] == m) & (results["method"] == a)]
            if g.empty:
                continue
            out.append({
                "map_name": m, "method": a, "seeds": int(len(g)),
                "final_win_rate": float(g["final_win_rate"].mean()),
                "final_win_rate_std": float(g["final_win_rate"].std(ddof=0)),
                "best_win_rate": float(g["best_win_rate"].mean()),
                "reached_50": int(g["steps_to_50"].notna().sum()), "steps_to_50": _median(g["steps_to_50"]),
                "time_to_50_s": _median(g["time_to_50_s"]),
                "reached_80": int(g["steps_to_80"].notna().sum()), "steps_to_80": _median(g["steps_to_80"]),
                "time_to_80_s": _median(g["time_to_80_s"]),
                "parameters": int(g["parameters"].iloc[0]), "budget": int(g["t_max"].max()),
                "full_budget": int(g["full_budget"].iloc[0]), "shortened": bool(g["shortened"].any()),
                "preset": str(g["preset"].iloc[0]), "device": str(g["device"].iloc[0]),
            })
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _steps(v: Optional[float]) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    v = float(v)
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k" if v >= 1e3 else f"{int(v)}"


def _secs(v: Optional[float]) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{float(v):.0f} s" if v < 3600 else f"{float(v) / 3600:.1f} h"


def summary_markdown(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table (the text of ``summary.md`` and of the README's results section)."""
    head = ("| map | method | seeds | final win rate | best win rate | env steps to 50% | time to 50% | "
            "env steps to 80% | time to 80% | parameters | budget (env steps) | shortened |")
    lines = [head, "|" + "---|" * 12]
    for r in summary.itertuples(index=False):
        reach = lambda k, s, n: "-" if k == 0 else f"{s} ({k}/{n})"  # noqa: E731
        lines.append(
            f"| {r.map_name} | {r.method} | {r.seeds} | {r.final_win_rate:.2f} ± {r.final_win_rate_std:.2f} | "
            f"{r.best_win_rate:.2f} | {reach(r.reached_50, _steps(r.steps_to_50), r.seeds)} | "
            f"{_secs(r.time_to_50_s)} | {reach(r.reached_80, _steps(r.steps_to_80), r.seeds)} | "
            f"{_secs(r.time_to_80_s)} | {int(r.parameters):,} | {_steps(r.budget)} of {_steps(r.full_budget)} | "
            f"{'shortened' if r.shortened else 'full'} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------------
def readme_table(readme_text: str) -> str:
    """The text between :data:`README_START` and :data:`README_END` (stripped); ValueError when absent."""
    if README_START not in readme_text or README_END not in readme_text:
        raise ValueError(f"the README has no {README_START} ... {README_END} markers")
    return readme_text.split(README_START, 1)[1].split(README_END, 1)[0].strip()


def update_readme(readme: PathLike, summary_md: str) -> Path:
    """Replace the README's table between the markers by ``summary_md`` (atomically)."""
    p = Path(readme)
    text = p.read_text()
    readme_table(text)  # raises without markers
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    return atomic_write_text(p, f"{before}{README_START}\n{summary_md.strip()}\n{README_END}{after}")


# ----------------------------------------------------------------------------------------------------
# plot
# ----------------------------------------------------------------------------------------------------
def plot_curves_grid(curves: pd.DataFrame, maps: Optional[Sequence[str]] = None,
                     methods: Optional[Sequence[str]] = None, y: str = "test_win_rate"):
    """Grid of learning curves: one row per map, one column per method; the mean over seeds as a line and
    the min-max band over seeds shaded (seeds are aligned on the evaluation index). Returns the figure."""
    import matplotlib.pyplot as plt

    if curves is None or len(curves) == 0:
        raise ValueError("no curves to plot: run benchmarks/suite.py first")
    maps = list(maps) if maps is not None else list(dict.fromkeys(curves["map_name"]))
    methods = list(methods) if methods is not None else list(dict.fromkeys(curves["method"]))
    fig, axes = plt.subplots(len(maps), len(methods), figsize=(2.6 * len(methods) + 0.8, 2.1 * len(maps) + 0.6),
                             squeeze=False, sharex="row", sharey=True)
    for i, m in enumerate(maps):
        for j, a in enumerate(methods):
            ax = axes[i, j]
            g = curves[(curves["map_name"] == m) & (curves["method"] == a)]
            if g.empty:
                ax.text(0.5, 0.5, "no run", ha="center", va="center", transform=ax.transAxes, color="grey")
            else:
                g = g.assign(k=g.groupby("seed").cumcount())
                st = g.groupby("k").agg(x=("env_steps", "mean"), mean=(y, "mean"), lo=(y, "min"), hi=(y, "max"))
                ax.plot(st["x"], st["mean"], color=f"C{j}", lw=1.5)
                ax.fill_between(st["x"], st["lo"], st["hi"], color=f"C{j}", alpha=0.25, lw=0)
                ax.text(0.03, 0.92, f"{g['seed'].nunique()} seed(s)", transform=ax.transAxes, fontsize=7,
                        color="grey", va="top")
            ax.set_ylim(-0.03, 1.03)
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(3, 3))
            if i == 0:
                ax.set_title(a.upper())
            if j == 0:
                ax.set_ylabel(f"{m}\n{y.replace('_', ' ')}")
            if i == len(maps) - 1:
                ax.set_xlabel("env steps")
    fig.tight_layout()
    return fig
