"""Agent networks. ``make_agent(name, ...)`` builds one from the registry."""
from .base import AgentBase
from .acorm import ACORMAgent
from .rnn import RNNAgent
from .soft_tree import MIXRTAgent, RecurrentTreeCell, SoftTree, leaf_probabilities

AGENT_REGISTRY = {"rnn": RNNAgent, "mixrt": MIXRTAgent, "acorm": ACORMAgent}


def make_agent(name: str, *args, **kwargs):
    """Build an agent network by registry name (known: ``rnn``, ``mixrt``, ``acorm``)."""
    try:
        cls = AGENT_REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; known agents: {sorted(AGENT_REGISTRY)}") from None
    return cls(*args, **kwargs)


__all__ = ["AgentBase", "RNNAgent", "ACORMAgent", "MIXRTAgent", "RecurrentTreeCell", "SoftTree", "leaf_probabilities", "make_agent",
           "AGENT_REGISTRY"]
