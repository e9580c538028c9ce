from course_lib.plotting import _compact_formatter


def test_step_ticks_are_compact():
    fmt = _compact_formatter()
    assert [fmt(v, 0) for v in (0, 500, 200_000, 1_500_000, 2_000_000)] == ["0", "500", "200k", "1.5M", "2M"]
