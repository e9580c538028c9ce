"""Slide metadata tools (course_lib.tools.slides): annotate rules, lint messages, export without CDN URLs."""
from __future__ import annotations

import base64
import copy
import json
import re
import struct
from pathlib import Path

import nbformat
import pytest

from course_lib.tools import slides as S
from course_lib.tools.make_exercises import make_student_notebook

REPO = Path(__file__).resolve().parents[1]
STORED = sorted((REPO / "solutions").glob("*.ipynb")) + sorted((REPO / "notebooks").glob("*.ipynb"))


def md(text, **slideshow):
    meta = {"slideshow": slideshow} if slideshow else {}
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def code(text, outputs=(), tags=(), **slideshow):
    meta = {}
    if tags:
        meta["tags"] = list(tags)
    if slideshow:
        meta["slideshow"] = slideshow
    return {"cell_type": "code", "metadata": meta, "source": text, "outputs": list(outputs),
            "execution_count": None}


def png_output(width, height):
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height)
    data = base64.b64encode(header + b"\x08\x06\x00\x00\x00" + b"\x00" * 16).decode()
    return {"output_type": "display_data", "data": {"image/png": data, "text/plain": "<Figure>"}, "metadata": {}}


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def notebook(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def types(nb):
    return [S.slide_type(c) for c in nb["cells"]]


LONG_PROSE = "\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(6))


def lecture():
    return notebook([
        md("# 09 · A lecture\n\nWhat you learn."),
        code("FULL_RUN = False"),
        code("import numpy as np\nimport torch\nx = 1"),
        md("## 1. First idea\n\nShort intro."),
        code("print(1 + 1)", [stream("2\n")]),
        md("### Detail\n\nMore."),
        code("# Exercise 9.1: add\ndef add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
        code("check(add)", [stream("✅ Exercise 9.1 passed\n")], tags=["exercise-check"]),
        code("fig = plot()\n" * 3, [png_output(1200, 400)]),
        code("\n".join(f"x{i} = {i}" for i in range(20))),
        md("## 2. Long theory\n\n" + LONG_PROSE + "\n\n$$\nQ_{tot} = \\sum_i Q_i\n$$\n\n" + LONG_PROSE),
    ])


def test_rules_assign_types_by_cell_structure():
    nb = S.annotate_notebook(lecture())
    t = types(nb)
    assert t[:10] == ["slide", "skip", "skip", "slide", "-", "subslide", "subslide", "skip", "subslide", "skip"]
    assert all(c["metadata"][S.AUTO_KEY]["slide_type"] == S.slide_type(c) for c in nb["cells"])
    # the long markdown was split: its first piece keeps the heading, prose beyond the slide became notes,
    # the equation stays visible on its own (sub)slide
    pieces = nb["cells"][10:]
    assert S._source(pieces[0]).startswith("## 2. Long theory") and t[10] == "slide"
    assert "notes" in t[10:]
    eq = [c for c in pieces if "$$" in S._source(c)]
    assert len(eq) == 1 and S.slide_type(eq[0]) in ("subslide", "-")
    # nothing was lost: every paragraph is still in the notebook, in order
    text = "\n\n".join(S._source(c) for c in pieces)
    assert [int(m) for m in re.findall(r"Paragraph (\d)", text)] == [0, 1, 2, 3, 4, 5] * 2
    assert S.lint_notebook(nb) == []


def test_annotate_is_idempotent_and_keeps_human_choices():
    nb = lecture()
    nb["cells"][4]["metadata"]["slideshow"] = {"slide_type": "fragment"}  # set by a person
    once = S.annotate_notebook(nb)
    assert S.slide_type(once["cells"][4]) == "fragment" and S.AUTO_KEY not in once["cells"][4]["metadata"]
    assert S.annotate_notebook(once) == once
    # a person edits an auto-assigned cell in JupyterLab: the edit wins and the auto record goes
    edited = copy.deepcopy(once)
    edited["cells"][9]["metadata"]["slideshow"]["slide_type"] = "subslide"
    again = S.annotate_notebook(edited)
    assert S.slide_type(again["cells"][9]) == "subslide" and S.AUTO_KEY not in again["cells"][9]["metadata"]
    assert S.annotate_notebook(again) == again


def test_plot_too_tall_for_its_code_hides_the_input():
    cell = code("\n".join(f"line_{i}()" for i in range(12)), [png_output(900, 280 * 4)])
    assert S.image_lines(cell["outputs"][0]) == 480 // S.LINE_PX + 1  # capped by the deck's CSS
    nb = S.annotate_notebook(notebook([md("# T"), cell]))
    assert S.slide_type(nb["cells"][1]) == "subslide"
    assert S.REMOVE_INPUT_TAG in nb["cells"][1]["metadata"]["tags"]
    assert nb["cells"][1]["metadata"][S.AUTO_KEY]["tags"] == [S.REMOVE_INPUT_TAG]
    assert S.lint_notebook(nb) == []


def test_image_lines_reads_the_png_header():
    assert S.image_lines(png_output(1800, 360)) == 180 // S.LINE_PX + 1  # scaled to 900 px wide: 180 px tall
    assert S.image_lines(png_output(600, 280)) == 10


def test_lint_reports_each_problem_with_notebook_and_cell():
    nb = notebook([md("Some text first", slide_type="slide"), md("## A", slide_type="wobble"), md("x")])
    problems = S.lint_notebook(nb, name="nb.ipynb")
    assert any("nb.ipynb cell 0: no title slide" in p for p in problems)
    assert any("nb.ipynb cell 1: slide_type 'wobble' is not one of" in p for p in problems)
    assert any("nb.ipynb cell 2: no slide metadata" in p for p in problems)


def test_lint_catches_an_overflowing_slide():
    long = md("# T\n\n" + "\n".join(f"- item {i}" for i in range(30)), slide_type="slide")
    problems = S.lint_notebook(notebook([long]), name="x.ipynb")
    assert len(problems) == 1 and "x.ipynb cell 0: slide 1 (cells 0-0) has 31.5 lines, more than 20" in problems[0]
    assert S.lint_notebook(notebook([long]), max_lines=40) == []


def test_lint_catches_a_solution_in_a_student_deck():
    student = make_student_notebook(S.annotate_notebook(lecture()), name="09.ipynb")
    assert S.is_student(student) and S.lint_notebook(student) == []
    leaked = copy.deepcopy(student)
    ex = next(i for i, c in enumerate(leaked["cells"]) if S.is_exercise(c))
    leaked["cells"][ex]["source"] = lecture()["cells"][6]["source"]  # the worked answer
    problems = S.lint_notebook(leaked, name="09.ipynb")
    assert any(f"09.ipynb cell {ex}: a student deck shows solution markers" in p for p in problems)
    leaked["cells"][ex]["source"] = "# Exercise 9.1: add\ndef add(a, b):\n    return a + b"
    assert any("without its 'raise NotImplementedError(...)' stub" in p for p in S.lint_notebook(leaked))
    # skipped, the same cell is no longer in the deck
    leaked["cells"][ex]["metadata"]["slideshow"] = {"slide_type": "skip"}
    assert S.lint_notebook(leaked) == []


def test_student_notebooks_inherit_slides_and_cannot_be_annotated():
    sol = S.annotate_notebook(lecture())
    student = make_student_notebook(sol, name="09.ipynb")
    assert types(student) == types(sol)
    with pytest.raises(S.SlideError, match="student notebook generated by `make exercises`"):
        S.annotate_notebook(student, name="notebooks/09.ipynb")


def test_export_writes_an_offline_deck(tmp_path):
    nb = S.annotate_notebook(lecture())
    nb["cells"][4]["outputs"] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "bar"}},
        {"output_type": "execute_result", "metadata": {}, "execution_count": 1,
         "data": {"text/html": '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/'
                               '4.4.0/css/font-awesome.min.css"/><img id="_anim_img1">'}}]
    nb["metadata"]["widgets"] = {"state": {}}
    html = S.export_deck(nb, tmp_path / "deck.html")
    assert S.remote_resources(html) == []
    assert 'href="vendor/font-awesome/css/font-awesome.min.css"' in html
    assert 'src="vendor/reveal.js/dist/reveal.js"' in html and 'src="vendor/mathjax/tex-chtml-full.js"' in html
    assert "widget-view" not in html and "MathJax.Hub" not in html
    # one <section> per slide plus one wrapping each horizontal slide
    assert html.count("<section") == S.count_slides(nb) + sum(1 for t in types(nb) if t == "slide")
    assert "Exercise 9.1" in html and "Paragraph 5" in html  # notes are in the deck (speaker view)


def test_missing_assets_are_a_clear_error(tmp_path):
    with pytest.raises(S.SlideError, match=r"slide assets missing in .*node_modules: run `make install`"):
        S.vendor_modules(tmp_path, install=False)


def test_real_notebooks_annotated_copies_pass_lint(tmp_path):
    """Annotate copies of every solution notebook, generate the student copies, lint both."""
    for path in sorted((REPO / "solutions").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        ann = S.annotate_notebook(nb, name=path.name)
        assert S.annotate_notebook(ann) == ann, f"{path.name}: annotate is not idempotent"
        nbformat.validate(nbformat.from_dict(json.loads(json.dumps(ann))))
        # every code cell survives unchanged (only markdown may be split), in order
        assert [S._source(c) for c in ann["cells"] if c["cell_type"] == "code"] == \
               [S._source(c) for c in nb["cells"] if c["cell_type"] == "code"]
        student = make_student_notebook(ann, name=path.name)
        problems = S.lint_notebook(ann, name=f"solutions/{path.name}") + \
            S.lint_notebook(student, name=f"notebooks/{path.name}")
        assert problems == []
        assert S.count_slides(ann) >= 10


@pytest.mark.parametrize("path", STORED, ids=[f"{p.parent.name}/{p.name}" for p in STORED])
def test_stored_notebook_slides(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert S.is_annotated(nb), (f"{path.parent.name}/{path.name} has no slide metadata: run "
                                f"`python -m course_lib.tools.slides annotate solutions/*.ipynb` then `make exercises`")
    assert S.lint_notebook(nb, name=f"{path.parent.name}/{path.name}") == []
    if not S.is_student(nb):
        assert S.annotate_notebook(nb) == nb, "run `python -m course_lib.tools.slides annotate` on it"


def test_remote_resources_lists_loads_not_links(tmp_path):
    page = ('<a href="https://arxiv.org/abs/1803.11485">QMIX</a><script src="https://cdn.x/a.js"></script>'
            '<link rel="stylesheet" href="//cdn.y/b.css"><style>p{background:url("https://z/c.png")}</style>'
            '<img src="data:image/png;base64,AAAA"><script type="module">import m from "https://w/m.mjs";</script>')
    assert S.remote_resources(page) == ["//cdn.y/b.css", "https://cdn.x/a.js", "https://w/m.mjs", "https://z/c.png"]
    nb = S.annotate_notebook(notebook([md("# T"), code("show()", [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": '<script src="https://cdn.plot.ly/plotly.min.js"></script>'}}])]))
    with pytest.raises(S.SlideError, match=r"deck.html would load \['https://cdn.plot.ly/plotly.min.js'\]"):
        S.export_deck(nb, tmp_path / "deck.html")
    assert not (tmp_path / "deck.html").exists()


def test_cli_annotate_check_and_lint_exit_codes(tmp_path, capsys):
    path = tmp_path / "09_lecture.ipynb"
    path.write_text(json.dumps(lecture()), encoding="utf-8")
    assert S.main(["lint", str(path)]) == 1
    assert f"{path} cell 0: no slide metadata" in capsys.readouterr().err
    assert S.main(["lint", "--skip-unannotated", str(path)]) == 0
    assert S.main(["annotate", "--check", str(path)]) == 1
    assert S.main(["annotate", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert S.main(["annotate", str(path)]) == 0 and path.read_text(encoding="utf-8") == text
    assert S.main(["annotate", "--check", str(path)]) == 0
    assert S.main(["lint", str(path)]) == 0
    nbformat.validate(nbformat.reads(text, as_version=4))
    assert S.main(["lint", str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb: no such notebook" in capsys.readouterr().err
