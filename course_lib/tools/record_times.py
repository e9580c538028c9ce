"""Execute the solution notebooks in place, record how long each took, and write the README's time column.

``make execute-solutions`` runs this. For every ``solutions/NN_*.ipynb`` (or the ones named) it

1. executes the notebook in place with ``nbclient`` at its default budget (``COURSE_QUICK`` and
   ``MPLBACKEND`` are removed from the kernel's environment, so figures are stored; ``OMP_NUM_THREADS`` is
   passed through as set),
2. records the wall-clock seconds in ``solutions/execution_times.json``
   (``{"notebooks": {"00_welcome.ipynb": {"seconds": 41.2, "executed_at": ...}}, "machine": ...}``),
3. rewrites the last column (``time on CPU``) of the README's notebook table from that file, rounded up to
   whole minutes (``1 min``, ``4 min``).

Usage::

    python -m course_lib.tools.record_times                 # all notebooks, then the README
    python -m course_lib.tools.record_times 04 05           # only these (others keep their recorded time)
    python -m course_lib.tools.record_times --readme-only   # rewrite the README from the JSON file

The times are only as good as the machine was quiet: run it on an idle machine.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

REPO = Path(__file__).resolve().parents[2]
TIMES_FILE = "execution_times.json"
ROW_RE = re.compile(r"^\|\s*(\d\d)\s*\|\s*`(\d\d_[^`]+\.ipynb)`\s*\|(.*)\|\s*([^|]*?)\s*\|\s*$")


def format_minutes(seconds: float) -> str:
    """``41.0 -> "1 min"``, ``181 -> "4 min"`` (rounded up, at least 1)."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"seconds must be a finite non-negative number, got {seconds!r}")
    return f"{max(1, math.ceil(seconds / 60))} min"


def update_readme_text(readme: str, times: Dict[str, float]) -> str:
    """Replace the time column of each notebook row whose file name is in ``times`` (seconds)."""
    out: List[str] = []
    for line in readme.split("\n"):
        m = ROW_RE.match(line)
        if m and m.group(2) in times:
            head = line[: line.rstrip().rstrip("|").rstrip().rfind("|") + 1]
            line = f"{head} {format_minutes(times[m.group(2)])} |"
        out.append(line)
    return "\n".join(out)


def execute(path: Path, timeout: int = 1800) -> float:
    """Execute one notebook in place (kernel started in its folder); return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):  # nbformat 4.5 wants an id on every cell (new cells often lack one)
        if not cell.get("id"):
            cell["id"] = f"{path.stem[:2]}-{i:03d}-" + hashlib.sha1(cell.source.encode()).hexdigest()[:6]
    # The kernel inherits our environment: no CI budget, and matplotlib's inline backend (MPLBACKEND=Agg
    # would execute every plot without storing a single figure).
    saved = {k: os.environ.pop(k, None) for k in ("COURSE_QUICK", "MPLBACKEND")}
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
    nbformat.write(nb, path)
    return seconds


def _select(solutions: Path, names: Iterable[str]) -> List[Path]:
    all_nbs = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    names = list(names)
    if not names:
        return all_nbs
    picked = [p for p in all_nbs if any(p.name.startswith(n) for n in names)]
    missing = [n for n in names if not any(p.name.startswith(n) for p in all_nbs)]
    if missing:
        raise SystemExit(f"no notebook matches {missing}; notebooks: {[p.name for p in all_nbs]}")
    return picked


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="prefixes such as 04 (default: all)")
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--readme-only", action="store_true", help="do not execute; rewrite the README only")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    times_path = args.solutions / TIMES_FILE

    def read_record():
        return json.loads(times_path.read_text()) if times_path.exists() else {"notebooks": {}}

    if not args.readme_only:
        for path in _select(args.solutions, args.notebooks):
            print(f"executing {path.name} ...", flush=True)
            seconds = execute(path, timeout=args.timeout)
            print(f"  {seconds:.1f} s", flush=True)
            record = read_record()  # re-read: keep what other notebooks recorded meanwhile
            record["notebooks"][path.name] = {
                "seconds": round(seconds, 1),
                "executed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            }
            record["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                                 "python": platform.python_version()}
            times_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"wrote {times_path}")
    record = read_record()
    times = {name: float(v["seconds"]) for name, v in record["notebooks"].items()}
    text = args.readme.read_text(encoding="utf-8")
    new = update_readme_text(text, times)
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
        print(f"updated the time column of {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
