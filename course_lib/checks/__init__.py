"""Automatic checks for the notebooks' exercises.

Each notebook has its own module (``course_lib.checks.nb01`` ...). A check prints a clear pass message
or raises :class:`ExerciseFailed` with a hint. In student notebooks the check cells are tagged
``raises-exception`` so that CI (nbval) accepts an unsolved exercise.
"""
from __future__ import annotations

__all__ = ["ExerciseFailed", "passed", "fail_unless", "call_student"]


class ExerciseFailed(AssertionError):
    """Raised by a check when an exercise answer is wrong; the message carries a hint."""


def passed(exercise: str, detail: str = "") -> None:
    """Print the standard pass message for ``exercise`` (for example ``"1.2"``)."""
    msg = f"✅ Exercise {exercise} passed"
    print(msg + (f": {detail}" if detail else "."))


def fail_unless(condition: bool, exercise: str, hint: str) -> None:
    """Raise :class:`ExerciseFailed` with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise ExerciseFailed(f"❌ Exercise {exercise} not yet right. Hint: {hint}")


def call_student(fn, exercise: str, *args, **kwargs):
    """Call the student's function, turning ``NotImplementedError`` into a friendly failure."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        # Only the generated stub counts as "not implemented"; PyTorch raises NotImplementedError too
        # (for example `1 - bool_tensor`), and that is a real mistake the student should see.
        if not str(exc).startswith("Exercise"):
            raise
        raise ExerciseFailed(
            f"❌ Exercise {exercise} is not implemented yet: replace the `raise NotImplementedError` "
            "line with your code, run that cell, then run this check again."
        ) from None
