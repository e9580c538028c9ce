"""Runners: collect whole episodes from a batched SMAC environment."""
from .episode_runner import EpisodeRunner, RunnerStats, greedy_episode_steps, greedy_episodes, select_actions

__all__ = ["EpisodeRunner", "RunnerStats", "greedy_episodes", "greedy_episode_steps", "select_actions"]
