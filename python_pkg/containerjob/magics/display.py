"""Live status and logs in a cell: ipywidgets in a Jupyter front end, plain text elsewhere.

Both views keep a bounded number of lines, so a job that floods its output cannot grow the kernel's
memory or the notebook without limit; the full log stays on disk (`%containerjob logs ID`).
"""
from __future__ import annotations

import collections
import html
import os
import sys
import time
from typing import Protocol

MAX_LINE_CHARS = 16_384  # a line longer than this (no newline for a long time) is cut and shown in pieces
PROGRESS_EVERY_S = 10.0  # text mode, once past the live budget: one "lines so far" note this often


class JobView(Protocol):
    job: str  # the job's ID once submitted, for the "whole log" notices
    def status(self, text: str) -> None: ...
    def output(self, text: str) -> None: ...
    def close(self) -> None: ...


class LineSplitter:
    """Cuts a stream of chunks into lines; the unfinished tail is kept, but never past MAX_LINE_CHARS."""

    def __init__(self) -> None:
        self.partial = ""

    def feed(self, text: str) -> list[str]:
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        while len(self.partial) > MAX_LINE_CHARS:
            lines.append(self.partial[:MAX_LINE_CHARS])
            self.partial = self.partial[MAX_LINE_CHARS:]
        return lines


class TextView:
    """For papermill, nbconvert and terminals: status lines and logs go to stdout.

    The first `max_lines` lines are written as they come; after that lines are held back (only the last
    `max_lines` are kept, with a progress note every PROGRESS_EVERY_S) and written when the job ends
    after a notice saying how many were left out.
    """

    def __init__(self, max_lines: int) -> None:
        self.job = "ID"
        self._last = ""
        self._budget = max_lines
        self._split = LineSplitter()
        self._tail: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._held = 0
        self._noted = 0.0

    def status(self, text: str) -> None:
        if text != self._last:
            print(f"[containerjob] {text}", flush=True)
            self._last = text

    def output(self, text: str) -> None:
        lines = self._split.feed(text)
        live, lines = lines[:max(0, self._budget)], lines[max(0, self._budget):]
        self._budget -= len(live)
        if live:
            sys.stdout.write("".join(f"{line}\n" for line in live))
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
        if live:  # once per batch: follow() hands over everything queued, so a flood is few flushes
            sys.stdout.flush()

    def close(self) -> None:
        if self._held:
            omitted = self._held - len(self._tail)
            if omitted:
                print(f"[containerjob] … {omitted} lines not shown (whole log: %containerjob logs {self.job}) …")
            sys.stdout.write("".join(f"{line}\n" for line in self._tail))
            self._tail.clear()
            self._held = 0
        if self._split.partial:
            sys.stdout.write(self._split.partial)
            self._split.partial = ""
        sys.stdout.flush()


class WidgetView:
    """A status line over a log pane; keeps only the last `max_lines` lines and redraws at most 10x/s."""

    def __init__(self, max_lines: int) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.job = "ID"
        self._status = widgets.HTML()
        self._logs = widgets.HTML(layout=widgets.Layout(max_height="24em", overflow="auto"))
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._split = LineSplitter()
        self._dropped = 0
        self._drawn = 0.0
        self.widget = widgets.VBox([self._status, self._logs])
        display(self.widget)

    def status(self, text: str) -> None:
        self._status.value = f"<code>{html.escape(text)}</code>"

    def output(self, text: str) -> None:
        lines = self._split.feed(text)
        overflow = len(self._lines) + len(lines) - (self._lines.maxlen or 0)
        self._dropped += max(0, overflow)
        self._lines.extend(lines)
        if time.monotonic() - self._drawn > 0.1:
            self._draw()

    def _draw(self) -> None:
        notice = (f"… {self._dropped} earlier lines not shown (whole log: %containerjob logs {self.job})\n"
                  if self._dropped else "")
        partial = self._split.partial
        body = "\n".join(self._lines) + ("\n" + partial if partial else "")
        self._logs.value = f"<pre style='margin:0'>{html.escape(notice + body)}</pre>"
        self._drawn = time.monotonic()

    def close(self) -> None:
        self._draw()


def make_view(mode: str, max_lines: int) -> JobView:
    """`auto` picks widgets only in a kernel started by a Jupyter server (JPY_SESSION_NAME is set there)."""
    if mode == "auto":
        mode = "widgets" if os.environ.get("JPY_SESSION_NAME") and "ipykernel" in sys.modules else "text"
    return WidgetView(max_lines) if mode == "widgets" else TextView(max_lines)
