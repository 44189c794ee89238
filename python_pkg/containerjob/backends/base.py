"""The backend contract. `submit` is a template method: preflight, record, start; a failed start
cleans up and leaves a final FAILED record, never a half-made job."""
from __future__ import annotations

import queue
import shutil
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from ..core.errors import ContainerJobError
from ..core.models import JobRecord, JobSpec, JobStatus, new_job_id
from ..core.payload import Payload
from ..core.settings import Settings
from ..core.store import Store

Notify = Callable[[str], None]
_END = object()


class Backend(ABC):
    """Runs JobSpecs somewhere; all state lives in the store so any process can pick a job up."""

    name: ClassVar[str]

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def job_dir(self, job_id: str) -> Path:
        return self.settings.home_path / "jobs" / job_id

    def submit(self, spec: JobSpec, payload: Payload, *, origin: str = "", notify: Notify | None = None,
               job_id: str | None = None) -> JobRecord:
        notify = notify or (lambda _msg: None)
        self.preflight(spec, payload, notify)
        job_id = job_id or new_job_id()
        job_dir = self.job_dir(job_id)
        (job_dir / "output").mkdir(parents=True, exist_ok=False)
        record = JobRecord(id=job_id, name=spec.display_name, backend=self.name, status=JobStatus.QUEUED,
                           spec={**spec.to_dict(redact=True), "payload": payload.path.name}, image=spec.primary.image, job_dir=str(job_dir),
                           origin=origin)
        self.store.add(record)
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
        return self.store.update(job_id, status=JobStatus.RUNNING, backend_ref=ref, started_at=time.time())

    @abstractmethod
    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        """Everything checkable before a record exists (image, GPUs, versions)."""

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
    def describe(self, spec: JobSpec, payload: Payload, job_id: str) -> dict[str, Any]:
        """The exact request this backend would send, secrets redacted (for --dry-run)."""

    def cancel(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        self.store.update(record.id, status=JobStatus.CANCELLING)
        return self.stop(record, JobStatus.CANCELLED, "cancelled by the user")

    def delete(self, record: JobRecord) -> None:
        """Cancel if needed, then remove the record and everything kept for it."""
        if not record.status.is_final:
            self.cancel(record)
        shutil.rmtree(record.job_dir, ignore_errors=True)
        self.store.delete(record.id)

    def follow(self, record: JobRecord, on_output: Callable[[str], None], *,
               timeout_s: int | None = None, poll_s: float = 0.25) -> JobRecord:
        """Stream logs until the job ends; a timeout fails it, Ctrl-C (KeyboardInterrupt) cancels it."""
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
        try:
            while True:
                try:
                    item = chunks.get(timeout=poll_s)
                except queue.Empty:
                    item = None
                if item is _END:
                    break
                if isinstance(item, str):
                    on_output(item)
                if deadline and time.time() > deadline:
                    return self.stop(record, JobStatus.FAILED, f"timed out after {timeout_s} s (--timeout)")
            current = self.refresh(record)
            while not current.status.is_final:
                time.sleep(poll_s)
                current = self.refresh(current)
            return current
        except KeyboardInterrupt:
            self.cancel(self.store.get(record.id))
            raise
