"""``MultiAgentEnv``: the interface every SMAC environment implements (oxwhirl SMAC's base class).

Code written against ``smac.env.MultiAgentEnv`` (pymarl's runners, epymarl's wrappers, the ACORM and MIXRTs
authors' code) checks ``isinstance(env, MultiAgentEnv)`` or subclasses it to wrap or fake an environment.
:class:`course_lib.envs.StarCraft2Env` is a subclass, so both patterns work with the simulator::

    from course_lib.envs import MultiAgentEnv, StarCraft2Env
    assert isinstance(StarCraft2Env("3m", seed=0), MultiAgentEnv)

The methods are SMAC's: every one raises ``NotImplementedError`` naming the subclass and the method, except
:meth:`get_env_info`, which builds SMAC's dictionary from the size methods and the ``n_agents`` and
``episode_limit`` attributes (as SMAC's base class does).
"""
from __future__ import annotations

from typing import Dict

__all__ = ["MultiAgentEnv"]


class MultiAgentEnv:
    """SMAC's environment interface (``reset -> (obs, state)``, ``step(actions) -> (reward, terminated, info)``).

    Subclasses set ``n_agents`` and ``episode_limit`` and implement the methods below.
    """

    n_agents: int
    episode_limit: int

    def _missing(self, name: str):
        raise NotImplementedError(f"{type(self).__name__} does not implement MultiAgentEnv.{name}()")

    def step(self, actions):
        """Apply one action per agent; returns ``(reward, terminated, info)``."""
        self._missing("step")

    def get_obs(self):
        """All agents' observations, a list of ``n_agents`` vectors ``[obs_size]``."""
        self._missing("get_obs")

    def get_obs_agent(self, agent_id):
        """Observation of ``agent_id`` ``[obs_size]``."""
        self._missing("get_obs_agent")

    def get_obs_size(self):
        """Length of one agent's observation."""
        self._missing("get_obs_size")

    def get_state(self):
        """The global state ``[state_size]``."""
        self._missing("get_state")

    def get_state_size(self):
        """Length of the global state."""
        self._missing("get_state_size")

    def get_avail_actions(self):
        """Available actions of every agent: ``n_agents`` lists of ``n_actions`` 0/1 ints."""
        self._missing("get_avail_actions")

    def get_avail_agent_actions(self, agent_id):
        """Available actions of ``agent_id``: a list of ``n_actions`` 0/1 ints."""
        self._missing("get_avail_agent_actions")

    def get_total_actions(self):
        """Number of actions an agent can ever take (``n_actions``)."""
        self._missing("get_total_actions")

    def reset(self):
        """Start an episode; returns ``(observations, state)``."""
        self._missing("reset")

    def render(self):
        self._missing("render")

    def close(self):
        self._missing("close")

    def seed(self):
        self._missing("seed")

    def save_replay(self):
        """Save a replay of the episodes played."""
        self._missing("save_replay")

    def get_env_info(self) -> Dict[str, int]:
        """SMAC's keys: ``state_shape``, ``obs_shape``, ``n_actions``, ``n_agents``, ``episode_limit``."""
        return {"state_shape": self.get_state_size(),
                "obs_shape": self.get_obs_size(),
                "n_actions": self.get_total_actions(),
                "n_agents": self.n_agents,
                "episode_limit": self.episode_limit}
