"""The course's CUDA rows: simulator throughput at 1k-64k games, training throughput per method, and an
audit of the copies between GPU and CPU that one training iteration makes.

    python benchmarks/cuda.py                 # everything (about 5 minutes on an H200)
    python benchmarks/cuda.py --quick         # a smoke run (under a minute)
    python benchmarks/cuda.py --parts audit   # only the transfer audit

Needs a CUDA device (exits with a clear message otherwise). Writes ``benchmarks/results/cuda.json`` after
every row, so an interrupted run keeps what it measured, and prints a table per part.

- ``sim``: ``BatchedSMAC.step`` env steps per second with random valid actions (``env_throughput.py``'s
  measurement) on 3m, 2s3z, MMM2 and 27m_vs_30m at 1024, 4096, 16384 and 65536 games.
- ``train``: ``train(alg, "3m", preset="fast", device="cuda")`` end to end (collection, updates,
  evaluations, checkpoints) for every method, plus QMIX and ACORM on 5m_vs_6m, env steps per second of
  wall time.
- ``audit``: for every method, :func:`course_lib.transfers.host_device_copies` over training iterations
  once the buffer can be sampled: count and size of the host<->device copies.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.utils import git_commit, save_json  # noqa: E402

METHODS = ["iql", "vdn", "qmix", "qtran", "acorm", "mixrts"]
SIM_MAPS = ["3m", "2s3z", "MMM2", "27m_vs_30m"]
SIM_ENVS = [1024, 4096, 16384, 65536]


def part_sim(res: dict, quick: bool, save) -> None:
    from env_throughput import bench_batched

    maps, envs = (["3m"], [1024, 4096]) if quick else (SIM_MAPS, SIM_ENVS)
    for m in maps:
        for n in envs:
            try:
                row = bench_batched(m, n, "cuda", min_time=0.5 if quick else 2.0, max_steps=2000, warmup=5)
            except Exception as exc:  # e.g. out of memory: record it and go on
                row = {"map": m, "n_envs": n, "error": repr(exc)[:300]}
            res["sim"].append(row)
            save()
            print(f"sim  {m:12s} {n:6d} games  "
                  + (f"{row['env_steps_per_s']:12,.0f} env-steps/s" if "env_steps_per_s" in row else row["error"]),
                  flush=True)


def part_train(res: dict, quick: bool, save, t_max: int) -> None:
    from course_lib.train import train

    pairs = [(alg, "3m") for alg in METHODS] + ([] if quick else [("qmix", "5m_vs_6m"), ("acorm", "5m_vs_6m")])
    for alg, map_name in pairs:
        with tempfile.TemporaryDirectory() as d:
            try:
                t0 = time.perf_counter()
                run = train(alg, map_name, preset="fast", seed=0, t_max=t_max, progress=False, run_dir=d,
                            device="cuda")
                wall = time.perf_counter() - t0
                row = {"alg": alg, "map": map_name, "device": "cuda", "t_max": t_max,
                       "env_steps": run.final["env_steps"], "wall_s": wall,
                       "env_steps_per_s": run.final["env_steps"] / wall, "win_rate": run.final["win_rate"]}
            except Exception as exc:
                row = {"alg": alg, "map": map_name, "error": traceback.format_exc()[-1500:]}
        res["train"].append(row)
        save()
        print(f"train {alg:7s} {map_name:9s} " + (f"{row['env_steps_per_s']:8,.0f} env-steps/s  win {row['win_rate']:.2f}"
                                     if "error" not in row else row["error"]), flush=True)


def part_audit(res: dict, quick: bool, save) -> None:
    from course_lib.config import make_config
    from course_lib.train import Trainer
    from course_lib.transfers import host_device_copies

    for alg in METHODS:
        with tempfile.TemporaryDirectory() as d:
            try:
                cfg = make_config(alg, "3m", "fast", batch_size=8, buffer_size=64)
                tr = Trainer(cfg, 0, torch.device("cuda"), Path(d))
                while not tr.buffer.can_sample(cfg.batch_size):
                    tr.iteration()
                tr.iteration()  # warm-up (cuBLAS handles, kernels)
                before = tr.t_env
                st = host_device_copies(lambda: [tr.iteration() for _ in range(3)])
                steps = tr.t_env - before
                row = {"alg": alg, "env_steps": steps, **{k: v for k, v in st.items() if k != "copies"},
                       "dtoh_per_env_step": st["dtoh"] / steps, "sizes": sorted({b for _, b in st["copies"]})}
            except Exception:
                row = {"alg": alg, "error": traceback.format_exc()[-1500:]}
        res["audit"].append(row)
        save()
        print(f"audit {alg:7s} " + (f"HtoD {row['htod']} ({row['htod_bytes']} B)  DtoH {row['dtoh']} "
                                     f"({row['dtoh_bytes']} B, largest {row['dtoh_max_bytes']} B) over "
                                     f"{row['env_steps']} env steps" if "error" not in row else row["error"]),
              flush=True)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", default=["audit", "train", "sim"], choices=["audit", "train", "sim"])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--t-max", type=int, default=None, help="env steps per training row (default 30000; quick 3000)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cuda.json"))
    a = p.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks/cuda.py needs a CUDA device; torch.cuda.is_available() is False here")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    res = {"meta": {"command": "python benchmarks/cuda.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "commit": git_commit(), "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
                    "python": platform.python_version(), "started": time.strftime("%Y-%m-%d %H:%M:%S")},
           "sim": [], "train": [], "audit": []}
    save = lambda: save_json(res, a.out)  # noqa: E731
    t_max = a.t_max or (3000 if a.quick else 30000)
    for part in a.parts:
        {"sim": lambda: part_sim(res, a.quick, save), "train": lambda: part_train(res, a.quick, save, t_max),
         "audit": lambda: part_audit(res, a.quick, save)}[part]()
    res["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    save()
    return res


if __name__ == "__main__":
    main()
