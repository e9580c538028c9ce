"""EpsilonSchedule: linear annealing values and argument checks."""
import pytest

from course_lib.schedules import EpsilonSchedule


def test_values_at_start_middle_end_and_after():
    sch = EpsilonSchedule(start=1.0, finish=0.05, anneal_steps=1000)
    assert sch(0) == pytest.approx(1.0)
    assert sch(500) == pytest.approx(0.525)  # halfway: (1.0 + 0.05) / 2
    assert sch(250) == pytest.approx(1.0 - 0.95 * 0.25)
    assert sch(1000) == pytest.approx(0.05)
    assert sch(10**7) == pytest.approx(0.05)  # stays at finish


def test_pymarl_default_and_monotone():
    sch = EpsilonSchedule()
    assert (sch.start, sch.finish, sch.anneal_steps) == (1.0, 0.05, 50_000)
    values = [sch(t) for t in range(0, 60_001, 5_000)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(0.05)


def test_increasing_schedule_and_zero_anneal():
    assert EpsilonSchedule(0.0, 1.0, 10)(5) == pytest.approx(0.5)
    assert EpsilonSchedule(1.0, 0.1, 0)(0) == pytest.approx(0.1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(start=1.5), "start"), (dict(finish=-0.1), "finish"), (dict(anneal_steps=-1), "anneal_steps"),
])
def test_bad_values_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EpsilonSchedule(**kwargs)


def test_negative_step_raises():
    with pytest.raises(ValueError, match="t must be >= 0"):
        EpsilonSchedule()(-1)
