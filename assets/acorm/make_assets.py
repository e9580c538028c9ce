"""Make notebook 07's shipped ACORM model: a short ACORM run (and a QMIX run at the same env steps).

What it writes into ``assets/acorm/`` (all loadable with ``torch.load(path, weights_only=True)``):

- ``acorm_<map>_seed<k>.pt``: ``{"format", "alg", "map_name", "seed", "config" (dict), "sizes", "agent",
  "mixer" (state_dicts of the final networks), "snapshots": [{"env_steps", "phase", "agent"}, ...] (the agent
  right after pre-training, half-way and at the end: for t-SNE pictures at chosen points of training),
  "final" (the last greedy evaluation), "cl_history": [[train_step, cl_loss], ...]}``;
- ``qmix_<map>_seed<k>.pt``: the same for QMIX (no snapshots): the homogenisation section's shared agent;
- ``acorm_<map>_seed<k>.csv`` and ``qmix_<map>_seed<k>.csv``: their learning curves;
- ``runs.json``: command, commit, device, env steps, wall and CPU seconds of every run (README.md quotes it).

Usage (from the repository root)::

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD python assets/acorm/make_assets.py --map 2s3z --time-limit 540

ACORM trains first for ``--time-limit`` seconds (or ``--t-max`` env steps), then QMIX for the same number of
env steps. Both use the fast preset. Pre-training episodes count in ACORM's env steps.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from course_lib import train  # noqa: E402
from course_lib.train import _env_sizes, default_env_factory  # noqa: E402


def _cpu_state(module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "course_lib"], cwd=REPO, capture_output=True,
                               text=True).stdout.strip()
        return sha + (" (+ uncommitted changes in course_lib)" if dirty else "")
    except OSError:
        return "unknown"


def _device_text(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(0)
    return (f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
            f"torch threads {torch.get_num_threads()}, torch {torch.__version__}")


class Snapshots:
    """Callback: keeps the agent's weights at the end of pre-training and every ``every`` env steps."""

    def __init__(self, every: int):
        self.every, self.next_t, self.items = every, None, []

    def __call__(self, trainer) -> None:
        learner = trainer.learner
        if learner.phase < 2:
            return
        t = trainer.t_env
        if self.next_t is None or t >= self.next_t:
            self.items.append({"env_steps": int(t), "phase": int(learner.phase), "agent": _cpu_state(trainer.mac.agent)})
            self.next_t = t + self.every

    def chosen(self, final_agent: dict, final_t: int) -> list:
        """Right after pre-training, half-way, and the final agent."""
        if not self.items:
            return [{"env_steps": final_t, "phase": 2, "agent": final_agent}]
        first = self.items[0]
        mid = min(self.items, key=lambda s: abs(s["env_steps"] - final_t / 2))
        out = [first] + ([mid] if mid is not first else [])
        out.append({"env_steps": int(final_t), "phase": 2, "agent": final_agent})
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--map", default="2s3z")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--t-max", type=int, default=2_000_000, help="env steps for ACORM (default: the time limit decides)")
    ap.add_argument("--time-limit", type=float, default=540.0, help="wall-clock seconds for the ACORM run")
    ap.add_argument("--snapshot-every", type=int, default=20_000, help="env steps between kept agent snapshots")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--skip-qmix", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs_dir = Path("/tmp") / "marl-course-assets-acorm"
    record = {"command": "OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "?") + " python "
                         + " ".join([str(Path(sys.argv[0]))] + (argv if argv is not None else sys.argv[1:])),
              "commit": _commit(), "device": _device_text(args.device), "date_utc": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                                   time.gmtime()),
              "runs": {}}

    sizes = _env_sizes(default_env_factory(args.map, 1))  # what build_networks needs to rebuild the networks

    # ---------------------------------------------------------------- ACORM
    snaps = Snapshots(args.snapshot_every)
    w0, c0 = time.time(), time.process_time()
    run = train("acorm", args.map, preset="fast", seed=args.seed, t_max=args.t_max, time_limit_s=args.time_limit,
                device=args.device, run_dir=runs_dir / f"acorm_{args.map}_seed{args.seed}", progress=False,
                callback=snaps)
    wall, cpu = time.time() - w0, time.process_time() - c0
    t_final = int(run.curves["env_steps"].iloc[-1])
    agent_sd = _cpu_state(run.mac.agent)
    name = f"acorm_{args.map}_seed{args.seed}"
    torch.save({"format": "course-assets-acorm-1", "alg": "acorm", "map_name": args.map, "seed": args.seed,
                "config": run.config.to_dict(), "sizes": sizes,
                "agent": agent_sd, "mixer": _cpu_state(run.mixer), "snapshots": snaps.chosen(agent_sd, t_final),
                "final": {k: float(v) for k, v in run.final.items()},
                "cl_history": [[int(a), float(b)] for a, b in run.learner.cl_history]}, out / f"{name}.pt")
    run.curves.to_csv(out / f"{name}.csv", index=False)
    record["runs"]["acorm"] = {"env_steps": t_final, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                               "final": run.final, "stopped_by": run.stopped_by, "file": f"{name}.pt"}
    print(f"ACORM: {t_final} env steps, {wall:.0f} s wall, {cpu:.0f} s CPU, final {run.final}", flush=True)

    # ---------------------------------------------------------------- QMIX at the same env steps
    if not args.skip_qmix:
        w0, c0 = time.time(), time.process_time()
        q = train("qmix", args.map, preset="fast", seed=args.seed, t_max=t_final, device=args.device,
                  run_dir=runs_dir / f"qmix_{args.map}_seed{args.seed}", progress=False)
        wall, cpu = time.time() - w0, time.process_time() - c0
        qname = f"qmix_{args.map}_seed{args.seed}"
        torch.save({"format": "course-assets-acorm-1", "alg": "qmix", "map_name": args.map, "seed": args.seed,
                    "config": q.config.to_dict(),
                    "sizes": sizes,
                    "agent": _cpu_state(q.mac.agent), "mixer": _cpu_state(q.mixer),
                    "final": {k: float(v) for k, v in q.final.items()}}, out / f"{qname}.pt")
        q.curves.to_csv(out / f"{qname}.csv", index=False)
        record["runs"]["qmix"] = {"env_steps": int(q.curves["env_steps"].iloc[-1]), "wall_s": round(wall, 1),
                                  "cpu_s": round(cpu, 1), "final": q.final, "stopped_by": q.stopped_by,
                                  "file": f"{qname}.pt"}
        print(f"QMIX: {record['runs']['qmix']['env_steps']} env steps, {wall:.0f} s wall, {cpu:.0f} s CPU, "
              f"final {q.final}", flush=True)

    (out / "runs.json").write_text(json.dumps(record, indent=2, default=float))
    print(f"wrote {out}/", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
