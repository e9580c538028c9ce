"""Value decomposition on one-step cooperative matrix games: ``fit_matrix_game(alg, game) -> MatrixFit``.

What VDN, QMIX and QTRAN can *represent* shows best on a two-agent matrix game: both agents pick an action,
both receive ``payoff[u1, u2]`` and the episode ends, so the TD target is the payoff itself. The protocol
(notebooks 05 and 06, ``tests/test_matrix_game_vd.py``):

- one-step, terminal episodes; the observation and the state are a constant 1 (``obs_dim = state_dim = 1``);
- uniform exploration: every gradient step sees a fresh batch of ``batch`` joint actions drawn uniformly
  (what epsilon = 1 would collect), from a ``torch.Generator`` seeded with ``seed``;
- the library's own networks and learners, unchanged: ``make_config(alg, "matrix", lr=lr)`` (pymarl's
  RMSprop settings), :func:`course_lib.train.build_networks`, :func:`course_lib.learners.make_learner`
  (``QLearner`` for IQL/VDN/QMIX, ``QTranLearner`` for QTRAN);
- after training, every joint action is evaluated once: the agents' utilities ``Q_i(u)``, the joint value
  (VDN/QMIX: ``Q_tot`` from the mixer; QTRAN: the joint network ``Q_jt``; IQL has none, the sum of the
  utilities is reported) and the decentralised greedy joint action ``(argmax Q_1, argmax Q_2)``.

:func:`plot_joint_q` draws the learned joint table next to the payoff; :func:`plot_table` draws any table in
the same style (``course_lib.envs.matrix_games.plot_payoff``'s colours).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .buffers.episode import EpisodeBatch
from .config import make_config
from .envs.matrix_games import MatrixGame, get_matrix_game, plot_payoff
from .learners import make_learner
from .utils import resolve_device

__all__ = ["ALGS", "MatrixFit", "fit_matrix_game", "one_step_batch", "plot_joint_q", "plot_table"]

ALGS = ("iql", "vdn", "qmix", "qtran")
N_AGENTS = 2


@dataclass
class MatrixFit:
    """What one method learned on a matrix game (NumPy arrays, on the CPU).

    Attributes:
        alg: ``"iql" | "vdn" | "qmix" | "qtran"``.
        game: the game trained on (``game.payoff: [n_actions, n_actions]``).
        q_agents: ``[n_agents=2, n_actions]``; row i is agent i's utility ``Q_i(u)`` (constant observation).
        q_joint: ``[n_actions, n_actions]``; ``q_joint[u1, u2]`` is the learned joint value: ``Q_tot``
            (VDN, QMIX), ``Q_jt`` (QTRAN's joint network) or ``Q_1 + Q_2`` (IQL, which learns no joint value).
        greedy_action: ``(argmax Q_1, argmax Q_2)``, the joint action the decentralised agents take.
        mse: ``mean((q_joint - payoff) ** 2)`` over all cells.
        losses: ``[steps]``, the learner's total loss at every gradient step.
        v: QTRAN's state value ``V_jt(s)`` (a float); ``None`` for the other methods.
        seed: the seed used.
    """

    alg: str
    game: MatrixGame
    q_agents: np.ndarray
    q_joint: np.ndarray
    greedy_action: Tuple[int, int]
    mse: float
    losses: np.ndarray = field(repr=False)
    v: Optional[float] = None
    seed: int = 0

    @property
    def payoff(self) -> np.ndarray:
        """``[n_actions, n_actions]``, the game's payoff."""
        return self.game.payoff

    @property
    def n_actions(self) -> int:
        """Actions per agent."""
        return self.game.n_actions

    @property
    def q_sum(self) -> np.ndarray:
        """``[n_actions, n_actions]``: ``Q_1(u1) + Q_2(u2)`` (QTRAN's transformed value ``Q'_jt``)."""
        return self.q_agents[0][:, None] + self.q_agents[1][None, :]

    @property
    def greedy_value(self) -> float:
        """The true payoff of :attr:`greedy_action`."""
        return float(self.game.payoff[self.greedy_action])

    @property
    def found_optimum(self) -> bool:
        """Whether the decentralised greedy joint action reaches the game's best payoff."""
        return bool(np.isclose(self.greedy_value, self.game.optimal_value))


def _as_game(game_or_payoff) -> MatrixGame:
    if isinstance(game_or_payoff, MatrixGame):
        return game_or_payoff
    if isinstance(game_or_payoff, str):
        return get_matrix_game(game_or_payoff)
    try:
        payoff = np.asarray(game_or_payoff, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"expected a MatrixGame, a game name or a payoff matrix [n_actions, n_actions], got "
                        f"{type(game_or_payoff).__name__}") from exc
    return MatrixGame("payoff", payoff)  # validates: square, n_actions >= 2, finite


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def one_step_batch(payoff: torch.Tensor, actions: torch.Tensor) -> EpisodeBatch:
    """``B`` one-step terminal episodes of a two-agent matrix game, on ``actions.device``.

    Args:
        payoff: ``[n_actions, n_actions]`` float tensor on the same device as ``actions``.
        actions: ``[B, 2]`` long joint actions ``(u1, u2)``.
    Returns:
        :class:`EpisodeBatch` with ``obs: [B, 2, 2, 1]`` and ``state: [B, 2, 1]`` (constant ones; index 1 is
        the final state), ``avail: [B, 2, 2, n_actions]`` (all True), ``actions: [B, 1, 2]``,
        ``reward: [B, 1] = payoff[u1, u2]``, ``terminated = filled = [B, 1]`` ones and ``lengths: [B]`` ones.
    """
    if actions.dim() != 2 or actions.shape[1] != N_AGENTS:
        raise ValueError(f"actions must be [B, {N_AGENTS}] joint actions, got shape {tuple(actions.shape)}")
    B, n, dev = actions.shape[0], payoff.shape[0], actions.device
    return EpisodeBatch(obs=torch.ones(B, 2, N_AGENTS, 1, device=dev), state=torch.ones(B, 2, 1, device=dev),
                        avail=torch.ones(B, 2, N_AGENTS, n, dtype=torch.bool, device=dev),
                        actions=actions[:, None, :], reward=payoff[actions[:, 0], actions[:, 1]][:, None],
                        terminated=torch.ones(B, 1, device=dev), filled=torch.ones(B, 1, device=dev),
                        lengths=torch.ones(B, dtype=torch.long, device=dev))


def fit_matrix_game(alg: str, game_or_payoff, steps: int = 1500, seed: int = 0, lr: float = 7e-4,
                    batch: int = 32, device: Union[str, torch.device] = "cpu") -> MatrixFit:
    """Train ``alg``'s networks and learner on uniform one-step data from a matrix game.

    Args:
        alg: ``"iql" | "vdn" | "qmix" | "qtran"`` (case-insensitive).
        game_or_payoff: a :class:`~course_lib.envs.matrix_games.MatrixGame`, a game name (``"non_monotonic"``)
            or a payoff array ``[n_actions, n_actions]``.
        steps: gradient steps, each on a fresh batch.
        seed: seeds the network initialisation and the batches. The caller's global RNG state is neither
            used nor changed: same arguments, same numbers (on one device).
        lr: RMSprop learning rate (the other optimiser settings are pymarl's defaults).
        batch: joint actions (one-step episodes) per gradient step, drawn uniformly.
        device: ``"cpu"`` (default: these networks are tiny), ``"cuda"``, ``"auto"``...
    Returns:
        :class:`MatrixFit` with ``q_agents: [2, n_actions]``, ``q_joint: [n_actions, n_actions]``,
        ``greedy_action``, ``mse`` and ``losses: [steps]``.
    Raises:
        ValueError: an unknown ``alg`` (the message lists :data:`ALGS`), a payoff that is not a finite square
            matrix with at least 2 actions, a non-positive ``steps``/``batch``/``lr`` or a negative ``seed``.
    """
    key = alg.lower() if isinstance(alg, str) else alg
    if key not in ALGS:
        raise ValueError(f"unknown alg {alg!r}; allowed: {list(ALGS)}")
    game = _as_game(game_or_payoff)
    steps, batch = _positive_int("steps", steps), _positive_int("batch", batch)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not float(lr) > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    dev = resolve_device(device)
    from .train import build_networks  # imported here: course_lib.train pulls in the SMAC runner

    n = game.n_actions
    payoff = torch.tensor(game.payoff, dtype=torch.float32, device=dev)  # [n, n] (a copy)
    cfg = make_config(key, "matrix", lr=float(lr))
    sizes = dict(n_agents=N_AGENTS, n_actions=n, obs_dim=1, state_dim=1)
    with torch.random.fork_rng(devices=[]):  # the networks are initialised on the CPU; its RNG is restored on exit
        torch.random.default_generator.manual_seed(int(seed))
        mac, mixer = build_networks(cfg, sizes, dev)
    learner = make_learner(cfg.learner, mac, mixer, cfg)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    losses = np.empty(steps)
    for step in range(steps):
        actions = torch.randint(0, n, (batch, N_AGENTS), generator=gen, device=dev)  # [batch, 2] uniform
        losses[step] = learner.train(one_step_batch(payoff, actions), episode_num=step)["loss"]

    every = torch.cartesian_prod(torch.arange(n, device=dev), torch.arange(n, device=dev))  # [n*n, 2] row-major
    b = one_step_batch(payoff, every)
    v = None
    with torch.no_grad():
        q, h = mac.unroll(b.obs, b.actions)  # q: [n*n, 2, 2, n], h: [n*n, 2, 2, H]
        q_agents = q[0, 0]  # [2, n]: Q_i(u), the same for every row (constant observation, no last action)
        chosen = q[:, 0].gather(-1, b.actions[:, 0].unsqueeze(-1)).squeeze(-1)  # [n*n, 2]: Q_i(u_i)
        if key == "qtran":
            joint, v_all = mixer(b.state[:, 0], h[:, 0], F.one_hot(b.actions[:, 0], n).float())  # [n*n, 1] each
            v = float(v_all[0])
        elif mixer is None:  # IQL: no joint value
            joint = chosen.sum(-1)
        else:
            joint = mixer(chosen, b.state[:, 0])
    q_joint = joint.reshape(n, n).cpu().numpy().astype(np.float64)
    q_agents_np = q_agents.cpu().numpy().astype(np.float64)
    greedy = (int(q_agents_np[0].argmax()), int(q_agents_np[1].argmax()))
    return MatrixFit(alg=key, game=game, q_agents=q_agents_np, q_joint=q_joint, greedy_action=greedy,
                     mse=float(((q_joint - game.payoff) ** 2).mean()), losses=losses, v=v, seed=int(seed))


# ----------------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------------
def plot_table(table, ax=None, title: Optional[str] = None, span: Optional[float] = None,
               outline: Optional[Sequence[int]] = None, fmt: str = ".1f", cmap: str = "RdBu"):
    """Heatmap of a table over joint actions, in :func:`~course_lib.envs.matrix_games.plot_payoff`'s style.

    Args:
        table: ``[n_actions, n_actions]``; rows are agent 1's action, columns agent 2's.
        ax: matplotlib Axes (a new figure when None).
        title: panel title.
        span: colour scale ``[-span, span]`` centred on 0 (default: the table's largest absolute value); give
            the same span to panels that should be compared.
        outline: a cell ``(u1, u2)`` to outline in black (for example the greedy joint action).
        fmt: number format of the annotations.
    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Rectangle

    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2:
        raise ValueError(f"table must be 2-D [n_actions, n_actions], got shape {t.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * t.shape[1] + 1.0, 1.1 * t.shape[0] + 0.8))
    span = float(span) if span is not None else (float(np.abs(t).max()) or 1.0)
    sns.heatmap(t, annot=True, fmt=fmt, cmap=cmap, center=0.0, vmin=-span, vmax=span, square=True, cbar=False,
                ax=ax, linewidths=0.5, linecolor="white")
    if outline is not None:
        r, c = (int(i) for i in outline)
        ax.add_patch(Rectangle((c, r), 1, 1, fill=False, edgecolor="black", lw=2.5))
    ax.set_xlabel("agent 2 action")
    ax.set_ylabel("agent 1 action")
    if title is not None:
        ax.set_title(title)
    return ax


_JOINT_NAME = {"iql": "IQL Q_1 + Q_2", "vdn": "VDN Q_tot", "qmix": "QMIX Q_tot", "qtran": "QTRAN Q_jt"}


def plot_joint_q(fit: MatrixFit, payoff=None, ax=None, span: Optional[float] = None, title: Optional[str] = None):
    """The learned joint table of ``fit``, with the greedy joint action outlined, beside the payoff.

    Args:
        fit: a :class:`MatrixFit`.
        payoff: the game to show beside it (a ``MatrixGame``, a name or a ``[n_actions, n_actions]`` array);
            default ``fit.game``. Its shape must match ``fit.q_joint``.
        ax: None (a new figure: payoff on the left, learned table on the right), a pair of Axes
            ``(payoff_ax, learned_ax)``, or a single Axes (the learned table only, for figures that show
            the payoff once beside several methods).
        span: colour scale ``[-span, span]`` (default: the payoff's largest absolute value, so both panels
            share one scale).
        title: title of the learned panel (default: the method's joint value and its MSE).
    Returns:
        The Axes holding the learned table.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    game = fit.game if payoff is None else _as_game(payoff)
    if game.payoff.shape != fit.q_joint.shape:
        raise ValueError(f"payoff shape {game.payoff.shape} does not match the fit's q_joint "
                         f"{fit.q_joint.shape}")
    span = float(span) if span is not None else (float(np.abs(game.payoff).max()) or 1.0)
    if ax is None:
        n = game.n_actions
        _, (payoff_ax, learned_ax) = plt.subplots(1, 2, figsize=(2 * (1.2 * n + 1.4), 1.1 * n + 0.9))
    elif isinstance(ax, Axes):
        payoff_ax, learned_ax = None, ax
    else:
        axes = list(np.ravel(ax))
        if len(axes) != 2:
            raise ValueError(f"ax must be None, one Axes or a pair of Axes, got {len(axes)} Axes")
        payoff_ax, learned_ax = axes
    if payoff_ax is not None:
        plot_payoff(game, ax=payoff_ax, title=f"payoff ({game.name})")
    if title is None:
        title = f"{_JOINT_NAME[fit.alg]} (MSE {fit.mse:.1f})"
    return plot_table(fit.q_joint, ax=learned_ax, title=title, span=span, outline=fit.greedy_action)
