"""Checks of notebook 09: the reference answers pass, typical mistakes fail with a hint."""
import numpy as np
import pandas as pd
import pytest

from course_lib import benchmark as bm
from course_lib.checks import ExerciseFailed, nb09


def test_steps_to_accepts_right_answers():
    nb09.check_steps_to(nb09.reference_steps_to)
    nb09.check_steps_to(lambda c, t: bm.first_reach(c, t)["steps"])  # the library version agrees


@pytest.mark.parametrize("wrong, hint", [
    (lambda c, t: None if not (c["test_win_rate"] >= t).any() else int(c.loc[c["test_win_rate"] >= t, "env_steps"].iloc[-1]),
     "FIRST"),
    (lambda c, t: None if not (c["test_win_rate"] > t).any() else int(c.loc[c["test_win_rate"] > t, "env_steps"].iloc[0]),
     ">="),
    (lambda c, t: 0 if not (c["test_win_rate"] >= t).any() else int(c.loc[c["test_win_rate"] >= t, "env_steps"].iloc[0]),
     "return None"),
])
def test_steps_to_explains_mistakes(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb09.check_steps_to(wrong)


def test_steps_to_unimplemented_says_so():
    def stub(c, t):
        raise NotImplementedError("Exercise 9.1: env steps to a target win rate")

    with pytest.raises(ExerciseFailed, match="not implemented"):
        nb09.check_steps_to(stub)


def test_curve_auc_reference_numbers_and_mistakes():
    c = pd.DataFrame({"env_steps": [0, 100, 400], "test_win_rate": [0.0, 0.5, 0.5]})
    assert nb09.reference_curve_auc(c) == pytest.approx((100 * 0.25 + 300 * 0.5) / 400)
    nb09.check_curve_auc(nb09.reference_curve_auc)
    with pytest.raises(ExerciseFailed, match="weight each segment"):
        nb09.check_curve_auc(lambda c: float(c["test_win_rate"].mean()))
    with pytest.raises(ExerciseFailed, match="divide the area"):
        nb09.check_curve_auc(lambda c: float(np.trapezoid(c["test_win_rate"], c["env_steps"])))
