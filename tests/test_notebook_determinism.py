"""Budgets are work, not seconds: a notebook gives the same outputs on an idle and on a busy machine.

Executes one small training notebook (solutions/04, COURSE_QUICK=1) twice: once alone, once with a
CPU-burning process beside it. Every text output (prints, reprs, the progress bars' final lines) must be
identical once the timing tail of the progress bars (``[12 s, 345 step/s]``) is removed.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from course_lib.progress import TIMING_RE  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "solutions" / "04_independent_q_learning.ipynb"


def _text_outputs(nb):
    """[(cell index, text)] of every stream and text/plain output, timing tails removed.

    Consecutive chunks of the same stream in a cell are joined first: when the kernel flushes stdout is a
    matter of timing (under load one print can arrive as two chunks), what was printed is not."""
    out, kinds = [], []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text, kind = o.get("text", ""), ("stream", i, o.get("name"))
            elif "data" in o and "text/plain" in o["data"]:
                text, kind = o["data"]["text/plain"], ("data", i, None)
            else:
                continue
            text = "".join(text) if isinstance(text, list) else text
            if kind[0] == "stream" and kinds and kinds[-1] == kind:
                out[-1] = (i, out[-1][1] + text)
            else:
                out.append((i, text))
                kinds.append(kind)
    return [(i, TIMING_RE.sub("", text)) for i, text in out]


def _execute(path: Path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return _text_outputs(nb)


def test_timing_tail_is_what_the_comparison_removes():
    line = "iql 3m ████████████████████ 100% 2,000/2,000 step | win 0.16 ret 8.0  [3 s, 1,234 step/s]"
    assert TIMING_RE.sub("", line) == "iql 3m ████████████████████ 100% 2,000/2,000 step | win 0.16 ret 8.0"


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="solutions/04 not present")
def test_same_outputs_with_and_without_a_cpu_burner(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")          # the kernel inherits the environment
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # course_lib chooses the thread count itself
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    quiet = _execute(NOTEBOOK)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = _execute(NOTEBOOK)
    finally:
        burner.kill()
        burner.wait()
    assert any("Run(alg='iql'" in text for _, text in quiet), "the training cell ran and printed its Run"
    if len(quiet) != len(busy):
        import difflib

        diff = "\n".join(difflib.unified_diff([f"{i}: {t!r}" for i, t in quiet], [f"{i}: {t!r}" for i, t in busy],
                                               "idle", "busy", lineterm=""))
        pytest.fail(f"{len(quiet)} outputs idle, {len(busy)} under load:\n{diff}")
    for (i, a), (j, b) in zip(quiet, busy):
        assert (i, a) == (j, b), f"cell {i} differs under load:\n--- idle ---\n{a}\n--- busy ---\n{b}"


def test_a_print_split_into_two_chunks_compares_equal_to_one_chunk():
    one = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('a')")])
    one.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="loss 0.02\n")]
    two = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('a')")])
    two.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="loss 0.02"),
                            nbformat.v4.new_output("stream", name="stdout", text="\n")]
    assert _text_outputs(one) == _text_outputs(two) == [(0, "loss 0.02\n")]
    two.cells[0].outputs[1] = nbformat.v4.new_output("stream", name="stdout", text="more\n")
    assert _text_outputs(two) != _text_outputs(one)
