"""Tabular reinforcement learning for notebook 01: grid worlds, Q-learning and their pictures."""
from .gridworld import ACTION_ARROWS, ACTIONS, GridWorld, list_gridworlds, make_gridworld
from .q_learning import epsilon_greedy, greedy_policy, greedy_rollout, q_learning_update, train_q_learning

__all__ = [
    "ACTIONS", "ACTION_ARROWS", "GridWorld", "list_gridworlds", "make_gridworld",
    "q_learning_update", "epsilon_greedy", "train_q_learning", "greedy_policy", "greedy_rollout",
]
