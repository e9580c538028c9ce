"""Progress bars that read correctly both live and in a stored (executed) notebook.

A tqdm widget stores the text ``0% 0/60000`` in the notebook file (its widget state is dropped) and
shows nothing in HTML. In a notebook, :func:`progress` therefore draws a plain-text bar in one output
that it *updates in place* (``display(..., display_id=True)`` + ``update``): Jupyter stores the last
version, so the saved notebook shows the finished bar, the same on GitHub, in HTML and in JupyterLab::

    iql 3m ████████████████████ 100% 100,000/100,000 step | win 0.56 ret 14.1  [95 s, 1,052 step/s]

Everything that depends on the machine's speed sits at the end, between ``[`` and ``]`` (see
:data:`TIMING_RE`), so outputs can be compared across machines after removing it.
Outside a notebook (a terminal, a script) it is an ordinary ``tqdm`` bar.

Usage::

    for ep in progress(range(500), desc="Q-learning"):      # wraps an iterable
        ...
    bar = progress(total=t_max, desc="qmix 3m", unit="step")  # or counts by hand
    bar.update(8); bar.set_postfix({"win": "0.50"}); bar.close()
"""
from __future__ import annotations

import re
import sys
import time
from typing import Dict, Iterable, Optional

__all__ = ["progress", "NotebookBar", "in_notebook", "TIMING_RE", "format_bar", "PROGRESS_METADATA", "is_progress_output"]

#: The machine-dependent tail of a bar's line (elapsed seconds and rate), e.g. ``[95 s, 1,052 step/s]``.
TIMING_RE = re.compile(r"\s*\[[0-9.,]+ s(?:, [0-9.,]+ [^\]]*/s)?\]")

_WIDTH = 20  # characters of the bar itself

#: Output metadata that marks a stored progress bar (slide decks leave these outputs out).
PROGRESS_METADATA = {"course_lib": "progress"}


def is_progress_output(output: Dict) -> bool:
    """True for a stored notebook output (nbformat dict) that is one of these progress bars."""
    return output.get("metadata", {}).get("course_lib") == PROGRESS_METADATA["course_lib"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, classic notebook, nbval, nbconvert)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def format_bar(n: int, total: Optional[int], desc: str = "", unit: str = "it",
               postfix: Optional[Dict[str, str]] = None, elapsed: Optional[float] = None) -> str:
    """One line of text: ``desc ████░░ 40% 400/1,000 unit | k v  [12 s, 33 unit/s]``."""
    parts = [desc] if desc else []
    if total:
        frac = min(max(n / total, 0.0), 1.0)
        full = int(round(frac * _WIDTH))
        parts.append("█" * full + "░" * (_WIDTH - full))
        parts.append(f"{100 * frac:3.0f}% {n:,}/{total:,} {unit}")
    else:
        parts.append(f"{n:,} {unit}")
    line = " ".join(parts)
    if postfix:
        line += " | " + " ".join(f"{k} {v}" for k, v in postfix.items())
    if elapsed is not None:
        rate = n / elapsed if elapsed > 0 else 0.0
        line += f"  [{elapsed:,.0f} s, {rate:,.0f} {unit}/s]"
    return line


class NotebookBar:
    """A text progress bar kept in one notebook output and redrawn in place (see the module docstring).

    Args:
        iterable: optional iterable to wrap (``total`` defaults to its ``len``).
        total: number of units to reach (None: unknown, only counts).
        desc: label at the start of the line.
        unit: name of one unit (``"step"``, ``"episode"``).
        mininterval: seconds between two redraws while running (the final line is always drawn).
    """

    def __init__(self, iterable: Optional[Iterable] = None, total: Optional[int] = None, desc: str = "",
                 unit: str = "it", initial: int = 0, mininterval: float = 0.5):
        from IPython.display import display

        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        if total is not None and (not isinstance(total, int) or total < 0):
            raise ValueError(f"total must be a non-negative int or None, got {total!r}")
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.n = int(initial)
        self._initial = int(initial)
        self.postfix: Dict[str, str] = {}
        self.mininterval = float(mininterval)
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self.closed = False
        self._handle = display(_Text(self._line(final=False)), display_id=True, metadata=PROGRESS_METADATA)

    def _line(self, final: bool) -> str:
        elapsed = time.perf_counter() - self._start
        if final:
            done = self.n - self._initial
            rate_line = format_bar(done, None, unit=self.unit, elapsed=elapsed)
            timing = TIMING_RE.search(rate_line).group(0)
            return format_bar(self.n, self.total, self.desc, self.unit, self.postfix) + timing
        return format_bar(self.n, self.total, self.desc, self.unit, self.postfix)

    def _draw(self, final: bool = False) -> None:
        now = time.perf_counter()
        if final or now - self._last_draw >= self.mininterval:
            self._last_draw = now
            if self._handle is not None:
                self._handle.update(_Text(self._line(final)), metadata=PROGRESS_METADATA)

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` units."""
        self.n += int(n)
        self._draw()

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        """Show ``key value`` pairs after the bar (as tqdm's ``set_postfix``)."""
        d = dict(ordered_dict or {})
        d.update(kwargs)
        self.postfix = {str(k): str(v) for k, v in d.items()}
        if refresh:
            self._draw()

    def close(self) -> None:
        """Draw the final line: the bar, the postfix, then ``[elapsed s, rate unit/s]``."""
        if not self.closed:
            self.closed = True
            self._draw(final=True)

    def __iter__(self):
        if self.iterable is None:
            raise TypeError("this bar wraps no iterable; call update() instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Text:
    """A display object whose only representation is plain text (rendered monospace everywhere)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def progress(iterable: Optional[Iterable] = None, total: Optional[int] = None, desc: str = "", unit: str = "it",
             disable: bool = False, initial: int = 0, **tqdm_kwargs):
    """A progress bar: :class:`NotebookBar` in a notebook, ``tqdm`` elsewhere, or a silent stand-in.

    Has the part of tqdm's interface the course uses: iteration, ``update``, ``set_postfix``, ``close``.
    ``tqdm_kwargs`` (``mininterval``, ``leave`` ...) are passed to tqdm in a terminal.
    """
    if disable:
        return _Silent(iterable, total, initial)
    if in_notebook():
        return NotebookBar(iterable, total=total, desc=desc, unit=unit, initial=initial,
                           mininterval=float(tqdm_kwargs.get("mininterval", 0.5)))
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, **tqdm_kwargs)


class _Silent:
    """``progress(disable=True)``: same interface, draws nothing."""

    def __init__(self, iterable, total, initial):
        self.iterable, self.total, self.n = iterable, total, int(initial)

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n: int = 1) -> None:
        self.n += int(n)

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass
