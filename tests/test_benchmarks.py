"""The benchmark scripts run end to end and write the JSON they promise (no speed thresholds here)."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_env_throughput_quick_run_writes_rows(tmp_path):
    out = tmp_path / "t.json"
    res = _load("env_throughput").main(["--quick", "--n-envs", "1", "4", "--min-time", "0.05", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["results"] == res["results"]
    kinds = [(r["map"], r["n_envs"], r.get("kind", "batched")) for r in saved["results"]]
    assert ("3m", 1, "batched") in kinds and ("3m", 4, "batched") in kinds and ("3m", 1, "facade") in kinds
    assert all(r["env_steps_per_s"] > 0 and r["steps"] >= 3 for r in saved["results"])


def test_difficulty_run_writes_rates(tmp_path):
    out = tmp_path / "d.json"
    _load("difficulty").main(["--maps", "3m", "--battles", "16", "--out", str(out)])
    row = json.loads(out.read_text())["results"][0]
    assert row["map"] == "3m" and row["battles"] == 16
    assert row["random"]["win_rate"] == pytest.approx(0.0, abs=0.07)
    assert 0.0 <= row["focus_fire"]["win_rate"] <= 1.0 and row["focus_fire"]["mean_length"] > 5


def test_benchmarks_leave_autograd_switched_on(tmp_path):
    import torch

    _load("difficulty").main(["--maps", "3m", "--battles", "4", "--out", str(tmp_path / "d.json")])
    assert torch.is_grad_enabled()


def test_acorm_throughput_quick_run_writes_both_methods_and_a_profile(tmp_path):
    out = tmp_path / "a.json"
    res = _load("acorm_throughput").main(["--quick", "--t-max", "1200", "--device", "cpu", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["runs"] == res["runs"]
    assert [(r["alg"], r["map"]) for r in saved["runs"]] == [("qmix", "3m"), ("acorm", "3m")]
    assert all(r["env_steps"] >= 1200 and r["env_steps_per_s"] > 0 for r in saved["runs"])
    ratio = saved["runs"][1]["env_steps_per_s"] / saved["runs"][0]["env_steps_per_s"]
    assert saved["runs"][1]["acorm_over_qmix"] == pytest.approx(ratio, rel=0.01)
    prof = saved["profiles"][0]["breakdown"]
    assert prof["collection (runner.collect)"]["seconds"] > 0 and "of which batched K-means" in " ".join(prof)
