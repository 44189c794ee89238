"""Follow every unfinished job of this store to its final state, so jobs finalise with no browser open.

One thread per job refreshes it until it is final (the backend's refresh finalises a finished job:
logs kept, mounts uploaded, container removed). A sweeper thread reattaches to every unfinished
record when the server starts and then every `sweep_s`, which also picks up jobs that schedules,
kernels or the CLI started and nobody follows any more.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from ..core.errors import ContainerJobError, JobNotFound
from ..core.models import JobRecord

MAX_BACKOFF_S = 60.0


class Watcher:
    def __init__(self, service, log: logging.Logger, *, local_interval_s: float = 1.0,
                 remote_interval_s: float = 15.0, sweep_s: float = 60.0) -> None:
        self.service = service
        self.log = log
        self.local_interval_s = local_interval_s
        self.remote_interval_s = remote_interval_s
        self.sweep_s = sweep_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._sweeper: threading.Thread | None = None

    @property
    def watching(self) -> list[str]:
        with self._lock:
            return sorted(self._threads)

    def alive(self) -> list[str]:
        """Names of the live threads (sweeper and per-job)."""
        with self._lock:
            threads = [*self._threads.values(), *([self._sweeper] if self._sweeper else [])]
        return [t.name for t in threads if t.is_alive()]

    def start(self) -> None:
        """Reattach now (in the background: a slow Docker engine must not delay the server) and keep sweeping."""
        self._sweeper = self._spawn("containerjob-sweeper", self._sweep_forever)

    def watch(self, record: JobRecord) -> None:
        """Follow one job until it is final; a job already followed is left to its thread."""
        if record.status.is_final or self._stop.is_set():
            return
        interval = self.local_interval_s if record.backend == "local" else self.remote_interval_s
        with self._lock:
            if record.id in self._threads:
                return
            self._threads[record.id] = self._spawn(f"containerjob-watch-{record.id}", self._follow, record.id, interval)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads.values())
        for thread in [*threads, *([self._sweeper] if self._sweeper else [])]:
            thread.join(timeout_s)

    def reattach(self) -> list[str]:
        """Watch every unfinished job of this store; returns their IDs. Containers of this store that no
        unfinished record claims are reported (`containerjob gc` removes them), never touched here."""
        records = {r.id: r for r in self.service.store.list(active_only=True, limit=1_000_000)}
        try:
            containers = self.service.backend("local").containers()
        except ContainerJobError as exc:
            self.log.warning("containerjob: cannot list local containers (%s); following the records only", exc)
            containers = []
        leftovers = sorted({c.labels.get("containerjob.job", "?") for c in containers} - set(records))
        if leftovers:
            self.log.info("containerjob: containers of finished or unknown jobs %s are left for `containerjob gc`",
                          ", ".join(leftovers))
        new = [job_id for job_id in records if job_id not in self.watching]
        for record in records.values():
            self.watch(record)
        return new

    # -- threads ---------------------------------------------------------------------------------
    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        return thread

    def _sweep_forever(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                attached = self.reattach()
                if first or attached:
                    self.log.info("containerjob: following %d unfinished jobs%s", len(attached),
                                  f": {', '.join(sorted(attached))}" if attached else "")
                first = False
            except Exception:  # noqa: BLE001 - keep sweeping; the next round may succeed
                self.log.exception("containerjob: reattaching to unfinished jobs failed")
            self._stop.wait(self.sweep_s)

    def _follow(self, job_id: str, interval_s: float) -> None:
        """Refresh until final, deleted or the server stops; errors back off and never end the watch."""
        delay = 0.0  # the first look is immediate: a job may have ended while the server was down
        try:
            while not self._stop.wait(delay):
                try:
                    record = self.service.get(job_id)
                except JobNotFound:
                    return  # deleted meanwhile
                except ContainerJobError as exc:  # engine or API down: retry later
                    delay = min(max(delay, interval_s) * 2, MAX_BACKOFF_S)
                    self.log.warning("containerjob: cannot refresh job %s (%s); retrying in %.0f s", job_id, exc, delay)
                    continue
                except Exception:  # noqa: BLE001 - a bug must not end the watch silently
                    delay = min(max(delay, interval_s) * 2, MAX_BACKOFF_S)
                    self.log.exception("containerjob: refreshing job %s failed; retrying in %.0f s", job_id, delay)
                    continue
                if record.status.is_final:
                    self.log.info("containerjob: job %s ended %s", job_id, record.status.value)
                    return
                delay = interval_s
        finally:
            with self._lock:
                self._threads.pop(job_id, None)
