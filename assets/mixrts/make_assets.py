"""Train the small MIXRTs model that notebook 08 interprets, and save it in this folder.

Writes, next to this script:

- ``mixrts_<map>_seed<k>.pt``: ``{"mac": state_dict, "mixer": state_dict}`` (tensors only, so
  ``torch.load(path, weights_only=True)`` reads it);
- ``mixrts_<map>_seed<k>_config.json``: the full training config (``config_from_dict`` rebuilds it);
- ``mixrts_<map>_seed<k>_curves.csv``: the greedy evaluations during training;
- ``mixrts_<map>_seed<k>_meta.json``: command, git commit, device, torch version, env steps, wall time,
  final win rate (the README quotes it).

Usage (from the repository root)::

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python assets/mixrts/make_assets.py --map 3m --seed 0 \\
        --t-max 400000 --time-limit 720

Loading, as notebook 08 does::

    config = config_from_dict(json.load(open(".../mixrts_3m_seed0_config.json")))
    mac, mixer = build_networks(config, map_sizes("3m", **config.env_args))
    weights = torch.load(".../mixrts_3m_seed0.pt", weights_only=True)
    mac.load_state_dict(weights["mac"]); mixer.load_state_dict(weights["mixer"])
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
        return out.stdout.strip() + (" (uncommitted changes)" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    from course_lib import train

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--map", default="3m")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--t-max", type=int, default=400_000, help="env steps (training stops at the first "
                        "of --t-max and --time-limit)")
    parser.add_argument("--time-limit", type=float, default=720.0, help="wall-clock seconds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)

    stem = f"mixrts_{args.map}_seed{args.seed}"
    commit = _git_commit()  # the code that trains: read before training, while nothing has changed
    run_dir = Path(tempfile.mkdtemp(prefix=f"{stem}_"))
    start = time.time()
    run = train("mixrts", args.map, preset=args.preset, seed=args.seed, t_max=args.t_max,
                time_limit_s=args.time_limit, device=args.device, run_dir=run_dir, progress=False)
    wall = time.time() - start
    args.out.mkdir(parents=True, exist_ok=True)
    weights = {"mac": {k: v.detach().cpu() for k, v in run.mac.state_dict().items()},
               "mixer": {k: v.detach().cpu() for k, v in run.mixer.state_dict().items()}}
    torch.save(weights, args.out / f"{stem}.pt")
    torch.load(args.out / f"{stem}.pt", weights_only=True)  # fail here, not in the notebook
    (args.out / f"{stem}_config.json").write_text(json.dumps(run.config.to_dict(), indent=2) + "\n")
    run.curves.to_csv(args.out / f"{stem}_curves.csv", index=False)
    meta = {
        "command": "python assets/mixrts/make_assets.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "commit": commit,
        "device": f"{args.device} ({platform.processor() or platform.machine()}, "
                  f"torch {torch.__version__}, {torch.get_num_threads()} thread(s))",
        "map": args.map, "seed": args.seed, "preset": args.preset,
        "env_steps": int(run.final["env_steps"]), "wall_time_s": round(wall, 1),
        "stopped_by": run.stopped_by, "final_test_win_rate": float(run.final["win_rate"]),
        "best_test_win_rate": float(run.curves["test_win_rate"].max()),
        "parameters": int(sum(p.numel() for p in run.mac.parameters()) + sum(p.numel() for p in run.mixer.parameters())),
    }
    (args.out / f"{stem}_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
