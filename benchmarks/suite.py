"""The course benchmark: methods x maps x seeds, resumable, on one machine or on a Ray cluster.

    python benchmarks/suite.py                                   # every method, the six maps, 3 seeds, fast preset
    python benchmarks/suite.py --methods qmix vdn --maps 3m 2s3z --seeds 1 --t-max 5000   # tiny, "shortened"
    python benchmarks/suite.py --device cuda                     # the full budgets on a GPU
    python benchmarks/suite.py --ray local                       # each run a Ray task on this machine
    python benchmarks/suite.py --ray 10.0.0.1:6379               # ... on a running cluster (``ray start --head``)
    python benchmarks/suite.py --readme README.md                # also copy summary.md into the README

Rerun the same command after any interruption (Ctrl-C, ``kill -9``, a lost machine): finished runs are kept
as they are, unfinished ones continue from their last checkpoint (exact resume: the same numbers as an
uninterrupted run on CPU), new ones start.

Methods: ``iql vdn qmix qtran acorm mixrts`` by default, each checked against ``course_lib.config.list_algs()``.
A default method this checkout does not have (ACORM and MIXRTs before their branches are merged) is skipped
with a note; a method named with ``--methods`` that does not exist is an error naming the known ones.

Budgets (env steps per run; ``--t-max N`` replaces them, ``--budget-scale x`` multiplies them; a run trained
for less than its map's documented budget is labelled *shortened* in the summary):

==============  =========  ================  ==========================================================
map             SMAC       ``fast`` preset   ``pymarl`` / ``published`` preset
==============  =========  ================  ==========================================================
3m              easy       500,000           2,050,000 (pymarl's t_max on every map)
2s3z            easy       1,000,000         2,050,000
3s5z            easy       2,000,000         2,050,000
5m_vs_6m        hard       2,000,000         2,050,000
MMM2            super hard 2,000,000         2,050,000
6h_vs_8z        super hard 5,000,000         2,050,000
any other map   -          2,000,000         2,050,000
==============  =========  ================  ==========================================================

The ``fast`` budgets are what pymarl2's tricks need to separate the methods on each map on this simulator
(3m and 2s3z from ``benchmarks/learning.py``; pymarl2 itself trains the super-hard maps for 10M steps, the
talk's curves go to 2M); ``pymarl`` keeps the published 2.05M. Default preset: ``fast``.

Files (``--root``, default ``assets/benchmark/``; layout in :mod:`course_lib.benchmark`): each run trains in
``<map>/<method>/seed<k>/`` (``config.json``, ``curves.csv``, ``checkpoint.pt`` every ``--checkpoint-interval``
env steps); when it is done its checkpoint is rewritten without the replay buffer (the final checkpoint,
small enough for git) and ``result.json`` is written last, atomically (temp file + ``os.replace``): a run is
finished iff its ``result.json`` exists, and a half-written file is never taken for a result. The suite then
appends a line to ``events.jsonl`` and rewrites ``summary.csv``, ``summary.md`` (after every finished run),
``curves.png`` (at the end) and ``manifest.json`` (command, commit, device, package versions, format).

Ray (optional: ``pip install -r requirements-cluster.txt``). Each (method, map, seed) run is one Ray task
asking for ``--cpus-per-run`` CPUs and ``--gpus-per-run`` GPUs (with GPUs it trains on ``cuda``). The worker
trains in the run's folder under ``--root`` (so on a cluster a shared file system gives resume across lost
machines; without one a lost run restarts on another node) and returns its result *and its files*; the
driver alone writes them into ``--root`` as each task finishes (``ray.wait``), result last. One writer means
every result arrives exactly once even when Ray retries a task whose worker died (``max_retries``): the
retried task resumes from the checkpoint and returns the same numbers. Progress with Ray: the overall bar
(runs done / total, ETA) on the driver; the workers train without bars (their output is in Ray's logs).
Workers need ``course_lib`` importable: the same checkout at the same path (the driver passes its
``PYTHONPATH``), or ``pip install -e .`` on every node.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.benchmark import (FORMAT, BenchmarkFormatError, atomic_write_bytes, atomic_write_text,  # noqa: E402
                                  check_format, first_reach, load_curves, load_results, plot_curves_grid,
                                  read_result, summarise, summary_markdown, update_readme)
from course_lib.utils import git_commit  # noqa: E402

DEFAULT_METHODS = ("iql", "vdn", "qmix", "qtran", "acorm", "mixrts")
DEFAULT_MAPS = ("3m", "2s3z", "3s5z", "5m_vs_6m", "MMM2", "6h_vs_8z")
DIFFICULTY = {"3m": "easy", "8m": "easy", "2s3z": "easy", "3s5z": "easy", "1c3s5z": "easy", "2s_vs_1sc": "easy",
              "2m_vs_1z": "easy", "5m_vs_6m": "hard", "3s_vs_5z": "hard", "bane_vs_bane": "hard",
              "2c_vs_64zg": "hard", "8m_vs_9m": "hard", "10m_vs_11m": "hard", "25m": "hard",
              "MMM2": "super hard", "3s5z_vs_3s6z": "super hard", "6h_vs_8z": "super hard",
              "27m_vs_30m": "super hard", "corridor": "super hard"}
BUDGETS = {
    "fast": {"3m": 500_000, "2s3z": 1_000_000, "3s5z": 2_000_000, "5m_vs_6m": 2_000_000, "MMM2": 2_000_000,
             "6h_vs_8z": 5_000_000},
    "pymarl": {},
}
OTHER_MAP_BUDGET = {"fast": 2_000_000, "pymarl": 2_050_000}
RESULT_FILES = ("config.json", "curves.csv", "checkpoint.pt")


def full_budget(map_name: str, preset: str) -> int:
    """The documented budget (env steps) of ``map_name`` under ``preset`` (the table above)."""
    p = "pymarl" if preset == "published" else preset
    return int(BUDGETS[p].get(map_name, OTHER_MAP_BUDGET[p]))


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One (method, map, seed) run and everything that decides its numbers."""

    method: str
    map_name: str
    seed: int
    preset: str
    t_max: int
    full_budget: int
    overrides: Tuple[Tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.map_name}/{self.method}/seed{self.seed}"

    def run_dir(self, root: Path) -> Path:
        return Path(root) / self.map_name / self.method / f"seed{self.seed}"


# ----------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------
def resolve_methods(methods: Optional[Sequence[str]]) -> List[str]:
    """Methods to run. ``None``: the default list minus those this checkout lacks (printed note)."""
    from course_lib.config import list_algs

    known = list_algs()
    if methods is None:
        skipped = [m for m in DEFAULT_METHODS if m not in known]
        if skipped:
            print(f"note: skipping {skipped}: not registered in this checkout (known: {known})", flush=True)
        return [m for m in DEFAULT_METHODS if m in known]
    out = []
    for m in methods:
        if m.lower() not in known:
            raise ValueError(f"unknown method {m!r}; known methods: {known}")
        out.append(m.lower())
    return list(dict.fromkeys(out))


def resolve_maps(maps: Optional[Sequence[str]], extra: Sequence[str] = ()) -> List[str]:
    from course_lib.envs import list_maps

    known = list_maps(include_extensions=True)
    chosen = list(maps) if maps else list(DEFAULT_MAPS)
    chosen += list(extra)
    for m in chosen:
        if m not in known:
            raise ValueError(f"unknown map {m!r}; known maps: {known}")
    return list(dict.fromkeys(chosen))


def make_specs(methods: Sequence[str], maps: Sequence[str], seeds: Sequence[int], preset: str = "fast",
               t_max: Optional[int] = None, budget_scale: float = 1.0,
               overrides: Optional[Dict[str, Any]] = None) -> List[RunSpec]:
    """The runs of a sweep, map by map (every method and seed of a map before the next map)."""
    from course_lib.config import PRESETS

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known presets: {list(PRESETS)}")
    if t_max is not None and (not isinstance(t_max, int) or isinstance(t_max, bool) or t_max <= 0):
        raise ValueError(f"t_max={t_max!r}: the budget must be a positive whole number of env steps")
    if not (isinstance(budget_scale, (int, float)) and math.isfinite(budget_scale) and budget_scale > 0):
        raise ValueError(f"budget_scale={budget_scale!r}: must be a positive number (1 = the documented budgets)")
    if not seeds:
        raise ValueError("no seeds: give at least one (--seeds 1)")
    ov = tuple(sorted((overrides or {}).items()))
    specs = []
    for m in maps:
        full = full_budget(m, preset)
        budget = int(t_max) if t_max is not None else int(round(full * budget_scale))
        if budget <= 0:
            raise ValueError(f"budget_scale={budget_scale!r} gives a budget of {budget} env steps on {m}: must be positive")
        for a in methods:
            for s in seeds:
                specs.append(RunSpec(a, m, int(s), preset, budget, full, ov))
    return specs


# ----------------------------------------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------------------------------------
def check_unfinished(spec: RunSpec, root: Path) -> None:
    """An unfinished run continues with the config it started with: refuse (naming both values) when this
    call asks for another preset or other config overrides, instead of mixing settings in one run."""
    d = spec.run_dir(root)
    if not (d / "checkpoint.pt").exists() or not (d / "config.json").exists():
        return
    try:
        cfg = json.loads((d / "config.json").read_text())["config"]
    except (ValueError, KeyError):
        return  # unreadable: the checkpoint's own config is used when it resumes
    wanted = {"preset": spec.preset, **dict(spec.overrides)}
    bad = {k: (cfg.get(k), v) for k, v in wanted.items() if cfg.get(k) != v and k != "t_max"}
    if bad:
        diff = ", ".join(f"{k}: started with {a!r}, asked for {b!r}" for k, (a, b) in bad.items())
        raise ValueError(f"the unfinished run {d} started with other settings ({diff}); rerun with the same "
                         f"options to continue it, or use another --root (nothing was changed)")


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (its checkpoint is saved; rerun the suite to continue)."""


def _compact_checkpoint(path: Path) -> None:
    """Drop the replay buffer and the training games from a finished run's checkpoint (networks, optimiser,
    counters and curves stay; ``train(..., resume=True)`` still opens it, ``evaluate`` plays it)."""
    from course_lib.checkpoints import safe_load, safe_save

    ckpt = safe_load(path, map_location="cpu")
    runner = ckpt.get("runner") or {}
    if ckpt.get("buffer") is not None or runner.get("started"):
        ckpt["buffer"] = None
        # the training games are not needed any more (the run is over): keep counters and generator only
        ckpt["runner"] = {k: runner[k] for k in ("t_env", "episodes", "generator")} | {"started": False}
        safe_save(ckpt, path)


def train_run(spec: RunSpec, root: Path, device: str = "cpu", progress: bool = True) -> Dict[str, Any]:
    """Train (or continue) one run in its folder and return its result dict; does NOT write ``result.json``.

    Raises:
        RunInterrupted: Ctrl-C stopped the run (a checkpoint was saved first).
    """
    from course_lib.params import count_parameters
    from course_lib.train import CHECKPOINT_NAME, train

    d = spec.run_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    for stray in [*d.glob(".*.tmp"), d / (CHECKPOINT_NAME + ".tmp")]:  # half-written files of a killed run
        stray.unlink(missing_ok=True)
    if (d / CHECKPOINT_NAME).exists():
        run = train(spec.method, spec.map_name, t_max=spec.t_max, device=device, run_dir=d, resume=True,
                    progress=progress)
    else:
        run = train(spec.method, spec.map_name, preset=spec.preset, seed=spec.seed, t_max=spec.t_max,
                    device=device, run_dir=d, progress=progress, **dict(spec.overrides))
    if run.interrupted:
        raise RunInterrupted(f"{spec.key} interrupted at {run.final['env_steps']} env steps")
    _compact_checkpoint(d / CHECKPOINT_NAME)
    curves = run.curves
    r50, r80 = first_reach(curves, 0.5), first_reach(curves, 0.8)
    params = count_parameters(spec.method, spec.map_name, preset=spec.preset)
    import torch

    return {
        "format": FORMAT, "method": spec.method, "map_name": spec.map_name, "seed": spec.seed,
        "preset": spec.preset, "difficulty": DIFFICULTY.get(spec.map_name, "-"), "device": str(run.device),
        "t_max": spec.t_max, "full_budget": spec.full_budget, "shortened": spec.t_max < spec.full_budget,
        "overrides": dict(spec.overrides), "env_steps": int(run.final["env_steps"]),
        "final_win_rate": float(run.final["win_rate"]), "final_return": float(run.final["return"]),
        "best_win_rate": float(curves["test_win_rate"].max()),
        "steps_to_50": r50["steps"], "time_to_50_s": r50["time_s"],
        "steps_to_80": r80["steps"], "time_to_80_s": r80["time_s"],
        "wall_time_s": float(curves["wall_time"].iloc[-1]), "evaluations": int(len(curves)),
        "parameters": params["total"], "parameters_agent": params["agent"], "parameters_mixer": params["mixer"],
        "torch": str(torch.__version__), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def record(root: Path, spec: RunSpec, result: Dict[str, Any], files: Optional[Dict[str, bytes]] = None) -> bool:
    """Write a finished run into ``root``: its files (when shipped from a worker), then ``result.json`` (last,
    atomically), then a line in ``events.jsonl``. Returns False (and writes nothing) when the run already
    has a result: a result is recorded exactly once."""
    d = spec.run_dir(root)
    if read_result(d / "result.json") is not None:
        return False
    for name, data in (files or {}).items():
        p = d / name
        if not (p.exists() and p.read_bytes() == data):
            atomic_write_bytes(p, data)
    atomic_write_text(d / "result.json", json.dumps(result, indent=2))
    (d / "worker.pid").unlink(missing_ok=True)
    with open(Path(root) / "events.jsonl", "a") as f:
        f.write(json.dumps({"run": spec.key, "final_win_rate": result["final_win_rate"],
                            "finished_at": result["finished_at"]}) + "\n")
    return True


# ----------------------------------------------------------------------------------------------------
# manifest and summary
# ----------------------------------------------------------------------------------------------------
def _git_commit() -> Dict[str, Any]:
    try:
        head = git_commit(short=False)
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=20).stdout.strip())
        return {"commit": head, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def _packages() -> Dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("torch", "numpy", "pandas", "matplotlib", "tqdm", "ray"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _device_info(device: str) -> Dict[str, Any]:
    import torch

    info = {"device": device, "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "platform": platform.platform()}
    if torch.cuda.is_available() and device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def write_manifest(root: Path, argv: Sequence[str], device: str, specs: Sequence[RunSpec], ray_address) -> Path:
    old = check_format(root) or {}
    entry = {"command": "python benchmarks/suite.py " + " ".join(argv), **_git_commit(), **_device_info(device),
             "ray": ray_address, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    budgets = dict(old.get("budgets", {}))  # a later sweep adds maps; the earlier ones stay described
    budgets.update({s.map_name: {"preset": s.preset, "t_max": s.t_max, "full_budget": s.full_budget} for s in specs})
    # the six maps in their documented order (easy to super hard), then any others in the order they came
    rank = {m: k for k, m in enumerate(DEFAULT_MAPS)}
    budgets = dict(sorted(budgets.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    manifest = {"format": FORMAT, **entry, "packages": _packages(), "budgets": budgets,
                "history": list(old.get("history", [])) + [entry]}
    return atomic_write_text(Path(root) / "manifest.json", json.dumps(manifest, indent=2))


def write_summary(root: Path, maps: Sequence[str] = (), methods: Sequence[str] = (), plot: bool = False):
    """Rewrite ``summary.csv`` / ``summary.md`` (and ``curves.png`` when ``plot``) from every result under ``root``."""
    res = load_results(root)
    if res.empty:
        return None
    all_maps = list(dict.fromkeys(list(maps) + list(res["map_name"])))
    all_methods = list(dict.fromkeys(list(methods) + list(res["method"])))
    summary = summarise(res, all_maps, all_methods)
    atomic_write_text(Path(root) / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(Path(root) / "summary.md", summary_markdown(summary))
    if plot:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import io

        import matplotlib.pyplot as plt

        curves = load_curves(root)
        present = [m for m in all_maps if m in set(curves["map_name"])]
        fig = plot_curves_grid(curves, present, [a for a in all_methods if a in set(curves["method"])])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        atomic_write_bytes(Path(root) / "curves.png", buf.getvalue())
    return summary


# ----------------------------------------------------------------------------------------------------
# schedulers
# ----------------------------------------------------------------------------------------------------
def _overall_bar(total: int, done: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, unit="run", desc="suite", position=0, dynamic_ncols=True)


def run_local(specs: Sequence[RunSpec], root: Path, device: str, progress: bool, on_result) -> None:
    todo = [s for s in specs if read_result(s.run_dir(root) / "result.json") is None]
    bar = _overall_bar(len(specs), len(specs) - len(todo), progress)
    try:
        for s in todo:
            if bar is not None:
                bar.set_postfix_str(s.key)
            res = train_run(s, root, device, progress)
            if record(root, s, res):
                on_result(s, res)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast, naming the address, when nothing listens at ``host:port`` (``ray://host:port`` too)."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"Ray address {address!r} is not 'host:port', 'ray://host:port', 'auto' or 'local'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach the Ray cluster at {address!r} ({exc}). Start one with "
                              f"'ray start --head' (it prints the address) or use --ray local; "
                              f"nothing was run or changed") from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs the optional package 'ray': pip install -r requirements-cluster.txt "
                          "(or run without --ray)") from None
    return ray


def connect_ray(address: str, num_cpus: Optional[int] = None):
    """``ray.init`` for ``"local"`` (a fresh local instance), ``"auto"`` or ``host:port``; reuses an existing
    connection (e.g. a test's own ``ray.init``)."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    if address not in ("local", "auto"):
        check_ray_address(address)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    kw: Dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": True}
    if address == "local":
        ray.init(num_cpus=num_cpus, include_dashboard=False, **kw)
    else:
        ray.init(address=address, **kw)
    return ray


def _ray_task(spec_d: Dict[str, Any], root: str, device: str, progress: bool) -> Dict[str, Any]:
    """Body of one Ray task: train (resuming when a checkpoint exists), return result and files."""
    spec = RunSpec(**{**spec_d, "overrides": tuple(tuple(x) for x in spec_d["overrides"])})
    d = spec.run_dir(Path(root))
    d.mkdir(parents=True, exist_ok=True)
    (d / "worker.pid").write_text(str(os.getpid()))  # lets a test (or you) find the process of this run
    res = train_run(spec, Path(root), device, progress)
    return {"key": spec.key, "result": res, "files": {n: (d / n).read_bytes() for n in RESULT_FILES}}


def run_ray(specs: Sequence[RunSpec], root: Path, address: str, cpus_per_run: float, gpus_per_run: float,
            progress: bool, on_result, max_retries: int = 3) -> None:
    ray = connect_ray(address)
    device = "cuda" if gpus_per_run > 0 else "cpu"
    todo = [s for s in specs if read_result(s.run_dir(root) / "result.json") is None]
    bar = _overall_bar(len(specs), len(specs) - len(todo), progress)
    mod = sys.modules[__name__]
    if mod.__name__ != "__main__":  # loaded from a file path (tests): ship the code by value to the workers
        ray.cloudpickle.register_pickle_by_value(mod)
    remote = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=max_retries)(_ray_task)
    pending = {}
    for s in todo:
        d = dataclasses.asdict(s)
        d["overrides"] = [list(x) for x in s.overrides]
        pending[remote.remote(d, str(Path(root).resolve()), device, False)] = s
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                s = pending.pop(ref)
                out = ray.get(ref)
                if record(root, s, out["result"], out["files"]):
                    on_result(s, out["result"])
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if bar is not None:
            bar.close()


# ----------------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------------
def run_suite(methods: Optional[Sequence[str]] = None, maps: Optional[Sequence[str]] = None,
              seeds: Sequence[int] = (0, 1, 2), preset: str = "fast", t_max: Optional[int] = None,
              budget_scale: float = 1.0, device: str = "cpu", root: Path = ROOT / "assets" / "benchmark",
              ray: Optional[str] = None, cpus_per_run: float = 1, gpus_per_run: float = 0,
              overrides: Optional[Dict[str, Any]] = None, extra_maps: Sequence[str] = (), progress: bool = True,
              readme: Optional[Path] = None, plot: bool = True, argv: Sequence[str] = ()) -> Any:
    """Run (or continue) a sweep; returns the summary DataFrame. Validates everything before touching files."""
    root = Path(root)
    check_format(root)  # an incompatible assets folder: error before anything is written
    ms = resolve_methods(methods)
    mps = resolve_maps(maps, extra_maps)
    specs = make_specs(ms, mps, seeds, preset, t_max, budget_scale, overrides)
    for s in specs:  # an unreadable or foreign result.json stops the suite before it writes anything
        if read_result(s.run_dir(root) / "result.json") is None:
            check_unfinished(s, root)
    if ray is not None:
        _import_ray()
        if ray not in ("local", "auto"):
            check_ray_address(ray)
        device = "cuda" if gpus_per_run > 0 else "cpu"
    elif device == "auto":
        from course_lib.utils import resolve_device

        device = str(resolve_device("auto"))
    root.mkdir(parents=True, exist_ok=True)
    write_manifest(root, argv, device, specs, ray)
    order = list(json.loads((root / "manifest.json").read_text())["budgets"])  # every sweep's maps, documented order
    mps = order + [m for m in mps if m not in order]

    def on_result(s: RunSpec, res: Dict[str, Any]) -> None:
        write_summary(root, mps, ms)
        tag = " (shortened)" if res["shortened"] else ""
        print(f"finished {s.key}: final win rate {res['final_win_rate']:.2f}, best {res['best_win_rate']:.2f}"
              f"{tag}", flush=True)

    try:
        if ray is None:
            run_local(specs, root, device, progress, on_result)
        else:
            run_ray(specs, root, ray, cpus_per_run, gpus_per_run, progress, on_result)
    except KeyboardInterrupt:
        write_summary(root, mps, ms)
        print("suite interrupted: finished runs are saved; rerun the same command to continue the others",
              file=sys.stderr, flush=True)
        raise
    summary = write_summary(root, mps, ms, plot=plot)
    if readme is not None and summary is not None:
        update_readme(readme, (root / "summary.md").read_text())
    return summary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", help=f"default: {' '.join(DEFAULT_METHODS)} (those registered)")
    p.add_argument("--maps", nargs="+", help=f"default: {' '.join(DEFAULT_MAPS)}")
    p.add_argument("--extra-maps", nargs="+", default=[], help="maps added to the list")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. N-1), default 3")
    p.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds (instead of --seeds)")
    p.add_argument("--preset", default="fast", help="fast (default), pymarl or published")
    p.add_argument("--t-max", type=int, help="env steps per run on every map (replaces the documented budgets)")
    p.add_argument("--budget-scale", type=float, default=1.0, help="multiply the documented budgets")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--root", type=Path, default=ROOT / "assets" / "benchmark")
    p.add_argument("--ray", metavar="ADDRESS", help="'local', 'auto' or host:port of a running Ray cluster")
    p.add_argument("--cpus-per-run", type=float, default=1)
    p.add_argument("--gpus-per-run", type=float, default=0)
    p.add_argument("--test-interval", type=int, help="env steps between evaluations (config override)")
    p.add_argument("--test-episodes", type=int, help="greedy episodes per evaluation (config override)")
    p.add_argument("--checkpoint-interval", type=int, default=50_000,
                   help="env steps between checkpoints (default 50k: at most that much is redone after kill -9)")
    p.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                   help="config overrides for new runs, e.g. --set batch_size=32 (recorded in result.json)")
    p.add_argument("--readme", type=Path, help="copy summary.md into this README between its markers")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-plot", action="store_true")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    a = _parser().parse_args(argv)
    if a.seeds <= 0 and not a.seed_list:
        raise SystemExit(f"--seeds {a.seeds}: must be at least 1")
    seeds = a.seed_list or list(range(a.seeds))
    from course_lib.train import _parse_overrides

    ov: Dict[str, Any] = _parse_overrides(a.set)
    for name, val in (("test_interval", a.test_interval), ("test_nepisodes", a.test_episodes),
                      ("checkpoint_interval", a.checkpoint_interval)):
        if val is not None:
            if val <= 0:
                raise SystemExit(f"--{name.replace('_', '-')} {val}: must be a positive number of env steps/episodes")
            ov[name] = int(val)
    try:
        run_suite(a.methods, a.maps, seeds, a.preset, a.t_max, a.budget_scale, a.device, a.root, a.ray,
                  a.cpus_per_run, a.gpus_per_run, ov, a.extra_maps, not a.no_progress, a.readme,
                  not a.no_plot, argv)
    except KeyboardInterrupt:
        return 130
    except (ValueError, ImportError, ConnectionError, BenchmarkFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
