"""Plain-text renderings shared by the magic and the CLI."""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from .models import JobRecord
from .payload import human_size
from .results import JobResult


def status_line(record: JobRecord) -> str:
    duration = record.duration_s
    took = f" · {duration:.1f} s" if duration is not None else ""
    tail = f" · {record.message}" if record.message else ""
    return f"{record.id} {record.status.value} · {record.backend} · {record.image}{took}{tail}"


def jobs_table(records: Iterable[JobRecord]) -> str:
    rows = [("ID", "STATUS", "BACKEND", "NAME", "IMAGE", "CREATED", "DURATION")]
    for r in records:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at))
        duration = f"{r.duration_s:.1f}s" if r.duration_s is not None else "-"
        rows.append((r.id, r.status.value, r.backend, r.name[:24], r.image[:40], created, duration))
    if len(rows) == 1:
        return "no jobs yet"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def job_details(record: JobRecord) -> str:
    data: dict[str, Any] = record.to_dict()
    return json.dumps(data, indent=2, default=str)


def _variable(name: str, info: dict[str, Any]) -> str:
    if "module" in info:
        return f"{name} (module {info['module']})"
    return f"{name} ({info['type']}, {human_size(info['size'])})"


def inputs_line(inputs: dict[str, dict[str, Any]]) -> str:
    size = sum(i.get("size", 0) for i in inputs.values())
    names = ", ".join(_variable(n, i) for n, i in inputs.items()) or "no variables"
    return f"sending {names} · payload {human_size(size)}"


def outputs_line(result: JobResult) -> str:
    """updated: inputs changed in place or rebound · new: names the job made · unchanged: inputs not sent back."""
    updated = [n for n in result.summary if n in result.updated]
    new = [n for n in result.summary if n not in updated]
    parts = [f"{label}: {', '.join(_variable(n, result.summary[n]) for n in names)}"
             for label, names in (("updated", updated), ("new", new)) if names]
    if result.unchanged:
        parts.append(f"unchanged: {', '.join(result.unchanged)}")
    line = " · ".join(parts) or "back: no variables"
    if result.skipped:
        line += " · not brought back: " + "; ".join(f"{k} ({v})" for k, v in result.skipped.items())
    return line
