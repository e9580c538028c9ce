"""course_lib chooses PyTorch's CPU thread count (one thread unless the user chose), once per process."""
import os
import subprocess
import sys

import pytest

from course_lib import threads


def _run(code, **env):
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "COURSE_THREADS")}
    e.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=120)
    return out


PROBE = ("import torch; torch.set_num_threads(2); from course_lib.envs import BatchedSMAC; "
         "BatchedSMAC('3m', 2); print(torch.get_num_threads())")


def test_simulator_sets_one_thread_by_default():
    out = _run(PROBE)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_course_threads_variable_wins():
    out = _run(PROBE, COURSE_THREADS="3")
    assert out.stdout.strip() == "3", out.stderr


def test_omp_num_threads_is_left_alone():
    out = _run(PROBE, OMP_NUM_THREADS="2")
    assert out.stdout.strip() == "2", out.stderr


def test_bad_course_threads_is_explained():
    out = _run(PROBE, COURSE_THREADS="many")
    assert out.returncode != 0 and "COURSE_THREADS='many' is not allowed: a positive integer" in out.stderr


def test_set_threads_validates_and_applies():
    import torch

    before = torch.get_num_threads()
    try:
        with pytest.raises(ValueError, match=r"set_threads\(n=0\) is not allowed"):
            threads.set_threads(0)
        threads.set_threads(1)
        assert torch.get_num_threads() == 1 and threads.chosen_threads() == 1
        assert threads.apply("cpu") == 1
    finally:
        threads._state["user"] = None
        torch.set_num_threads(before)
