"""Cooperative one-step matrix games and two tabular learners that show miscoordination.

Two agents pick an action each, both receive the same payoff ``payoff[a1, a2]`` and the episode ends.
These tiny games isolate the core problem of cooperative MARL: an agent that learns on its own sees the
*average* payoff of its action over whatever its partner currently does, and that average can favour a
safe, suboptimal action. A learner over *joint* actions sees every cell and finds the optimum.

Games (``list_matrix_games()``):

- ``climbing`` (Claus & Boutilier, 1998): the optimum (0, 0) = 11 sits next to -30 penalties.
- ``penalty`` (Claus & Boutilier, 1998, oriented as in their table): two optima (0, 0) and (2, 2) worth 10
  on the diagonal, ``k`` (default -100) in the anti-diagonal corners (0, 2) and (2, 0): miscoordinating
  between the optima costs ``k``; (1, 1) = 2 is the safe choice.
- ``non_monotonic`` (Son et al., 2019, QTRAN): [[8,-12,-12],[-12,0,0],[-12,0,0]]; the optimum (0, 0)
  cannot be represented by an additive (VDN) or monotonic (QMIX) value factorisation.
- ``coordination``: a 2x2 pure coordination game [[1,0],[0,1]] with two equally good equilibria;
  independent greedy agents can break the tie differently.

``independent_q_learning`` and ``joint_action_learning`` are seeded tabular learners (NumPy) used by
notebooks 03, 05 and 06.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..tabular.q_learning import argmax_random_tie, epsilon_greedy

__all__ = [
    "MatrixGame",
    "MatrixLearningResult",
    "get_matrix_game",
    "list_matrix_games",
    "plot_payoff",
    "independent_q_learning",
    "joint_action_learning",
    "pure_nash_equilibria",
]


@dataclass(frozen=True)
class MatrixGame:
    """A two-agent cooperative one-step game.

    Attributes:
        name: registry name (for ``penalty`` it includes ``k``, e.g. ``"penalty(k=-100)"``).
        payoff: ``[n_actions, n_actions]`` float array; ``payoff[a1, a2]`` is the shared reward when
            agent 1 plays ``a1`` (row) and agent 2 plays ``a2`` (column).
        description: one line on what the game shows.
    """

    name: str
    payoff: np.ndarray
    description: str = ""

    def __post_init__(self):
        p = np.asarray(self.payoff, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != p.shape[1] or p.shape[0] < 2:
            raise ValueError(f"payoff must be a square [n_actions, n_actions] matrix with n_actions >= 2, "
                             f"got shape {p.shape}")
        if not np.all(np.isfinite(p)):
            raise ValueError("payoff must contain only finite numbers")
        p = p.copy()
        p.setflags(write=False)
        object.__setattr__(self, "payoff", p)

    @property
    def n_actions(self) -> int:
        """Number of actions of each agent."""
        return int(self.payoff.shape[0])

    @property
    def optimal_value(self) -> float:
        """The best payoff in the matrix."""
        return float(self.payoff.max())

    @property
    def optimal_joint_actions(self) -> List[Tuple[int, int]]:
        """All joint actions ``(a1, a2)`` that reach :attr:`optimal_value`."""
        rows, cols = np.nonzero(self.payoff == self.payoff.max())
        return [(int(r), int(c)) for r, c in zip(rows, cols)]


def _climbing() -> MatrixGame:
    return MatrixGame(
        "climbing",
        np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]]),
        "Claus & Boutilier's climbing game: the optimum (0,0)=11 is guarded by -30 miscoordination "
        "penalties, so independent learners drift to safe, worse actions.",
    )


def _penalty(k: float = -100.0) -> MatrixGame:
    k = float(k)
    if not np.isfinite(k) or k > 0:
        raise ValueError(f"penalty game needs a finite k <= 0 (a penalty), got k={k!r}")
    return MatrixGame(
        f"penalty(k={k:g})",
        np.array([[10.0, 0.0, k], [0.0, 2.0, 0.0], [k, 0.0, 10.0]]),
        f"Claus & Boutilier's penalty game: two optima worth 10 at (0,0) and (2,2); choosing the wrong "
        f"one costs k={k:g}; (1,1)=2 is safe.",
    )


def _non_monotonic() -> MatrixGame:
    return MatrixGame(
        "non_monotonic",
        np.array([[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]]),
        "QTRAN's non-monotonic game: the optimum (0,0)=8 cannot be captured by additive (VDN) or "
        "monotonic (QMIX) factorisations.",
    )


def _coordination() -> MatrixGame:
    return MatrixGame(
        "coordination",
        np.array([[1.0, 0.0], [0.0, 1.0]]),
        "2x2 pure coordination: two equally good equilibria; agents must agree on one.",
    )


_GAMES: Dict[str, Callable[..., MatrixGame]] = {
    "climbing": _climbing,
    "penalty": _penalty,
    "non_monotonic": _non_monotonic,
    "coordination": _coordination,
}


def list_matrix_games() -> List[str]:
    """Names accepted by :func:`get_matrix_game`."""
    return list(_GAMES)


def get_matrix_game(name: str, **kwargs) -> MatrixGame:
    """Build a game by name. Only ``penalty`` takes a keyword: ``k`` (default -100).

    Raises:
        ValueError: unknown name (the message lists the games) or keywords the game does not take.
    """
    if name not in _GAMES:
        raise ValueError(f"unknown matrix game {name!r}; available games: {', '.join(list_matrix_games())}")
    try:
        return _GAMES[name](**kwargs)
    except TypeError:
        allowed = "k" if name == "penalty" else "none"
        raise ValueError(
            f"matrix game {name!r} got unexpected keyword(s) {sorted(kwargs)}; allowed keywords: {allowed}"
        ) from None


def _as_game(game) -> MatrixGame:
    if isinstance(game, MatrixGame):
        return game
    if isinstance(game, str):
        return get_matrix_game(game)
    raise TypeError(f"expected a MatrixGame or a game name, got {type(game).__name__}")


def pure_nash_equilibria(payoff) -> List[Tuple[int, int]]:
    """Joint actions where neither agent gains by deviating alone (ties count as equilibria).

    Args:
        payoff: ``[n_actions, n_actions]`` shared payoff (or a :class:`MatrixGame`).

    Returns:
        Sorted list of ``(a1, a2)``.
    """
    p = payoff.payoff if isinstance(payoff, MatrixGame) else np.asarray(payoff, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"payoff must be 2-D, got shape {p.shape}")
    best_row = p >= p.max(axis=0, keepdims=True)  # agent 1 cannot improve given a2 (column)
    best_col = p >= p.max(axis=1, keepdims=True)  # agent 2 cannot improve given a1 (row)
    rows, cols = np.nonzero(best_row & best_col)
    return sorted((int(r), int(c)) for r, c in zip(rows, cols))


def plot_payoff(game, ax=None, title: Optional[str] = None, cmap: str = "RdBu", annot_fmt: str = "g"):
    """Heatmap of the payoff matrix (rows: agent 1's action, columns: agent 2's action).

    Optimal cells are outlined. Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Rectangle

    game = _as_game(game)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * game.n_actions + 1.6, 1.1 * game.n_actions + 0.8))
    labels = [str(a) for a in range(game.n_actions)]
    span = float(np.abs(game.payoff).max()) or 1.0
    sns.heatmap(game.payoff, annot=True, fmt=annot_fmt, cmap=cmap, center=0.0, vmin=-span, vmax=span,
                xticklabels=labels, yticklabels=labels, cbar=True, linewidths=0.5, linecolor="white",
                square=True, ax=ax)
    for r, c in game.optimal_joint_actions:
        ax.add_patch(Rectangle((c, r), 1, 1, fill=False, edgecolor="black", lw=2.5))
    ax.set_xlabel("agent 2 action")
    ax.set_ylabel("agent 1 action")
    ax.set_title(title if title is not None else game.name)
    return ax


@dataclass
class MatrixLearningResult:
    """What a tabular learner learned on a matrix game.

    Attributes:
        q: independent learners: ``[2, n_actions]`` (row i is agent i's Q over its own actions);
            joint learner: ``[n_actions, n_actions]`` Q over joint actions.
        greedy_action: the greedy joint action ``(a1, a2)`` after learning.
        greedy_value: its true payoff ``payoff[a1, a2]``.
        optimal_value: the best payoff of the game.
        rewards: ``[n_episodes]`` reward received in each training episode.
        q_history: ``[n_snapshots, *q.shape]`` Q tables saved every ``record_every`` episodes
            (the first one is the initial table).
    """

    q: np.ndarray
    greedy_action: Tuple[int, int]
    greedy_value: float
    optimal_value: float
    rewards: np.ndarray
    q_history: np.ndarray = field(repr=False)

    @property
    def found_optimum(self) -> bool:
        """Whether the greedy joint action reaches the game's best payoff."""
        return bool(np.isclose(self.greedy_value, self.optimal_value))


def _check_learning_args(n_episodes, alpha, epsilon_start, epsilon_end, record_every):
    if not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer, got {n_episodes!r}")
    if not (0.0 < alpha <= 1.0):
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    for nm, v in (("epsilon_start", epsilon_start), ("epsilon_end", epsilon_end)):
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"{nm} must be in [0, 1], got {v!r}")
    if not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"record_every must be a positive integer, got {record_every!r}")


def _epsilons(n_episodes: int, start: float, end: float, decay_fraction: float) -> np.ndarray:
    """Linear decay from ``start`` to ``end`` over the first ``decay_fraction`` of training."""
    if not (0.0 < decay_fraction <= 1.0):
        raise ValueError(f"decay_fraction must be in (0, 1], got {decay_fraction!r}")
    n_decay = max(1, int(round(decay_fraction * n_episodes)))
    t = np.minimum(np.arange(n_episodes) / n_decay, 1.0)
    return start + (end - start) * t


def independent_q_learning(
    game,
    n_episodes: int = 2000,
    alpha: float = 0.1,
    epsilon_start: float = 1.0,
    epsilon_end: float = 0.05,
    decay_fraction: float = 0.8,
    seed: int = 0,
    record_every: int = 10,
) -> MatrixLearningResult:
    """Two independent Q-learners, each with a table over its *own* actions only.

    Every episode both agents act epsilon-greedily (epsilon decays linearly), receive the shared payoff
    ``r = payoff[a1, a2]`` and update ``Q_i[a_i] += alpha * (r - Q_i[a_i])`` (one-step game, no
    bootstrapping). Each agent treats its partner as part of the environment, so its target is
    non-stationary: ``Q_i[a_i]`` tracks the average payoff over the partner's *current* behaviour.

    Returns:
        :class:`MatrixLearningResult` with ``q: [2, n_actions]``; the greedy joint action is each
        agent's own argmax (ties broken at random with the seeded generator).
    """
    game = _as_game(game)
    _check_learning_args(n_episodes, alpha, epsilon_start, epsilon_end, record_every)
    rng = np.random.default_rng(seed)
    n = game.n_actions
    q = np.zeros((2, n))
    eps = _epsilons(n_episodes, epsilon_start, epsilon_end, decay_fraction)
    rewards = np.empty(n_episodes)
    history = [q.copy()]
    for ep in range(n_episodes):
        acts = [epsilon_greedy(q[i], float(eps[ep]), rng) for i in range(2)]
        r = float(game.payoff[acts[0], acts[1]])
        rewards[ep] = r
        for i in range(2):
            q[i, acts[i]] += alpha * (r - q[i, acts[i]])
        if (ep + 1) % record_every == 0:
            history.append(q.copy())
    greedy = (argmax_random_tie(q[0], rng), argmax_random_tie(q[1], rng))
    return MatrixLearningResult(q, greedy, float(game.payoff[greedy]), game.optimal_value, rewards,
                                np.stack(history))


def joint_action_learning(
    game,
    n_episodes: int = 2000,
    alpha: float = 0.1,
    epsilon_start: float = 1.0,
    epsilon_end: float = 0.05,
    decay_fraction: float = 0.8,
    seed: int = 0,
    record_every: int = 10,
) -> MatrixLearningResult:
    """One centralised Q-learner over *joint* actions: a table ``Q[a1, a2]``.

    Every episode it picks a joint action epsilon-greedily (epsilon decays linearly), receives
    ``r = payoff[a1, a2]`` and updates ``Q[a1, a2] += alpha * (r - Q[a1, a2])``. The target of each
    cell is stationary (the payoff itself), so with enough exploration the greedy joint action is the
    optimum - at the price of a table that grows as ``n_actions ** n_agents``.

    Returns:
        :class:`MatrixLearningResult` with ``q: [n_actions, n_actions]``.
    """
    game = _as_game(game)
    _check_learning_args(n_episodes, alpha, epsilon_start, epsilon_end, record_every)
    rng = np.random.default_rng(seed)
    n = game.n_actions
    q = np.zeros((n, n))
    eps = _epsilons(n_episodes, epsilon_start, epsilon_end, decay_fraction)
    rewards = np.empty(n_episodes)
    history = [q.copy()]
    for ep in range(n_episodes):
        a1, a2 = divmod(epsilon_greedy(q.ravel(), float(eps[ep]), rng), n)
        r = float(game.payoff[a1, a2])
        rewards[ep] = r
        q[a1, a2] += alpha * (r - q[a1, a2])
        if (ep + 1) % record_every == 0:
            history.append(q.copy())
    greedy = divmod(argmax_random_tie(q.ravel(), rng), n)
    greedy = (int(greedy[0]), int(greedy[1]))
    return MatrixLearningResult(q, greedy, float(game.payoff[greedy]), game.optimal_value, rewards,
                                np.stack(history))
