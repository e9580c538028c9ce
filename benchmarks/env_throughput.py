"""Throughput of the SMAC simulator: environment steps per second with random valid actions.

    python benchmarks/env_throughput.py            # 1, 64, 1024, 4096 envs on 3m, 2s3z, MMM2, 27m_vs_30m
    python benchmarks/env_throughput.py --quick    # a few seconds: 3m only, 1 and 64 envs

Measures ``BatchedSMAC.step`` (which also builds observations, state and action masks) on the CPU and,
when one is visible, on CUDA; the single-environment facade ``StarCraft2Env`` on 3m (a SMAC-style loop:
``step`` + ``get_obs`` + ``get_state`` + ``get_avail_actions``); and, if ``jaxmarl`` is importable,
JaxMARL's SMAX (``HeuristicEnemySMAX``, jit + vmap) on the same scenarios side by side. Prints a table
and writes ``benchmarks/results/env_throughput.json``. Run it with ``OMP_NUM_THREADS`` set to the
number of cores you want PyTorch to use (the numbers in the README used the 2-core CPU, 1 thread).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.utils import save_json  # noqa: E402
from course_lib.envs import BatchedSMAC, StarCraft2Env  # noqa: E402

MAPS = ["3m", "2s3z", "MMM2", "27m_vs_30m"]
COMPILE_MAX_ENVS = 64  # --compile measures compiled CPU steps up to this batch size (where overhead dominates)
N_ENVS = [1, 64, 1024, 4096]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_batched(map_name: str, n_envs: int, device: str, min_time: float, max_steps: int,
                  warmup: int, compile: bool = False) -> dict:
    """Env-steps per second of ``BatchedSMAC.step`` with uniformly random available actions."""
    env = BatchedSMAC(map_name, n_envs, device=device, seed=0, compile=compile)
    dev = env.device
    g = torch.Generator(device=dev).manual_seed(0)
    # random valid actions: uniform noise masked by the availability, argmax. The noise comes from a
    # small pool drawn once, so that the random-number generator does not dominate the measurement
    pool = [torch.rand(n_envs, env.n_agents, env.n_actions, generator=g, device=dev) for _ in range(7)]

    def act(avail, k):
        return pool[k % len(pool)].masked_fill(~avail, -1.0).argmax(-1)

    nxt = env.reset()
    for k in range(warmup):
        nxt, *_ = env.step(act(nxt["avail"], k))
    _sync(dev)
    steps, t0 = 0, time.perf_counter()
    while steps < max_steps and (time.perf_counter() - t0 < min_time or steps < 3):
        nxt, *_ = env.step(act(nxt["avail"], steps))
        steps += 1
    _sync(dev)
    dt = time.perf_counter() - t0
    return {"map": map_name, "n_envs": n_envs, "device": str(dev), "steps": steps,
            "ms_per_step": 1e3 * dt / steps, "env_steps_per_s": n_envs * steps / dt, "compiled": compile}


def bench_facade(map_name: str, min_time: float, compile: bool = False) -> dict:
    """Steps per second of a SMAC-style loop on ``StarCraft2Env`` (random available actions)."""
    env = StarCraft2Env(map_name=map_name, seed=0, compile=compile)
    rng = np.random.default_rng(0)
    env.reset()
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_time or steps < 10:
        avail = np.asarray(env.get_avail_actions())
        r = rng.random(avail.shape) * avail
        _, terminated, _ = env.step(r.argmax(1))
        env.get_obs()
        env.get_state()
        steps += 1
        if terminated:
            env.reset()
    dt = time.perf_counter() - t0
    return {"map": map_name, "n_envs": 1, "device": "cpu", "steps": steps, "ms_per_step": 1e3 * dt / steps,
            "env_steps_per_s": steps / dt, "kind": "facade", "compiled": compile}


def bench_smax(map_name: str, n_envs: int, min_time: float) -> dict | None:
    """JaxMARL's SMAX with its heuristic enemy, jit + vmap over ``n_envs`` (None if unavailable)."""
    try:
        import jax
        import jax.numpy as jnp
        from jaxmarl import make
        from jaxmarl.environments.smax import map_name_to_scenario
    except Exception:
        return None
    try:
        env = make("HeuristicEnemySMAX", scenario=map_name_to_scenario(map_name))
    except Exception:
        return None
    key = jax.random.PRNGKey(0)
    keys = jax.random.split(key, n_envs)
    obs, state = jax.vmap(env.reset)(keys)

    def one(k, st):
        avail = env.get_avail_actions(st)
        ks = jax.random.split(k, env.num_agents + 1)
        acts = {a: jax.random.choice(ks[i], jnp.arange(avail[a].shape[-1]), p=avail[a] / avail[a].sum())
                for i, a in enumerate(env.agents)}
        _, st2, r, d, _ = env.step(ks[-1], st, acts)
        return st2

    step = jax.jit(jax.vmap(one))
    for _ in range(3):  # the second call compiles again (the state returned by step differs from reset's)
        keys = jax.random.split(keys[0], n_envs)
        state = step(keys, state)
    jax.block_until_ready(state)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_time or steps < 3:
        keys = jax.random.split(keys[0], n_envs)
        state = step(keys, state)
        steps += 1
    jax.block_until_ready(state)
    dt = time.perf_counter() - t0
    return {"map": map_name, "n_envs": n_envs, "device": str(jax.devices()[0]), "steps": steps,
            "ms_per_step": 1e3 * dt / steps, "env_steps_per_s": n_envs * steps / dt, "kind": "smax"}


def _version(package: str):
    """Installed version of ``package`` or None."""
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        return None


@torch.no_grad()
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    p.add_argument("--maps", nargs="*", default=None)
    p.add_argument("--n-envs", nargs="*", type=int, default=None)
    p.add_argument("--devices", nargs="*", default=None, help="default: cpu, plus cuda when available")
    p.add_argument("--min-time", type=float, default=None, help="seconds per measurement")
    p.add_argument("--facade-repeats", type=int, default=1,
                   help="measure the facade this many times and report the median (the machine may be noisy)")
    p.add_argument("--compile", action="store_true",
                   help=f"also measure torch.compile'd CPU steps (every map, batches of up to {COMPILE_MAX_ENVS} "
                        "games, and the facade; 10-30 s of compilation each)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "env_throughput.json"))
    args = p.parse_args(argv)
    maps = args.maps or (["3m"] if args.quick else MAPS)
    n_envs = args.n_envs or ([1, 64] if args.quick else N_ENVS)
    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    min_time = args.min_time if args.min_time is not None else (0.3 if args.quick else 2.0)

    rows = []
    print(f"{'map':<12} {'n_envs':>6} {'device':<8} {'ms/step':>9} {'env-steps/s':>13}"
          + (f" {'compiled':>11}" if args.compile else "") + "   (SMAX env-steps/s)")
    for dev in devices:
        for m in maps:
            for b in n_envs:
                row = bench_batched(m, b, dev, min_time, max_steps=2000, warmup=3 if args.quick else 10)
                smax = bench_smax(m, b, min_time) if dev == "cpu" else None
                row["smax_env_steps_per_s"] = smax["env_steps_per_s"] if smax else None
                comp = ""
                if args.compile and dev == "cpu" and b <= COMPILE_MAX_ENVS:  # small batches: per-op overhead
                    c = bench_batched(m, b, dev, min_time, max_steps=20000, warmup=3, compile=True)
                    row["compiled_env_steps_per_s"] = c["env_steps_per_s"]
                    comp = f" {c['env_steps_per_s']:>11,.0f}"
                elif args.compile:
                    comp = f" {'':>11}"
                rows.append(row)
                extra = f"   ({smax['env_steps_per_s']:,.0f})" if smax else ""
                print(f"{m:<12} {b:>6} {row['device']:<8} {row['ms_per_step']:>9.2f} "
                      f"{row['env_steps_per_s']:>13,.0f}{comp}{extra}", flush=True)
    runs = [bench_facade("3m", min_time) for _ in range(max(1, args.facade_repeats))]
    fac = sorted(runs, key=lambda r: r["env_steps_per_s"])[len(runs) // 2]   # the median run
    fac["repeats"] = [round(r["env_steps_per_s"]) for r in runs]
    rows.append(fac)
    note = f", median of {len(runs)} runs" if len(runs) > 1 else ""
    print(f"{'3m facade':<12} {1:>6} {'cpu':<8} {fac['ms_per_step']:>9.3f} {fac['env_steps_per_s']:>13,.0f}"
          f"   (StarCraft2Env: step + get_obs + get_state + get_avail_actions{note})")
    if args.compile:
        fac = bench_facade("3m", min_time, compile=True)
        rows.append(fac)
        print(f"{'3m facade c.':<12} {1:>6} {'cpu':<8} {fac['ms_per_step']:>9.3f} "
              f"{fac['env_steps_per_s']:>13,.0f}   (compile=True)")
    result = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "jaxmarl": _version("jaxmarl"),
        "jax": _version("jax"),
        "quick": bool(args.quick),
        "results": rows,
    }
    save_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
