"""Progress bars: one text line that ends on a summary (notebooks), tqdm in a terminal, silent when off."""
import pytest

from course_lib import progress as P


def test_format_bar_shows_fraction_counts_postfix_and_timing_tail():
    line = P.format_bar(400, 1000, desc="qmix 3m", unit="step", postfix={"win": "0.50"}, elapsed=10.0)
    assert line.startswith("qmix 3m ████████░░░░░░░░░░░░  40% 400/1,000 step | win 0.50")
    assert line.endswith("[10 s, 40 step/s]")
    assert P.TIMING_RE.sub("", line) == "qmix 3m ████████░░░░░░░░░░░░  40% 400/1,000 step | win 0.50"
    assert P.format_bar(7, None, unit="episode") == "7 episode"


class _Handle:
    def __init__(self):
        self.shown = []

    def update(self, obj, metadata=None):
        assert metadata == P.PROGRESS_METADATA  # every redraw keeps the mark that slide decks look for
        self.shown.append(repr(obj))


def test_notebook_bar_ends_on_the_finished_line(monkeypatch):
    handle = _Handle()
    first = []

    def fake_display(obj, display_id=False, metadata=None):
        assert metadata == P.PROGRESS_METADATA
        first.append(repr(obj))
        return handle

    monkeypatch.setattr("IPython.display.display", fake_display)
    bar = P.NotebookBar(range(50), desc="Q-learning", unit="episode", mininterval=1e9)
    assert first == ["Q-learning ░░░░░░░░░░░░░░░░░░░░   0% 0/50 episode"]
    for _ in bar:
        bar.set_postfix({"ret": "1.0"}, refresh=False)
    final = handle.shown[-1]
    assert P.TIMING_RE.sub("", final) == "Q-learning ████████████████████ 100% 50/50 episode | ret 1.0"
    assert P.TIMING_RE.search(final), "the last line reports elapsed time and rate"
    assert len(handle.shown) == 1, "throttled: only the final line was drawn"
    bar.close()
    assert len(handle.shown) == 1, "closing twice draws once"


def test_progress_outside_a_notebook_is_tqdm_and_disable_is_silent(capsys):
    from tqdm import tqdm

    assert not P.in_notebook()
    bar = P.progress(total=3, desc="x", unit="step", disable=False, file=None)
    assert isinstance(bar, tqdm)
    bar.close()
    silent = P.progress(range(3), disable=True)
    assert list(silent) == [0, 1, 2]
    silent.update(2)
    silent.set_postfix(a=1)
    silent.close()
    assert silent.n == 2
    with pytest.raises(ValueError, match="total must be"):
        P.NotebookBar(total=-1)


def test_progress_outputs_are_recognised_in_a_stored_notebook():
    assert P.is_progress_output({"output_type": "display_data", "metadata": dict(P.PROGRESS_METADATA),
                                 "data": {"text/plain": "qmix 3m ..."}})
    assert not P.is_progress_output({"output_type": "display_data", "metadata": {}, "data": {"text/plain": "x"}})
    assert not P.is_progress_output({"output_type": "stream", "text": "x"})
