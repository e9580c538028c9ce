"""Learners for value decomposition. ``make_learner(name, mac, mixer, config)``.

Names: ``"q_learner"`` (IQL, VDN, QMIX), ``"qtran_learner"`` (QTRAN-base) and ``"acorm_learner"`` (ACORM).
"""
from __future__ import annotations

from .acorm_learner import ACORMLearner
from .contrastive import contrastive_role_loss, momentum_update
from .mac import MultiAgentController
from .q_learner import QLearner, make_optimizer, masked_greedy
from .qtran_learner import QTranLearner
from .targets import one_step_targets, td_lambda_targets

LEARNER_REGISTRY = {"q_learner": QLearner, "qtran_learner": QTranLearner, "acorm_learner": ACORMLearner}

__all__ = ["MultiAgentController", "QLearner", "QTranLearner", "ACORMLearner", "contrastive_role_loss",
           "momentum_update", "make_learner", "make_optimizer",
           "masked_greedy", "one_step_targets", "td_lambda_targets", "LEARNER_REGISTRY"]


def make_learner(name: str, mac, mixer, config):
    """Build a learner by registry name (``q_learner``, ``qtran_learner`` or ``acorm_learner``)."""
    if name not in LEARNER_REGISTRY:
        raise ValueError(f"unknown learner {name!r}; known learners: {sorted(LEARNER_REGISTRY)}")
    return LEARNER_REGISTRY[name](mac, mixer, config)
