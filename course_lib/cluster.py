"""K-means for many small independent point sets at once, on the tensors' own device.

ACORM clusters the N agent embeddings of *every* (episode, time step) of a training batch: thousands of
tiny problems (N = 3..27 points of 128 dimensions, k = 3). The released code calls scikit-learn once per
time step on the CPU, which dominates its training time. Here the G problems are one batched tensor
program: k-means++ seeding and Lloyd iterations run on ``[G, N, D]`` tensors with no Python loop over
groups, so a batch of 32 episodes x 60 steps is a handful of kernel launches on a GPU.

- :func:`batched_kmeans` ``(x [G, N, D], k) -> labels [G, N]``: deterministic given ``generator``; ``k > N``
  is clamped to ``N``; labels are renumbered in order of first appearance (agent 0 is always in cluster 0),
  so colours in pictures do not jump between time steps just because k-means++ picked centres in another
  order.
- :func:`kmeans_inertia` ``(x, labels, k) -> [G]``: sum of squared distances to the cluster means.
"""
from __future__ import annotations

from typing import Optional

import torch

__all__ = ["batched_kmeans", "kmeans_inertia", "cluster_means"]


def _check(x: torch.Tensor, k: int) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(f"x must be a tensor [groups, points, dims], got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


def cluster_means(x: torch.Tensor, labels: torch.Tensor, k: int) -> tuple:
    """Means of the clusters.

    Args:
        x: ``[G, N, D]``; labels: ``[G, N]`` long in ``0..k-1``.
    Returns:
        ``(means [G, k, D], counts [G, k])``; the mean of an empty cluster is 0 (its count is 0).
    """
    onehot = torch.nn.functional.one_hot(labels, k).to(x.dtype)  # [G, N, k]
    counts = onehot.sum(dim=1)  # [G, k]
    sums = onehot.transpose(1, 2) @ x  # [G, k, D]
    return sums / counts.clamp(min=1).unsqueeze(-1), counts


def _uniform(G: int, generator: Optional[torch.Generator], device: torch.device) -> torch.Tensor:
    """``G`` uniforms in [0, 1) drawn on the generator's device (CPU by default), moved to ``device``."""
    gdev = generator.device if generator is not None else device
    return torch.rand(G, generator=generator, device=gdev).to(device)


def _kmeanspp(x: torch.Tensor, k: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """k-means++ seeding for every group: ``x [G, N, D] -> centres [G, k, D]``."""
    G, N, D = x.shape
    ar = torch.arange(G, device=x.device)
    first = (_uniform(G, generator, x.device) * N).long().clamp(max=N - 1)
    centres = [x[ar, first]]  # [G, D]
    d2 = ((x - centres[0].unsqueeze(1)) ** 2).sum(-1)  # [G, N] squared distance to the nearest centre
    for _ in range(1, k):  # k is tiny (3): the loop is over centres, never over groups
        w = d2.clamp(min=0)
        total = w.sum(-1, keepdim=True)
        # groups whose points all coincide with chosen centres: fall back to uniform sampling
        w = torch.where(total > 0, w, torch.ones_like(w))
        cdf = w.cumsum(-1)
        u = _uniform(G, generator, x.device).unsqueeze(-1) * cdf[:, -1:]
        idx = torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp(max=N - 1)
        c = x[ar, idx]
        centres.append(c)
        d2 = torch.minimum(d2, ((x - c.unsqueeze(1)) ** 2).sum(-1))
    return torch.stack(centres, dim=1)


def _first_appearance_order(labels: torch.Tensor, k: int) -> torch.Tensor:
    """Renumber each group's labels so that clusters are numbered in order of their first point."""
    G, N = labels.shape
    pos = torch.arange(N, device=labels.device).expand(G, N)
    first = torch.full((G, k), N, device=labels.device, dtype=torch.long)
    first = first.scatter_reduce(1, labels, pos, reduce="amin")  # [G, k], N for empty clusters
    rank = torch.empty_like(first)
    rank.scatter_(1, first.argsort(dim=1, stable=True), torch.arange(k, device=labels.device).expand(G, k))
    return rank.gather(1, labels)


def batched_kmeans(x: torch.Tensor, k: int, n_iter: int = 10,
                   generator: Optional[torch.Generator] = None, n_init: int = 3) -> torch.Tensor:
    """K-means (k-means++ seeding, then Lloyd iterations) of ``G`` independent point sets at once.

    Args:
        x: ``[G, N, D]`` points (any float dtype, any device); detached inside.
        k: number of clusters; clamped to ``N`` when larger.
        n_iter: Lloyd iterations (assignment + mean update); a fixed count, so no host synchronisation.
        generator: a ``torch.Generator`` (CPU, or on ``x``'s device) for the seeding; the same generator
            state gives the same labels.
        n_init: independent seedings per group, run side by side (``[n_init * G, N, D]``); each group keeps
            the one with the lowest inertia (scikit-learn's ``n_init``; one seeding occasionally merges two
            well-separated clusters).
    Returns:
        ``labels: [G, N]`` long in ``0..min(k, N)-1``, numbered in order of first appearance per group.
    Raises:
        ValueError: ``x`` not 3-D, ``k``, ``n_iter`` or ``n_init`` not a positive integer.
    """
    _check(x, k)
    for name, v in (("n_iter", n_iter), ("n_init", n_init)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    x = x.detach()
    G, N, D = x.shape
    if G == 0:
        return torch.zeros(0, N, dtype=torch.long, device=x.device)
    k = min(k, N)
    if n_init > 1:
        xr = x.repeat(n_init, 1, 1)  # [n_init * G, N, D]: restart r of group g is row r * G + g
        labels = _lloyd(xr, k, n_iter, generator)
        inertia = _inertia(xr, labels, k).view(n_init, G)
        best = inertia.argmin(dim=0)  # [G]
        labels = labels.view(n_init, G, N)[best, torch.arange(G, device=x.device)]
    else:
        labels = _lloyd(x, k, n_iter, generator)
    return _first_appearance_order(labels, k)


def _lloyd(x: torch.Tensor, k: int, n_iter: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """k-means++ seeding then ``n_iter`` Lloyd iterations: ``x [G, N, D] -> labels [G, N]``."""
    G, N, D = x.shape
    centres = _kmeanspp(x, k, generator)
    for _ in range(n_iter):
        labels = torch.cdist(x, centres).argmin(dim=-1)  # nearest centre, [G, N]
        means, counts = cluster_means(x, labels, k)
        centres = torch.where(counts.unsqueeze(-1) > 0, means, centres)  # an empty cluster keeps its centre
    return torch.cdist(x, centres).argmin(dim=-1)


def kmeans_inertia(x: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """Within-cluster sum of squared distances to the cluster means, per group.

    Args:
        x: ``[G, N, D]``; labels: ``[G, N]`` long in ``0..k-1``; k: number of clusters.
    Returns:
        ``[G]``.
    """
    _check(x, k)
    if labels.shape != x.shape[:2]:
        raise ValueError(f"labels must have shape {tuple(x.shape[:2])}, got {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}, got values in {int(labels.min())}..{int(labels.max())}")
    return _inertia(x, labels, k)


def _inertia(x: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    means, _ = cluster_means(x, labels, k)
    centre = means.gather(1, labels.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # [G, N, D]
    return ((x - centre) ** 2).sum(dim=(1, 2))
