"""The README's notebook times are written by course_lib.tools.record_times, not by hand."""
import json

import pytest

from course_lib.tools import record_times as rt

TABLE = """| # | notebook | what you learn | time on CPU |
|---|---|---|---|
| 00 | `00_welcome.ipynb` | how the course works | 1 min |
| 04 | `04_independent_q_learning.ipynb` | IQL | 2 min |
"""


def test_minutes_round_up():
    assert [rt.format_minutes(s) for s in (0, 41, 60, 61, 299)] == ["1 min", "1 min", "1 min", "2 min", "5 min"]
    with pytest.raises(ValueError, match="seconds must be"):
        rt.format_minutes(-1)


def test_readme_time_column_is_rewritten_from_the_record(tmp_path):
    new = rt.update_readme_text(TABLE, {"04_independent_q_learning.ipynb": 250.0})
    assert "| 04 | `04_independent_q_learning.ipynb` | IQL | 5 min |" in new
    assert "| 00 | `00_welcome.ipynb` | how the course works | 1 min |" in new  # not recorded: unchanged
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / rt.TIMES_FILE).write_text(json.dumps(
        {"notebooks": {"00_welcome.ipynb": {"seconds": 130.0}}}))
    readme = tmp_path / "README.md"
    readme.write_text(TABLE)
    assert rt.main(["--readme-only", "--solutions", str(tmp_path / "solutions"), "--readme", str(readme)]) == 0
    assert "| how the course works | 3 min |" in readme.read_text()
