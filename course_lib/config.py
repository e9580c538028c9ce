"""Typed training configurations for IQL, VDN, QMIX, QTRAN and ACORM (pymarl defaults + pymarl2 tricks).

One dataclass per algorithm, all sharing :class:`BaseConfig`. The field defaults are pymarl's published
ones (``src/config/default.yaml`` and ``algs/*.yaml``). Two presets:

- ``"pymarl"``: the published defaults, unchanged (RMSprop 5e-4, one-step targets, 1 environment,
  batch 32 episodes, epsilon annealed over 50k steps).
- ``"fast"``: pymarl2's implementation tricks switched on and sized for a 2-core CPU: Adam lr 1e-3,
  TD(lambda) with lambda 0.6, 8 parallel environments, a bigger batch, a shorter epsilon anneal and
  more frequent evaluation (QMIX also gets two-layer hypernetworks, as in pymarl2).

``make_config(alg, map_name, preset, **overrides)`` builds one; an unknown override raises a
``TypeError`` that lists the valid fields.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

__all__ = [
    "BaseConfig",
    "IQLConfig",
    "VDNConfig",
    "QMIXConfig",
    "QTRANConfig",
    "ACORMConfig",
    "ALG_CONFIGS",
    "PRESETS",
    "list_algs",
    "make_config",
    "config_from_dict",
]


@dataclass
class BaseConfig:
    """Fields shared by every value-decomposition method (pymarl defaults)."""

    alg: str = "iql"  # algorithm name: iql, vdn, qmix or qtran (set by make_config)
    map_name: str = "3m"  # SMAC map to train on (see course_lib.envs.list_maps())
    preset: str = "pymarl"  # which preset produced these values: "pymarl"/"published" or "fast"
    # --- agent network -------------------------------------------------------------------------
    agent: str = "rnn"  # agent network from course_lib.agents' registry (pymarl: rnn)
    rnn_hidden_dim: int = 64  # GRU width of the shared agent (pymarl: 64)
    obs_last_action: bool = True  # append the one-hot previous action to each agent's input (pymarl: True)
    obs_agent_id: bool = True  # append the one-hot agent id to each agent's input (pymarl: True)
    # --- mixer ------------------------------------------------------------------------------------
    mixer: Optional[str] = None  # mixing network: None (IQL), "vdn", "qmix" or "qtran"
    learner: str = "q_learner"  # learner from course_lib.learners' registry: q_learner or qtran_learner
    # --- data collection ---------------------------------------------------------------------------
    n_envs: int = 1  # parallel environments stepped as one batch (pymarl batch_size_run: 1, pymarl2: 8)
    env_args: Dict[str, Any] = field(default_factory=dict)  # extra keywords for BatchedSMAC (reward_*, obs_*)
    epsilon_start: float = 1.0  # exploration rate at t_env = 0
    epsilon_finish: float = 0.05  # exploration rate after the anneal
    epsilon_anneal_time: int = 50_000  # env steps of linear epsilon decay (pymarl: 50k, pymarl2: 100k)
    buffer_size: int = 5000  # replay capacity in episodes (pymarl: 5000)
    batch_size: int = 32  # episodes per gradient step (pymarl: 32, pymarl2: 128)
    train_steps_per_iter: int = 1  # gradient steps after each collection of n_envs episodes (pymarl: 1)
    # --- learning ------------------------------------------------------------------------------------
    gamma: float = 0.99  # discount factor
    optimizer: str = "rmsprop"  # "rmsprop" (pymarl) or "adam" (pymarl2)
    lr: float = 5e-4  # learning rate (pymarl RMSprop: 5e-4, pymarl2 Adam: 1e-3)
    optim_alpha: float = 0.99  # RMSprop smoothing constant alpha (pymarl: 0.99)
    optim_eps: float = 1e-5  # RMSprop epsilon (pymarl: 1e-5); Adam keeps PyTorch's 1e-8
    grad_norm_clip: float = 10.0  # clip the global gradient norm to this value (pymarl: 10)
    double_q: bool = True  # double Q-learning: online net picks a', target net evaluates it (pymarl: True)
    target_update_interval: int = 200  # hard target update every this many episodes (pymarl: 200)
    target_update_tau: Optional[float] = None  # if set, soft (Polyak) target update with this tau each step
    td_lambda: float = 0.0  # lambda of TD(lambda) targets; 0 = one-step targets (pymarl), 0.6 = pymarl2
    # --- schedule, evaluation, saving -----------------------------------------------------------------
    t_max: int = 2_050_000  # total env steps (summed over parallel envs) to train for (pymarl: 2.05M)
    test_interval: int = 10_000  # env steps between greedy evaluations (pymarl: 10k)
    test_nepisodes: int = 32  # greedy episodes per evaluation (pymarl: 32)
    checkpoint_interval: int = 200_000  # env steps between checkpoints (one is also saved at the end)
    save_buffer: bool = True  # keep the replay buffer in checkpoints (needed for exact resume)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field whose value is not allowed."""
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ValueError(f"config field {name}={getattr(self, name)!r} is not allowed: {allowed}")

        for name in ("rnn_hidden_dim", "n_envs", "buffer_size", "batch_size", "train_steps_per_iter",
                     "target_update_interval", "t_max", "test_interval", "test_nepisodes", "checkpoint_interval"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v > 0, name, "a positive integer")
        need(isinstance(self.epsilon_anneal_time, int) and self.epsilon_anneal_time >= 0,
             "epsilon_anneal_time", "an integer >= 0")
        for name in ("epsilon_start", "epsilon_finish"):
            need(0.0 <= float(getattr(self, name)) <= 1.0, name, "a number in [0, 1]")
        need(0.0 <= float(self.gamma) <= 1.0, "gamma", "a number in [0, 1]")
        need(0.0 <= float(self.td_lambda) <= 1.0, "td_lambda", "a number in [0, 1]")
        need(float(self.lr) > 0, "lr", "a positive number")
        need(float(self.grad_norm_clip) > 0, "grad_norm_clip", "a positive number")
        need(self.optimizer in ("rmsprop", "adam"), "optimizer", "'rmsprop' or 'adam'")
        need(self.target_update_tau is None or 0.0 < float(self.target_update_tau) <= 1.0,
             "target_update_tau", "None (hard updates) or a number in (0, 1]")
        need(self.batch_size <= self.buffer_size, "batch_size", f"at most buffer_size={self.buffer_size}")
        from .agents import AGENT_REGISTRY
        from .learners import LEARNER_REGISTRY
        from .mixers import MIXER_REGISTRY

        need(self.agent in AGENT_REGISTRY, "agent", f"one of {sorted(AGENT_REGISTRY)}")
        need(self.mixer is None or self.mixer in MIXER_REGISTRY, "mixer", f"None or one of {sorted(MIXER_REGISTRY)}")
        need(self.learner in LEARNER_REGISTRY, "learner", f"one of {sorted(LEARNER_REGISTRY)}")
        need(isinstance(self.env_args, dict), "env_args", "a dict of BatchedSMAC keyword arguments")

    def to_dict(self) -> Dict[str, Any]:
        """Plain ``dict`` of every field (JSON-serialisable)."""
        return dataclasses.asdict(self)

    # --- the network seam: each algorithm's config says how to build its networks -----------------------
    def agent_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        """Extra keywords for ``make_agent(self.agent, input_dim, n_actions, rnn_hidden_dim, **kw)``."""
        return {}

    def mixer_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        """Keywords for ``make_mixer(self.mixer, n_agents, state_dim, **kw)`` on a map with ``sizes``."""
        return {}


@dataclass
class IQLConfig(BaseConfig):
    """Independent Q-learning with a shared agent network: no mixer, each agent regresses on the team reward."""

    alg: str = "iql"  # algorithm name
    mixer: Optional[str] = None  # IQL has no mixer


@dataclass
class VDNConfig(BaseConfig):
    """VDN: ``Q_tot = sum_i Q_i`` (no mixer parameters)."""

    alg: str = "vdn"  # algorithm name
    mixer: Optional[str] = "vdn"  # additive mixer


@dataclass
class QMIXConfig(BaseConfig):
    """QMIX: monotonic mixing network whose weights come from hypernetworks of the state."""

    alg: str = "qmix"  # algorithm name
    mixer: Optional[str] = "qmix"  # monotonic mixer
    mixing_embed_dim: int = 32  # width of the mixing network's hidden layer (pymarl: 32)
    hypernet_layers: int = 1  # 1: hypernets are one Linear (pymarl); 2: Linear-ReLU-Linear (pymarl2)
    hypernet_embed: int = 64  # hidden width of two-layer hypernetworks (pymarl/pymarl2: 64)

    def mixer_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        return dict(embed_dim=self.mixing_embed_dim, hypernet_layers=self.hypernet_layers,
                    hypernet_embed=self.hypernet_embed)

    def validate(self) -> None:
        super().validate()
        if self.hypernet_layers not in (1, 2):
            raise ValueError(f"config field hypernet_layers={self.hypernet_layers!r} is not allowed: 1 or 2")
        for name in ("mixing_embed_dim", "hypernet_embed"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ValueError(f"config field {name}={v!r} is not allowed: a positive integer")


@dataclass
class QTRANConfig(BaseConfig):
    """QTRAN-base (pymarl ``qtran_base``, arch ``qtran_paper``): joint Q(s,u), V(s), TD + opt + nopt losses."""

    alg: str = "qtran"  # algorithm name
    mixer: Optional[str] = "qtran"  # joint action-value network plus V(s)
    learner: str = "qtran_learner"  # QTRAN has its own learner (three losses)
    mixing_embed_dim: int = 64  # width of the joint Q and V networks (pymarl: 64)
    qtran_arch: str = "qtran_paper"  # network layout; only pymarl's "qtran_paper" is implemented
    opt_loss: float = 1.0  # weight of the optimality (L_opt) loss (pymarl: 1)
    nopt_min_loss: float = 0.1  # weight of the non-optimality (L_nopt, min variant) loss (pymarl: 0.1)

    def mixer_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        return dict(n_actions=sizes["n_actions"], rnn_hidden_dim=self.rnn_hidden_dim, embed_dim=self.mixing_embed_dim)

    def validate(self) -> None:
        super().validate()
        if self.qtran_arch != "qtran_paper":
            raise ValueError(f"config field qtran_arch={self.qtran_arch!r} is not allowed: 'qtran_paper'")
        if not (isinstance(self.mixing_embed_dim, int) and self.mixing_embed_dim > 0):
            raise ValueError(f"config field mixing_embed_dim={self.mixing_embed_dim!r} is not allowed: "
                             "a positive integer")
        for name in ("opt_loss", "nopt_min_loss"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"config field {name}={getattr(self, name)!r} is not allowed: a number >= 0")


@dataclass
class ACORMConfig(BaseConfig):
    """ACORM (QMIX variant): contrastive role representations + attention-guided mixing (NJU-RL/ACORM defaults).

    Pre-training (autoencoder, then contrastive) happens inside the learner on episodes collected by the
    normal runner, so its episodes count in ``t_max`` and in the curves' x axis; the released code does not
    count them (about 250 episodes with its defaults).
    """

    alg: str = "acorm"  # algorithm name
    agent: str = "acorm"  # agent embedding + role encoder + role-conditioned GRU Q-network
    obs_agent_id: bool = False  # ACORM's agents see [o_t, onehot(a_{t-1})] only (no agent id)
    mixer: Optional[str] = "acorm"  # attention-guided QMIX mixer
    learner: str = "acorm_learner"  # TD + contrastive + autoencoder pre-training
    epsilon_finish: float = 0.02  # ACORM: epsilon_min 0.02
    epsilon_anneal_time: int = 80_000  # ACORM: epsilon decays over 80k env steps
    optimizer: str = "adam"  # ACORM: Adam
    lr: float = 6e-4  # ACORM: Adam lr 6e-4 (Q-network + mixer; also the embedding/role optimiser's lr)
    target_update_tau: Optional[float] = 0.005  # ACORM: soft target update, tau 0.005 every train step
    t_max: int = 5_000_000  # ACORM main.py max_train_steps 5M (its curves are reported at 1.5M-3M)
    mixing_embed_dim: int = 32  # width of the mixing layer (ACORM qmix_hidden_dim: 32)
    hypernet_embed: int = 64  # hidden width of the two-layer hypernetworks (ACORM hyper_hidden_dim: 64)
    embed_dim: int = 128  # agent-embedding width (ACORM agent_embedding_dim: 128)
    role_dim: int = 64  # role-representation width (ACORM role_embedding_dim: 64)
    n_heads: int = 4  # attention heads in the mixer (ACORM: 4)
    attn_dim: int = 128  # total attention width, attn_dim / n_heads per head (ACORM att_dim: 128)
    cluster_num: int = 3  # K of the K-means over agent embeddings (ACORM: 3 on every map)
    kmeans_iters: int = 10  # Lloyd iterations of the batched K-means (ours; scikit-learn runs to convergence)
    cl_interval: int = 200  # contrastive update every this many RL train steps (ACORM train_recl_freq: 200)
    cl_lr: float = 8e-4  # Adam lr of the contrastive update (role encoder + W) (ACORM recl_lr: 8e-4)
    ae_lr: float = 1e-3  # Adam lr of the embedding autoencoder pre-training (ACORM agent_embedding_lr: 1e-3)
    role_tau: float = 0.005  # EMA rate of the momentum key encoder, once per contrastive update (ACORM role_tau: 0.005)
    pretrain_ae_steps: int = 120  # autoencoder pre-training steps before RL (ACORM: 120)
    pretrain_cl_steps: int = 100  # contrastive pre-training steps after the autoencoder (ACORM: 100)
    lr_decay: float = 0.98  # multiply the TD optimisers' lr by this ... (ACORM lr_decay_rate: 0.98)
    lr_decay_every: int = 500  # ... every this many RL train steps (ACORM lr_decay_steps: 500)
    use_contrastive: bool = True  # False = ablation without the contrastive loss (no CL pre-training or updates)
    use_attention: bool = True  # False = ablation: plain two-layer QMIX hypernetworks on the state
    mixer_role_grad: bool = False  # True = the TD gradient also flows from the mixer into the roles (unstable here)

    def agent_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        return dict(embed_dim=self.embed_dim, role_dim=self.role_dim)

    def mixer_kwargs(self, sizes: Dict[str, int]) -> Dict[str, Any]:
        return dict(role_dim=self.role_dim, n_heads=self.n_heads, attn_dim=self.attn_dim,
                    embed_dim=self.mixing_embed_dim, hypernet_embed=self.hypernet_embed,
                    use_attention=self.use_attention)

    def validate(self) -> None:
        super().validate()

        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ValueError(f"config field {name}={getattr(self, name)!r} is not allowed: {allowed}")

        for name in ("mixing_embed_dim", "hypernet_embed", "embed_dim", "role_dim", "n_heads", "attn_dim",
                     "cluster_num", "kmeans_iters", "cl_interval", "lr_decay_every"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v > 0, name, "a positive integer")
        for name in ("pretrain_ae_steps", "pretrain_cl_steps"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and v >= 0, name, "an integer >= 0")
        need(self.attn_dim % self.n_heads == 0, "attn_dim", f"a multiple of n_heads={self.n_heads}")
        for name in ("cl_lr", "ae_lr"):
            need(float(getattr(self, name)) > 0, name, "a positive number")
        need(0.0 < float(self.lr_decay) <= 1.0, "lr_decay", "a number in (0, 1]")
        need(0.0 < float(self.role_tau) <= 1.0, "role_tau", "a number in (0, 1]")
        need(self.optimizer == "adam", "optimizer", "'adam' (ACORM's learner uses Adam for every part)")
        need(self.agent == "acorm", "agent", "'acorm' (the learner needs the role encoder)")
        need(self.learner == "acorm_learner", "learner", "'acorm_learner'")
        need(self.mixer == "acorm", "mixer", "'acorm' (use use_attention=False for the plain-QMIX ablation)")


ALG_CONFIGS = {"iql": IQLConfig, "vdn": VDNConfig, "qmix": QMIXConfig, "qtran": QTRANConfig, "acorm": ACORMConfig}

# pymarl2's tricks, sized so that QMIX wins 3m within a few minutes on a 2-core CPU.
_FAST_COMMON: Dict[str, Any] = dict(
    optimizer="adam",
    lr=1e-3,
    td_lambda=0.6,
    n_envs=8,
    batch_size=64,
    epsilon_anneal_time=30_000,
    test_interval=5_000,
)
_FAST_PER_ALG: Dict[str, Dict[str, Any]] = {
    "iql": {},
    "vdn": {},
    "qmix": dict(hypernet_layers=2),
    "qtran": dict(td_lambda=0.0),
    # ACORM under the same pymarl2 tricks as QMIX's fast preset (Adam 1e-3, TD(lambda) 0.6, 8 games, batch 64), so
    # the two compare fairly. With 8 games per iteration there are 8x fewer train steps per episode than in the
    # released code, so everything counted in train steps is rescaled to keep its period in *episodes*: soft target
    # rate tau = 1 - 0.995^8 = 0.04 (the released code's target lag in episodes; the key encoder's EMA moves once
    # per contrastive update, so role_tau keeps its 0.005), 20 autoencoder + 10
    # contrastive pre-training steps (240 episodes; the code's ~250), a contrastive update every 25 RL steps (200
    # episodes, as in the code) and the lr decay every 60 RL steps (480 episodes; the code's 500).
    "acorm": dict(target_update_tau=0.04, pretrain_ae_steps=20, pretrain_cl_steps=10, cl_interval=25,
                  lr_decay_every=60),
}
# Maps where pymarl2 anneals epsilon much longer (exploration matters there).
_FAST_PER_MAP: Dict[str, Dict[str, Any]] = {"6h_vs_8z": dict(epsilon_anneal_time=500_000)}

# "published" is the same as "pymarl": each algorithm's dataclass defaults are its authors' published ones
# (pymarl's for IQL/VDN/QMIX/QTRAN, the ACORM and MIXRTs authors' for theirs).
PRESETS = ("pymarl", "published", "fast")


def list_algs():
    """Names accepted by :func:`make_config` and ``train``: ``['acorm', 'iql', 'qmix', 'qtran', 'vdn']``."""
    return sorted(ALG_CONFIGS)


def _config_class(alg: str):
    if not isinstance(alg, str) or alg.lower() not in ALG_CONFIGS:
        raise ValueError(f"unknown algorithm {alg!r}; known algorithms: {list_algs()}")
    return ALG_CONFIGS[alg.lower()]


def make_config(alg: str, map_name: str = "3m", preset: str = "pymarl", **overrides) -> BaseConfig:
    """Build the configuration of ``alg`` on ``map_name`` from a preset plus overrides.

    Args:
        alg: ``"iql" | "vdn" | "qmix" | "qtran" | "acorm"``.
        map_name: SMAC map name (only stored here; the simulator checks it).
        preset: ``"pymarl"`` or its synonym ``"published"`` (the algorithm's published defaults) or
            ``"fast"`` (pymarl2 tricks on, sized for a CPU).
        **overrides: any config field, e.g. ``lr=1e-3, td_lambda=0.6``.
    Raises:
        ValueError: unknown algorithm or preset, or a field value that is not allowed.
        TypeError: an override that is not a field of this algorithm's config (the message lists them).
    """
    cls = _config_class(alg)
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known presets: {list(PRESETS)}")
    valid = [f.name for f in dataclasses.fields(cls)]
    bad = sorted(k for k in overrides if k not in valid)
    if bad:
        raise TypeError(f"unknown config field(s) {bad} for {cls.__name__}; valid fields: {valid}")
    for fixed in ("alg",):
        if fixed in overrides and overrides[fixed] != alg.lower():
            raise ValueError(f"override alg={overrides[fixed]!r} contradicts alg={alg!r}")
    values: Dict[str, Any] = {"alg": alg.lower(), "map_name": map_name, "preset": preset}
    if preset == "fast":
        values.update(_FAST_COMMON)
        values.update(_FAST_PER_ALG[alg.lower()])
        values.update(_FAST_PER_MAP.get(map_name, {}))
    values.update(overrides)
    return cls(**values)


def config_from_dict(d: Dict[str, Any]) -> BaseConfig:
    """Rebuild a config saved with :meth:`BaseConfig.to_dict` (for example from ``config.json``)."""
    cls = _config_class(d.get("alg", ""))
    valid = {f.name for f in dataclasses.fields(cls)}
    bad = sorted(k for k in d if k not in valid)
    if bad:
        raise TypeError(f"unknown config field(s) {bad} for {cls.__name__}; valid fields: {sorted(valid)}")
    return cls(**d)
