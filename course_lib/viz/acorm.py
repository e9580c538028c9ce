"""ACORM's pictures: one greedy episode's embeddings, roles, clusters and attention; t-SNE; attention heatmaps;
a battle replay with the allied units ringed in the colour of their current cluster.

- :func:`collect_episode` plays one greedy episode with a trained ACORM controller and records, per step,
  the agents' embeddings ``[T, N, 128]``, roles ``[T, N, 64]``, K-means clusters ``[T, N]`` and the mixer's
  attention weights ``[T, heads, N, N]`` (plus the simulator snapshots for the replay);
- :func:`plot_tsne_roles`: t-SNE (scikit-learn) of agent embeddings and of role representations side by
  side, coloured by cluster (the paper's figure);
- :func:`plot_attention_heads`: per-head attention over agents at chosen time steps (rows = heads,
  columns = agents; the talk's t = 4, 10, 36 panels);
- :func:`animate_clusters`: the replay of :func:`course_lib.envs.smac.render.animate` with cluster colours.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import torch

__all__ = ["collect_episode", "plot_tsne_roles", "plot_attention_heads", "animate_clusters", "CLUSTER_COLORS"]

CLUSTER_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def collect_episode(run_or_mac, mixer=None, map_name: Optional[str] = None, seed: int = 0,
                    cluster_num: Optional[int] = None, env_args: Optional[dict] = None) -> Dict[str, object]:
    """Play one greedy episode and record what ACORM computes at every step.

    Args:
        run_or_mac: a :class:`~course_lib.train.Run` of ``"acorm"`` (its controller, mixer, map and
            ``cluster_num`` are used) or a :class:`~course_lib.learners.MultiAgentController` whose agent is
            an :class:`~course_lib.agents.ACORMAgent`.
        mixer: the :class:`~course_lib.mixers.ACORMMixer` (taken from the run when None); without attention
            (or None) ``attention`` is None.
        map_name: required with a bare controller.
        seed: the game's seed (start positions).
        cluster_num: K of the K-means (the run's config, else 3).
    Returns:
        dict with ``embeddings [T, N, E]``, ``roles [T, N, R]``, ``clusters [T, N]`` (long),
        ``attention [T, heads, N, N]`` or None, ``q [T, N, A]``, ``actions [T, N]``, ``alive [T, N]`` (bool),
        ``snapshots`` (``T + 1`` simulator frames, the final one included), ``won`` (bool), ``return`` (float),
        ``length`` (T). Step t's entries are computed from observation t (before action t).
    """
    from ..agents import ACORMAgent
    from ..cluster import batched_kmeans
    from ..envs import BatchedSMAC
    from ..runners.episode_runner import greedy_episode_steps

    mac = run_or_mac
    if hasattr(run_or_mac, "learner") and hasattr(run_or_mac, "config"):
        mac = run_or_mac.mac
        mixer = run_or_mac.mixer if mixer is None else mixer
        map_name = map_name or run_or_mac.map_name
        cluster_num = cluster_num or getattr(run_or_mac.config, "cluster_num", None)
        env_args = env_args if env_args is not None else dict(run_or_mac.config.env_args)
    if not isinstance(getattr(mac, "agent", None), ACORMAgent):
        raise ValueError(f"collect_episode needs an ACORM run or controller, got {type(run_or_mac).__name__} "
                         f"with agent {type(getattr(mac, 'agent', None)).__name__}")
    if map_name is None:
        raise ValueError("collect_episode needs map_name when given a bare controller")
    k = int(cluster_num or 3)
    dev = mac.device
    env = BatchedSMAC(map_name, 1, device=dev, seed=seed, auto_reset=False, **(env_args or {}))
    steps = list(greedy_episode_steps(env, mac, snapshots=True))
    snaps = [st["snapshot_before"] for st in steps] + [steps[-1]["snapshot"]]
    hs = [st["hidden"] for st in steps]
    states = [st["state"] for st in steps]
    qs = [st["q"] for st in steps]
    acts = [st["actions"] for st in steps]
    alive = [torch.as_tensor(sn["alive"][: env.n_agents], dtype=torch.bool) for sn in snaps[:-1]]
    ret, won = sum(st["reward"] for st in steps), steps[-1]["won"]
    was_training = mac.training
    mac.eval()
    with torch.no_grad():
        H = torch.stack(hs)  # [T, N, H]
        ex = mac.extras(H)
        emb, roles = ex["embedding"], ex["roles"]
        clusters = batched_kmeans(emb, k, generator=torch.Generator().manual_seed(seed))
        attention = None
        if mixer is not None and getattr(mixer, "use_attention", False):
            attention = mixer.attention_weights(torch.stack(states).unsqueeze(0), roles.unsqueeze(0))[0]
    mac.train(was_training)
    return {"embeddings": emb.cpu(), "roles": roles.cpu(), "clusters": clusters.cpu(),
            "attention": None if attention is None else attention.cpu(), "q": torch.stack(qs).cpu(),
            "actions": torch.stack(acts).cpu(), "alive": torch.stack(alive), "snapshots": snaps,
            "won": won, "return": ret, "length": len(hs), "map_name": map_name}


def _np2(x, name: str, ndim: int) -> np.ndarray:
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    return a


def plot_tsne_roles(embeddings, roles, labels, ax=None, perplexity: Optional[float] = None, seed: int = 0,
                    title: str = ""):
    """t-SNE of agent embeddings (left) and of role representations (right), coloured by cluster.

    Args:
        embeddings: ``[M, E]``; roles: ``[M, R]``; labels: ``[M]`` cluster ids (e.g. every agent at every step
            of :func:`collect_episode`, flattened).
        ax: None (a new 1 x 2 figure) or a pair of axes.
        perplexity: t-SNE perplexity (default ``min(30, (M - 1) / 3)``).
    Returns:
        ``(fig, axes, {"embeddings": [M, 2], "roles": [M, 2]})``.
    """
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    E, R, y = _np2(embeddings, "embeddings", 2), _np2(roles, "roles", 2), _np2(labels, "labels", 1).astype(int)
    if not len(E) == len(R) == len(y):
        raise ValueError(f"embeddings, roles and labels need the same length, got {len(E)}, {len(R)}, {len(y)}")
    if len(E) < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {len(E)}")
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    else:
        axes = list(ax)
        if len(axes) != 2:
            raise ValueError(f"ax must be None or two axes, got {len(axes)}")
        fig = axes[0].figure
    p = perplexity if perplexity is not None else max(2.0, min(30.0, (len(E) - 1) / 3))
    coords = {}
    for a, (name, X) in zip(axes, (("embeddings", E), ("roles", R))):
        Z = TSNE(n_components=2, perplexity=p, init="pca", random_state=seed).fit_transform(X.astype(np.float64))
        coords[name] = Z
        for c in np.unique(y):
            sel = y == c
            a.scatter(Z[sel, 0], Z[sel, 1], s=12, color=CLUSTER_COLORS[c % len(CLUSTER_COLORS)], label=f"cluster {c}")
        a.set_title(f"{'agent embeddings' if name == 'embeddings' else 'role representations'} (t-SNE)")
        a.set_xticks([])
        a.set_yticks([])
    axes[1].legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig, axes, coords


def plot_attention_heads(attn, times: Sequence[int] = (4, 10, 36), agent_names: Optional[Sequence[str]] = None,
                         query: Optional[int] = None, axes=None):
    """Heatmaps of the mixer's attention: one panel per chosen step, rows = heads, columns = agents.

    Args:
        attn: ``[T, heads, N, N]`` (query token x agent, e.g. ``collect_episode(...)["attention"]``) or
            ``[T, heads, N]``.
        times: steps to show; those beyond the episode are replaced by its last step (the title says so).
        query: with 4-D ``attn``, the query token to show; None averages over the N query tokens.
        agent_names: column labels (default ``a0, a1, ...``).
    Returns:
        ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    A = _np2(attn, "attn", attn.dim() if isinstance(attn, torch.Tensor) else np.ndim(attn))
    if A.ndim == 4:
        A = A.mean(axis=2) if query is None else A[:, :, int(query)]
    if A.ndim != 3:
        raise ValueError(f"attn must be [T, heads, N, N] or [T, heads, N], got shape {np.shape(attn)}")
    T, Hh, N = A.shape
    if not times:
        raise ValueError("times must name at least one step")
    names = list(agent_names) if agent_names is not None else [f"a{i}" for i in range(N)]
    if axes is None:
        fig, axes = plt.subplots(1, len(times), figsize=(2.2 + 1.1 * N * len(times) * 0.6, 2.6), squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    im = None
    for a, t in zip(axes, times):
        tt = min(int(t), T - 1)
        im = a.imshow(A[tt], vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
        a.set_title(f"t = {t}" if tt == t else f"t = {tt} (episode ended before {t})", fontsize=9)
        a.set_xticks(range(N))
        a.set_xticklabels(names, fontsize=7)
        a.set_yticks(range(Hh))
        a.set_yticklabels([f"head {h}" for h in range(Hh)], fontsize=7)
    if im is not None:
        fig.colorbar(im, ax=list(axes), shrink=0.8, label="attention weight")
    return fig, axes


def animate_clusters(snapshots: Sequence[dict], clusters, interval: int = 200, size: float = 3.5, dpi: int = 72,
                     max_frames: Optional[int] = 80):
    """The battle replay with each allied unit ringed in the colour of its current cluster.

    Args:
        snapshots: ``T + 1`` frames (``collect_episode(...)["snapshots"]``); clusters: ``[T, N]``; the final
            frame uses the last step's clusters.
    Returns:
        the offline player of :func:`course_lib.envs.smac.render.animate` (an animated GIF).
    """
    from ..envs.smac.render import animate

    C = _np2(clusters, "clusters", 2).astype(int)
    if len(snapshots) not in (len(C), len(C) + 1):
        raise ValueError(f"clusters cover {len(C)} steps but there are {len(snapshots)} snapshots (expected T or T+1)")
    marked = [dict(s, acorm_clusters=C[min(i, len(C) - 1)]) for i, s in enumerate(snapshots)]

    def rings(ax, s):
        c = s["acorm_clusters"]
        n = len(c)
        pos = np.asarray(s["pos"], dtype=float).reshape(-1, 2)[:n]
        alive = np.asarray(s["alive"], dtype=bool).reshape(-1)[:n]
        ax.scatter(pos[alive, 0], pos[alive, 1], s=260, facecolors="none", linewidths=2.5,
                   edgecolors=[CLUSTER_COLORS[x % len(CLUSTER_COLORS)] for x in c[alive]])

    return animate(marked, interval=interval, size=size, dpi=dpi, max_frames=max_frames, view="auto",
                   overlay=rings)
