"""Where the wall time of ``train`` goes, and what bounds the learner: the numbers behind issue #14's 2x target.

    python benchmarks/learner_profile.py                    # QMIX, fast preset, 3m, 40k env steps
    python benchmarks/learner_profile.py --alg vdn --map 2s3z --t-max 40000
    python benchmarks/learner_profile.py --quick            # a short budget (the test's)

Three measurements, one process, CPU, the thread count ``course_lib`` chooses (1):

1. **Wall split of one ``train`` call** (``train(alg, map, preset="fast", t_max=...)``, what users run): the time
   in ``Trainer.iteration`` (collection and, in the learner thread, the gradient steps that overlap it), in the
   learner thread alone, in collection alone, in evaluations, in checkpoints, and the rest (set-up). With
   ``overlap_collection`` the iterations take about as long as the learner: the loop is learner-bound when
   ``learner ~ iterations``.
2. **One learner step, part by part** (the steps of ``QLearner.loss`` and ``train`` timed separately on batches
   from the run's own buffer; the first, untimed step checks that this copy still gives the learner's loss): the online and target unrolls, the mixers, TD(lambda), backward, clipping, Adam.
3. **Contention**: the same learner steps alone, with a collector thread running beside them (as in
   ``train``), and with a simulator busy in a second process. If the thread costs much more than the process,
   the two threads fight over the interpreter; if both cost little, moving collection to a process cannot help.

Prints the tables and writes ``benchmarks/results/learner_profile.json`` (with the command, commit and machine).
Run it on an otherwise idle machine: a busy core changes every number.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import course_lib.train as T  # noqa: E402
from course_lib.learners.q_learner import masked_greedy  # noqa: E402
from course_lib.learners.targets import td_lambda_targets  # noqa: E402
from course_lib.utils import git_commit, save_json  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "learner_profile.json"
ALGS = ("iql", "vdn", "qmix")  # the learners whose loss this script re-times step by step (QLearner)

_SIM_CHILD = """
import sys, time, torch
torch.set_num_threads(1)
from course_lib.envs.smac import BatchedSMAC
env = BatchedSMAC(sys.argv[1], int(sys.argv[2]), seed=0)
nxt = env.reset()
print("ready", flush=True)
t0 = time.time()
while time.time() - t0 < float(sys.argv[3]):
    act = torch.rand(nxt["avail"].shape).masked_fill(~nxt["avail"], -1.0).argmax(-1)
    nxt, *_ = env.step(act)
"""


def wall_split(alg: str, map_name: str, t_max: int, seed: int = 0) -> Dict[str, float]:
    """Time the parts of one ``train`` call by wrapping the Trainer's methods (restored afterwards)."""
    acc = {"iterations_s": 0.0, "learner_s": 0.0, "collect_s": 0.0, "evaluate_s": 0.0, "checkpoint_s": 0.0,
           "learner_steps": 0, "iterations": 0}
    saved = (T.Trainer.iteration, T.Trainer._train_on, T.Trainer.evaluate_now, T.Trainer.save_checkpoint,
             T.EpisodeRunner.collect)

    def timed(fn, key, count=None):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[key] += time.perf_counter() - t  # += on a float: atomic enough under the GIL for two threads
                if count:
                    acc[count] += 1
        return wrapper

    T.Trainer.iteration = timed(saved[0], "iterations_s", "iterations")
    T.Trainer._train_on = timed(saved[1], "learner_s", "learner_steps")
    T.Trainer.evaluate_now = timed(saved[2], "evaluate_s")
    T.Trainer.save_checkpoint = timed(saved[3], "checkpoint_s")
    T.EpisodeRunner.collect = timed(saved[4], "collect_s")
    try:
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run = T.train(alg, map_name, preset="fast", seed=seed, t_max=t_max, device="cpu", progress=False,
                          run_dir=Path(d) / "run")
            wall = time.perf_counter() - t0
    finally:
        (T.Trainer.iteration, T.Trainer._train_on, T.Trainer.evaluate_now, T.Trainer.save_checkpoint,
         T.EpisodeRunner.collect) = saved
    acc.update(wall_s=wall, env_steps=int(run.final["env_steps"]),
               rest_s=wall - acc["iterations_s"] - acc["evaluate_s"] - acc["checkpoint_s"],
               ms_per_learner_step=1e3 * acc["learner_s"] / max(acc["learner_steps"], 1))
    return acc


def _trainer(alg: str, map_name: str, episodes: int, run_dir: Path, seed: int = 0):
    """A Trainer (collection not overlapped) whose buffer holds ``episodes`` episodes; files under ``run_dir``."""
    cfg = T.make_config(alg, map_name, "fast", overlap_collection=False)
    tr = T.Trainer(cfg, seed, torch.device("cpu"), Path(run_dir) / "run")
    while tr.episodes < episodes:
        tr._record(tr.runner.collect(cfg.n_envs, tr.schedule))
    return tr


def learner_parts(tr, steps: int) -> Dict[str, float]:
    """Milliseconds per learner step for each part of ``QLearner.train`` (same computation, timed piecewise)."""
    L, cfg = tr.learner, tr.config
    parts: Dict[str, float] = {}

    def tick(key, t0):
        parts[key] = parts.get(key, 0.0) + time.perf_counter() - t0
        return time.perf_counter()

    for i in range(steps + 3):
        if i == 3:
            parts.clear()
        t = time.perf_counter()
        batch = tr.buffer.sample(cfg.batch_size)
        t = tick("sample", t)
        q, h = L.mac.unroll(batch.obs, batch.actions)
        t = tick("online unroll", t)
        chosen = q[:, :-1].gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
        chosen_full = torch.cat([chosen, chosen.new_zeros(chosen[:, :1].shape)], dim=1)
        q_taken = L._mix(L.mixer, chosen_full, batch.state, h)[:, :-1]
        t = tick("online mix", t)
        with torch.no_grad():
            q_tgt, h_tgt = L.target_mac.unroll(batch.obs, batch.actions)
            t = tick("target unroll", t)
            a_star = masked_greedy(q.detach(), batch.avail)
            next_q = q_tgt.gather(-1, a_star.unsqueeze(-1)).squeeze(-1)
            next_v = L._mix(L.target_mixer, next_q, batch.state, h_tgt, L.target_mac)[:, 1:]
            t = tick("target mix", t)
            m = batch.filled if next_v.dim() == 2 else batch.filled.unsqueeze(-1)
            targets = td_lambda_targets(batch.reward, batch.terminated, batch.filled, next_v * m, cfg.gamma,
                                        cfg.td_lambda)
            t = tick("TD(lambda) targets", t)
        mask = batch.filled if q_taken.dim() == 2 else batch.filled.unsqueeze(-1).expand_as(q_taken)
        loss = ((q_taken - targets) * mask).pow(2).sum() / mask.sum()
        if i == 0:  # the parts re-time QLearner.loss step by step: they must still compute the same loss
            ref = float(L.loss(batch)["loss"])
            if abs(float(loss) - ref) > 1e-5 * max(1.0, abs(ref)):
                raise RuntimeError(f"learner_profile's copy of QLearner.loss gives {float(loss)!r}, the learner "
                                   f"{ref!r}: update learner_parts to follow course_lib/learners/q_learner.py")
        L.optimizer.zero_grad(set_to_none=True)
        t = tick("loss", t)
        loss.backward()
        t = tick("backward", t)
        torch.nn.utils.clip_grad_norm_(L.params, cfg.grad_norm_clip)
        t = tick("clip", t)
        L.optimizer.step()
        tick("optimiser step", t)
    out = {k: 1e3 * v / steps for k, v in parts.items()}
    out["total"] = sum(out.values())
    out["batch_shape"] = list(batch.obs.shape)
    out["filled_fraction"] = float(batch.filled.float().mean())
    return out


def contention(tr, steps: int) -> Dict[str, float]:
    """ms per learner step: alone, beside a collector thread, beside a simulator in another process."""
    L, cfg = tr.learner, tr.config
    batches = [tr.buffer.sample(cfg.batch_size) for _ in range(steps)]

    def learn() -> float:
        t0 = time.perf_counter()
        for b in batches:
            L.train(b, tr.episodes)
        return 1e3 * (time.perf_counter() - t0) / steps

    learn()  # warm-up
    out = {"alone": learn()}
    stop = threading.Event()

    def collect_loop():
        while not stop.is_set():
            tr.runner.collect(cfg.n_envs, tr.schedule)

    th = threading.Thread(target=collect_loop, daemon=True)
    th.start()
    try:
        out["beside a collector thread"] = learn()
    finally:
        stop.set()
        th.join()
    child = subprocess.Popen([sys.executable, "-c", _SIM_CHILD, cfg.map_name, str(cfg.n_envs), "600"],
                             stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        child.stdout.readline()  # "ready": the simulator is built and stepping
        out["beside a simulator process"] = learn()
    finally:
        child.kill()
        child.wait()
    return out


def main(argv: List[str] = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alg", default="qmix", choices=ALGS)
    p.add_argument("--map", default="3m")
    p.add_argument("--t-max", type=int, default=40_000, help="env steps of the timed train() call")
    p.add_argument("--steps", type=int, default=30, help="learner steps per part/contention measurement")
    p.add_argument("--quick", action="store_true", help="a short budget: --t-max 3000 --steps 3")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    if args.t_max <= 0 or args.steps <= 0:
        raise SystemExit(f"--t-max ({args.t_max}) and --steps ({args.steps}) must be positive")
    if args.quick:
        args.t_max, args.steps = 3_000, 3
    T.threads.apply("cpu")

    split = wall_split(args.alg, args.map, args.t_max)
    print(f"\n1. train({args.alg!r}, {args.map!r}, preset='fast', t_max={args.t_max:,}): wall {split['wall_s']:.2f} s "
          f"for {split['env_steps']:,} env steps ({split['env_steps'] / split['wall_s']:,.0f} env-steps/s)")
    for k in ("iterations_s", "learner_s", "collect_s", "evaluate_s", "checkpoint_s", "rest_s"):
        print(f"   {k[:-2]:<12} {split[k]:7.2f} s")
    print(f"   {split['learner_steps']} learner steps, {split['ms_per_learner_step']:.1f} ms each")

    with tempfile.TemporaryDirectory() as d:  # the Trainer's run folder, removed afterwards
        tr = _trainer(args.alg, args.map, episodes=max(8 * 8, 300 if not args.quick else 64), run_dir=Path(d))
        parts = learner_parts(tr, args.steps)
        cont = contention(tr, args.steps)
    print(f"\n2. one learner step (batch {parts['batch_shape']}, {parts['filled_fraction']:.0%} of the steps real):")
    for k, v in parts.items():
        if isinstance(v, float) and k not in ("total", "filled_fraction"):
            print(f"   {k:<20} {v:6.2f} ms  {v / parts['total']:5.1%}")
    print(f"   {'total':<20} {parts['total']:6.2f} ms")

    print("\n3. learner ms per step:", ", ".join(f"{k} {v:.1f}" for k, v in cont.items()))

    res = {"meta": {"command": "python benchmarks/learner_profile.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                                "torch": torch.__version__,
                                "python": platform.python_version(), "torch_threads": torch.get_num_threads()},
                    "alg": args.alg, "map": args.map, "t_max": args.t_max, "steps": args.steps},
           "wall_split": split, "learner_parts_ms": parts, "contention_ms_per_step": cont}
    save_json(res, args.out)
    return res


if __name__ == "__main__":
    main()
