"""Agent networks. ``make_agent(name, ...)`` builds one from the registry."""
from .base import AgentBase
from .acorm import ACORMAgent
from .rnn import RNNAgent

AGENT_REGISTRY = {"rnn": RNNAgent, "acorm": ACORMAgent}


def make_agent(name: str, *args, **kwargs):
    """Build an agent network by registry name (known: ``rnn``, ``acorm``)."""
    try:
        cls = AGENT_REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; known agents: {sorted(AGENT_REGISTRY)}") from None
    return cls(*args, **kwargs)


__all__ = ["AgentBase", "RNNAgent", "ACORMAgent", "make_agent", "AGENT_REGISTRY"]
