"""Learning benchmark: IQL, VDN and QMIX on 3m and 2s3z with the fast preset, 3 seeds each.

Reports, per run, the wall-clock time and env steps until the greedy test win rate first reaches the
target (95%), as a table and as JSON (``benchmarks/results/learning.json``), and saves every run's
curves as ``assets/curves/<alg>_<map>_seed<k>.csv`` for the notebooks (with the command in
``assets/curves/README.md``).

    python benchmarks/learning.py                  # full: 3 algs x 2 maps x 3 seeds (hours on a CPU)
    python benchmarks/learning.py --quick          # 1 seed, short budgets (a few minutes), no assets written
    python benchmarks/learning.py --algs qmix --maps 3m --seeds 0

Budgets (per run, whichever ends first): ``--t-max`` env steps and ``--time-limit`` seconds per map
(defaults: 3m 5 min / 600k steps, 2s3z 20 min / 2M steps, the issue's targets). ``--stop-at-target``
ends a run as soon as it reaches the target (faster, but the saved curves stop there).
Set ``OMP_NUM_THREADS=1`` on a shared machine.
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.train import train  # noqa: E402
from course_lib.utils import save_json  # noqa: E402

DEFAULT_BUDGETS = {"3m": {"time_limit": 300.0, "t_max": 600_000}, "2s3z": {"time_limit": 1200.0, "t_max": 2_000_000}}
QUICK_BUDGETS = {"3m": {"time_limit": 45.0, "t_max": 60_000}, "2s3z": {"time_limit": 45.0, "t_max": 60_000}}


def first_reach(curves: pd.DataFrame, target: float) -> Dict[str, Optional[float]]:
    """Env steps and wall time of the first evaluation with ``test_win_rate >= target`` (None if never)."""
    hit = curves[curves["test_win_rate"] >= target]
    if hit.empty:
        return {"steps_to_target": None, "time_to_target_s": None}
    row = hit.iloc[0]
    return {"steps_to_target": int(row["env_steps"]), "time_to_target_s": float(row["wall_time"])}


class _StopAtTarget:
    def __init__(self, target: float):
        self.target = target

    def __call__(self, trainer) -> None:
        if trainer.rows and trainer.rows[-1]["test_win_rate"] >= self.target:
            trainer.request_stop()  # ends the run cleanly (final evaluation and checkpoint)


def run_one(alg: str, map_name: str, seed: int, budget: Dict[str, float], args, runs_dir: Path) -> Dict[str, Any]:
    t0 = time.time()
    run = train(alg, map_name, preset="fast", seed=seed, t_max=int(budget["t_max"]),
                time_limit_s=float(budget["time_limit"]), device=args.device, progress=args.progress,
                run_dir=runs_dir / f"{alg}_{map_name}_seed{seed}",
                callback=_StopAtTarget(args.target) if args.stop_at_target else None,
                **({"test_interval": args.test_interval} if args.test_interval else {}))
    wall = time.time() - t0
    res = {"alg": alg, "map": map_name, "seed": seed, **first_reach(run.curves, args.target),
           "final_win_rate": run.final["win_rate"], "max_win_rate": float(run.curves["test_win_rate"].max()),
           "env_steps": run.final["env_steps"], "wall_s": round(wall, 1), "stopped_by": run.stopped_by}
    if args.curves_dir is not None:
        args.curves_dir.mkdir(parents=True, exist_ok=True)
        run.curves.to_csv(args.curves_dir / f"{alg}_{map_name}_seed{seed}.csv", index=False)
    return res


def summarise(rows: List[Dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    out = []
    for (alg, m), g in df.groupby(["alg", "map"], sort=False):
        reached = g["steps_to_target"].notna()
        out.append({"alg": alg, "map": m, "runs": len(g), "reached": int(reached.sum()),
                    "median_steps_to_target": float(g.loc[reached, "steps_to_target"].median()) if reached.any() else math.nan,
                    "median_time_to_target_s": float(g.loc[reached, "time_to_target_s"].median()) if reached.any() else math.nan,
                    "mean_final_win_rate": float(g["final_win_rate"].mean())})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 seed, 45 s / 60k steps per run, results to learning_quick.json")
    p.add_argument("--algs", nargs="+", default=["iql", "vdn", "qmix"])
    p.add_argument("--maps", nargs="+", default=["3m", "2s3z"])
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="default 0 1 2 (quick: 0)")
    p.add_argument("--target", type=float, default=0.95, help="greedy test win rate to reach (default 0.95)")
    p.add_argument("--t-max", type=int, default=None, help="env steps per run (overrides the per-map default)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds per run (overrides the per-map default)")
    p.add_argument("--test-interval", type=int, default=None, help="env steps between evaluations (default: preset's)")
    p.add_argument("--stop-at-target", action="store_true", help="end each run when it reaches the target")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default benchmarks/results/learning[_quick].json)")
    p.add_argument("--curves-dir", type=Path, default=None,
                   help="where to save curves (default assets/curves; quick: not saved)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs") / "benchmark")
    p.add_argument("--progress", action="store_true", help="show a progress bar per run")
    args = p.parse_args(argv)
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    budgets = QUICK_BUDGETS if args.quick else DEFAULT_BUDGETS
    if args.out is None:
        args.out = ROOT / "benchmarks" / "results" / ("learning_quick.json" if args.quick else "learning.json")
    if args.curves_dir is None and not args.quick:
        args.curves_dir = ROOT / "assets" / "curves"
    command = "python benchmarks/learning.py " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = []
    for m in args.maps:
        budget = dict(budgets.get(m, DEFAULT_BUDGETS["2s3z"]))
        if args.t_max is not None:
            budget["t_max"] = args.t_max
        if args.time_limit is not None:
            budget["time_limit"] = args.time_limit
        for alg in args.algs:
            for seed in seeds:
                r = run_one(alg, m, seed, budget, args, args.runs_dir)
                rows.append(r)
                print(f"{alg:5s} {m:5s} seed {seed}: steps to {args.target:.0%}: {r['steps_to_target']}, "
                      f"time: {r['time_to_target_s'] if r['time_to_target_s'] is None else round(r['time_to_target_s'], 1)} s, "
                      f"final win {r['final_win_rate']:.2f} after {r['env_steps']} steps ({r['wall_s']} s)", flush=True)
    summary = summarise(rows)
    print()
    print(summary.to_string(index=False))
    meta = {"command": command.strip(), "target_win_rate": args.target, "preset": "fast", "budgets": budgets,
            "device": str(args.device), "torch": torch.__version__, "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    print()
    save_json({"meta": meta, "runs": rows, "summary": summary.to_dict(orient="records")}, args.out)
    if args.curves_dir is not None:
        readme = args.curves_dir / "README.md"
        if not readme.exists():
            readme.write_text("# Saved learning curves\n\nOne CSV per run (`<alg>_<map>_seed<k>.csv`, columns of "
                              "`course_lib.train.Run.curves`).\n\n## Run log\n\n")
        with readme.open("a") as f:  # append: the hand-written explanations above the log stay
            f.write(f"- {meta['date']} ({meta['cpu']}, torch {meta['torch']}, {meta['torch_threads']} thread(s)): "
                    f"`OMP_NUM_THREADS=1 {command.strip()}`\n")
        print(f"curves: {args.curves_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
