"""Exploration schedules (the same object serves notebook 02's DQN and the multi-agent learners)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EpsilonSchedule"]


@dataclass
class EpsilonSchedule:
    """Linear epsilon annealing, pymarl style.

    ``epsilon(t) = start + (finish - start) * min(1, t / anneal_steps)``; after ``anneal_steps``
    environment steps it stays at ``finish``. pymarl's default is 1.0 -> 0.05 over 50,000 steps.
    """

    start: float = 1.0
    finish: float = 0.05
    anneal_steps: int = 50_000

    def __post_init__(self) -> None:
        for name in ("start", "finish"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"EpsilonSchedule.{name} must be in [0, 1], got {v}")
        if self.anneal_steps < 0:
            raise ValueError(f"EpsilonSchedule.anneal_steps must be >= 0, got {self.anneal_steps}")

    def __call__(self, t: int) -> float:
        """Epsilon after ``t`` environment steps."""
        if t < 0:
            raise ValueError(f"step t must be >= 0, got {t}")
        if self.anneal_steps == 0:
            return float(self.finish)
        frac = min(1.0, t / self.anneal_steps)
        return float(self.start + (self.finish - self.start) * frac)
