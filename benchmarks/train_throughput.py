"""End-to-end training throughput: this code against an earlier commit, side by side in one run.

For each (algorithm, map) the script trains with the ``fast`` preset for ``--t-max`` env steps, the way users
call it (``train(alg, map, preset="fast", t_max=...)``: collection, updates, evaluations, checkpoints), and
reports env steps per second of wall time. Each measurement runs in its own Python process so that the two
code versions never share state; the versions alternate (baseline, current, baseline, current, ...) so that
a change in the machine's load hits both alike. The baseline is checked out from git (``--baseline REV``,
default: the commit before the training speed-ups) into a temporary folder.

Variants measured per (alg, map):

- ``baseline``: the earlier commit with PyTorch's default thread count (what a user got before);
- ``baseline-1thread``: the earlier commit with one thread (separates the thread choice from the code);
- ``current``: this working tree with course_lib's own choices (threads, overlapped collection in the fast preset);
- ``current-sequential``: this tree with ``overlap_collection=False`` (what the overlap adds).

    python benchmarks/train_throughput.py                       # qmix, vdn, iql, qtran on 3m and 2s3z
    python benchmarks/train_throughput.py --algs qmix --maps 3m --repeats 3 --t-max 40000
    python benchmarks/train_throughput.py --quick               # a smoke run (seconds)

Writes ``benchmarks/results/train_throughput.json`` (every measurement, machine, versions) after each
measurement, so an interrupted run keeps what it measured, and prints a table (median over repeats).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.utils import git_commit, save_json  # noqa: E402

DEFAULT_BASELINE = "794d0d2"  # main before issue 14 (the step-by-step learner, PyTorch's default threads)

# Runs inside the child process: train once, print one JSON line.
CHILD = r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1])
if cfg["threads"]:
    torch.set_num_threads(cfg["threads"])
from course_lib.train import train
kw = dict(cfg["overrides"])
t0 = time.perf_counter()
run = train(cfg["alg"], cfg["map"], preset="fast", seed=cfg["seed"], t_max=cfg["t_max"], progress=False,
            run_dir=cfg["run_dir"], device="cpu", **kw)
wall = time.perf_counter() - t0
print("RESULT " + json.dumps({"env_steps": run.final["env_steps"], "wall_s": wall,
                              "threads": torch.get_num_threads(), "win_rate": run.final["win_rate"]}))
"""

VARIANTS = {
    "baseline": dict(code="baseline", threads=None, overrides={}),
    "baseline-1thread": dict(code="baseline", threads=1, overrides={}),
    "current": dict(code="current", threads=None, overrides={}),
    "current-sequential": dict(code="current", threads=None, overrides={"overlap_collection": False}),
}


def checkout(rev: str, dest: Path) -> Path:
    """``git archive`` of ``rev`` unpacked into ``dest`` (no worktree bookkeeping left behind)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def measure(code_dir: Path, variant: dict, alg: str, map_name: str, t_max: int, seed: int, tmp: Path) -> Dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "COURSE_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(code_dir)
    cfg = {"alg": alg, "map": map_name, "t_max": t_max, "seed": seed, "threads": variant["threads"],
           "overrides": variant["overrides"], "run_dir": str(tmp / f"run_{time.time_ns()}")}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True, env=env,
                         cwd=str(code_dir))
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    if out.returncode != 0 or not line:
        raise RuntimeError(f"{alg} on {map_name} ({variant}) failed:\n{out.stderr[-3000:]}")
    res = json.loads(line[-1][len("RESULT "):])
    res["steps_per_s"] = res["env_steps"] / res["wall_s"]
    return res


def table(rows: List[Dict], variants: List[str]) -> str:
    keys = sorted({(r["alg"], r["map"]) for r in rows})
    head = "| alg | map | " + " | ".join(f"{v} (steps/s)" for v in variants) + " | current / baseline |"
    lines = [head, "|" + "---|" * (len(variants) + 3)]
    for alg, m in keys:
        med = {}
        for v in variants:
            xs = [r["steps_per_s"] for r in rows if r["alg"] == alg and r["map"] == m and r["variant"] == v]
            med[v] = statistics.median(xs) if xs else float("nan")
        ratio = med.get("current", float("nan")) / med.get("baseline", float("nan"))
        lines.append(f"| {alg} | {m} | " + " | ".join(f"{med[v]:,.0f}" for v in variants) + f" | {ratio:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> Dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algs", nargs="*", default=["qmix", "vdn", "iql", "qtran"])
    p.add_argument("--maps", nargs="*", default=["3m", "2s3z"])
    p.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--t-max", type=int, default=60_000, help="env steps per measurement (default 60k)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help=f"git revision to compare with (default {DEFAULT_BASELINE})")
    p.add_argument("--quick", action="store_true", help="smoke run: qmix on 3m, 3k steps, 1 repeat")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_throughput.json"))
    args = p.parse_args(argv)
    if args.quick:
        args.algs, args.maps, args.t_max, args.repeats = ["qmix"], ["3m"], 3000, 1
    if args.t_max <= 0 or args.repeats <= 0:
        p.error(f"--t-max and --repeats must be positive, got {args.t_max} and {args.repeats}")
    import torch

    rev = git_commit()
    meta = {"command": " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])),
            "current_commit": rev, "baseline": args.baseline, "t_max": args.t_max, "preset": "fast",
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                        "python": platform.python_version(), "torch": torch.__version__},
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    rows: List[Dict] = []
    with tempfile.TemporaryDirectory(prefix="train_tp_") as tmp_s:
        tmp = Path(tmp_s)
        base_dir = checkout(args.baseline, tmp / "baseline")
        dirs = {"baseline": base_dir, "current": ROOT}
        for rep in range(args.repeats):
            for m in args.maps:
                for alg in args.algs:
                    for v in args.variants:
                        res = measure(dirs[VARIANTS[v]["code"]], VARIANTS[v], alg, m, args.t_max, args.seed, tmp)
                        res.update({"alg": alg, "map": m, "variant": v, "repeat": rep})
                        rows.append(res)
                        print(f"{alg:6s} {m:5s} {v:19s} rep {rep}: {res['steps_per_s']:8,.0f} env-steps/s "
                              f"({res['env_steps']:,} steps in {res['wall_s']:.1f} s, {res['threads']} threads)",
                              flush=True)
                        save_json({"meta": meta, "rows": rows, "table": table(rows, args.variants)}, args.out)
    print()
    print(table(rows, args.variants))
    return {"meta": meta, "rows": rows}


if __name__ == "__main__":
    main()
