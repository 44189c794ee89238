"""The live table of a sweep's runs in the cell: one widget updated in place in JupyterLab; under papermill
(or any kernel without a Jupyter front end) a line per change of a run's state and the table at the end."""
from __future__ import annotations

import html
import os
import sys
from typing import Any

from ..core.sweep import Sweep, combination_text
from ..core.sweep_run import SweepRow, duration_text, summary, table_text


class SweepTable:
    """What the cell shows while the sweep runs; `update` is called after every change, `close` at the end."""

    def __init__(self, sweep: Sweep, mode: str) -> None:
        if mode == "auto":
            mode = "widgets" if os.environ.get("JPY_SESSION_NAME") and "ipykernel" in sys.modules else "text"
        self.sweep = sweep
        self.widget: Any = None
        self._seen: dict[int, str] = {}
        print(sweep.describe())
        if mode == "widgets":
            import ipywidgets
            from IPython.display import display

            self.widget = ipywidgets.HTML()
            display(self.widget)

    def update(self, rows: list[SweepRow]) -> None:
        if self.widget is not None:
            self.widget.value = self._html(rows)
            return
        for row in rows:  # text: a line when a run's state changes
            if row.status != "WAITING" and self._seen.get(row.index) != row.status:
                self._seen[row.index] = row.status
                why = f" · {row.message.splitlines()[0]}" if row.message and row.ended else ""
                print(f"[{row.index + 1}/{len(rows)}] {combination_text(row.parameters)} · {row.job_id or '-'} "
                      f"{row.status}{why}", flush=True)

    def close(self, rows: list[SweepRow]) -> None:
        if self.widget is not None:
            self.widget.value = self._html(rows)
        else:
            print(table_text(rows))
        print(f"sweep {self.sweep.id}: {summary(rows)}")

    def _html(self, rows: list[SweepRow]) -> str:
        head = "".join(f"<th>{html.escape(n)}</th>" for n in [*self.sweep.names, "status", "job", "duration", ""])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(repr(row.parameters[n]))}</td>" for n in self.sweep.names)
            + f"<td class='cj-sweep-{row.status.lower()}'>{row.status}</td><td>{html.escape(row.job_id or '-')}</td>"
            + f"<td>{duration_text(row.duration_s)}</td><td>{html.escape(row.message.splitlines()[0] if row.message else '')}"
            + "</td></tr>" for row in rows)
        return (f"<div class='cj-sweep'><b>{html.escape(self.sweep.describe())}</b> · {html.escape(summary(rows))}"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
