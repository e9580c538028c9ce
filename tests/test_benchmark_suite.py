"""benchmarks/suite.py: files it writes, resume after Ctrl-C and kill -9, exactly-once results, bad input,
Ray (skipped without ray), and the README table equal to assets/benchmark/summary.md."""
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from course_lib import benchmark as B
from course_lib.config import list_algs

ROOT = Path(__file__).resolve().parents[1]


S = B.load_suite()
# Tiny runs: training starts after the first iteration (batch of 8 episodes), checkpoints every 200 steps.
TINY = dict(test_interval=300, test_nepisodes=4, checkpoint_interval=200, batch_size=8)
CLI_TINY = ["--test-interval", "300", "--test-episodes", "4", "--checkpoint-interval", "200", "--no-progress",
            "--no-plot"]
NUMBERS = ["env_steps", "episodes", "test_win_rate", "test_return", "loss", "epsilon"]


def _tree_digest(root: Path):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _curves(root: Path, key: str) -> pd.DataFrame:
    return pd.read_csv(root / key / "curves.csv")[NUMBERS]


def _events(root: Path):
    return [json.loads(line)["run"] for line in (root / "events.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """vdn and qmix, seeds 0 and 1, on 3m for 1200 env steps, run locally without interruption."""
    root = tmp_path_factory.mktemp("reference")
    S.run_suite(["vdn", "qmix"], ["3m"], [0, 1], t_max=1200, root=root, overrides=dict(TINY), progress=False,
                plot=True)
    return root


# ----------------------------------------------------------------------------------------------------
def test_suite_writes_results_summary_manifest_and_never_redoes_a_run(reference):
    root = reference
    res = B.load_results(root)
    assert sorted(res["method"]) == ["qmix", "qmix", "vdn", "vdn"] and set(res["seed"]) == {0, 1}
    r = B.read_result(root / "3m/qmix/seed0/result.json")
    assert r["format"] == B.FORMAT and r["t_max"] == 1200 and r["full_budget"] == 500_000 and r["shortened"]
    assert r["env_steps"] >= 1200 and 0.0 <= r["final_win_rate"] <= r["best_win_rate"] <= 1.0
    from course_lib.params import count_parameters

    assert r["parameters"] == count_parameters("qmix", "3m", preset="fast")["total"]
    curves = pd.read_csv(root / "3m/qmix/seed0/curves.csv")
    assert r["best_win_rate"] == pytest.approx(curves["test_win_rate"].max())
    assert r["evaluations"] == len(curves) >= 4
    # the final checkpoint is kept, without the replay buffer
    from course_lib.checkpoints import safe_load

    ck = safe_load(root / "3m/qmix/seed0/checkpoint.pt")
    assert ck["buffer"] is None and ck["learner"]
    summary = pd.read_csv(root / "summary.csv")
    assert list(zip(summary["map_name"], summary["method"])) == [("3m", "vdn"), ("3m", "qmix")]
    assert summary["shortened"].all() and (summary["seeds"] == 2).all()
    md = (root / "summary.md").read_text()
    assert "| 3m | qmix | 2 |" in md and "shortened" in md and "1.2k of 500.0k" in md
    man = json.loads((root / "manifest.json").read_text())
    assert man["format"] == B.FORMAT and man["device"] == "cpu" and "torch" in man["packages"]
    assert len(man["commit"]) in (40, 7) or man["commit"] == "unknown"
    assert (root / "curves.png").stat().st_size > 5000
    assert sorted(_events(root)) == sorted(["3m/vdn/seed0", "3m/vdn/seed1", "3m/qmix/seed0", "3m/qmix/seed1"])
    # rerun: every run is finished, nothing is retrained or rewritten
    before = {k: v for k, v in _tree_digest(root).items() if "seed" in k}
    S.run_suite(["vdn", "qmix"], ["3m"], [0, 1], t_max=1200, root=root, overrides=dict(TINY), progress=False,
                plot=False)
    assert {k: v for k, v in _tree_digest(root).items() if "seed" in k} == before
    assert len(_events(root)) == 4


def test_first_reach_and_summary_numbers():
    c = pd.DataFrame({"env_steps": [0, 100, 200, 300], "wall_time": [0.0, 1.0, 2.0, 3.0],
                      "test_win_rate": [0.0, 0.5, 0.4, 0.9]})
    assert B.first_reach(c, 0.5) == {"steps": 100, "time_s": 1.0}
    assert B.first_reach(c, 0.8) == {"steps": 300, "time_s": 3.0}
    assert B.first_reach(c, 0.95) == {"steps": None, "time_s": None}
    rows = [dict(map_name="3m", method="qmix", seed=s, final_win_rate=f, best_win_rate=b, steps_to_50=s50,
                 time_to_50_s=t50, steps_to_80=None, time_to_80_s=None, parameters=10, t_max=100,
                 full_budget=500, shortened=True, preset="fast", device="cpu")
            for s, f, b, s50, t50 in [(0, 0.2, 0.6, 40, 4.0), (1, 0.6, 0.8, 80, 6.0), (2, 0.4, 0.4, None, None)]]
    s = B.summarise(pd.DataFrame(rows)).iloc[0]
    assert s["final_win_rate"] == pytest.approx(0.4) and s["best_win_rate"] == pytest.approx(0.6)
    assert s["reached_50"] == 2 and s["steps_to_50"] == 60 and s["time_to_50_s"] == 5.0
    assert s["reached_80"] == 0 and s["steps_to_80"] is None
    md = B.summary_markdown(B.summarise(pd.DataFrame(rows)))
    assert "| 3m | qmix | 3 | 0.40 ± 0.16 | 0.60 | 60 (2/3) | 5 s | - | - | 10 | 100 of 500 | shortened |" in md


def test_atomic_write_never_leaves_a_half_file(tmp_path, monkeypatch):
    p = tmp_path / "result.json"
    B.atomic_write_text(p, '{"old": 1}')

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        B.atomic_write_text(p, '{"new": 2}')
    assert p.read_text() == '{"old": 1}' and [q.name for q in tmp_path.iterdir()] == ["result.json"]


def _spawn_suite(root: Path, extra=()):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "suite.py"), "--methods", "vdn", "--maps", "3m",
           "--seed-list", "1", "--t-max", "1200", "--root", str(root), "--set", "batch_size=8", *CLI_TINY, *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_checkpoint(proc, run: Path, timeout=240.0):
    t0 = time.time()
    while not (run / "checkpoint.pt").exists():
        if proc.poll() is not None:
            pytest.fail(f"suite ended before its first checkpoint: {proc.stdout.read()}")
        if time.time() - t0 > timeout:
            proc.kill()
            pytest.fail("no checkpoint in time")
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["kill -9", "ctrl-c"])
def test_killed_suite_continues_from_the_checkpoint_with_the_same_numbers(tmp_path, reference, how):
    root = tmp_path / "bench"
    run = root / "3m/vdn/seed1"
    proc = _spawn_suite(root)
    _wait_for_checkpoint(proc, run)
    if how == "kill -9":
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    else:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 130, out
        assert "rerun the same command" in out and "Checkpoint saved" in out
    # not finished: no result.json, and no temp file counts as one
    assert not (run / "result.json").exists()
    before = _tree_digest(root)
    with pytest.raises(ValueError, match=r"seed1 started with other settings \(test_interval: started with 300, "
                                         r"asked for 999\)"):
        S.run_suite(["vdn"], ["3m"], [1], t_max=1200, root=root, overrides={**TINY, "test_interval": 999},
                    progress=False, plot=False)
    assert _tree_digest(root) == before
    (run / ".result.json.k1ll3d.tmp").write_text('{"format": "marl-course.bench')  # as a kill mid-write leaves it
    assert B.load_results(root).empty
    S.run_suite(["vdn"], ["3m"], [1], t_max=1200, root=root, overrides=dict(TINY), progress=False, plot=False)
    assert _events(root) == ["3m/vdn/seed1"]
    assert not list(run.glob("*.tmp")) and not list(run.glob(".*.tmp"))
    pd.testing.assert_frame_equal(_curves(root, "3m/vdn/seed1"), _curves(reference, "3m/vdn/seed1"))
    a, b = B.read_result(run / "result.json"), B.read_result(reference / "3m/vdn/seed1/result.json")
    for k in ("final_win_rate", "best_win_rate", "env_steps", "steps_to_50", "parameters"):
        assert a[k] == b[k], k


# ----------------------------------------------------------------------------------------------------
# bad input: a clear error naming the value, nothing saved is lost
# ----------------------------------------------------------------------------------------------------
def test_bad_input_is_named_and_nothing_saved_is_lost(reference, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "bench"
    shutil.copytree(reference, root)
    before = _tree_digest(root)
    kw = dict(root=root, overrides=dict(TINY), progress=False, plot=False)
    with pytest.raises(ValueError, match=r"unknown method 'qmx'.*known methods: \[.*'qmix'"):
        S.run_suite(["qmx"], ["3m"], [0], t_max=100, **kw)
    with pytest.raises(ValueError, match=r"unknown map '3mm'.*'2s3z'"):
        S.run_suite(["vdn"], ["3mm"], [0], t_max=100, **kw)
    with pytest.raises(ValueError, match=r"t_max=0"):
        S.run_suite(["vdn"], ["3m"], [0], t_max=0, **kw)
    with pytest.raises(ValueError, match=r"budget_scale=0"):
        S.run_suite(["vdn"], ["3m"], [0], budget_scale=0, **kw)
    assert S.main(["--methods", "vdn", "--maps", "3m", "--t-max", "0", "--root", str(root)]) == 2
    # unreachable Ray address (a port nobody listens on)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{port}"):
        S.check_ray_address(f"127.0.0.1:{port}", timeout=2)
    if importlib.util.find_spec("ray") is not None:  # the whole suite stops before it writes anything
        with pytest.raises(ConnectionError, match=rf"cannot reach the Ray cluster at '127\.0\.0\.1:{port}'"):
            S.run_suite(["vdn"], ["3m"], [0, 1], t_max=1200, ray=f"127.0.0.1:{port}", **kw)
    # --ray without ray installed
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match="requirements-cluster.txt"):
        S.run_suite(["vdn"], ["3m"], [0], t_max=100, ray="local", **kw)
    monkeypatch.delitem(sys.modules, "ray")
    assert _tree_digest(root) == before
    # an assets folder of another format version
    man = json.loads((root / "manifest.json").read_text())
    (root / "manifest.json").write_text(json.dumps({**man, "format": "marl-course.benchmark/0"}))
    before = _tree_digest(root)
    with pytest.raises(B.BenchmarkFormatError, match=r"marl-course.benchmark/0.*marl-course.benchmark/1"):
        S.run_suite(["vdn"], ["3m"], [0, 1], t_max=1200, **kw)
    assert _tree_digest(root) == before
    # a result.json that the suite did not write (not JSON) is named, not taken for a result
    (root / "manifest.json").write_text(json.dumps(man))
    (root / "3m/vdn/seed0/result.json").write_text('{"format": "marl-course.bench')
    before = _tree_digest(root)
    with pytest.raises(ValueError, match=r"seed0/result.json is not valid JSON"):
        S.run_suite(["vdn"], ["3m"], [0, 1], t_max=1200, **kw)
    assert _tree_digest(root) == before


def test_default_methods_skip_the_unregistered_ones_with_a_note(capsys):
    got = S.resolve_methods(None)
    assert got == [m for m in S.DEFAULT_METHODS if m in list_algs()]
    missing = [m for m in S.DEFAULT_METHODS if m not in list_algs()]
    out = capsys.readouterr().out
    for m in missing:
        assert repr(m) in out and "skipping" in out
    assert S.resolve_maps(None) == list(S.DEFAULT_MAPS)
    assert S.resolve_maps(None, ["8m"])[-1] == "8m"
    assert S.full_budget("6h_vs_8z", "fast") == 5_000_000 and S.full_budget("3m", "published") == 2_050_000


# ----------------------------------------------------------------------------------------------------
# Ray
# ----------------------------------------------------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="ray is optional (pip install -r requirements-cluster.txt)")
def test_ray_sweep_with_a_killed_worker_gives_each_result_once_and_the_local_numbers(tmp_path, reference):
    import ray
    root = tmp_path / "ray"
    pypath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": pypath,
                                                                             "OMP_NUM_THREADS": "1"}})
    killed = []

    def killer():  # kill the worker of the first run that has a checkpoint and no result yet
        t0 = time.time()
        while time.time() - t0 < 200 and not killed:
            for run in sorted(root.glob("3m/*/seed*")):
                pid_file = run / "worker.pid"
                if (run / "checkpoint.pt").exists() and not (run / "result.json").exists() and pid_file.exists():
                    try:
                        pid = int(pid_file.read_text())
                        os.kill(pid, signal.SIGKILL)
                        killed.append((run.name, pid))
                    except (ValueError, ProcessLookupError):
                        continue
                    break
            time.sleep(0.02)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    try:
        S.run_suite(["vdn", "qmix"], ["3m"], [0, 1], t_max=1200, root=root, overrides=dict(TINY), progress=False,
                    plot=False, ray="auto")
    finally:
        th.join(5)
        ray.shutdown()
    assert killed, "no worker was killed mid-run"
    assert sorted(_events(root)) == sorted(_events(reference))  # every result exactly once
    for key in _events(reference):
        pd.testing.assert_frame_equal(_curves(root, key), _curves(reference, key))
        a, b = B.read_result(root / key / "result.json"), B.read_result(reference / key / "result.json")
        assert (a["final_win_rate"], a["best_win_rate"], a["env_steps"]) == \
               (b["final_win_rate"], b["best_win_rate"], b["env_steps"])
        assert not (root / key / "worker.pid").exists()


# ----------------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------------
def test_readme_results_table_equals_the_summary_file():
    summary = ROOT / "assets" / "benchmark" / "summary.md"
    table = B.readme_table((ROOT / "README.md").read_text())
    assert table == summary.read_text().strip()
    assert "shortened" in table or "full" in table
    assert (ROOT / "assets" / "benchmark" / "curves.png").exists()
    man = json.loads((ROOT / "assets" / "benchmark" / "manifest.json").read_text())
    assert man["format"] == B.FORMAT and man["command"].startswith("python benchmarks/suite.py")


def test_a_later_sweep_on_another_map_keeps_the_earlier_maps_in_the_manifest(tmp_path):
    S.run_suite(["vdn"], ["3m"], [0], t_max=300, root=tmp_path, overrides=dict(TINY), progress=False, plot=False)
    S.run_suite(["vdn"], ["2s3z"], [0], t_max=300, root=tmp_path, overrides=dict(TINY), progress=False, plot=False)
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert list(man["budgets"]) == ["3m", "2s3z"] and man["budgets"]["3m"]["t_max"] == 300
    assert len(man["history"]) == 2
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["map_name"]) == ["3m", "2s3z"]


def test_maps_keep_the_documented_order_whatever_order_the_sweeps_ran_in(tmp_path):
    S.run_suite(["vdn"], ["2s3z"], [0], t_max=300, root=tmp_path, overrides=dict(TINY), progress=False, plot=False)
    S.run_suite(["vdn"], ["8m", "3m"], [0], t_max=300, root=tmp_path, overrides=dict(TINY), progress=False, plot=False)
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert list(man["budgets"]) == ["3m", "2s3z", "8m"]  # the six maps easy -> super hard, others after
    assert list(pd.read_csv(tmp_path / "summary.csv")["map_name"]) == ["3m", "2s3z", "8m"]
