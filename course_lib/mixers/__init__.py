"""Mixing networks for value decomposition. ``make_mixer(name, n_agents, state_dim, **kw)``.

Names: ``"vdn"`` (sum), ``"qmix"`` (monotonic hypernetwork mixer), ``"qtran"`` (QTRAN-base joint Q and V;
needs ``n_actions`` and ``rnn_hidden_dim``), ``"acorm"`` (ACORM's attention-guided
QMIX mixer; reads the agents' roles). ``None`` or ``"none"`` means no mixer (IQL) and returns None.
"""
from __future__ import annotations

from typing import Optional

from torch import nn

from .acorm import ACORMMixer
from .qmix import QMixer
from .qtran import QTranMixer, qtran_losses
from .vdn import VDNMixer

MIXER_REGISTRY = {"vdn": VDNMixer, "qmix": QMixer, "qtran": QTranMixer, "acorm": ACORMMixer}

__all__ = ["VDNMixer", "QMixer", "ACORMMixer", "QTranMixer", "qtran_losses", "make_mixer", "MIXER_REGISTRY"]


def make_mixer(name: Optional[str], n_agents: int, state_dim: int, **kwargs) -> Optional[nn.Module]:
    """Build a mixer by name.

    Args:
        name: ``"vdn" | "qmix" | "qtran" | "acorm"``, or ``None``/``"none"`` for IQL (returns ``None``).
        n_agents, state_dim: sizes of the map.
        **kwargs: mixer options, e.g. ``embed_dim=32, hypernet_layers=2`` (QMIX) or
            ``n_actions=9, rnn_hidden_dim=64, embed_dim=64`` (QTRAN).
    """
    if name is None or (isinstance(name, str) and name.lower() == "none"):
        return None
    key = name.lower() if isinstance(name, str) else name
    if key not in MIXER_REGISTRY:
        raise ValueError(f"unknown mixer {name!r}; known mixers: {sorted(MIXER_REGISTRY)} (or None for IQL)")
    return MIXER_REGISTRY[key](n_agents=n_agents, state_dim=state_dim, **kwargs)
