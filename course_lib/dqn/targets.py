"""TD targets of DQN and double DQN.

Shapes: any leading shape ``[...]`` works, e.g. ``[batch]`` for DQN or ``[batch, time]`` for DRQN;
Q-values add a last dimension ``[..., n_actions]``. Targets carry no gradient (they are detached).
"""
from __future__ import annotations

import torch

__all__ = ["dqn_target", "double_dqn_target"]


def _check(reward: torch.Tensor, done: torch.Tensor, gamma: float, **qs: torch.Tensor) -> None:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    for name, q in qs.items():
        if q.shape[:-1] != reward.shape:
            raise ValueError(
                f"{name} must have shape [..., n_actions] with leading shape equal to reward's {tuple(reward.shape)}, "
                f"got {tuple(q.shape)}"
            )
    if done.shape != reward.shape:
        raise ValueError(f"done must have the shape of reward {tuple(reward.shape)}, got {tuple(done.shape)}")


def dqn_target(reward: torch.Tensor, next_q_target: torch.Tensor, done: torch.Tensor, gamma: float) -> torch.Tensor:
    """``y = r + gamma * (1 - done) * max_a' Q_target(s', a')``.

    Args:
        reward: ``[...]`` rewards.
        next_q_target: ``[..., n_actions]`` target-network Q-values of the next observation.
        done: ``[...]`` 1/True where the episode terminated (no bootstrap), 0/False otherwise.
        gamma: discount in [0, 1].
    Returns:
        ``y: [...]`` detached targets (float, same dtype as ``next_q_target``).
    """
    _check(reward, done, gamma, next_q_target=next_q_target)
    not_done = 1.0 - done.to(next_q_target.dtype)
    return (reward + gamma * not_done * next_q_target.max(dim=-1).values).detach()


def double_dqn_target(reward: torch.Tensor, next_q_online: torch.Tensor, next_q_target: torch.Tensor,
                      done: torch.Tensor, gamma: float) -> torch.Tensor:
    """Double DQN (van Hasselt et al., 2016): the online network *chooses*, the target network *evaluates*.

    ``a* = argmax_a' Q_online(s', a')``; ``y = r + gamma * (1 - done) * Q_target(s', a*)``.

    Args:
        reward: ``[...]``; next_q_online, next_q_target: ``[..., n_actions]``; done: ``[...]``;
        gamma: discount in [0, 1].
    Returns:
        ``y: [...]`` detached targets.
    """
    _check(reward, done, gamma, next_q_online=next_q_online, next_q_target=next_q_target)
    a_star = next_q_online.argmax(dim=-1, keepdim=True)
    value = next_q_target.gather(-1, a_star).squeeze(-1)
    not_done = 1.0 - done.to(next_q_target.dtype)
    return (reward + gamma * not_done * value).detach()
