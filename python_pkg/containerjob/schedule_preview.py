"""What a cron means, in plain words and as its next run times, for the forms and the sidebar.

The times come from `scheduling.next_run`, the function the scheduler fires by, so a preview can never
promise a time that the scheduler would not keep. The words come from cron-descriptor, a maintained
cron-to-English library, rather than from rules of our own.
"""
from __future__ import annotations

import time
from typing import Any

from .scheduling import next_run, validate_cron, validate_timezone

MAX_COUNT = 10


def describe(cron: str) -> str:
    """`cron` in words, 24-hour times ("At 09:00, Monday through Friday"); the cron itself when the
    library cannot say it (it accepts a little less than croniter)."""
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.locale_code = "en_US"  # not the server's locale: the sidebar speaks English
    options.use_24hour_time_format = True
    try:
        return str(ExpressionDescriptor(cron, options).get_description())
    except Exception:  # noqa: BLE001 - any failure of the wording leaves the exact cron, which is still right
        return cron


def upcoming(cron: str, tz: str, after: float, count: int) -> list[float]:
    """The next `count` run times after `after` (seconds since the epoch), as the scheduler computes them."""
    times: list[float] = []
    for _ in range(count):
        after = next_run(cron, tz, after)
        times.append(after)
    return times


def preview(cron: str, tz: str = "UTC", *, count: int = 3, now: float | None = None) -> dict[str, Any]:
    """{cron, timezone, description, next_runs} for a cron as typed; SpecError naming --cron or --timezone."""
    cron = validate_cron(cron)
    tz = validate_timezone(tz or "UTC")
    count = max(1, min(int(count), MAX_COUNT))
    return {"cron": cron, "timezone": tz, "description": describe(cron),
            "next_runs": upcoming(cron, tz, time.time() if now is None else now, count)}
