"""End-to-end training throughput of MIXRTs next to QMIX (and VDN) in the same run.

    python benchmarks/mixrts_throughput.py                     # 3m, qmix + mixrts, 10k env steps each, 2 repeats
    python benchmarks/mixrts_throughput.py --maps 3m 2s3z --algs vdn qmix mixrts --t-max 20000
    python benchmarks/mixrts_throughput.py --quick             # a few seconds (CI: the script runs end to end)

For every map and algorithm, ``train(alg, map, preset="fast", t_max=...)`` runs from scratch (collection with
8 parallel games, one gradient step per collection, as in training) and the script reports env steps per
second of wall-clock time, end to end, together with the milliseconds of one gradient step measured on
its own (a fixed batch of the run's size). The algorithms are interleaved repeat by repeat so that a
busy machine slows them alike; the median repeat is reported. Evaluation is kept to the initial and final
greedy tests (8 games). Prints a table and writes ``benchmarks/results/mixrts_throughput.json`` with the
command, commit and device. Run with ``OMP_NUM_THREADS`` set to the cores you want PyTorch to use.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import train  # noqa: E402
from course_lib.utils import git_commit, save_json  # noqa: E402


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def bench_train(alg: str, map_name: str, t_max: int, device: str, seed: int, overrides: dict) -> dict:
    """One run of ``train``: env steps per second end to end, and the time of one gradient step alone."""
    with tempfile.TemporaryDirectory() as d:
        _sync(device)
        t0 = time.perf_counter()
        run = train(alg, map_name, preset="fast", seed=seed, t_max=t_max, device=device, run_dir=Path(d) / "r",
                    progress=False, test_interval=10**9, test_nepisodes=8, checkpoint_interval=10**9, **overrides)
        _sync(device)
        wall = time.perf_counter() - t0
        steps = int(run.final["env_steps"])
        # one gradient step alone, on a fixed batch from the run's own replay buffer
        ck = torch.load(Path(d) / "r" / "checkpoint.pt", map_location=device, weights_only=False)
    from course_lib.buffers.episode import EpisodeReplayBuffer

    sizes = ck["sizes"]
    buf = EpisodeReplayBuffer(run.config.buffer_size, sizes["episode_limit"], sizes["n_agents"], sizes["obs_dim"],
                              sizes["state_dim"], sizes["n_actions"], device=device, seed=0)
    buf.load_state_dict(ck["buffer"])
    n = min(run.config.batch_size, len(buf))
    trainer_batch = buf.gather(torch.arange(n, device=buf.device))
    learner = run.learner
    for _ in range(2):
        learner.train(trainer_batch, episode_num=0)
    _sync(device)
    reps, t1 = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - t1 < 0.5:
        learner.train(trainer_batch, episode_num=0)
        reps += 1
    _sync(device)
    step_ms = 1000 * (time.perf_counter() - t1) / reps
    return {"alg": alg, "map": map_name, "device": str(device), "env_steps": steps, "wall_s": wall,
            "env_steps_per_s": steps / wall, "train_step_ms": step_ms, "batch_episodes": n,
            "final_win_rate": float(run.final["win_rate"])}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", nargs="+", default=None, help="maps (default: 3m)")
    p.add_argument("--algs", nargs="+", default=["qmix", "mixrts"], help="algorithms (default: qmix mixrts)")
    p.add_argument("--t-max", type=int, default=None, help="env steps per run (default 10000; --quick: 1500)")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repeats, median reported (default 2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny runs (CI)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mixrts_throughput.json"))
    args = p.parse_args(argv)
    maps = args.maps or ["3m"]
    t_max = args.t_max or (1500 if args.quick else 10_000)
    repeats = args.repeats or (1 if args.quick else 2)
    over = dict(n_envs=4, batch_size=8) if args.quick else {}
    runs = {}
    for r in range(repeats):
        for m in maps:
            for a in args.algs:
                runs.setdefault((m, a), []).append(bench_train(a, m, t_max, args.device, args.seed + r, over))
    rows = []
    print(f"{'map':<10} {'alg':<8} {'device':<6} {'env steps':>9} {'wall s':>7} {'env-steps/s':>12} "
          f"{'train step ms':>14} {'vs qmix':>8}")
    for m in maps:
        base = None
        for a in args.algs:
            rs = sorted(runs[(m, a)], key=lambda x: x["env_steps_per_s"])
            row = dict(rs[len(rs) // 2])
            row["repeats_env_steps_per_s"] = [round(x["env_steps_per_s"], 1) for x in runs[(m, a)]]
            if a == "qmix":
                base = row["env_steps_per_s"]
            rows.append(row)
        for row in [r for r in rows if r["map"] == m]:
            row["relative_to_qmix"] = row["env_steps_per_s"] / base if base else None
            rel = f"{row['relative_to_qmix']:.2f}x" if base else "-"
            print(f"{m:<10} {row['alg']:<8} {row['device']:<6} {row['env_steps']:>9} {row['wall_s']:>7.1f} "
                  f"{row['env_steps_per_s']:>12,.0f} {row['train_step_ms']:>14.1f} {rel:>8}", flush=True)
    result = {
        "command": "python benchmarks/mixrts_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": args.device,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "t_max": t_max,
        "repeats": repeats,
        "quick": bool(args.quick),
        "results": rows,
    }
    save_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
