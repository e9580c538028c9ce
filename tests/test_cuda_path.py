"""The CUDA path: every method trains with all its tensors on the GPU and no tensor data crosses to the CPU.

Skipped (with the reason) where no CUDA device is visible, as in CI. On a GPU machine:

    python -m pytest tests/test_cuda_path.py -v

The audit (:func:`course_lib.transfers.host_device_copies`) lists every host<->device memory copy of three
training iterations (collection of 8 games + the learner's updates) once the buffer can be sampled. What may
cross is only control scalars: "did an episode end", which games ended, a sampled batch's longest episode,
a loss for the progress bar, a Python number turned into a one-element tensor. Observations, states, actions,
episodes, batches and parameters never do, so every copy is at most a few dozen bytes.
"""
from __future__ import annotations

import pytest
import torch

from course_lib.config import list_algs, make_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA device (torch.cuda.is_available() is False)")

# Largest single copy allowed: the indices of the games that ended on one step (8 games x 8 bytes).
MAX_COPY_BYTES = 64


@pytest.mark.parametrize("alg", list_algs())
def test_training_iteration_moves_no_tensor_data_between_gpu_and_cpu(alg, tmp_path):
    from course_lib.train import Trainer
    from course_lib.transfers import host_device_copies

    cfg = make_config(alg, "3m", "fast", batch_size=8, buffer_size=64)
    tr = Trainer(cfg, 0, torch.device("cuda"), tmp_path)
    while not tr.buffer.can_sample(cfg.batch_size):
        tr.iteration()
    assert tr.buffer.storage["obs"].is_cuda and tr.runner.ep["obs"].is_cuda and tr.env.device.type == "cuda"
    tr.iteration()  # warm-up: cuBLAS/cuDNN handles
    for p in list(tr.mac.parameters()) + (list(tr.mixer.parameters()) if tr.mixer is not None else []):
        assert p.is_cuda
    before = tr.t_env
    st = host_device_copies(lambda: [tr.iteration() for _ in range(3)])
    steps = tr.t_env - before
    assert steps > 0
    assert st["htod_max_bytes"] <= MAX_COPY_BYTES, st["copies"]
    assert st["dtoh_max_bytes"] <= MAX_COPY_BYTES, st["copies"]
    # control reads only: a handful per loop step (8 games step together), not one per tensor or per game
    loop_steps = steps / cfg.n_envs
    assert st["dtoh"] <= 12 * loop_steps, (st["dtoh"], loop_steps)


def test_cuda_training_learns_3m(tmp_path):
    """QMIX's fast preset on the GPU wins 3m clearly more often than the random policy (0%)."""
    from course_lib.train import train

    run = train("qmix", "3m", preset="fast", seed=0, t_max=30_000, progress=False, run_dir=tmp_path, device="cuda")
    assert run.device.type == "cuda"
    assert run.final["win_rate"] >= 0.3, run.final
