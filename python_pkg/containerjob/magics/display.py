"""Live status and logs in a cell: ipywidgets in a Jupyter front end, plain text elsewhere; what the job
displays (figures, tables, HTML: core/display_lines.py) becomes outputs of the cell, in order with its text.

One status per cell. In a front end the job's status is the chip the extension renders from the output
naming the job (JOB_MIME), and the chip reads the job's record as the sidebar does; the kernel writes no
status text of its own once that output is shown, so the cell never says two things. Elsewhere (papermill,
nbconvert, a terminal) the status is the text lines, and the output naming the job says so (`view: text`),
so a chip rendering it later shows no second status.

Both views keep a bounded number of lines and displays, so a job that floods its output cannot grow the
kernel's memory or the notebook without limit; the full log stays on disk (`%containerjob logs ID`). A line
redrawn with carriage returns (a progress bar) is kept as its latest state.
"""
from __future__ import annotations

import collections
import html
import importlib.util
import os
import sys
import time
from typing import Iterable, Protocol

from ..core.display_lines import MARKER, Bundle, Displays, Item
from ..core.models import JobRecord
from ..core.report import status_line

MAX_LINE_CHARS = 16_384  # a line longer than this (no newline for a long time) is cut and shown in pieces
PROGRESS_EVERY_S = 10.0  # text mode, once past the live budget: one "lines so far" note this often
REDRAW_EVERY_S = 1.0  # text mode: a line being redrawn (\r) is written again at most this often
MAX_DISPLAYS = 100  # displays shown per job; the rest are left out with a note
JOB_MIME = "application/vnd.containerjob.job+json"  # the chip, and the sidebar's record of a cell's jobs


def announcement(record: JobRecord, view: str) -> dict[str, object]:
    """The output naming the job: its ID, backend and status as the kernel last knew it, and which view
    carries the cell's status (`widgets`: the chip; `text`: the text lines)."""
    return {JOB_MIME: {"id": record.id, "backend": record.backend, "status": record.status.value, "view": view},
            "text/plain": f"containerjob job {record.id} ({record.backend})"}


class JobView(Protocol):
    job: str  # the job's ID once submitted, for the "whole log" notices
    key: bytes | None  # the job's signing key when its results are signed: its displays must carry it
    def status(self, text: str) -> None: ...
    def announce(self, record: JobRecord) -> None: ...
    def ended(self, record: JobRecord, note: str = "") -> None: ...
    def output(self, text: str) -> None: ...
    def close(self) -> None: ...


class LineSplitter:
    """Cuts a stream of chunks into lines, each as a terminal would leave it after carriage returns; the
    unfinished tail is kept, but never past MAX_LINE_CHARS (a display's marker line starts a line of its own)."""

    def __init__(self) -> None:
        self.partial = ""
        self.redrawn = False  # the unfinished tail is being redrawn (\r): worth showing before its newline

    def feed(self, text: str) -> list[str]:
        lines = (self.partial + text).split("\n")
        partial = lines.pop()
        lines = [_overwritten(line).rstrip("\r") for line in lines]
        if lines:
            self.redrawn = False
        if "\r" in partial:
            self.redrawn = True
            partial = _overwritten(partial)
        while len(partial) > MAX_LINE_CHARS:
            cut = partial.find(MARKER, 1)
            cut = cut if 0 < cut < MAX_LINE_CHARS else MAX_LINE_CHARS
            lines.append(partial[:cut])
            partial = partial[cut:]
        self.partial = partial
        return lines


def _overwritten(line: str) -> str:
    """What is left of a line after \r redraws: its last non-empty part (a trailing \r stays, so the next
    chunk still overwrites)."""
    if "\r" not in line:
        return line
    parts = line.split("\r")
    last = next((p for p in reversed(parts) if p), "")
    return last + "\r" if parts[-1] == "" and last else last


class _View:
    """What both views share: the job's ID and key, and displays shown as outputs of the cell."""

    def __init__(self) -> None:
        self.job = "ID"
        self._displays = Displays()
        self._split = LineSplitter()
        self._shown = 0

    @property
    def key(self) -> bytes | None:
        return self._displays.key

    @key.setter
    def key(self, value: bytes | None) -> None:
        self._displays.key = value

    def _items(self, lines: Iterable[str]) -> list[Item]:
        return [item for line in lines for item in self._displays.feed(line)]

    def _finish(self, partial: str) -> list[Item]:
        """At the end: a display line that never ended, and displays cut off, as notes."""
        return self._items([partial] if MARKER in partial else []) + self._displays.close()

    def _show(self, bundle: Bundle) -> None:
        """A bundle as the cell's next output: in the notebook, the executed notebook (papermill) and the
        terminal alike, where IPython.display would put it."""
        from IPython.display import display

        self._shown += 1
        if self._shown > MAX_DISPLAYS:
            if self._shown == MAX_DISPLAYS + 1:
                print(f"[containerjob] over {MAX_DISPLAYS} displays: the rest are not shown")
            return
        display(bundle["data"], metadata=bundle.get("metadata") or None, raw=True)


class TextView(_View):
    """For papermill, nbconvert and terminals: status lines and logs go to stdout, displays to the cell.

    The first `max_lines` lines are written as they come; after that lines are held back (only the last
    `max_lines` are kept, with a progress note every PROGRESS_EVERY_S) and written when the job ends
    after a notice saying how many were left out.
    """

    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self._last = ""
        self._budget = max_lines
        self._tail: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._held = 0
        self._noted = 0.0
        self._redrawn_at = 0.0
        self._redrawing = False  # the unfinished line is on screen: its next state starts with \r

    def status(self, text: str) -> None:
        if text != self._last:
            print(f"[containerjob] {text}", flush=True)
            self._last = text

    def announce(self, record: JobRecord) -> None:
        """The output naming the job (the sidebar's record of it; no status of its own), then its status line."""
        from IPython.display import display

        display(announcement(record, "text"), raw=True)
        self.status(status_line(record))

    def ended(self, record: JobRecord, note: str = "") -> None:
        self.status(status_line(record) + note)

    def output(self, text: str) -> None:
        lines: list[str] = []
        for item in self._items(self._split.feed(text)):
            if isinstance(item, str):
                lines.append(item)
            else:
                self._write(lines)
                lines = []
                self._show(item)
        self._write(lines)
        self._redraw()

    def _write(self, lines: list[str]) -> None:
        live, lines = lines[:max(0, self._budget)], lines[max(0, self._budget):]
        self._budget -= len(live)
        if live:
            sys.stdout.write(("\r" if self._redrawing else "") + "".join(f"{line}\n" for line in live))
            self._redrawing = False
        if lines:
            if not self._held:
                print(f"[containerjob] over {self._tail.maxlen} lines: further output is held back and the last "
                      f"{self._tail.maxlen} are shown when the job ends (whole log: %containerjob logs {self.job})")
            self._held += len(lines)
            self._tail.extend(lines)
            now = time.monotonic()
            if now - self._noted >= PROGRESS_EVERY_S:
                print(f"[containerjob] … {self._held} lines held back so far; latest: {lines[-1][:200]}")
                self._noted = now
        if live:  # once per batch (and before a display): a flood is few flushes, a display comes after its text
            sys.stdout.flush()

    def _redraw(self) -> None:
        """A progress bar (\r redraws) in place, at most once per REDRAW_EVERY_S, as a terminal shows it."""
        partial = self._split.partial.rstrip("\r")
        now = time.monotonic()
        if (not self._split.redrawn or not partial or MARKER in partial or self._budget <= 0
                or now - self._redrawn_at < REDRAW_EVERY_S):
            return
        sys.stdout.write(("\r" if self._redrawing else "") + partial)
        sys.stdout.flush()
        self._redrawing, self._redrawn_at = True, now

    def close(self) -> None:
        if self._held:
            omitted = self._held - len(self._tail)
            if omitted:
                print(f"[containerjob] … {omitted} lines not shown (whole log: %containerjob logs {self.job}) …")
            sys.stdout.write("".join(f"{line}\n" for line in self._tail))
            self._tail.clear()
            self._held = 0
        partial, self._split.partial = self._split.partial.rstrip("\r"), ""
        for item in self._finish(partial):
            if isinstance(item, str):
                print(item)
            else:
                self._show(item)
        if partial and MARKER not in partial:
            sys.stdout.write(("\r" if self._redrawing else "") + partial)
        sys.stdout.flush()


class WidgetView(_View):
    """One output slot over a log pane: the slot shows what happens before the job exists (preparing,
    pulling) and then becomes the chip, the job's only status; the pane keeps only the last `max_lines`
    lines and redraws at most 10x/s. Displays go below as outputs of the cell, kept when the notebook is saved."""

    def __init__(self, max_lines: int) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        super().__init__()
        self._slot = display({"text/plain": ""}, raw=True, display_id=True)
        self._announced = False
        self._logs = widgets.HTML(layout=widgets.Layout(max_height="24em", overflow="auto"))
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._dropped = 0
        self._drawn = 0.0
        self.widget = widgets.VBox([self._logs])
        display(self.widget)

    def status(self, text: str) -> None:
        """Shown until the job is announced; after that the chip (the job's record) is the status."""
        if not self._announced:
            self._slot.update({"text/plain": f"[containerjob] {text}"}, raw=True)

    def announce(self, record: JobRecord) -> None:
        self._announced = True
        self._slot.update(announcement(record, "widgets"), raw=True)

    def ended(self, record: JobRecord, note: str = "") -> None:
        """The end as the kernel saw it: the chip re-reads the job's record at once, so it and the sidebar
        turn together, before the cell's last line; the saved notebook keeps the final status."""
        self._slot.update(announcement(record, "widgets"), raw=True)

    def output(self, text: str) -> None:
        for item in self._items(self._split.feed(text)):
            if isinstance(item, str):
                self._add(item)
            else:
                self._show(item)
        if time.monotonic() - self._drawn > 0.1:
            self._draw()

    def _add(self, line: str) -> None:
        if len(self._lines) == self._lines.maxlen:
            self._dropped += 1
        self._lines.append(line)

    def _draw(self) -> None:
        notice = (f"… {self._dropped} earlier lines not shown (whole log: %containerjob logs {self.job})\n"
                  if self._dropped else "")
        partial = self._split.partial.rstrip("\r").split(MARKER)[0]  # never a display still arriving
        body = "\n".join([*self._lines, partial] if partial else self._lines)
        self._logs.value = f"<pre style='margin:0'>{html.escape(notice + body)}</pre>"
        self._drawn = time.monotonic()

    def close(self) -> None:
        partial = self._split.partial
        if MARKER in partial:  # shown by _finish, as its text and a note
            self._split.partial = ""
        for item in self._finish(partial):
            if isinstance(item, str):
                self._add(item)
            else:
                self._show(item)
        self._draw()


def make_view(mode: str, max_lines: int) -> JobView:
    """`auto` picks widgets only in a kernel started by a Jupyter server (JPY_SESSION_NAME is set there) that
    has ipywidgets; text otherwise."""
    if mode == "auto":
        front_end = os.environ.get("JPY_SESSION_NAME") and "ipykernel" in sys.modules
        mode = "widgets" if front_end and importlib.util.find_spec("ipywidgets") else "text"
    return WidgetView(max_lines) if mode == "widgets" else TextView(max_lines)
