"""The backend contract. `submit` is a template method: preflight, record, start; a failed start
cleans up and leaves a final FAILED record, never a half-made job."""
from __future__ import annotations

import fcntl
import queue
import shutil
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from ..core.errors import ContainerJobError, JobNotFound, SpecError, unwritable
from ..core.models import JOB_ID_RE, JobRecord, JobSpec, JobStatus, new_job_id
from ..core.payload import Payload
from ..core.settings import Settings
from ..core.store import Store

Notify = Callable[[str], None]
_END = object()
STALE_QUEUED_S = 600  # a QUEUED job whose starter died is LOST after this long
MAX_BATCH = 10_000  # log chunks handed to the viewer in one call


class Backend(ABC):
    """Runs JobSpecs somewhere; all state lives in the store so any process can pick a job up."""

    name: ClassVar[str]
    poll_s: ClassVar[float] = 0.25  # how often follow() re-checks a job whose logs ended

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

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
               job_id: str | None = None) -> JobRecord:
        notify = notify or (lambda _msg: None)
        if job_id is not None and not JOB_ID_RE.match(job_id):  # it names a directory and a container
            raise SpecError(f"job ID {job_id!r} is not of the form cj-1a2b3c4d; leave it out to get a new one")
        self.preflight(spec, payload, notify)
        job_id = job_id or new_job_id()
        job_dir = self.job_dir(job_id)
        try:
            (job_dir / "output").mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise
        except OSError as exc:
            raise unwritable(job_dir, exc) from None
        record = JobRecord(id=job_id, name=spec.display_name, backend=self.name, status=JobStatus.QUEUED,
                           spec={**spec.to_dict(redact=True), "payload": payload.path.name}, image=spec.primary.image,
                           job_dir=str(job_dir), origin=origin)
        try:
            self.store.add(record)
        except BaseException:
            shutil.rmtree(job_dir, ignore_errors=True)  # no directory without its record
            raise
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
        if not self.store.transition(job_id, (JobStatus.QUEUED,), status=JobStatus.RUNNING, backend_ref=ref,
                                     started_at=time.time()):
            # Cancelled while starting: the record already says so; take the running job down with it.
            self.store.update(job_id, backend_ref=ref)
            current = self.store.get(job_id)
            return self.stop(current, current.status, current.message)
        return self.store.get(job_id)

    @abstractmethod
    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        """Everything checkable before a record exists (image, GPUs, versions, buckets)."""

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
    def stream_logs(self, record: JobRecord, follow: bool) -> Iterator[str]:
        """Log text as it arrives; ends when the job ends (follow) or at the current end."""

    @abstractmethod
    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        """The exact request this backend would send, secrets redacted (for --dry-run)."""

    def cancel(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        if self.store.transition(record.id, (JobStatus.QUEUED,), status=JobStatus.CANCELLED,
                                 message="cancelled before it started", finished_at=time.time()):
            return self.store.get(record.id)  # the starter sees this and stops what it started
        self.store.transition(record.id, (JobStatus.RUNNING,), status=JobStatus.CANCELLING)
        return self.stop(self.store.get(record.id), JobStatus.CANCELLED, "cancelled by the user")

    def delete(self, record: JobRecord) -> None:
        """Cancel if needed, then remove the record and everything kept for it."""
        if not record.status.is_final:
            self.cancel(record)
        shutil.rmtree(record.job_dir, ignore_errors=True)
        self.store.delete(record.id)

    def follow(self, record: JobRecord, on_output: Callable[[str], None], *,
               timeout_s: int | None = None, detach_on_interrupt: bool = False) -> JobRecord:
        """Stream logs until the job ends. A timeout fails it; an interrupt, or any error while showing
        its output, cancels it, so nothing keeps running unwatched by accident (unless the caller
        asked to detach on interrupt: then the job goes on and the interrupt propagates)."""
        poll_s = self.poll_s
        chunks: queue.Queue[Any] = queue.Queue()

        def pump() -> None:
            try:
                for chunk in self.stream_logs(record, follow=True):
                    chunks.put(chunk)
            except Exception as exc:  # noqa: BLE001 - the loop below re-checks the real state
                chunks.put(exc)
            finally:
                chunks.put(_END)

        threading.Thread(target=pump, name=f"logs-{record.id}", daemon=True).start()
        deadline = record.started_at + timeout_s if timeout_s and record.started_at else None
        held: Any = None  # an item taken while batching, handled next round
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
                    on_output("".join(parts))
                if deadline and time.time() > deadline:
                    return self.stop(self.store.get(record.id), JobStatus.FAILED,
                                     f"timed out after {timeout_s} s (--timeout)")
            current = self.refresh(self.store.get(record.id))
            while not current.status.is_final:
                time.sleep(poll_s)
                current = self.refresh(current)
            return current
        except KeyboardInterrupt:
            if not detach_on_interrupt:
                self.cancel(self.store.get(record.id))
            raise
        except BaseException as exc:
            try:
                self.cancel(self.store.get(record.id))
            except Exception as cancel_exc:  # noqa: BLE001 - the original error matters more
                if hasattr(exc, "add_note"):
                    exc.add_note(f"containerjob could not cancel job {record.id}: {cancel_exc}")
            raise
