"""Environments for notebook 02: gymnasium classic-control tasks and a partially observable CartPole.

``make_env("CartPole-NoVelocity")`` is CartPole whose observation keeps only the cart position and the
pole angle: the two velocities are hidden, so one observation is no longer a Markov state and the agent
must infer the velocities from its history (the task for DRQN).
"""
from __future__ import annotations

from typing import List

import gymnasium as gym
import numpy as np

__all__ = ["make_env", "list_envs", "NoVelocityObservation"]

_CLASSIC = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
_POMDP = ("CartPole-NoVelocity",)


class NoVelocityObservation(gym.ObservationWrapper):
    """Keep ``[cart position, pole angle]`` of CartPole's ``[x, x_dot, theta, theta_dot]``."""

    KEEP = (0, 2)

    def __init__(self, env: gym.Env):
        super().__init__(env)
        low, high = env.observation_space.low, env.observation_space.high
        if low.shape != (4,):
            raise ValueError(f"NoVelocityObservation expects CartPole's 4-d observation, got shape {low.shape}")
        keep = list(self.KEEP)
        self.observation_space = gym.spaces.Box(low[keep], high[keep], dtype=np.float32)

    def observation(self, obs):
        return np.asarray(obs, dtype=np.float32)[list(self.KEEP)]


def list_envs() -> List[str]:
    """Ids accepted by :func:`make_env`."""
    return sorted(_CLASSIC + _POMDP)


def make_env(env_id: str) -> gym.Env:
    """Build a task by id; an unknown id raises ``ValueError`` listing the known ones."""
    if env_id in _CLASSIC:
        return gym.make(env_id)
    if env_id == "CartPole-NoVelocity":
        return NoVelocityObservation(gym.make("CartPole-v1"))
    raise ValueError(f"unknown environment id {env_id!r}; known ids: {list_envs()}")
