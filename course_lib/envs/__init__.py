"""Environments of the course: the SMAC maps (built-in simulator or real StarCraft II).

``from course_lib.envs import BatchedSMAC, StarCraft2Env, MultiAgentEnv, make_env, list_maps``.
"""
from .registry import list_maps, make_env
from .smac.env import BatchedSMAC
from .smac.facade import StarCraft2Env
from .smac.multiagentenv import MultiAgentEnv

__all__ = ["BatchedSMAC", "StarCraft2Env", "MultiAgentEnv", "make_env", "list_maps"]
