"""The student-notebook generator: stubs, tags, markers, and the sync check used by `make test`."""
import json

import pytest

from course_lib.tools import make_exercises as mx

SOLUTION_CELL = """# Exercise 1.2: the Q-learning update
def q_update(q, r):
    ### BEGIN SOLUTION
    target = r + 0.9 * q
    return target
    ### END SOLUTION
"""


def _nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(src, tags=None, outputs=None):
    cell = {"cell_type": "code", "source": src, "metadata": {}, "outputs": outputs or [], "execution_count": 3}
    if tags:
        cell["metadata"]["tags"] = tags
    return cell


def test_strip_solution_replaces_region_with_indented_stub():
    out = mx.strip_solution(SOLUTION_CELL)
    assert "target = r" not in out
    assert "### BEGIN" not in out and "### END" not in out
    assert '    raise NotImplementedError("Exercise 1.2: the Q-learning update")' in out.split("\n")
    # The stubbed function still defines cleanly and raises the named error when called.
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match="Exercise 1.2"):
        ns["q_update"](1.0, 2.0)


def test_cell_without_markers_is_unchanged():
    assert mx.strip_solution("x = 1\nprint(x)") == "x = 1\nprint(x)"


@pytest.mark.parametrize(
    "src, message",
    [
        ("# Exercise 1.1: t\n### BEGIN SOLUTION\nx = 1\n", "without"),
        ("# Exercise 1.1: t\nx = 1\n### END SOLUTION\n", "without"),
        ("x = 0\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "must start with a line"),
        ("# Exercise 1.1: t\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
    ],
)
def test_malformed_markers_raise_clear_errors(src, message):
    with pytest.raises(mx.ExerciseFormatError, match=message):
        mx.strip_solution(src)


def test_student_notebook_clears_outputs_tags_checks_and_drops_nbval_marker():
    sol = _nb([
        _code(SOLUTION_CELL, outputs=[{"output_type": "stream", "name": "stdout", "text": "hi"}]),
        _code("check(q_update)", tags=["exercise-check"]),
        _code("# NBVAL_CHECK_OUTPUT\nprint(1 + 1)"),
        _code("# Exercise 1.3: top level\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
    ])
    student = mx.make_student_notebook(sol, name="01_test.ipynb")
    cells = student["cells"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells)
    assert "raises-exception" in cells[1]["metadata"]["tags"]
    assert "raises-exception" not in cells[0]["metadata"].get("tags", [])
    assert "NBVAL_CHECK_OUTPUT" not in cells[2]["source"]
    assert "raises-exception" in cells[3]["metadata"]["tags"], "top-level stub must be allowed to raise"
    # The source notebook is left untouched.
    assert sol["cells"][0]["outputs"] and "BEGIN SOLUTION" in sol["cells"][0]["source"]


def test_student_notebook_drops_the_widget_state_of_the_executed_solution():
    sol = _nb([_code("print(1)")])
    sol["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    student = mx.make_student_notebook(sol, name="01_test.ipynb")
    assert "widgets" not in student["metadata"] and "widgets" in sol["metadata"]


def test_check_mode_detects_out_of_sync(tmp_path, capsys):
    sols, nbs = tmp_path / "solutions", tmp_path / "notebooks"
    sols.mkdir()
    (sols / "01_x.ipynb").write_text(json.dumps(_nb([_code(SOLUTION_CELL)])))
    args = ["--solutions", str(sols), "--notebooks", str(nbs)]
    assert mx.main(args + ["--check"]) == 1
    assert mx.main(args) == 0
    assert mx.main(args + ["--check"]) == 0
    # Editing inside a solution region changes nothing for students ...
    (sols / "01_x.ipynb").write_text(json.dumps(_nb([_code(SOLUTION_CELL.replace("0.9", "0.8"))])))
    assert mx.main(args + ["--check"]) == 0
    # ... but editing what students see, without regenerating, is caught.
    (sols / "01_x.ipynb").write_text(json.dumps(_nb([_code(SOLUTION_CELL), _code("print('new cell')")])))
    assert mx.main(args + ["--check"]) == 1
    # A student notebook without a solution is caught too.
    mx.main(args)
    (nbs / "99_orphan.ipynb").write_text("{}")
    assert mx.main(args + ["--check"]) == 1
    assert "99_orphan" in capsys.readouterr().err


def test_repository_notebooks_are_in_sync():
    assert mx.main(["--check"]) == 0, "run `make exercises` to regenerate notebooks/ from solutions/"


def test_nbval_tag_is_dropped_and_concept_answers_are_blanked():
    answers = 'answers = {"q1": "b", "q2": 0.729,\n           "q3": "a"}'
    nb = _nb([_code("print(1)", tags=["nbval-check-output"], outputs=[{"output_type": "stream", "text": "1"}]),
              _code(answers, tags=["concept-answers"])])
    student = mx.make_student_notebook(nb)
    first, second = student["cells"]
    assert "tags" not in first["metadata"] and first["outputs"] == []
    assert second["source"].endswith('answers = {"q1": None, "q2": None, "q3": None}')
    assert "tags" not in second["metadata"]
    ns = {}
    exec(second["source"], ns)
    assert ns["answers"] == {"q1": None, "q2": None, "q3": None}
    with pytest.raises(mx.ExerciseFormatError, match="concept-answers"):
        mx.make_student_notebook(_nb([_code("x = 1", tags=["concept-answers"])]))


def test_solutions_use_tags_not_marker_comments():
    from pathlib import Path

    for path in sorted((Path(mx.REPO) / "solutions").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            assert mx.NBVAL_MARKER not in src, f"{path.name}: use the nbval-check-output tag instead"


MARKER_FREE = '''# Exercise 2.1: the TD target
import math


def td_target(r, q_next, gamma=0.9):
    """r: float; q_next: list of floats. Returns r + gamma * max(q_next)."""
    best = max(q_next)
    return r + gamma * best
'''


def test_marker_free_exercise_stubs_the_function_body_after_its_docstring():
    out = mx.strip_solution(MARKER_FREE)
    assert "best = max" not in out and "return r" not in out
    assert out.rstrip("\n").split("\n")[-2:] == ['    # Your code here (replace the line below).',
                                    '    raise NotImplementedError("Exercise 2.1: the TD target")']
    assert '"""r: float; q_next: list of floats. Returns r + gamma * max(q_next)."""' in out
    assert "import math" in out  # code before the function stays
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match="Exercise 2.1"):
        ns["td_target"](1.0, [0.0])
    no_doc = "# Exercise 2.2: t\ndef f(x):\n    y = x + 1\n    return y\n"
    assert mx.strip_solution(no_doc).startswith("# Exercise 2.2: t\ndef f(x):\n    # Your code here")
    assert mx.strip_solution("print('not an exercise')") == "print('not an exercise')"
    with pytest.raises(mx.ExerciseFormatError, match="must define a function"):
        mx.strip_solution("# Exercise 2.3: t\nanswer = 42\n")


def test_solutions_carry_no_solution_markers():
    from pathlib import Path

    for path in sorted((Path(mx.REPO) / "solutions").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert mx.BEGIN not in text and mx.END not in text, f"{path.name} still shows solution markers"
