"""End-to-end training throughput of ACORM next to QMIX, same preset, map and machine, and where ACORM's time goes.

    python benchmarks/acorm_throughput.py                       # 3m and 5m_vs_6m, CPU (and CUDA if visible)
    python benchmarks/acorm_throughput.py --quick               # 3m only, a short budget
    python benchmarks/acorm_throughput.py --device cuda --maps 3m 5m_vs_6m

For every map, ``train(alg, map, preset="fast", t_max=...)`` runs for QMIX and for ACORM one after the other
(collection + every update + the periodic greedy evaluations: what a user waits for) and the script reports
env steps per second and the ratio ACORM / QMIX (the issue asks for at least 0.5). ``--repeats R`` alternates the two methods R times
and keeps each one's median (a shared machine's load changes from minute to minute). ACORM's budget includes its
pre-training phases; ``--t-max`` should be long enough that most of it is the RL phase (the fast preset's
pre-training takes 30 train steps = 240 episodes). Before the runs, the FLOPs of one TD update of each (same
batch of episodes) give the arithmetic ratio, a floor for the slowdown on a CPU. A second ACORM run under ``cProfile`` splits its time into
collection, TD updates, contrastive updates (with the batched K-means), autoencoder updates and evaluation.
Prints a table and writes ``benchmarks/results/acorm_throughput.json``. Run with ``OMP_NUM_THREADS`` set to the
threads you want PyTorch to use (the stored numbers say which).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import train  # noqa: E402
from course_lib.utils import git_commit, save_json  # noqa: E402

# budgets in env steps: long enough that ACORM's RL phase dominates (its pre-training ends near 6k steps on 3m)
T_MAX = {"3m": 20_000, "5m_vs_6m": 20_000}
QUICK_T_MAX = {"3m": 8_000, "5m_vs_6m": 8_000}

# profile rows: (label, function name substring as cProfile reports it "file:line(name)")
PROFILE_ROWS = [
    ("collection (runner.collect)", "episode_runner.py", "collect"),
    ("TD updates (fwd + bwd + Adam)", "acorm_learner.py", "td_update"),
    ("  of which backward", "~", "<method 'run_backward' of 'torch._C._EngineBase' objects>"),
    ("contrastive updates", "acorm_learner.py", "contrastive_update"),
    ("  of which batched K-means", "cluster.py", "batched_kmeans"),
    ("autoencoder pre-training", "acorm_learner.py", "autoencoder_update"),
    ("greedy evaluations", "train.py", "evaluate_now"),
]


def one_run(alg: str, map_name: str, t_max: int, device: str, seed: int, test_interval: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run = train(alg, map_name, preset="fast", seed=seed, t_max=t_max, device=device, run_dir=Path(d) / "r",
                    progress=False, test_interval=test_interval, checkpoint_interval=10**9)
        wall = time.perf_counter() - t0
    steps = int(run.final["env_steps"])
    out = {"alg": alg, "map": map_name, "device": str(run.device), "env_steps": steps, "wall_s": round(wall, 2),
           "env_steps_per_s": round(steps / wall, 1), "episodes": int(run.curves["episodes"].iloc[-1]),
           "final_win_rate": run.final["win_rate"]}
    if alg == "acorm":
        L = run.learner
        out.update(rl_steps=L.rl_steps, cl_updates=L.cl_updates, ae_steps=L.ae_steps)
    return out


def profile_acorm(map_name: str, t_max: int, device: str, seed: int, test_interval: int) -> dict:
    pr = cProfile.Profile()
    pr.enable()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        train("acorm", map_name, preset="fast", seed=seed, t_max=t_max, device=device, run_dir=Path(d) / "r",
              progress=False, test_interval=test_interval, checkpoint_interval=10**9)
    total = time.perf_counter() - t0
    pr.disable()
    st = pstats.Stats(pr).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    rows = {}
    for label, file_part, name in PROFILE_ROWS:
        ct = sum(v[3] for (f, _, n), v in st.items() if n == name and (file_part == "~" or f.endswith(file_part)))
        rows[label] = {"seconds": round(ct, 2), "share": round(ct / total, 3)}
    top = sorted(st.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    return {"map": map_name, "wall_s_with_profiler": round(total, 2), "breakdown": rows,
            "top_self_time": [{"function": f"{Path(f).name}:{n}", "self_s": round(v[2], 2)} for (f, _, n), v in top]}


def td_update_cost(map_name: str, batch_size: int = 64, seed: int = 0, repeats: int = 5) -> dict:
    """Cost of one TD update (forward + backward + optimiser) of QMIX and of ACORM in its RL phase, on the **same**
    batch of episodes: FLOPs counted by ``torch.utils.flop_counter`` (matrix products and attention; the GRU
    kernels are not counted, so both numbers are lower bounds) and the median seconds over ``repeats`` calls on
    the CPU with course_lib's thread choice.

    The ratio says how much more work ACORM's env step carries at the fast preset's update rate: where arithmetic
    dominates (a CPU), a floor for how much slower it is, whatever the implementation.
    """
    import statistics

    from torch.utils.flop_counter import FlopCounterMode

    from course_lib.config import make_config
    from course_lib.train import Trainer

    out, batch = {}, None
    for alg in ("acorm", "qmix"):
        cfg = make_config(alg, map_name, "fast", batch_size=batch_size, buffer_size=batch_size)
        with tempfile.TemporaryDirectory() as d:
            tr = Trainer(cfg, seed, torch.device("cpu"), Path(d))
            if batch is None:  # episodes of the untrained ACORM agents, fed to both learners
                while not tr.buffer.can_sample(batch_size):
                    tr.runner.collect(batch_size)
                batch = tr.buffer.sample(batch_size)
            learner = tr.learner
            if alg == "acorm":  # skip the pre-training phases: time a TD update
                learner.ae_steps, learner.cl_pre_steps = cfg.pretrain_ae_steps, cfg.pretrain_cl_steps
                step = learner.td_update
            else:
                step = lambda b: learner.train(b, 0)  # noqa: E731
            with FlopCounterMode(display=False) as fc:
                step(batch)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                step(batch)
                times.append(time.perf_counter() - t0)
            out[alg] = {"gflop": round(fc.get_total_flops() / 1e9, 2), "seconds": round(statistics.median(times), 4)}
    out["flop_ratio"] = round(out["acorm"]["gflop"] / out["qmix"]["gflop"], 2)
    out["time_ratio"] = round(out["acorm"]["seconds"] / out["qmix"]["seconds"], 2)
    out.update(map=map_name, batch_size=batch_size, batch_time_steps=int(batch.obs.shape[1] - 1))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", nargs="+", default=["3m", "5m_vs_6m"])
    p.add_argument("--t-max", type=int, default=None, help="env steps per run (default: per map, see T_MAX)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (CPU, plus CUDA when visible)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1, help="runs per method (alternating order); the median is kept")
    p.add_argument("--quick", action="store_true", help="3m only, short budget")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "acorm_throughput.json"))
    a = p.parse_args(argv)
    maps = ["3m"] if a.quick else a.maps
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if a.device == "auto" else [a.device]
    results, profiles = [], []
    flops = [td_update_cost(m) for m in maps]
    for f in flops:
        print(f"{f['map']:10s} one TD update on the same batch ({f['batch_size']} episodes x {f['batch_time_steps']} "
              f"steps): QMIX {f['qmix']['gflop']} GFLOP {f['qmix']['seconds']:.3f} s, ACORM {f['acorm']['gflop']} "
              f"GFLOP {f['acorm']['seconds']:.3f} s: {f['flop_ratio']}x the FLOPs, {f['time_ratio']}x the time",
              flush=True)
    for dev in devices:
        for m in maps:
            t_max = a.t_max or (QUICK_T_MAX if a.quick else T_MAX).get(m, 20_000)
            ti = max(t_max // 4, 1000)
            reps = {"qmix": [], "acorm": []}
            for k in range(a.repeats):  # alternate the order so that a slow spell of a shared machine hits both
                for alg in (("qmix", "acorm") if k % 2 == 0 else ("acorm", "qmix")):
                    reps[alg].append(one_run(alg, m, t_max, dev, a.seed, ti))
            pair = {}
            for alg, rs in reps.items():
                rs = sorted(rs, key=lambda r: r["env_steps_per_s"])
                pair[alg] = dict(rs[len(rs) // 2], repeats=len(rs),
                                 all_env_steps_per_s=[r["env_steps_per_s"] for r in reps[alg]])
            ratio = pair["acorm"]["env_steps_per_s"] / pair["qmix"]["env_steps_per_s"]
            for r in pair.values():
                r["acorm_over_qmix"] = round(ratio, 3)
                results.append(r)
            print(f"{dev:5s} {m:10s} t_max={t_max:6d}  QMIX {pair['qmix']['env_steps_per_s']:8.1f} steps/s   "
                  f"ACORM {pair['acorm']['env_steps_per_s']:8.1f} steps/s   ratio {ratio:.2f}", flush=True)
            if not a.no_profile:
                profiles.append({"device": dev, **profile_acorm(m, t_max, dev, a.seed, ti)})
    print()
    print(f"{'device':6s} {'map':10s} {'alg':6s} {'env steps':>9s} {'wall s':>8s} {'steps/s':>9s} {'ACORM/QMIX':>10s}")
    for r in results:
        print(f"{r['device']:6s} {r['map']:10s} {r['alg']:6s} {r['env_steps']:9d} {r['wall_s']:8.1f} "
              f"{r['env_steps_per_s']:9.1f} {r['acorm_over_qmix']:10.2f}")
    for pf in profiles:
        print(f"\nwhere ACORM's time goes ({pf['device']}, {pf['map']}, {pf['wall_s_with_profiler']} s under cProfile):")
        for label, v in pf["breakdown"].items():
            print(f"  {label:34s} {v['seconds']:8.2f} s  {100 * v['share']:5.1f} %")
    commit = git_commit()
    meta = {"command": "python benchmarks/acorm_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "commit": commit, "preset": "fast", "torch": torch.__version__, "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    res = {"meta": meta, "runs": results, "profiles": profiles, "td_update_cost": flops}
    save_json(res, a.out)
    return res


if __name__ == "__main__":
    main()
