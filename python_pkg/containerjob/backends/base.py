"""The backend contract every caller relies on (service, scheduling, server, CLI), and nothing more.

`submit` is a template method: preflight, record, start; a failed start cleans up and leaves a final
FAILED record, never a half-made job. `finalise` is one too: under the job's lock, once, whichever
process gets there first; a backend supplies only `conclude` (collect logs and outputs, say how it
ended). Backends are found by name through the `containerjob.backends` entry-point group.
"""
from __future__ import annotations

import fcntl
import queue
import shutil
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Mapping, TypedDict

from ..core import replica_states
from ..core.errors import ContainerJobError, IdTaken, JobNotFound, SpecError, unwritable
from ..core.job_files import FINAL_LOG, read_log
from ..core.models import JOB_ID_RE, JobRecord, JobSpec, JobStatus, StoredSpec, Traits, new_job_id
from ..core.payload import Payload
from ..core.replica_states import ReplicaState
from ..core.settings import Settings
from ..core.store import Store
from .lifecycle import JobRun

Notify = Callable[[str], None]
WARNINGS = ("warning: ", "note: ")  # how notify lines a submitter must see begin (REST returns them: server/jobs.py)
_END = object()
STALE_QUEUED_S = 600  # a QUEUED job whose starter died is LOST after this long
MAX_BATCH = 10_000  # log chunks handed to the viewer in one call
ID_ATTEMPTS = 5  # 64 random bits: a second collision in a row means a broken random source, not bad luck


class Capabilities(TypedDict):
    """What a backend can do, as the sidebar reads it (GET /backends)."""

    kinds: list[str]  # job kinds it runs: cell, script, notebook
    schedules: bool  # notebooks can be scheduled on it
    gpus: bool
    cancel: bool  # a running job can be stopped
    live_logs: bool  # logs arrive while the job runs (not only at its end)


class StreamStop:
    """A log reader's "I am gone": `set()` ends the streams handed it soon, even one blocked on a socket
    (each registers how to close itself), so no thread outlives the reader it served."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            self._event.set()
            closers, self._closers = self._closers, []
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - a stream already closed or broken is just as stopped
                pass

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout`; True when stopped meanwhile."""
        return self._event.wait(timeout)

    def on_set(self, close: Callable[[], None]) -> None:
        """Call `close` when stopped (at once if already stopped)."""
        with self._lock:
            if not self._event.is_set():
                self._closers.append(close)
                return
        close()


@dataclass
class Outcome:
    """How a job ended, as `conclude` found it; `finalise` writes it."""

    status: JobStatus
    message: str = ""
    exit_code: int | None = None
    # When the run started and ended by the backend's own clock, where it reports them (Vertex: the CustomJob's
    # startTime/endTime): a job first looked at long after it ended still gets its real duration. None: not
    # reported; the record keeps the start it saw, and the end is when it was finalised.
    started_at: float | None = None
    finished_at: float | None = None


class Backend(ABC):
    """Runs JobSpecs somewhere; all state lives in the store so any process can pick a job up."""

    name: ClassVar[str]
    label: ClassVar[str]  # for people: "Local container (Docker)"
    capabilities: ClassVar[Capabilities]
    traits: ClassVar[Traits]  # how it runs jobs, for the decisions callers make by it (core/models.py)
    poll_s: ClassVar[float] = 0.25  # how often follow() re-checks a job whose logs ended
    started_status: ClassVar[JobStatus] = JobStatus.RUNNING  # a job `start` returned for (Vertex: QUEUED)
    # results come back through storage others can write: the runner signs them, the kernel checks first
    signs_results: ClassVar[bool] = False

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    @abstractmethod
    def health(self) -> tuple[bool, str]:
        """Whether jobs can be submitted now, and why not (or what they will use); cheap, no job API call."""

    def host_capabilities(self) -> Capabilities:
        """The class's capabilities as this machine offers them (local GPUs need a driver here)."""
        return {**self.capabilities, "kinds": list(self.capabilities["kinds"])}

    def cleanup(self, *, stopped_only: bool) -> int:
        """Remove what finished or unknown jobs left on this machine (containers); returns how many."""
        return 0

    def warm_waiting(self) -> list[str]:
        """One line per container made ahead for a job not submitted yet (local: warm.py)."""
        return []

    def remove_warm(self) -> int:
        """Remove the containers made ahead for jobs not submitted yet (local: warm.py); returns how many."""
        return 0

    def held_job_ids(self) -> list[str]:
        """IDs of the jobs this backend still holds something for on this machine (a container)."""
        return []

    def job_dir(self, job_id: str) -> Path:
        return self.settings.home_path / "jobs" / job_id

    @contextmanager
    def job_lock(self, record: JobRecord) -> Iterator[JobRecord]:
        """Serialise finalisation across processes (kernel, CLI, server); yields the fresh record."""
        path = Path(record.job_dir) / ".lock"
        try:
            fh = open(path, "a")  # never recreates a directory a concurrent delete just removed
        except FileNotFoundError:
            raise JobNotFound(f"job {record.id} was deleted (its directory {record.job_dir} is gone)") from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield self.store.get(record.id)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def submit(self, spec: JobSpec, payload: Payload, *, origin: str = "", notify: Notify | None = None,
               job_id: str | None = None, on_created: Callable[[JobRecord], None] | None = None) -> JobRecord:
        """Record the job, then start it. `on_created` hears of the record before the start, so a caller can
        tell where the job came from (a notebook's cell) even when the start fails: the record says FAILED."""
        notify = notify or (lambda _msg: None)
        if job_id is not None and not JOB_ID_RE.match(job_id):  # it names a directory and a container
            raise SpecError(f"job ID {job_id!r} is not of the form cj-1a2b3c4d5e6f7a8b; leave it out to get a new one")
        self.validate(spec, payload)
        self.preflight(spec, payload, notify)
        stored = StoredSpec.of(spec, payload.path.name, payload.kind)
        record = self.create_job(lambda new_id: JobRecord(
            id=new_id, name=spec.display_name, backend=self.name, status=JobStatus.QUEUED, spec=stored,
            image=spec.primary.image, job_dir=str(self.job_dir(new_id)), origin=origin), job_id)
        job_id = record.id
        if on_created is not None:
            on_created(record)
        try:
            ref = self.start(record, spec, payload, notify)
        except KeyboardInterrupt:
            self.store.update(job_id, status=JobStatus.CANCELLED, message="interrupted while starting",
                              finished_at=time.time())
            raise
        except BaseException as exc:
            message = str(exc) if isinstance(exc, ContainerJobError) else f"could not start: {type(exc).__name__}: {exc}"
            self.store.update(job_id, status=JobStatus.FAILED, message=message, finished_at=time.time())
            raise
        running = self.started_status is JobStatus.RUNNING
        if not self.store.transition(job_id, (JobStatus.QUEUED,), status=self.started_status, backend_ref=ref,
                                     started_at=time.time() if running else None):
            # Cancelled while starting: the record already says so; take the running job down with it.
            self.store.update(job_id, backend_ref=ref)
            current = self.store.get(job_id)
            return self.stop(current, current.status, current.message)
        return self.store.get(job_id)

    def validate(self, spec: JobSpec, payload: Payload) -> None:
        """What this backend refuses that needs no engine or network call; dry runs run it too, so a dry
        run refuses what a submit would."""

    def create_job(self, make: Callable[[str], JobRecord], job_id: str | None = None) -> JobRecord:
        """A new job's directory and its record, both or neither, under `job_id` or a new ID: one that a
        record or a folder already holds gets another (IDs are random), never a database error."""
        for _ in range(1 if job_id else ID_ATTEMPTS):
            record = make(job_id or new_job_id())
            job_dir = Path(record.job_dir)
            try:
                job_dir.parent.mkdir(parents=True, exist_ok=True)
                job_dir.mkdir()  # not exist_ok: a folder there is another job's
                (job_dir / "output").mkdir()
            except FileExistsError:
                taken = IdTaken(f"job ID {record.id} is taken (its folder {job_dir} exists); leave the ID out to "
                                "get a new one")
                continue
            except OSError as exc:
                raise unwritable(job_dir, exc) from None
            try:
                self.store.add(record)
                return record
            except BaseException as exc:
                shutil.rmtree(job_dir, ignore_errors=True)
                if not isinstance(exc, IdTaken):
                    raise
                taken = exc
        raise taken

    @abstractmethod
    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        """The rest of what is checkable before a record exists (image, GPUs, versions, buckets)."""

    @abstractmethod
    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        """Start the job and return the backend's reference; must leave nothing behind when it raises."""

    @abstractmethod
    def refresh(self, record: JobRecord) -> JobRecord:
        """Ask the backend for the job's state; a job found finished is finalised."""

    @abstractmethod
    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        """Stop a running job and finalise it with the given final status."""

    @abstractmethod
    def stream_logs(self, record: JobRecord, follow: bool, stop: StreamStop | None = None) -> Iterator[str]:
        """Log text as it arrives; ends when the job ends (follow), at the current end, or soon after
        `stop` is set (the reader went away)."""

    @abstractmethod
    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        """The exact request this backend would send, secrets redacted (for --dry-run)."""

    @abstractmethod
    def conclude(self, record: JobRecord, observed: Any, status: JobStatus | None, message: str) -> Outcome:
        """Called under the job's lock while it is not final: bring its logs and outputs home and say how it
        ended. `observed` is what the backend last saw of it; `status` is the caller's verdict (a stop)."""

    def finalise(self, record: JobRecord, observed: Any = None, status: JobStatus | None = None,
                 message: str = "") -> JobRecord:
        """Once per job, whichever process gets here first; the others get the record it wrote."""
        with self.job_lock(record) as current:
            if current.status.is_final:
                return current
            outcome = self.conclude(current, observed, status, message)
            started = {"started_at": outcome.started_at} if outcome.started_at is not None else {}
            final = self.store.update(record.id, status=outcome.status, message=outcome.message,
                                      exit_code=outcome.exit_code, **started,
                                      finished_at=outcome.finished_at if outcome.finished_at is not None
                                      else time.time())
        self.released(final, observed)
        return final

    def released(self, record: JobRecord, observed: Any) -> None:
        """After a job was finalised (`record`: its final state) and its lock let go: free what it held (local:
        its container)."""

    def lose_if_stale(self, record: JobRecord, message: str,
                      still_starting: Callable[[], bool] = lambda: False) -> JobRecord:
        """A QUEUED job whose starter died long ago is LOST (unless the backend sees it starting)."""
        if time.time() - record.created_at > STALE_QUEUED_S and not still_starting():
            self.store.transition(record.id, (JobStatus.QUEUED,), status=JobStatus.LOST, finished_at=time.time(),
                                  message=message)
        return self.store.get(record.id)

    def replicas(self, record: JobRecord) -> list[ReplicaState]:
        """Each replica of the job and its state as last seen, read from the job's folder (never from the
        engine or API: a page polls this). A backend that sees replicas one by one keeps them there
        (replica_states.keep); otherwise each replica the spec asks for is in the job's state."""
        return replica_states.read(Path(record.job_dir)) or replica_states.from_spec(record.spec, record.status)

    @staticmethod
    def saved_logs(record: JobRecord) -> Iterator[str]:
        """The logs kept in the job directory when it was finalised (nothing if none were)."""
        path = Path(record.job_dir) / FINAL_LOG
        if path.is_file():
            yield path.read_text(encoding="utf-8", errors="replace")

    def cancel(self, record: JobRecord) -> JobRecord:
        """Stop the job as CANCELLED, once however many ask (lifecycle.JobRun owns how)."""
        return JobRun(self, record).cancel()

    def delete(self, record: JobRecord) -> None:
        """Cancel if needed, then remove the record and everything kept for it."""
        if not record.status.is_final:
            self.cancel(record)
        shutil.rmtree(record.job_dir, ignore_errors=True)
        self.store.delete(record.id)

    @staticmethod
    def _show_rest(record: JobRecord, shown: int, on_output: Callable[[str], None]) -> None:
        """The kept log's tail the stream never delivered: an engine's log stream can end with the container
        before its last line without a newline is flushed to it; the final log has that line."""
        offset, done = shown, False
        while not done:
            text, offset, done = read_log(Path(record.job_dir), True, offset)
            if text:
                on_output(text)
            elif not done:
                return

    def follow(self, record: JobRecord, on_output: Callable[[str], None], *,
               deadline: float | None = None) -> JobRecord:
        """Stream logs until the job ends, or until `deadline` (time.time()) passes: then the record as it
        stands comes back, still unfinished. What an interrupt, an error or the deadline do to the job is
        lifecycle.JobRun's to decide; this only shows it. A backend that stops answering ends the follow
        within the network bound."""
        poll_s = self.poll_s
        chunks: queue.Queue[Any] = queue.Queue()
        stop = StreamStop()  # set when follow() returns or raises: the pump never outlives it

        def pump() -> None:
            try:
                for chunk in self.stream_logs(record, follow=True, stop=stop):
                    chunks.put(chunk)
            except Exception as exc:  # noqa: BLE001 - the loop below re-checks the real state
                if not stop.is_set():
                    chunks.put(exc)
            finally:
                chunks.put(_END)

        threading.Thread(target=pump, name=f"logs-{record.id}", daemon=True).start()
        held: Any = None  # an item taken while batching, handled next round
        shown = 0  # bytes of log handed to on_output
        try:
            while True:
                if held is not None:
                    item, held = held, None
                else:
                    try:
                        item = chunks.get(timeout=poll_s)
                    except queue.Empty:
                        item = None
                if item is _END:
                    break
                if isinstance(item, str):
                    parts = [item]  # a flood arrives a line per chunk: hand the viewer what is queued at once
                    while len(parts) < MAX_BATCH:
                        try:
                            more = chunks.get_nowait()
                        except queue.Empty:
                            break
                        if not isinstance(more, str):
                            held = more
                            break
                        parts.append(more)
                    text = "".join(parts)
                    shown += len(text.encode())
                    on_output(text)
                if deadline and time.time() > deadline:
                    return self.store.get(record.id)
            current = self.refresh(self.store.get(record.id))
            while not current.status.is_final:
                time.sleep(poll_s)
                current = self.refresh(current)
            if len(current.spec.replicas()) == 1:  # merged replica logs arrive in another order than kept
                self._show_rest(current, shown, on_output)
            return current
        finally:
            stop.set()


class HostedSchedules(ABC):
    """A backend whose own service fires schedules, taking plain data (scheduler.py fires the others).

    `schedule` is a schedule record's fields (id, name, cron, timezone, max_concurrent, backend_ref)."""

    @abstractmethod
    def create_schedule(self, schedule: Mapping[str, Any], spec: JobSpec, payload: Payload) -> str:
        """Create it on the service; returns its resource name (kept as the record's backend_ref)."""

    @abstractmethod
    def update_schedule(self, schedule: Mapping[str, Any], spec: JobSpec, payload: Payload) -> None:
        """Replace what it runs and when."""

    @abstractmethod
    def set_schedule_state(self, schedule_ref: str, state: str) -> None:
        """ACTIVE (runs missed while paused are not made up) or PAUSED."""

    @abstractmethod
    def delete_schedule(self, schedule_ref: str) -> None:
        """Delete it on the service; runs already fired stay."""

    @abstractmethod
    def list_schedule_runs(self, schedule_ref: str) -> list[dict[str, Any]]:
        """Runs the service fired for it: name (its resource name), display_name, created_at, output_uri, project."""

    @abstractmethod
    def adopt_run(self, run: Mapping[str, Any], *, labels: Mapping[str, str], origin: str) -> JobRecord:
        """Add one of those runs to the store as a job of this backend, refreshed."""
