"""Tabular Q-learning (Watkins, 1989): the update rule, epsilon-greedy action choice and a training loop.

Shapes: ``Q: [n_states, n_actions]`` (a NumPy float array), ``q_row: [n_actions]``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import numpy as np
from course_lib.progress import progress as tqdm

from course_lib.schedules import EpsilonSchedule

__all__ = ["q_learning_update", "epsilon_greedy", "train_q_learning", "greedy_policy", "greedy_rollout"]


def q_learning_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, done: bool, alpha: float, gamma: float) -> float:
    """Apply one Q-learning update **in place** and return the new value ``Q[s, a]``.

    ``Q[s, a] <- Q[s, a] + alpha * (r + gamma * max_a' Q[s_next, a'] - Q[s, a])``, where the
    bootstrap term ``gamma * max_a' Q[s_next, a']`` is dropped when ``done`` (``s_next`` is terminal).
    Pass ``done=True`` only for a real termination, not for a time-limit truncation.

    Args:
        Q: ``[n_states, n_actions]`` float table, modified in place.
        s, a: the state and the action taken.
        r: the reward received.
        s_next: the next state.
        done: True if the episode terminated in ``s_next``.
        alpha: step size in (0, 1].
        gamma: discount factor in [0, 1].
    Returns:
        The updated ``Q[s, a]`` as a Python float.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha (step size) must be in (0, 1], got {alpha}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma (discount) must be in [0, 1], got {gamma}")
    bootstrap = 0.0 if done else gamma * float(np.max(Q[s_next]))
    td_error = r + bootstrap - Q[s, a]
    Q[s, a] += alpha * td_error
    return float(Q[s, a])


def argmax_random_tie(values: np.ndarray, rng: np.random.Generator) -> int:
    """Index of the largest entry of ``values: [n]``, ties broken uniformly at random with ``rng``."""
    best = np.flatnonzero(values == values.max())
    return int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Pick an action from ``q_row: [n_actions]``.

    With probability ``epsilon`` a uniformly random action (any of them, the greedy one included);
    otherwise a greedy action, ties broken uniformly at random (so an all-zero table still explores).
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    q_row = np.asarray(q_row)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return argmax_random_tie(q_row, rng)


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """``[n_states]`` greedy action per state (first maximum on ties)."""
    return np.argmax(Q, axis=1)


def greedy_rollout(env, Q: np.ndarray, max_steps: Optional[int] = None, seed: Optional[int] = None) -> Tuple[List[int], float]:
    """Follow the greedy policy of ``Q`` for one episode.

    Returns ``(states, total_reward)`` where ``states`` lists the visited states, the start included.
    Stops at termination, truncation, or after ``max_steps`` steps.
    """
    s, _ = env.reset(seed=seed)
    states, total = [int(s)], 0.0
    limit = max_steps if max_steps is not None else getattr(env, "max_steps", 1000)
    for _ in range(limit):
        s, r, terminated, truncated, _ = env.step(int(np.argmax(Q[s])))
        states.append(int(s))
        total += float(r)
        if terminated or truncated:
            break
    return states, total


def train_q_learning(
    env,
    episodes: int,
    alpha: float = 0.5,
    gamma: float = 0.99,
    epsilon: Union[float, EpsilonSchedule] = 0.1,
    seed: int = 0,
    progress: bool = True,
    q_init: float = 0.0,
) -> Tuple[np.ndarray, np.ndarray]:
    """Train a Q-table with epsilon-greedy Q-learning.

    Args:
        env: a discrete environment with ``observation_space.n``, ``action_space.n`` and the gymnasium
            ``reset``/``step`` API (a :class:`~course_lib.tabular.gridworld.GridWorld` or a gymnasium
            toy-text env).
        episodes: number of episodes.
        alpha, gamma: step size and discount (see :func:`q_learning_update`).
        epsilon: a constant in [0, 1] or an :class:`~course_lib.schedules.EpsilonSchedule`, which is
            evaluated at the number of environment steps taken so far.
        seed: seeds the exploration and the environment; same seed, same table.
        progress: show a progress bar (:func:`course_lib.progress.progress`).
        q_init: initial value of every table entry.
    Returns:
        ``(Q, returns)`` with ``Q: [n_states, n_actions]`` and ``returns: [episodes]`` the undiscounted
        return of each training episode.
    """
    if not isinstance(episodes, (int, np.integer)) or episodes <= 0:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if isinstance(epsilon, EpsilonSchedule):
        eps_at = epsilon
    elif isinstance(epsilon, (int, float)) and 0.0 <= epsilon <= 1.0:
        eps_at = lambda t, e=float(epsilon): e  # noqa: E731
    else:
        raise ValueError(f"epsilon must be a float in [0, 1] or an EpsilonSchedule, got {epsilon!r}")
    n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)
    rng = np.random.default_rng(seed)
    Q = np.full((n_states, n_actions), float(q_init))
    returns = np.zeros(int(episodes))
    t = 0
    bar = tqdm(range(int(episodes)), desc=f"Q-learning {getattr(env, 'name', '')}".strip(), disable=not progress, unit="episode")
    for ep in bar:
        s, _ = env.reset(seed=seed if ep == 0 else None)
        done = False
        while not done:
            a = epsilon_greedy(Q[s], eps_at(t), rng)
            s_next, r, terminated, truncated, _ = env.step(a)
            q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)
            returns[ep] += r
            s, t = s_next, t + 1
            done = terminated or truncated
        if progress and (ep % 50 == 0 or ep == episodes - 1):
            bar.set_postfix(mean_return_last_50=f"{returns[max(0, ep - 49):ep + 1].mean():.1f}")
    bar.close()
    return Q, returns
