"""Count the copies between host (CPU) and GPU memory that a piece of code makes.

On a GPU, training is fast only while the data stay there: a tensor copied to the CPU and back every
step costs a synchronisation and a PCIe round trip each time. :func:`host_device_copies` runs a function
under the PyTorch profiler and lists every CUDA memory copy between host and device that it caused,
with its direction and size, so a test can assert that the training loop moves no tensor data, only
the few control scalars the loop reads (an episode ended, a batch's longest episode).

    stats = host_device_copies(lambda: trainer.iteration())
    stats["htod"], stats["dtoh"], stats["dtoh_max_bytes"]
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Callable, Dict, List

import torch

__all__ = ["host_device_copies"]


def host_device_copies(fn: Callable[[], object]) -> Dict[str, object]:
    """Run ``fn()`` under the profiler and summarise its host<->device memory copies.

    Args:
        fn: the code to audit (called once; make it a few loop iterations).
    Returns:
        ``{"htod": count, "dtoh": count, "htod_bytes": total, "dtoh_bytes": total, "dtoh_max_bytes": largest
        single copy, "htod_max_bytes": ..., "copies": [(name, bytes), ...]}``.
    Raises:
        RuntimeError: when no CUDA device is visible (there is nothing to audit on the CPU).
    """
    if not torch.cuda.is_available():
        raise RuntimeError("host_device_copies needs a CUDA device; none is visible (torch.cuda.is_available() "
                           "is False)")
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            trace = json.load(f)
    finally:
        os.unlink(path)
    copies: List[tuple] = []
    for ev in trace.get("traceEvents", []):
        name = str(ev.get("name", ""))
        if ev.get("cat") in ("gpu_memcpy", "Memcpy") or name.startswith("Memcpy"):
            if "HtoD" in name or "DtoH" in name:
                copies.append((name, int((ev.get("args") or {}).get("bytes", 0))))
    out: Dict[str, object] = {"copies": copies}
    for d in ("htod", "dtoh"):
        sizes = [b for n, b in copies if d.upper().replace("TO", "to") in n]
        out[d], out[f"{d}_bytes"], out[f"{d}_max_bytes"] = len(sizes), sum(sizes), max(sizes, default=0)
    return out
