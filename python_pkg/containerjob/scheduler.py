"""Fires due schedules (those no backend hosts: local ones) and imports the runs of hosted ones (executor);
runs in the Jupyter server or as `containerjob scheduler`.

Firing is a compare-and-set on the schedule's next_run_at in the shared SQLite store: any number of
schedulers (a server and a CLI process, or a restarted server) may look at the same due run and
exactly one starts it. A run whose claim was written but whose start never happened (the process
died in between) is not retried: runs are at most once. Missed runs (no scheduler was running at the
due time) follow the schedule's `missed` policy: `skip` them, or `run_once` for all of them together.
`max_concurrent` caps overlapping runs: a due run with that many still active is skipped and noted.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from .core.models import JobRecord
from .scheduling import Schedule, Schedules, iso, next_run
from .service import JobService

log = logging.getLogger("containerjob.scheduler")
LATE_AFTER_S = 120.0  # a run started more than this after its due time counts as missed


class Scheduler:
    """`tick(now)` does one pass; `clock` is injectable so tests drive time instead of waiting for it."""

    def __init__(self, service: JobService, clock: Callable[[], float] = time.time,
                 late_after_s: float = LATE_AFTER_S, *, refresh: bool = True) -> None:
        self.service = service
        self.refresh = refresh  # False where a watcher keeps the store current (the Jupyter server)
        self.schedules = Schedules(service, refresh=refresh)
        self.clock = clock
        self.late_after_s = late_after_s

    def tick(self, now: float | None = None) -> list[JobRecord]:
        """Fire every due schedule once (hosted ones: import their runs). Without a watcher in the process
        (`containerjob scheduler`) it refreshes the active jobs first, so runs that ended count as ended."""
        now = self.clock() if now is None else now
        active = self.service.list(active_only=True, limit=1_000_000, refresh=self.refresh)
        started = []
        for schedule in self.schedules.list():
            if schedule.backend_ref:
                self._import_runs(schedule)
            if schedule.backend_ref or schedule.state != "ACTIVE" or schedule.next_run_at is None:
                continue
            if schedule.next_run_at > now:
                continue
            record = self._fire_due(schedule, now, active)
            if record is not None:
                started.append(record)
        return started

    def _fire_due(self, schedule: Schedule, now: float, active_jobs: list[JobRecord]) -> JobRecord | None:
        due = schedule.next_run_at
        claimed = schedule.to_dict()
        claimed["next_run_at"] = next_run(schedule.cron, schedule.timezone, now)
        late = now - due > self.late_after_s
        if late and schedule.missed == "skip":
            claimed["message"] = (f"skipped {self._missed_count(schedule, now)} run(s) missed while no scheduler "
                                  f"ran (first due {iso(due)}); missed policy skip")
            self.service.store.save_schedule(claimed, expect_next=due)
            return None
        active = self.schedules.active_runs(schedule.id, active_jobs)
        if active >= schedule.max_concurrent:
            claimed["message"] = (f"skipped the run due {iso(due)}: {active} run(s) still active "
                                  f"(max_concurrent {schedule.max_concurrent})")
            self.service.store.save_schedule(claimed, expect_next=due)
            return None
        if not self.service.store.save_schedule(claimed, expect_next=due):
            return None  # another scheduler claimed this run
        schedule.next_run_at = claimed["next_run_at"]
        try:
            return self.schedules.fire(schedule, now)
        except Exception:  # noqa: BLE001 - noted on the schedule; one bad run must not stop the others
            log.exception("containerjob: schedule %s could not start its run", schedule.id)
            return None

    def _import_runs(self, schedule: Schedule) -> None:
        """A hosting backend (Vertex, for executor schedules) fires them itself; their runs join the job list here."""
        try:
            self.schedules.import_runs(schedule)
        except Exception:  # noqa: BLE001 - Vertex unreachable now; the next pass tries again
            log.exception("containerjob: could not list the runs of schedule %s", schedule.id)

    def _missed_count(self, schedule: Schedule, now: float) -> int:
        count, at = 0, schedule.next_run_at
        while at is not None and at <= now and count < 10_000:
            count += 1
            at = next_run(schedule.cron, schedule.timezone, at)
        return count

    def seconds_to_next(self, now: float) -> float | None:
        times = [s.next_run_at for s in self.schedules.list()
                 if not s.backend_ref and s.state == "ACTIVE" and s.next_run_at is not None]
        return max(0.0, min(times) - now) if times else None

    def run(self, stop: threading.Event, interval_s: float = 30.0) -> None:
        """Tick until `stop` is set: at least every interval_s, sooner when a run is due before that."""
        log.info("containerjob scheduler running (store %s)", self.service.store.path)
        while not stop.is_set():
            try:
                self.tick()
                wait = self.seconds_to_next(self.clock())
            except Exception:  # noqa: BLE001 - a broken pass is logged; the next one may succeed
                log.exception("containerjob: scheduler pass failed")
                wait = None
            stop.wait(min(interval_s, wait + 0.5) if wait is not None else interval_s)
