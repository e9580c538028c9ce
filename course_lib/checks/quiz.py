"""Concept checks: short questions with instant feedback, without widgets.

A notebook ends with a few questions. The learner writes answers in a dict and runs the check cell,
which prints ✅ or ❌ and an explanation for every question (the explanation is the discussion of the
answer, shown either way)::

    from course_lib.checks.quiz import Question, concept_check
    QUIZ = [Question("q1", "Which network chooses the action in double Q-learning?",
                     choices={"a": "the online network", "b": "the target network"}, answer="a",
                     why="The online network chooses (argmax), the target network evaluates.")]
    answers = {"q1": "a"}
    concept_check(QUIZ, answers)

Multiple-choice answers are letters (case-insensitive); numeric answers are numbers compared with a
tolerance. Unanswered questions (``None`` or ``...``) are reported as such, never as wrong: the check
cell runs in CI with the answers left blank. :func:`concept_check` returns the number of correct answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Question", "concept_check", "show_questions"]

Answer = Union[str, int, float]


@dataclass
class Question:
    """One question.

    Args:
        key: the name the learner answers under (``"q1"``).
        text: the question.
        answer: a choice letter (multiple choice), or a number (short numeric answer).
        why: the explanation shown after answering.
        choices: ``{"a": "...", "b": "..."}`` for multiple choice; empty for a numeric answer.
        tol: absolute tolerance of a numeric answer.
    """

    key: str
    text: str
    answer: Answer
    why: str
    choices: Dict[str, str] = field(default_factory=dict)
    tol: float = 1e-6

    def __post_init__(self):
        if self.choices:
            if not isinstance(self.answer, str) or self.answer.lower() not in {c.lower() for c in self.choices}:
                raise ValueError(f"question {self.key!r}: answer {self.answer!r} is not one of the choices "
                                 f"{sorted(self.choices)}")
        elif isinstance(self.answer, bool) or not isinstance(self.answer, (int, float)):
            raise ValueError(f"question {self.key!r}: without choices the answer must be a number, "
                             f"got {self.answer!r}")

    def grade(self, given) -> Optional[bool]:
        """True/False, or None when unanswered. Raises ValueError on an answer of the wrong kind."""
        if given is None or given is Ellipsis or (isinstance(given, str) and not given.strip()):
            return None
        if self.choices:
            if not isinstance(given, str) or given.strip().lower() not in {c.lower() for c in self.choices}:
                raise ValueError(f"answer to {self.key!r} must be one of {sorted(self.choices)}, got {given!r}")
            return given.strip().lower() == str(self.answer).lower()
        try:
            value = float(given)
        except (TypeError, ValueError):
            raise ValueError(f"answer to {self.key!r} must be a number, got {given!r}") from None
        return abs(value - float(self.answer)) <= self.tol


def show_questions(questions: Sequence[Question]) -> None:
    """Print the questions with their choices (the cell above the answers)."""
    for q in questions:
        print(f"{q.key}. {q.text}")
        for letter, text in q.choices.items():
            print(f"     ({letter}) {text}")
        if not q.choices:
            print("     (a number)")


def concept_check(questions: Sequence[Question], answers: Mapping[str, Answer]) -> int:
    """Grade ``answers`` (``{key: answer}``), print feedback for each question, return the number right.

    Unknown keys in ``answers`` raise a ``KeyError`` naming the valid keys.
    """
    keys = [q.key for q in questions]
    unknown = sorted(set(answers) - set(keys))
    if unknown:
        raise KeyError(f"no question named {unknown}; the questions are {keys}")
    right = 0
    for q in questions:
        verdict = q.grade(answers.get(q.key))
        if verdict is None:
            print(f"⬜ {q.key}: not answered yet. Put your answer in `answers[{q.key!r}]` and run this cell again.")
            continue
        right += int(verdict)
        mark = "✅" if verdict else "❌"
        shown = f"({q.answer})" if q.choices else f"{q.answer:g}"
        print(f"{mark} {q.key}: " + ("right. " if verdict else f"not quite: the answer is {shown}. ") + q.why)
    answered = sum(q.grade(answers.get(q.key)) is not None for q in questions)
    print(f"\n{right}/{len(questions)} right ({answered} answered)")
    return right
