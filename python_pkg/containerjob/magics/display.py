"""Live status and logs in a cell: ipywidgets in a Jupyter front end, plain text elsewhere."""
from __future__ import annotations

import collections
import html
import os
import sys
import time
from typing import Protocol


class JobView(Protocol):
    def status(self, text: str) -> None: ...
    def output(self, text: str) -> None: ...
    def close(self) -> None: ...


class TextView:
    """For papermill, nbconvert and terminals: status lines and logs go straight to stdout."""

    def __init__(self) -> None:
        self._last = ""

    def status(self, text: str) -> None:
        if text != self._last:
            print(f"[containerjob] {text}", flush=True)
            self._last = text

    def output(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def close(self) -> None:
        sys.stdout.flush()


class WidgetView:
    """A status line over a log pane; keeps only the last `max_lines` lines and redraws at most 10x/s."""

    def __init__(self, max_lines: int) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self._status = widgets.HTML()
        self._logs = widgets.HTML(layout=widgets.Layout(max_height="24em", overflow="auto"))
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._partial = ""
        self._dropped = 0
        self._drawn = 0.0
        self.widget = widgets.VBox([self._status, self._logs])
        display(self.widget)

    def status(self, text: str) -> None:
        self._status.value = f"<code>{html.escape(text)}</code>"

    def output(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        overflow = len(self._lines) + len(lines) - (self._lines.maxlen or 0)
        self._dropped += max(0, overflow)
        self._lines.extend(lines)
        if time.monotonic() - self._drawn > 0.1:
            self._draw()

    def _draw(self) -> None:
        notice = f"… {self._dropped} earlier lines not shown (see %containerjob logs)\n" if self._dropped else ""
        body = "\n".join(self._lines) + ("\n" + self._partial if self._partial else "")
        self._logs.value = f"<pre style='margin:0'>{html.escape(notice + body)}</pre>"
        self._drawn = time.monotonic()

    def close(self) -> None:
        self._draw()


def make_view(mode: str, max_lines: int) -> JobView:
    """`auto` picks widgets only in a kernel started by a Jupyter server (JPY_SESSION_NAME is set there)."""
    if mode == "auto":
        mode = "widgets" if os.environ.get("JPY_SESSION_NAME") and "ipykernel" in sys.modules else "text"
    return WidgetView(max_lines) if mode == "widgets" else TextView()
