"""Counter-based random numbers for episode starts (start-position jitter).

Each environment ``b`` draws its ``k``-th episode start from ``hash(seed, b, k, i)`` (SplitMix64 on
int64 tensors), not from a shared stream. So environment ``b`` of a ``BatchedSMAC`` plays exactly the
same episodes whatever ``n_envs`` is and whatever the device (the integer arithmetic is identical on
CPU and CUDA): ``BatchedSMAC(map, n_envs=64, seed=s)``'s environment 0 and ``StarCraft2Env(map, seed=s)``
start the same episodes, and a reset of some environments never shifts the randomness of the others.
This replaces a ``torch.Generator`` (whose draws would depend on how many environments reset together).
"""
from __future__ import annotations

import torch

__all__ = ["hash_uniform"]

_MASK64 = (1 << 64) - 1


def _s64(v: int) -> int:
    """An unsigned 64-bit constant as the signed int64 with the same bits."""
    v &= _MASK64
    return v - (1 << 64) if v >= (1 << 63) else v


_GOLDEN = _s64(0x9E3779B97F4A7C15)
_M1 = _s64(0xBF58476D1CE4E5B9)
_M2 = _s64(0x94D049BB133111EB)
_C_ENV = _s64(0xD1B54A32D192ED03)
_C_EP = _s64(0xABC98388FB8FAC03)
_C_I = _s64(0x8CB92BA72F3D8DD7)


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's ``>>`` is arithmetic on signed integers)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def _mix(z: torch.Tensor) -> torch.Tensor:
    z = (z ^ _shr(z, 30)) * _M1
    z = (z ^ _shr(z, 27)) * _M2
    return z ^ _shr(z, 31)


def hash_uniform(seed: int, env_ids: torch.Tensor, episode: torch.Tensor, n: int) -> torch.Tensor:
    """Uniform floats in [0, 1), ``[B, n]``, a pure function of ``(seed, env_ids[b], episode[b], i)``.

    Args:
        seed: non-negative integer seed.
        env_ids: ``[B]`` int64 environment indices.
        episode: ``[B]`` int64 episode counters.
        n: numbers per environment.
    """
    dev = env_ids.device
    i = torch.arange(n, device=dev, dtype=torch.int64)
    z = _mix(torch.full_like(env_ids, _s64(int(seed) * 0x2545F4914F6CDD1D + 1)) + _GOLDEN)
    z = z + env_ids * _C_ENV
    z = _mix(z + _GOLDEN)
    z = z + episode * _C_EP
    z = _mix(z[:, None] + i[None, :] * _C_I + _GOLDEN)
    return _shr(z, 40).to(torch.float32) * (1.0 / (1 << 24))
