"""Reading a trained MIXRTs model: feature importance, node weights, mixing weights over an episode.

Feature importance (the MIXRTs talk's definition). In a recurrent tree cell every inner node ``j`` (all
levels of all ``H`` trees) has an input weight vector ``w_x^j`` over the ``x`` features and is reached with
probability ``P(reach j | x_t, h_{t-1})`` (the product of the decisions on its path; the root is reached
with probability 1). The importance of the input features at step ``t`` is::

    I(x_t) = sum_j P(reach j | x_t, h_{t-1}) * w_x^j                        # [x_dim]

a signed vector: a feature with a large ``|I|`` moves the decisions that this input actually reaches.
For an agent, ``x_t = [o_t, onehot(u_{t-1}), onehot(i)]``, so the first ``obs_dim`` entries are the
simulator's named observation features (``get_obs_feature_names()``).

- :func:`feature_importance` computes ``I`` for any batch of inputs;
- :func:`episode_importance` plays one greedy episode with a trained model and records, per step and
  agent, the importance over the named observation features, the mixing weights ``W_i`` and the frames
  for the replay animation;
- :func:`plot_node_weight_heatmap`, :func:`plot_importance_curves`, :func:`plot_mixing_weights` draw them;
- :func:`save_policy` / :func:`load_policy_file` write and read a small ``weights_only``-safe file with
  only the networks and their config (what the notebook ships in ``assets/``).

The node order is the forward pass's own (tree-major, :meth:`RecurrentTreeCell.inner_weights`); the authors'
plotting code reshaped the node weights in an order that does not match their forward pass, which this
module does not copy.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from .agents.soft_tree import RecurrentTreeCell, reach_probabilities

__all__ = ["feature_importance", "episode_importance", "save_policy", "load_policy_file",
           "plot_node_weight_heatmap", "plot_importance_curves", "plot_mixing_weights", "POLICY_FORMAT"]

POLICY_FORMAT = "course_lib.policy/1"


def _as_cell(obj) -> RecurrentTreeCell:
    """A RecurrentTreeCell from a cell, a MIXRTAgent, a MultiAgentController, a MixingTree or a Run."""
    seen = obj
    for attr in (None, "mac", "agent", "cell"):
        if isinstance(obj, RecurrentTreeCell):
            return obj
        if attr is not None and hasattr(obj, attr):
            obj = getattr(obj, attr)
    if isinstance(obj, RecurrentTreeCell):
        return obj
    raise TypeError(f"expected a RecurrentTreeCell (or a MIXRTs agent, controller, mixing tree or run holding "
                    f"one), got {type(seen).__name__}")


def feature_importance(cell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``I(x) = sum over inner nodes j of P(reach j | x, h) * w_x^j`` (all levels, all trees).

    Args:
        cell: a :class:`~course_lib.agents.soft_tree.RecurrentTreeCell` (or an agent / controller holding one).
        x: ``[..., x_dim]`` inputs.
        h: ``[..., H]`` previous hidden vectors (``h_{t-1}``, the state the cell reads together with ``x_t``).
    Returns:
        ``[..., x_dim]`` importance of each input feature.
    """
    cell = _as_cell(cell)
    reach = reach_probabilities(cell.node_probs(x, h))[:-1]  # level k: [..., H, 2^k]
    out = 0.0
    for k, r in enumerate(reach):
        out = out + torch.einsum("...jn,jnf->...f", r, cell.inner_weights(k))
    return out


# --------------------------------------------------------------------------------------------------------
# small policy files
# --------------------------------------------------------------------------------------------------------
def save_policy(run, path: Union[str, Path]) -> Path:
    """Save a run's networks (controller, mixer) with its config and map sizes, loadable with
    ``torch.load(weights_only=True)`` (tensors, strings, numbers, dicts only). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mac, mixer = run.learner.mac, run.learner.mixer
    sizes = {"n_agents": mac.n_agents, "n_actions": mac.n_actions, "obs_dim": mac.obs_dim,
             "state_dim": int(mixer.state_dim) if mixer is not None and hasattr(mixer, "state_dim") else None}
    blob = {"format": POLICY_FORMAT, "alg": run.alg, "map_name": run.map_name, "seed": int(run.seed),
            "config": run.config.to_dict(), "sizes": sizes,
            "mac": {k: v.detach().cpu().clone() for k, v in mac.state_dict().items()},
            "mixer": None if mixer is None else {k: v.detach().cpu().clone() for k, v in mixer.state_dict().items()}}
    torch.save(blob, path)
    return path


def load_policy_file(path: Union[str, Path], device: Union[str, torch.device] = "cpu"):
    """Read a file written by :func:`save_policy` (``weights_only=True``): returns ``(mac, mixer, config)``."""
    from .config import config_from_dict
    from .params import map_sizes
    from .train import build_networks

    blob = torch.load(Path(path), map_location=torch.device(device), weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != POLICY_FORMAT:
        raise ValueError(f"{path} is not a course_lib policy file (written by save_policy)")
    config = config_from_dict(blob["config"])
    sizes = map_sizes(config.map_name, **config.env_args)
    mac, mixer = build_networks(config, sizes, device)
    mac.load_state_dict(blob["mac"])
    if mixer is not None:
        mixer.load_state_dict(blob["mixer"])
    return mac, mixer, config


def _resolve(run_or_mac, mixer=None, device="cpu"):
    """(mac, mixer, env_args) from a Run, a controller, or a policy/checkpoint file."""
    if isinstance(run_or_mac, (str, Path)):
        p = Path(run_or_mac)
        try:
            mac, mx, config = load_policy_file(p, device)
        except Exception:  # not a small policy file: a full training checkpoint or run directory
            from .evaluate import load_policy

            mac, mx, config = load_policy(p, device=device)
        return mac, (mx if mixer is None else mixer), dict(config.env_args)
    if hasattr(run_or_mac, "learner") and hasattr(run_or_mac, "config"):  # a Run
        return run_or_mac.learner.mac, (run_or_mac.learner.mixer if mixer is None else mixer), \
            dict(run_or_mac.config.env_args)
    if hasattr(run_or_mac, "build_inputs") and hasattr(run_or_mac, "agent"):
        return run_or_mac, mixer, {}
    raise TypeError(f"expected a Run, a MultiAgentController or a checkpoint path, got {type(run_or_mac).__name__}")


def episode_importance(run_or_mac, map_name: str, seed: int = 0, mixer=None, max_steps: Optional[int] = None,
                       record_frames: bool = True) -> Dict[str, Any]:
    """Play one greedy episode with a trained MIXRTs model and record what its trees attend to.

    Args:
        run_or_mac: a :class:`~course_lib.train.Run`, a :class:`~course_lib.learners.MultiAgentController` with a
            MIXRTs agent, a file from :func:`save_policy`, or a training checkpoint / run directory.
        map_name: the SMAC map to play (the model's map).
        seed: seeds the game (same seed, same episode: actions are greedy).
        mixer: the mixing tree (taken from the run or file when not given; without one, no weights).
        max_steps: stop after this many steps (default: the map's episode limit).
        record_frames: keep the simulator's snapshots (for ``course_lib.envs.smac.render``'s animation).
    Returns:
        dict with, for an episode of ``T`` steps and ``N`` agents:
        ``feature_names`` (the ``O`` observation feature names), ``input_names`` (all ``x_dim`` agent input
        names), ``importance [T, N, O]`` (over observation features), ``input_importance [T, N, x_dim]``,
        ``mixing_weights [T, N]`` (``W_i`` at the actions played; None without a mixing tree), ``q [T, N]``
        (chosen ``Q_i``), ``q_tot [T]`` (or None), ``alive [T, N]`` (bool, at the start of the step),
        ``actions [T, N]``, ``rewards [T]``, ``won`` (bool), ``length`` (T), ``agent_names`` (e.g.
        ``"marine_0"``), ``frames`` (T + 1 snapshots or None), ``map_name``, ``seed``. Arrays are NumPy.
    """
    from .envs import BatchedSMAC
    from .runners.episode_runner import greedy_episode_steps

    mac, mixer, env_args = _resolve(run_or_mac, mixer)
    cell = _as_cell(mac)
    dev = next(mac.parameters()).device
    env = BatchedSMAC(map_name, 1, device=dev, seed=int(seed), auto_reset=False, **env_args)
    if (env.n_agents, env.n_actions, env.obs_dim) != (mac.n_agents, mac.n_actions, mac.obs_dim):
        raise ValueError(f"the model was built for {mac.n_agents} agents, {mac.n_actions} actions, obs {mac.obs_dim}, "
                         f"but map {map_name!r} has {env.n_agents}, {env.n_actions}, {env.obs_dim}")
    names = list(env.get_obs_feature_names())
    input_names = names + ([f"last_action_{a}" for a in range(mac.n_actions)] if mac.obs_last_action else []) \
        + ([f"agent_id_{i}" for i in range(mac.n_agents)] if mac.obs_agent_id else [])
    N = mac.n_agents
    types = list(env.snapshot(0)["unit_type"])[:N]
    agent_names = [f"{t}_{i}" for i, t in enumerate(types)]
    rec = {k: [] for k in ("imp", "w", "q", "qtot", "alive", "actions", "rewards")}
    frames, won = [], False
    for step in greedy_episode_steps(env, mac, max_steps=max_steps, snapshots=record_frames):
        x = mac.build_inputs(step["obs"][None], step["last_onehot"][None])  # [1, N, x_dim]
        with torch.no_grad():
            rec["imp"].append(feature_importance(cell, x, step["hidden_in"][None])[0])
            chosen = step["q"].gather(-1, step["actions"].unsqueeze(-1)).squeeze(-1)[None]  # [1, N]
            if mixer is not None and hasattr(mixer, "weights"):
                w = mixer.weights(chosen, step["state"][None])
                rec["w"].append(w[0])
                rec["qtot"].append((w * chosen).sum(-1)[0])
        rec["q"].append(chosen[0])
        rec["alive"].append(~step["avail"][:, 0])  # in SMAC only dead agents may (and must) take no-op
        rec["actions"].append(step["actions"])
        rec["rewards"].append(torch.tensor(step["reward"]))
        if record_frames:
            frames += ([step["snapshot_before"]] if not frames else []) + [step["snapshot"]]
        won = step["won"]
    frames = frames if record_frames else None
    O = len(names)

    def stack(key):
        return torch.stack(rec[key]).cpu().numpy() if rec[key] else None

    imp = stack("imp")
    return {"feature_names": names, "input_names": input_names, "importance": imp[:, :, :O], "input_importance": imp,
            "mixing_weights": stack("w"), "q": stack("q"), "q_tot": stack("qtot"), "alive": stack("alive"),
            "actions": stack("actions"), "rewards": stack("rewards"), "won": won, "length": len(rec["imp"]),
            "agent_names": agent_names, "frames": frames, "map_name": map_name, "seed": int(seed)}


# --------------------------------------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------------------------------------
def plot_node_weight_heatmap(cell, feature_names: Optional[Sequence[str]] = None, depth: Optional[int] = None,
                             trees: Optional[Sequence[int]] = None, ax=None, max_trees: int = 8,
                             select: Optional[Sequence[str]] = None):
    """Heatmap of the inner nodes' input weights over named features, one row per node of one level.

    Args:
        cell: a tree cell (or an agent / controller / run holding one).
        feature_names: names of the first ``len(feature_names)`` input features (e.g. the observation's);
            only those columns are drawn. Default: all ``x_dim`` columns, numbered.
        depth: the level to draw (0 = roots); None draws every level in its own panel.
        trees: which trees to draw (default: the first ``max_trees``).
        ax: a matplotlib axis (only when ``depth`` is given).
        select: only these features (names from ``feature_names``), e.g. the health features on a big map.
    Returns:
        the matplotlib figure. Row ``"t{j}.n{n}"`` is node ``n`` of tree ``j`` (children of ``n``: ``2n``, ``2n+1``).
    """
    import matplotlib.pyplot as plt

    cell = _as_cell(cell)
    names = [str(i) for i in range(cell.x_dim)] if feature_names is None else list(feature_names)
    if len(names) > cell.x_dim:
        raise ValueError(f"{len(names)} feature names for a cell with x_dim={cell.x_dim}")
    cols = list(range(len(names)))
    if select is not None:
        missing = [f for f in select if f not in names]
        if missing:
            raise ValueError(f"unknown feature(s) {missing}; known: {names}")
        cols = [names.index(f) for f in select]
        names = list(select)
    trees = list(range(min(max_trees, cell.n_trees))) if trees is None else list(trees)
    bad = [j for j in trees if not 0 <= j < cell.n_trees]
    if bad:
        raise ValueError(f"trees {bad} out of range: the cell has {cell.n_trees} trees")
    depths = list(range(cell.depth)) if depth is None else [depth]
    if ax is not None and len(depths) != 1:
        raise ValueError("ax can only be given together with one depth")
    if ax is None:
        heights = [len(trees) * 2 ** k for k in depths]
        fig, axes = plt.subplots(len(depths), 1, figsize=(min(20, max(6, 0.18 * len(names) + 2)),
                                                          1.5 + 0.16 * sum(heights)),
                                 gridspec_kw={"height_ratios": heights}, squeeze=False)
        axes = axes[:, 0]
    else:
        fig, axes = ax.figure, [ax]
    with torch.no_grad():
        for a, k in zip(axes, depths):
            w = cell.inner_weights(k)[trees][:, :, cols].reshape(-1, len(names)).cpu().numpy()
            lim = float(np.abs(w).max()) or 1.0
            im = a.imshow(w, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            a.set_yticks(range(w.shape[0]))
            a.set_yticklabels([f"t{j}.n{n}" for j in trees for n in range(2 ** k)], fontsize=6)
            a.set_xticks(range(len(names)))
            a.set_xticklabels(names, rotation=90, fontsize=6)
            a.set_title(f"inner-node input weights, level {k} ({2 ** k} node(s) per tree)", fontsize=9)
            fig.colorbar(im, ax=a, fraction=0.03, pad=0.01)
    fig.tight_layout()
    return fig


def plot_importance_curves(result: Dict[str, Any], features: Union[str, Sequence[str]] = "own_health",
                           agents: Optional[Sequence[int]] = None, ax=None):
    """Importance of named observation features over one episode, one curve per agent (and feature).

    Args:
        result: from :func:`episode_importance`.
        features: one name or several (see ``result["feature_names"]``).
        agents: which agents (default: all); a dead agent's part of its curve is drawn dotted.
    Returns:
        the matplotlib axis.
    """
    import matplotlib.pyplot as plt

    feats = [features] if isinstance(features, str) else list(features)
    names = result["feature_names"]
    missing = [f for f in feats if f not in names]
    if missing:
        raise ValueError(f"unknown feature(s) {missing}; this map's observation features are {names}")
    imp, alive = result["importance"], result["alive"]
    agents = range(imp.shape[1]) if agents is None else agents
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(7, 3.5))
    t = np.arange(imp.shape[0])
    for f in feats:
        c = names.index(f)
        for i in agents:
            y = imp[:, i, c]
            label = f"{result['agent_names'][i]}" + (f" {f}" if len(feats) > 1 else "")
            line, = ax.plot(t, np.where(alive[:, i], y, np.nan), label=label)
            ax.plot(t, np.where(alive[:, i], np.nan, y), ls=":", color=line.get_color())
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("step of the episode")
    ax.set_ylabel("importance" if len(feats) > 1 else f"importance of {feats[0]}")
    ax.set_title(f"{result['map_name']}: feature importance per agent (dotted: dead)", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    if own:
        ax.figure.tight_layout()
    return ax


def plot_mixing_weights(result: Dict[str, Any], ax=None, stacked: bool = True):
    """The mixing tree's agent weights ``W_i`` over one episode (they sum to 1 at every step).

    Args:
        result: from :func:`episode_importance` (with a mixing tree).
        stacked: a stacked area plot (True) or one line per agent.
    Returns:
        the matplotlib axis.
    """
    import matplotlib.pyplot as plt

    w = result.get("mixing_weights")
    if w is None:
        raise ValueError("this result has no mixing weights: pass a run or a file with a mixing tree")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    t = np.arange(w.shape[0])
    labels = result["agent_names"]
    if stacked:
        ax.stackplot(t, w.T, labels=labels, alpha=0.85)
        ax.set_ylim(0, 1)
    else:
        for i in range(w.shape[1]):
            ax.plot(t, w[:, i], label=labels[i])
    ax.set_xlabel("step of the episode")
    ax.set_ylabel("mixing weight $W_i$")
    ax.set_title(f"{result['map_name']}: Q_tot = sum_i W_i Q_i", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    return ax
