"""Checkpoints load with torch.load(weights_only=True): the rule, the helpers, crafted files refused, and
every checkpoint the course writes (and every .pt under assets/) passes."""
import pickle
import random
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import train
from course_lib.checkpoints import (UnsafeCheckpointError, check_safe, numpy_rng_state, python_rng_state,
                                    safe_load, safe_save, set_numpy_rng_state, set_python_rng_state, to_safe)
from course_lib.envs import BatchedSMAC, StarCraft2Env
from course_lib.evaluate import load_policy
from course_lib.train import load_checkpoint

ASSETS = Path(__file__).resolve().parents[1] / "assets"
TINY = dict(preset="fast", n_envs=4, batch_size=8, test_nepisodes=4, test_interval=600, target_update_interval=16,
            checkpoint_interval=10**9)


class _CreatesAFile:
    """Unpickling this runs ``open(target, "w")``: a file appears. A stand-in for any code a file could run."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def _unsafe_pt_files(root: Path):
    """The ``.pt`` files under ``root`` that ``torch.load(weights_only=True)`` refuses (path, reason)."""
    bad = []
    for p in sorted(root.rglob("*.pt")):
        try:
            torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure is a finding
            bad.append((p, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))
    return bad


# ------------------------------------------------------------------------------ the rule and the helpers
def test_check_safe_names_the_offending_entry():
    ok = {"a": torch.zeros(2), "b": [1, 2.5, "x", None, True, (3, 4)], "c": OrderedDict(w=torch.ones(1)), 5: {}}
    check_safe(ok)
    with pytest.raises(TypeError, match=r"checkpoint\['rng'\]\['numpy'\]\[1\]: numpy.ndarray is not allowed.*to_safe"):
        check_safe({"rng": {"numpy": ("MT19937", np.zeros(3, np.uint32))}})
    with pytest.raises(TypeError, match=r"checkpoint\['env'\]: course_lib.envs.smac.env.BatchedSMAC"):
        check_safe({"env": BatchedSMAC("3m", 1)})
    with pytest.raises(TypeError, match="key"):
        check_safe({(1, 2): 3})
    with pytest.raises(TypeError, match="Path"):
        safe_save({"p": Path("x")}, Path("/nonexistent/never_written.pt"))


def test_to_safe_converts_and_round_trips_under_weights_only(tmp_path):
    class Version(str):
        pass

    obj = {"arr": np.arange(4, dtype=np.uint32), "f": np.float32(1.5), "i": np.int64(7), "p": tmp_path,
           "v": Version("2.1"), "s": {3, 1}, "t": (np.int8(1), [np.zeros((2, 2))]), "ok": torch.ones(2)}
    safe = to_safe(obj)
    check_safe(safe)
    path = safe_save(safe, tmp_path / "c.pt")
    back = torch.load(path, weights_only=True)
    assert back["arr"].dtype == torch.int64 and back["arr"].tolist() == [0, 1, 2, 3]
    assert back["f"] == 1.5 and type(back["i"]) is int and back["p"] == str(tmp_path) and back["v"] == "2.1"
    assert back["s"] == [1, 3] and back["t"][0] == 1 and back["t"][1][0].shape == (2, 2)
    assert not (tmp_path / "c.pt.tmp").exists()
    with pytest.raises(TypeError, match=r"checkpoint\['f'\]"):
        to_safe({"f": lambda: 0})


def test_rng_state_converters_are_exact():
    np.random.seed(3)
    np.random.normal()                                     # leaves a cached gaussian in the state
    random.seed(4)
    random.gauss(0, 1)
    st_np, st_py = to_safe(numpy_rng_state()), to_safe(python_rng_state())
    check_safe({"numpy": st_np, "python": st_py})
    want_np, want_py = np.random.normal(size=5), [random.gauss(0, 1), random.random()]
    np.random.seed(0)
    random.seed(0)
    set_numpy_rng_state(st_np)
    set_python_rng_state(st_py)
    assert np.array_equal(np.random.normal(size=5), want_np) and [random.gauss(0, 1), random.random()] == want_py


# ------------------------------------------------------------------------------ crafted and foreign files
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    # the payload is real: an ordinary unpickle creates the file
    proof = tmp_path / "proof.txt"
    pickle.loads(pickle.dumps(_CreatesAFile(proof)))
    assert proof.exists()
    target = tmp_path / "pwned.txt"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    evil = run_dir / "checkpoint.pt"
    torch.save({"format": train.CHECKPOINT_FORMAT, "alg": "qmix", "map_name": "3m",
                "learner": _CreatesAFile(target)}, evil)
    for opener in (lambda: safe_load(evil), lambda: load_checkpoint(run_dir), lambda: load_checkpoint(evil),
                   lambda: load_policy(evil)):
        with pytest.raises(UnsafeCheckpointError) as e:
            opener()
        msg = str(e.value)
        assert str(evil) in msg and "open" in msg and "run code" in msg
        assert not target.exists()
    assert isinstance(e.value, pickle.UnpicklingError)


def test_old_and_foreign_files_get_clear_errors(tmp_path):
    legacy = tmp_path / "legacy.pt"                      # what course_lib wrote before: NumPy RNG state
    torch.save({"format": train.CHECKPOINT_FORMAT, "rng": {"numpy": np.random.get_state()}}, legacy)
    with pytest.raises(UnsafeCheckpointError, match=r"legacy\.pt.*numpy.*re-create"):
        load_checkpoint(legacy)
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"notes\.pt is not a PyTorch checkpoint"):
        load_checkpoint(text)
    other = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="not a course_lib value-decomposition checkpoint"):
        load_checkpoint(other)
    with pytest.raises(FileNotFoundError):
        safe_load(tmp_path / "missing.pt")


# ------------------------------------------------------------------------------ what the course writes
def test_every_checkpoint_the_course_writes_loads_weights_only(tmp_path):
    run = train.train("qtran", "3m", seed=1, t_max=800, run_dir=tmp_path / "q", progress=False, **TINY)
    ck = torch.load(run.checkpoint_path, map_location="cpu", weights_only=True)
    check_safe(ck)
    assert ck["runner"]["started"] and isinstance(ck["rng"]["numpy"]["key"], torch.Tensor)
    assert load_checkpoint(run.run_dir, alg="qtran", map_name="3m")["runner"]["t_env"] == run.final["env_steps"]
    # the mid-iteration form (Ctrl-C twice) and the pieces on their own
    tr = train.Trainer(run.config, seed=1, device=torch.device("cpu"), run_dir=tmp_path / "t")
    tr.iteration()
    for sd in (tr.state_dict(clean=False), tr.state_dict(), tr.runner.state_dict(), tr.buffer.state_dict(),
               tr.learner.state_dict(), tr.env.state_dict()):
        check_safe(sd)
    facade = StarCraft2Env("MMM2", seed=0)
    check_safe(facade.batched.state_dict())
    np_kwargs = BatchedSMAC("3m", 2, step_mul=np.int64(8), reward_win=np.float32(200)).state_dict()
    check_safe(np_kwargs)                                  # NumPy keyword values are stored as Python numbers
    BatchedSMAC("3m", 2).load_state_dict(np_kwargs)
    # an object that cannot be stored is reported when saving, naming where it is
    tr.runner.env = object()
    with pytest.raises(TypeError, match=r"checkpoint\['runner'\]\['env'\]: builtins.object is not allowed"):
        tr.save_checkpoint()
    assert not (tmp_path / "t" / "checkpoint.pt").exists()


def test_every_pt_under_assets_loads_weights_only(tmp_path):
    # the scan finds unsafe files (checked on planted ones) ...
    torch.save({"w": torch.ones(1)}, tmp_path / "good.pt")
    (tmp_path / "sub").mkdir()
    torch.save({"rng": np.random.get_state()}, tmp_path / "sub" / "legacy.pt")
    torch.save(_CreatesAFile(tmp_path / "never.txt"), tmp_path / "sub" / "evil.pt")
    found = {p.name for p, _ in _unsafe_pt_files(tmp_path)}
    assert found == {"legacy.pt", "evil.pt"} and not (tmp_path / "never.txt").exists()
    # ... and there is none in assets/
    assert ASSETS.is_dir()
    assert _unsafe_pt_files(ASSETS) == []
