"""Generate the student notebooks in ``notebooks/`` from the completed ones in ``solutions/``.

``solutions/`` is the single source of truth. For every ``solutions/NN_*.ipynb`` this writes
``notebooks/NN_*.ipynb`` where

* in an exercise cell (first line ``# Exercise N.M: title``) the body of its function after the docstring
  becomes ``raise NotImplementedError("Exercise N.M: title")`` (solutions carry no other marker); the
  older form, a region between a line ``### BEGIN SOLUTION`` and a line ``### END SOLUTION`` (markers
  included), is still understood;
* cells tagged ``exercise-check`` also get nbval's ``raises-exception`` tag (an unsolved exercise is allowed
  to fail its check in CI), and so does an exercise cell whose stub sits at top level (not in a function);
* nbval's ``nbval-check-output`` cell tag (and the older ``# NBVAL_CHECK_OUTPUT`` comment) is removed:
  student notebooks carry no outputs to compare against;
* a cell tagged ``concept-answers`` (the answers to a notebook's concept check, e.g.
  ``answers = {"q1": "b", "q2": 0.5}``) keeps its keys with every answer blanked to ``None``;
* all outputs and execution counts are cleared.

Usage::

    python -m course_lib.tools.make_exercises            # (re)write notebooks/
    python -m course_lib.tools.make_exercises --check    # exit 1 if notebooks/ is out of sync
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Dict, List

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CHECK_TAG = "exercise-check"
RAISES_TAG = "raises-exception"
NBVAL_MARKER = "# NBVAL_CHECK_OUTPUT"
NBVAL_TAG = "nbval-check-output"
ANSWERS_TAG = "concept-answers"
ANSWER_KEY_RE = re.compile(r'"(q[0-9]+)"\s*:')
TITLE_RE = re.compile(r"^\s*#\s*Exercise\s+([0-9]+(?:\.[0-9]+)*)\s*:\s*(.+?)\s*$")

REPO = Path(__file__).resolve().parents[2]


class ExerciseFormatError(ValueError):
    """A solution notebook breaks the exercise conventions of CONTRIBUTING.md."""


def _source_lines(cell) -> List[str]:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(src)
    return src.split("\n")


def _stub(indent: str, label: str) -> List[str]:
    return [f"{indent}# Your code here (replace the line below).",
            f"{indent}raise NotImplementedError({json.dumps(label, ensure_ascii=False)})"]


def strip_function_body(source: str, where: str = "cell") -> str:
    """The marker-free form: an exercise cell (first line ``# Exercise N.M: title``) defines one function
    (the last top-level ``def``); everything in its body after the docstring becomes the stub.

    So the solution notebook shows clean code, with nothing but the title comment to mark the exercise.
    Raises :class:`ExerciseFormatError` when the cell has no function or does not parse.
    """
    import ast

    lines = source.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    match = TITLE_RE.match(first)
    if not match:
        return source
    label = f"Exercise {match.group(1)}: {match.group(2)}"
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ExerciseFormatError(f"{where}: the exercise cell does not parse: {exc}") from None
    funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not funcs:
        raise ExerciseFormatError(f"{where}: an exercise cell ({label}) must define a function whose body is the "
                                  f"answer (or mark the answer with '{BEGIN}' / '{END}')")
    fn = funcs[-1]
    body = fn.body
    has_doc = (isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
               and isinstance(body[0].value.value, str))
    answer = body[1:] if has_doc else body
    if not answer:
        raise ExerciseFormatError(f"{where}: the function {fn.name}() of {label} has no body to turn into a stub")
    start, end = answer[0].lineno - 1, fn.end_lineno  # 0-based first answer line, exclusive end
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    return "\n".join(lines[:start] + _stub(indent, label) + lines[end:])


def strip_solution(source: str, where: str = "cell") -> str:
    """Replace the answer of one exercise cell's ``source`` by a stub.

    Either every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the older form), or, in a
    cell without markers whose first line is ``# Exercise N.M: title``, the body of its function after the
    docstring (:func:`strip_function_body`).
    Raises :class:`ExerciseFormatError` on unbalanced markers or a missing ``# Exercise N.M: title`` line.
    """
    lines = source.split("\n")
    if not any(line.strip() == BEGIN for line in lines):
        if any(line.strip() == END for line in lines):
            raise ExerciseFormatError(f"{where}: '{END}' without '{BEGIN}'")
        return strip_function_body(source, where)
    first = next((ln for ln in lines if ln.strip()), "")
    match = TITLE_RE.match(first)
    if not match:
        raise ExerciseFormatError(
            f"{where}: a cell with '{BEGIN}' must start with a line '# Exercise N.M: title', got {first!r}"
        )
    label = f"Exercise {match.group(1)}: {match.group(2)}"
    out: List[str] = []
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ExerciseFormatError(f"{where}: nested '{BEGIN}'")
            inside = True
            out.extend(_stub(line[: len(line) - len(line.lstrip())], label))
        elif stripped == END:
            if not inside:
                raise ExerciseFormatError(f"{where}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseFormatError(f"{where}: '{BEGIN}' without '{END}'")
    return "\n".join(out)


def _remove_nbval_marker(source: str) -> str:
    lines = [ln for ln in source.split("\n") if ln.strip() != NBVAL_MARKER]
    return "\n".join(lines)


def blank_answers(source: str, where: str = "cell") -> str:
    """The student version of a ``concept-answers`` cell: the same keys, every answer ``None``."""
    keys = list(dict.fromkeys(ANSWER_KEY_RE.findall(source)))
    if not keys:
        raise ExerciseFormatError(f"{where}: a '{ANSWERS_TAG}' cell must hold answers = {{\"q1\": ..., ...}}")
    body = ", ".join(f'"{k}": None' for k in keys)
    return ("# Your answers: a letter for a multiple-choice question, a number otherwise. Then run the next cell.\n"
            f"answers = {{{body}}}")


def make_student_notebook(solution: Dict, name: str = "notebook") -> Dict:
    """Return the student version (a new notebook dict) of a solution notebook dict."""
    nb = copy.deepcopy(solution)
    for idx, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = "\n".join(_source_lines(cell))
        new = strip_solution(source, where=f"{name} cell {idx}")
        top_level_stub = new != source and any(
            ln.startswith("raise NotImplementedError(") for ln in new.split("\n")
        )
        new = _remove_nbval_marker(new)
        meta = cell.setdefault("metadata", {})
        tags = [t for t in meta.get("tags", []) if t != NBVAL_TAG]
        if ANSWERS_TAG in tags:
            new = blank_answers(new, where=f"{name} cell {idx}")
            tags.remove(ANSWERS_TAG)
        cell["source"] = new
        cell["outputs"] = []
        cell["execution_count"] = None
        meta.pop("execution", None)
        meta.pop("tags", None)
        if (CHECK_TAG in tags or top_level_stub) and RAISES_TAG not in tags:
            tags.append(RAISES_TAG)
        if tags:
            meta["tags"] = tags
    nb.setdefault("metadata", {}).pop("widgets", None)  # widget state of the executed solution: no outputs here
    nb["metadata"]["course"] = {
        "generated_from": f"solutions/{name}",
        "note": "Student version generated by `make exercises`; edit solutions/ instead.",
    }
    return nb


def _dump(nb: Dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def build_all(solutions: Path, notebooks: Path) -> Dict[str, str]:
    """Map each student notebook file name to its expected text."""
    out = {}
    for path in sorted(solutions.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        out[path.name] = _dump(make_student_notebook(nb, name=path.name))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify notebooks/ is in sync; exit 1 if not")
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions")
    parser.add_argument("--notebooks", type=Path, default=REPO / "notebooks")
    args = parser.parse_args(argv)

    try:
        expected = build_all(args.solutions, args.notebooks)
    except ExerciseFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    existing = {p.name for p in args.notebooks.glob("*.ipynb")}
    stale = sorted(existing - set(expected))
    if args.check:
        bad = [n for n, text in expected.items()
               if not (args.notebooks / n).exists() or (args.notebooks / n).read_text(encoding="utf-8") != text]
        if bad or stale:
            for n in bad:
                print(f"out of sync: notebooks/{n} differs from what solutions/{n} generates", file=sys.stderr)
            for n in stale:
                print(f"out of sync: notebooks/{n} has no solutions/{n}", file=sys.stderr)
            print("run `make exercises` to regenerate notebooks/ from solutions/", file=sys.stderr)
            return 1
        print(f"notebooks/ in sync with solutions/ ({len(expected)} notebooks)")
        return 0
    args.notebooks.mkdir(parents=True, exist_ok=True)
    for n, text in expected.items():
        (args.notebooks / n).write_text(text, encoding="utf-8")
    for n in stale:
        (args.notebooks / n).unlink()
    print(f"wrote {len(expected)} student notebooks to {args.notebooks}" + (f", removed {stale}" if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
