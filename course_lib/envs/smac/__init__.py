"""course_lib's SMAC simulator: SMAC's maps, rules and API without StarCraft II (batched PyTorch).

- :class:`BatchedSMAC` (``env.py``): many battles as tensors (the training front door).
- :class:`StarCraft2Env` (``facade.py``): oxwhirl SMAC's NumPy API for one battle, a subclass of SMAC's
  :class:`MultiAgentEnv` (``multiagentenv.py``) with read-only unit views (``unit_view.py``) and replay
  files (``replay.py``).
- ``maps.py`` (the 23-map table), ``units.py`` (unit statistics), ``terrain.py`` (layouts),
  ``dynamics.py`` (movement, collisions, damage), ``observe.py`` (obs, state, masks, names),
  ``policies.py`` (random and focus-fire baselines), ``rng.py`` (counter-based start jitter).
"""
from .env import BatchedSMAC
from .facade import StarCraft2Env
from .multiagentenv import MultiAgentEnv
from .maps import MAPS, SMAC_MAPS, MapSpec, get_map, list_map_names
from .policies import focus_fire_policy, random_policy
from .units import UNIT_TYPES, UnitType

__all__ = ["BatchedSMAC", "StarCraft2Env", "MultiAgentEnv", "MapSpec", "MAPS", "SMAC_MAPS", "get_map", "list_map_names",
           "random_policy", "focus_fire_policy", "UNIT_TYPES", "UnitType"]
