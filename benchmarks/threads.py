"""One PyTorch thread or two? The course's workload classes measured idle and next to a busy process.

Workloads (all on the CPU):

- ``simulate``: ``BatchedSMAC("3m")`` stepping random valid actions at 8, 64 and 1024 battles (collection and
  evaluation sizes);
- ``train``: ``train("qmix", "3m", preset="fast", overlap_collection=False)`` end to end (a small GRU agent and
  mixer learning from batches of 64 episodes, plus collection and evaluation);
- ``drqn``: ``course_lib.dqn.train_dqn`` with the recurrent agent on CartPole-NoVelocity (notebook 02's workload).

Each is run in a fresh process with ``COURSE_THREADS=1`` and ``=2``, first on an idle machine, then with a
process spinning on one core beside it (a browser tab or a second notebook). ``course_lib.threads`` chooses
from these numbers: see its docstring.

    python benchmarks/threads.py            # writes benchmarks/results/threads.json and prints a table
    python benchmarks/threads.py --quick    # a smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.utils import save_json  # noqa: E402

CHILD = r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1])
kind, size = cfg["kind"], cfg["size"]
if kind == "simulate":
    from course_lib.envs import BatchedSMAC
    env = BatchedSMAC("3m", n_envs=size, seed=0)
    g = torch.Generator().manual_seed(0)
    obs = env.reset()
    def act(avail):
        return torch.rand(avail.shape, generator=g).masked_fill(~avail.bool(), -1).argmax(-1)
    for _ in range(10):
        obs, *_ = env.step(act(obs["avail"]))
    steps = max(20, cfg["work"] // size)
    t0 = time.perf_counter()
    for _ in range(steps):
        obs, *_ = env.step(act(obs["avail"]))
    rate = steps * size / (time.perf_counter() - t0)
elif kind == "train":
    from course_lib.train import train
    t0 = time.perf_counter()
    run = train("qmix", "3m", preset="fast", t_max=size, progress=False, run_dir=cfg["run_dir"], overlap_collection=False)
    rate = run.final["env_steps"] / (time.perf_counter() - t0)
else:
    from course_lib.dqn import train_dqn
    t0 = time.perf_counter()
    train_dqn("CartPole-NoVelocity", size, recurrent=True, seed=0, train_every=2, batch_size=32, seq_len=8)
    rate = size / (time.perf_counter() - t0)
print("RESULT " + json.dumps({"rate": rate, "threads": torch.get_num_threads()}))
"""


def run_child(kind: str, size: int, threads: int, work: int, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(COURSE_THREADS=str(threads), PYTHONPATH=str(ROOT))
    cfg = {"kind": kind, "size": size, "work": work, "run_dir": str(tmp / f"r{time.time_ns()}")}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True, env=env)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    if out.returncode or not line:
        raise RuntimeError(f"{kind} {size} with {threads} threads failed:\n{out.stderr[-2000:]}")
    return json.loads(line[-1][7:])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "threads.json"))
    args = p.parse_args(argv)
    import tempfile

    import torch

    work = 2_000 if args.quick else 100_000
    cases = [("simulate", 8), ("simulate", 64), ("simulate", 1024), ("train", 1_000 if args.quick else 20_000),
             ("drqn", 300 if args.quick else 3_000)]
    rows = []
    meta = {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
            "command": "python benchmarks/threads.py" + (" --quick" if args.quick else "")}
    with tempfile.TemporaryDirectory() as tmp_s:
        for load in ("idle", "busy"):
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
            try:
                for kind, size in cases:
                    rates = {t: run_child(kind, size, t, work, Path(tmp_s))["rate"] for t in (1, 2)}
                    rows.append({"workload": kind, "size": size, "load": load, "rate_1_thread": rates[1],
                                 "rate_2_threads": rates[2], "speedup_2_over_1": rates[2] / rates[1]})
                    print(f"{load:5s} {kind:9s} {size:>7,}: 1 thread {rates[1]:10,.0f}/s  2 threads "
                          f"{rates[2]:10,.0f}/s  ({rates[2] / rates[1]:.2f}x)", flush=True)
                    save_json({"meta": meta, "rows": rows}, args.out)
            finally:
                if burner is not None:
                    burner.kill()
                    burner.wait()
    return {"meta": meta, "rows": rows}


if __name__ == "__main__":
    main()
