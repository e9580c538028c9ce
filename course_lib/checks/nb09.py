"""Checks for notebook 09 (the benchmark: reading learning curves)."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd

from . import call_student, fail_unless, passed


def _curve(steps, rates, times=None) -> pd.DataFrame:
    times = times if times is not None else [s / 1000.0 for s in steps]
    return pd.DataFrame({"env_steps": steps, "test_win_rate": rates, "wall_time": times})


# ----------------------------------------------------------------------------------------------------
# 9.1 env steps to a target win rate
# ----------------------------------------------------------------------------------------------------
def reference_steps_to(curves: pd.DataFrame, target: float) -> Optional[int]:
    """Env steps of the FIRST evaluation whose ``test_win_rate`` is at least ``target``; None if none is."""
    hit = curves.loc[curves["test_win_rate"] >= target, "env_steps"]
    return None if hit.empty else int(hit.iloc[0])


def check_steps_to(fn) -> None:
    """Exercise 9.1: ``fn(curves, target) -> int or None``."""
    cases = [
        (_curve([0, 100, 200, 300, 400], [0.0, 0.3, 0.55, 0.4, 0.9]), 0.5),
        (_curve([0, 100, 200, 300, 400], [0.0, 0.3, 0.55, 0.4, 0.9]), 0.8),
        (_curve([0, 100, 200], [0.1, 0.5, 0.5]), 0.5),     # exactly at the target counts
        (_curve([0, 100, 200], [0.1, 0.2, 0.3]), 0.5),     # never reached
        (_curve([0, 50], [0.6, 0.0]), 0.5),                # reached at the very first evaluation
    ]
    for curves, target in cases:
        got = call_student(fn, "9.1", curves.copy(), target)
        want = reference_steps_to(curves, target)
        if want is None:
            fail_unless(got is None, "9.1", f"the curve {list(curves['test_win_rate'])} never reaches {target}: "
                                            f"return None (not {got!r}), so that a table can say 'not reached'")
            continue
        exact = bool((curves["test_win_rate"] == target).any())
        fail_unless(got is not None and not (isinstance(got, float) and math.isnan(got)), "9.1",
                    f"the curve {list(curves['test_win_rate'])} reaches {target}; expected {want}, got {got!r}"
                    + (": a win rate exactly equal to the target counts as reaching it (use >=)" if exact else ""))
        if int(got) == int(curves["env_steps"].iloc[-1]) and want != got:
            hint = "return the FIRST evaluation at or above the target, not the last one"
        elif int(got) in list(curves.loc[curves["test_win_rate"] > target, "env_steps"]) and want != got:
            hint = "a win rate exactly equal to the target counts as reaching it (use >=)"
        else:
            hint = "select the rows with test_win_rate >= target and take the env_steps of the first one"
        fail_unless(int(got) == want, "9.1", f"target {target} on {list(curves['test_win_rate'])}: expected "
                                             f"{want}, got {got!r}: {hint}")
    passed("9.1", "the same rule as the suite's 'env steps to 50% / 80%' columns")


# ----------------------------------------------------------------------------------------------------
# 9.2 area under the learning curve
# ----------------------------------------------------------------------------------------------------
def reference_curve_auc(curves: pd.DataFrame) -> float:
    """Mean test win rate over the run: the trapezoidal area under ``test_win_rate`` against ``env_steps``,
    divided by the span of env steps (so 1.0 = won every evaluation from the start, 0.0 = never won)."""
    x = curves["env_steps"].to_numpy(dtype=float)
    y = curves["test_win_rate"].to_numpy(dtype=float)
    if len(x) < 2 or x[-1] == x[0]:
        return float(y[-1]) if len(y) else float("nan")
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))
    return area / float(x[-1] - x[0])


def check_curve_auc(fn) -> None:
    """Exercise 9.2: ``fn(curves) -> float`` in [0, 1]."""
    cases = [
        _curve([0, 100, 200], [0.0, 1.0, 1.0]),              # 0.75
        _curve([0, 100, 400], [0.0, 0.5, 0.5]),              # uneven spacing: 0.4375
        _curve([1000, 2000, 3000, 4000], [0.2, 0.2, 0.2, 0.2]),
        _curve([0, 10, 20, 30, 40], [0.0, 0.25, 0.5, 0.75, 1.0]),
    ]
    for curves in cases:
        got = call_student(fn, "9.2", curves.copy())
        want = reference_curve_auc(curves)
        fail_unless(isinstance(got, (int, float, np.floating)), "9.2", f"return a number, got {type(got).__name__}")
        if abs(float(got) - want) < 1e-9:
            continue
        y = curves["test_win_rate"].to_numpy()
        x = curves["env_steps"].to_numpy(dtype=float)
        if abs(float(got) - float(np.mean(y))) < 1e-9:
            hint = "weight each segment by its length in env steps (the evaluations need not be evenly spaced)"
        elif abs(float(got) - want * (x[-1] - x[0])) < 1e-6:
            hint = "divide the area by the span of env steps (last minus first) so the result is a mean win rate"
        elif abs(float(got) - want * (x[-1] - x[0]) / x[-1]) < 1e-9 and x[0] != 0:
            hint = "divide by (last - first) env steps, not by the last value"
        else:
            hint = "area = sum over segments of (x[k+1] - x[k]) * (y[k] + y[k+1]) / 2, then divide by x[-1] - x[0]"
        fail_unless(False, "9.2", f"for win rates {list(y)} at {list(x.astype(int))} expected {want:.4f}, "
                                  f"got {float(got):.4f}: {hint}")
    passed("9.2", "one number per run that rewards learning early as well as ending high")
