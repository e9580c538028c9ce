"""Repository-wide pytest hooks: a per-notebook timing table at the end of the run."""
from __future__ import annotations

import os
from collections import defaultdict

_NB_TIMES = defaultdict(float)
_NB_FAILED = set()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NB_TIMES[path] += report.duration
        if report.failed:
            _NB_FAILED.add(path)


def pytest_terminal_summary(terminalreporter):
    if not _NB_TIMES:
        return
    tr = terminalreporter
    tr.section("notebook timings")
    width = max(len(p) for p in _NB_TIMES)
    tr.write_line(f"{'notebook'.ljust(width)}  {'seconds':>8}  status")
    for path in sorted(_NB_TIMES):
        status = "FAILED" if path in _NB_FAILED else "ok"
        tr.write_line(f"{path.ljust(width)}  {_NB_TIMES[path]:8.1f}  {status}")
    tr.write_line(f"{'total'.ljust(width)}  {sum(_NB_TIMES.values()):8.1f}")
    budget = "COURSE_QUICK=1 (CI budget)" if os.environ.get("COURSE_QUICK") else "default budget"
    tr.write_line(f"(notebooks executed with {budget})")
