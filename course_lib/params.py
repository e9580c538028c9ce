"""Parameter counts of every method on any SMAC map, from the map table alone.

``count_parameters(alg, map_name, **overrides) -> {"agent", "mixer", "total"}`` builds the very networks
that ``train`` builds (:func:`course_lib.train.build_networks`) on PyTorch's ``meta`` device, which
allocates no memory and runs no simulator, so it is instant even for 27m_vs_30m and always agrees with
``train``. :func:`agent_parameters`, :func:`mixrt_agent_parameters` and :func:`mixer_parameters` are the
closed-form counts of the GRU agent, MIXRTs' tree agent and the VDN/QMIX/QTRAN/mixing-tree mixers that the
notebooks derive by hand; the tests check them against the modules.
"""
from __future__ import annotations

from typing import Dict

import torch

from .config import make_config

__all__ = ["count_parameters", "map_sizes", "agent_parameters", "mixer_parameters", "tree_cell_parameters",
           "mixrt_agent_parameters"]

_OBS_OPTS = ("obs_all_health", "obs_own_health", "obs_last_action", "obs_pathing_grid", "obs_terrain_height",
             "obs_timestep_number")
_STATE_OPTS = ("state_last_action", "state_timestep_number")


def map_sizes(map_name: str, **env_args) -> Dict[str, int]:
    """``{"n_agents", "n_actions", "obs_dim", "state_dim", "episode_limit"}`` of a map from the SMAC table.

    ``env_args`` may hold BatchedSMAC's observation/state options (``obs_last_action``, ...), which
    change the sizes exactly as in SMAC.
    """
    from .envs.smac.maps import get_map

    spec = get_map(map_name)
    obs_kw = {k: v for k, v in env_args.items() if k in _OBS_OPTS}
    state_kw = {k: v for k, v in env_args.items() if k in _STATE_OPTS}
    return {"n_agents": spec.n_agents, "n_actions": spec.n_actions, "obs_dim": spec.obs_size(**obs_kw),
            "state_dim": spec.state_size(**state_kw), "episode_limit": spec.episode_limit}


def _linear(i: int, o: int) -> int:
    return i * o + o


def agent_parameters(input_dim: int, n_actions: int, hidden_dim: int = 64) -> int:
    """``Linear(in, H) + GRUCell(H, H) + Linear(H, A)``."""
    return _linear(input_dim, hidden_dim) + 3 * (2 * hidden_dim * hidden_dim + 2 * hidden_dim) + _linear(hidden_dim, n_actions)


def tree_cell_parameters(x_dim: int, n_trees: int, depth: int) -> int:
    """A recurrent soft-tree cell: per level k, ``Linear(x, H 2^k) + Linear(H, H 2^k)``, plus ``[H, 2^d]`` leaves."""
    H = n_trees
    inner = sum(_linear(x_dim, H * 2 ** k) + _linear(H, H * 2 ** k) for k in range(depth))
    return inner + H * 2 ** depth


def mixrt_agent_parameters(input_dim: int, n_actions: int, n_trees: int = 32, depth: int = 3) -> int:
    """MIXRTs' agent: a tree cell of ``n_trees`` trees and ``Linear(H, A, bias=False)``."""
    return tree_cell_parameters(input_dim, n_trees, depth) + n_trees * n_actions


def mixer_parameters(config, sizes: Dict[str, int]) -> int:
    """Parameters of the config's mixer (0 for IQL and VDN)."""
    N, S, A = sizes["n_agents"], sizes["state_dim"], sizes["n_actions"]
    if config.mixer in (None, "vdn"):
        return 0
    if config.mixer == "qmix":
        E, He = config.mixing_embed_dim, config.hypernet_embed
        if config.hypernet_layers == 1:
            hyper = _linear(S, E * N) + _linear(S, E)
        else:
            hyper = _linear(S, He) + _linear(He, E * N) + _linear(S, He) + _linear(He, E)
        return hyper + _linear(S, E) + _linear(S, E) + _linear(E, 1)  # + hyper_b1 + V
    if config.mixer == "qtran":
        E, ae = config.mixing_embed_dim, config.rnn_hidden_dim + A
        encoder = 2 * _linear(ae, ae)
        q = _linear(S + ae, E) + _linear(E, E) + _linear(E, 1)
        v = _linear(E, E) + _linear(E, 1)
        if getattr(config, "qtran_v", "hidden") == "hidden":  # QTRAN-base: V sees [s, sum_i enc(h_i)]
            H = config.rnn_hidden_dim
            v += 2 * _linear(H, H) + _linear(S + H, E)
        else:  # pymarl: V(s)
            v += _linear(S, E)
        return encoder + q + v
    if config.mixer == "mixing_tree":
        T, d = config.mixer_trees, config.mixer_depth
        # state embedding + cell + Linear(T, N, bias=False)
        return _linear(S, T) + tree_cell_parameters(N, T, d) + T * N
    raise ValueError(f"unknown mixer {config.mixer!r}")


def count_parameters(alg: str, map_name: str, **overrides) -> Dict[str, int]:
    """Trainable parameters of ``alg``'s networks on ``map_name`` with its default (pymarl) config.

    Args:
        alg: any name of ``course_lib.config.list_algs()``.
        map_name: any map of ``course_lib.envs.smac.maps``.
        **overrides: config fields (e.g. ``rnn_hidden_dim=128``, ``hypernet_layers=2``, ``env_args={...}``)
            and ``preset="fast"``.
    Returns:
        ``{"agent": int, "mixer": int, "total": int}`` (the agent network is shared by all agents, so it
        is counted once; target networks are not counted).
    """
    preset = overrides.pop("preset", "pymarl")
    config = make_config(alg, map_name, preset, **overrides)
    sizes = map_sizes(map_name, **config.env_args)
    from .train import build_networks

    with torch.device("meta"):
        mac, mixer = build_networks(config, sizes, device="meta")
    agent = sum(p.numel() for p in mac.parameters())
    mixer_n = sum(p.numel() for p in mixer.parameters()) if mixer is not None else 0
    return {"agent": int(agent), "mixer": int(mixer_n), "total": int(agent + mixer_n)}
