"""Follow every unfinished job of this store to its final state, so jobs finalise with no browser open and
REST reads can serve the store without asking an engine.

One thread per server process makes passes over the unfinished jobs of the store (so it picks up jobs that
kernels, the CLI or schedules started): it refreshes each job when due (a local job every
`local_interval_s`, a remote one every `remote_interval_s`, errors backing off per job) in a small pool, at
most one refresh in flight per job, and the backend's refresh finalises a finished job (logs kept, mounts
uploaded, container removed), so one slow finalisation does not hold up the others. While a job runs, one
thread copies its log stream to `<job_dir>/logs.live`, which the logs route reads from an offset; it ends
with the stream or when the watcher stops. Every `sweep_s` the containers no record claims are reported.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..backends import StreamStop, available_backends, backend_class
from ..core.errors import ContainerJobError, JobNotFound
from ..core.job_files import FINAL_LOG, LIVE_LOG
from ..core.models import JobRecord, JobStatus

REFRESHERS = 4  # jobs refreshed (and so finalised) at once
MAX_BACKOFF_S = 60.0
_LOGGING = (JobStatus.RUNNING, JobStatus.CANCELLING)  # states in which a job may still write its log


@dataclass
class _Followed:
    interval_s: float
    due: float = 0.0  # time.monotonic() of the next refresh; 0: at once
    delay_s: float = 0.0  # the current backoff after errors
    copy_after: float = 0.0  # a live-log copy that ended is started again at most once an interval


class Watcher:
    def __init__(self, service, log: logging.Logger, *, local_interval_s: float = 1.0,
                 remote_interval_s: float = 15.0, sweep_s: float = 60.0) -> None:
        self.service = service
        self.log = log
        self.local_interval_s = local_interval_s
        self.remote_interval_s = remote_interval_s
        self.sweep_s = sweep_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._jobs: dict[str, _Followed] = {}
        self._live: dict[str, threading.Thread] = {}
        self._streams: dict[str, StreamStop] = {}  # how to end each live-log copy at once
        self._thread: threading.Thread | None = None
        # Refreshes run here, at most one in flight per job: finalising one job (uploading its /gcs stage,
        # fetching Vertex outputs) must not hold up the others, whose final states the reads show.
        self._pool = ThreadPoolExecutor(max_workers=REFRESHERS, thread_name_prefix="containerjob-refresh")
        self._inflight: set[str] = set()

    @property
    def watching(self) -> list[str]:
        with self._lock:
            return sorted(self._jobs)

    def alive(self) -> list[str]:
        """Names of the live threads (the watcher and the live-log copies)."""
        with self._lock:
            threads = [*self._live.values(), *([self._thread] if self._thread else [])]
        return [t.name for t in threads if t.is_alive()]

    def start(self) -> None:
        """In the background: a slow Docker engine must not delay the server."""
        self._thread = _spawn("containerjob-watcher", self._run)

    def watch(self, record: JobRecord) -> None:
        """Look at this job in the next pass, which starts at once."""
        if record.status.is_final or self._stop.is_set():
            return
        with self._lock:
            self._jobs.setdefault(record.id, _Followed(self._interval(record))).due = 0.0
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop following; the live-log copies are closed at once (even one waiting on a silent job)."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            threads = [*([self._thread] if self._thread else []), *self._live.values()]
            streams = list(self._streams.values())
        for stream in streams:
            stream.set()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)  # a refresh under way finishes; none starts

    # -- the passes ------------------------------------------------------------------------------
    def _interval(self, record: JobRecord) -> float:
        """Jobs on this machine are cheap to look at; a backend that cannot be loaded any more is looked at as
        seldom as a remote one (its refresh reports why), so it never stops the pass over the others."""
        try:
            local = backend_class(record.backend).traits.runs_locally
        except ContainerJobError:
            local = False
        return self.local_interval_s if local else self.remote_interval_s

    def _run(self) -> None:
        first, next_sweep = True, 0.0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._pass(first)
                first = False
            except Exception:  # noqa: BLE001 - keep watching; the next pass may succeed
                self.log.exception("containerjob: a pass over the unfinished jobs failed")
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_s
                self._report_leftovers()
            with self._lock:
                due = min((f.due for f in self._jobs.values()), default=float("inf"))
            self._wake.wait(max(0.0, min(due - time.monotonic(), self.local_interval_s)))

    def _pass(self, first: bool) -> None:
        """Pick up the unfinished jobs of the store, drop those that ended or were deleted elsewhere, refresh
        those that are due."""
        records = {r.id: r for r in self.service.store.list(active_only=True, limit=1_000_000)}
        with self._lock:
            picked = sorted(set(records) - set(self._jobs))
            for job_id in picked:
                self._jobs[job_id] = _Followed(self._interval(records[job_id]))
            gone = [job_id for job_id in self._jobs if job_id not in records]
            for job_id in gone:
                del self._jobs[job_id]
            due = [job_id for job_id, f in self._jobs.items() if f.due <= time.monotonic()]
        if first or picked:
            self.log.info("containerjob: following %d unfinished jobs%s", len(picked),
                          f": {', '.join(picked)}" if picked else "")
        for job_id in gone:
            self._retire(job_id)
        for job_id in due:
            with self._lock:
                if self._stop.is_set() or job_id in self._inflight:
                    continue
                self._inflight.add(job_id)
            self._pool.submit(self._refresh_once, job_id)

    def _refresh_once(self, job_id: str) -> None:
        try:
            if not self._stop.is_set():
                self._refresh(job_id)
        finally:
            with self._lock:
                self._inflight.discard(job_id)

    def _refresh(self, job_id: str) -> None:
        """One look at the job through the backend (which finalises it if it ended); errors back off."""
        try:
            record = self.service.get(job_id)
        except JobNotFound:
            self._drop(job_id)  # deleted meanwhile
            return
        except Exception as exc:  # noqa: BLE001 - engine or API down, or a bug: retry later, never stop watching
            with self._lock:
                followed = self._jobs.get(job_id)
                if followed is None:
                    return
                followed.delay_s = min(max(followed.delay_s, followed.interval_s) * 2, MAX_BACKOFF_S)
                followed.due = time.monotonic() + followed.delay_s
            if isinstance(exc, ContainerJobError):
                self.log.warning("containerjob: cannot refresh job %s (%s); retrying in %.0f s", job_id, exc,
                                 followed.delay_s)
            else:
                self.log.exception("containerjob: refreshing job %s failed; retrying in %.0f s", job_id,
                                   followed.delay_s)
            return
        if record.status.is_final:
            self.log.info("containerjob: job %s ended %s", job_id, record.status.value)
            self._drop(job_id)
            return
        with self._lock:
            followed = self._jobs.get(job_id)
            if followed is None:
                return
            now = time.monotonic()
            followed.delay_s, followed.due = 0.0, now + followed.interval_s
            copy = record.status in _LOGGING and now >= followed.copy_after
        copy = copy and self.service.backend(record.backend).capabilities["live_logs"]
        if copy and self._start_live_log(record):
            followed.copy_after = now + followed.interval_s

    def _drop(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
        self._retire(job_id)

    def _report_leftovers(self) -> None:
        """What backends still hold (containers) for jobs no unfinished record claims is left for `containerjob gc`."""
        try:
            held = {job_id for name in available_backends() for job_id in self.service.backend(name).held_job_ids()}
            active = {r.id for r in self.service.store.list(active_only=True, limit=1_000_000)}
        except ContainerJobError as exc:
            self.log.warning("containerjob: cannot list what backends hold (%s); following the records only", exc)
            return
        except Exception:  # noqa: BLE001 - a report only: the passes go on
            self.log.exception("containerjob: looking for leftover containers failed")
            return
        leftovers = sorted(held - active)
        if leftovers:
            self.log.info("containerjob: containers of finished or unknown jobs %s are left for `containerjob gc`",
                          ", ".join(leftovers))

    # -- live logs -------------------------------------------------------------------------------
    def _start_live_log(self, record: JobRecord) -> bool:
        """A copy of the job's log unless one runs; whether one was started."""
        with self._lock:
            thread = self._live.get(record.id)
            if self._stop.is_set() or (thread is not None and thread.is_alive()):
                return False
            self._live[record.id] = _spawn(f"containerjob-live-{record.id}", self._copy_log, record)
            return True

    def _copy_log(self, record: JobRecord) -> None:
        """Copy the job's log stream, from its start, to logs.live. A copy started again skips what the file
        already holds and appends the rest, so the file never shrinks under a reader's offset. An exclusive
        lock on the file leaves the copy to one process when several servers share the store."""
        path = Path(record.job_dir) / LIVE_LOG
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            with open(fd, "wb", buffering=0) as fh:  # unbuffered: a reader sees each chunk at once
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another server copies it
                skip = fh.seek(0, os.SEEK_END)  # the stream starts over: this much is already here
                stop = StreamStop()
                with self._lock:
                    self._streams[record.id] = stop
                if self._stop.is_set():
                    return
                for chunk in self.service.logs(record.id, follow=True, stop=stop):
                    data = chunk.encode()
                    cut = min(skip, len(data))
                    skip -= cut
                    if cut < len(data):
                        fh.write(data[cut:])
        except FileNotFoundError:
            return  # deleted meanwhile
        except Exception as exc:  # noqa: BLE001 - the next refresh starts a new copy if the job still runs
            self.log.warning("containerjob: the live log of job %s stopped (%s)", record.id, exc)
        finally:
            with self._lock:
                if self._live.get(record.id) is threading.current_thread():
                    del self._live[record.id]
                    self._streams.pop(record.id, None)
            self._retire(record.id)

    def _retire(self, job_id: str) -> None:
        """A final job's logs.txt holds everything logs.live did: remove the copy once nothing writes it."""
        with self._lock:
            if job_id in self._live:
                return
        try:
            record = self.service.store.get(job_id)
        except JobNotFound:
            return
        job_dir = Path(record.job_dir)
        if record.status.is_final and (job_dir / FINAL_LOG).is_file():
            (job_dir / LIVE_LOG).unlink(missing_ok=True)


def _spawn(name: str, target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread
