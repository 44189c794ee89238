"""One owner for how a job ends before its time: an interrupt, a cancel, a timeout its backend does not enforce.

The cell magic, the CLI and the server's cancel route drive a job through a `JobRun`, and nothing else decides
these. A cancel is claimed in the store (QUEUED/PENDING/RUNNING -> CANCELLING, one compare-and-set), so it
reaches the backend once per job however many ask, in this process or another: the others get the record the
first wrote, and a job that ended on its own first is left as it ended.

Retries (--retries) are decided where a job's end is seen, not here: backends/restarts.py (local) and
resubmit.py (Vertex AI) run it again from refresh/finalise, so a job nobody follows retries too. Only a RUNNING
job runs again, so the cancel claimed here (CANCELLING) is what ends its retries.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from ..core.errors import BackendUnavailable
from ..core.models import JobRecord, JobStatus

if TYPE_CHECKING:
    from .base import Backend

CANCELLED_BY_USER = "cancelled by the user"
UNDER_WAY_S = 30.0  # a cancel another caller claimed and has not finished in this long died with its process
_SETTLE_S = 0.1


class JobRun:
    """A job as one caller follows or stops it: the record as last seen, its backend and its deadline."""

    def __init__(self, backend: Backend, record: JobRecord) -> None:
        self.backend = backend
        self.record = record
        self.detached = False  # an interrupt left it running (it goes on where it runs)
        self._claimed = False  # this run moved it to CANCELLING: a cancel interrupted here is resumed at once

    @property
    def deadline(self) -> float | None:
        """When --timeout ends the job by the follower's clock; None where the backend enforces it (Vertex:
        scheduling.timeout, counted from when the job runs, not from a submission still waiting for machines)."""
        timeout, started = self.record.spec.timeout_s, self.record.started_at
        if not timeout or not started or self.backend.traits.enforces_timeout:
            return None
        return started + timeout

    def follow(self, on_output: Callable[[str], None], *,
               on_interrupt: Callable[[JobRun], JobRecord | None] | None = None) -> JobRecord:
        """Stream the log until the job ends. Past the deadline it expires; an interrupt goes to `on_interrupt`
        (default: `interrupt`) and propagates; any other error while showing its output cancels it, so nothing
        keeps running unwatched by accident. A backend that stops answering ends the follow, the job as it was."""
        try:
            current = self.backend.follow(self.record, on_output, deadline=self.deadline)
        except KeyboardInterrupt:
            (on_interrupt or JobRun.interrupt)(self)
            raise
        except BackendUnavailable:  # a cancel could not reach it either (and would wait out another bound)
            raise
        except BaseException as exc:
            try:
                self.cancel()
            except Exception as cancel_exc:  # noqa: BLE001 - the original error matters more
                if hasattr(exc, "add_note"):  # Python 3.11+
                    exc.add_note(f"containerjob could not cancel job {self.record.id}: {cancel_exc}")
            raise
        self.record = current
        return current if current.status.is_final else self.expire()

    def interrupt(self, remote: str = "cancel", ask: Callable[[], bool] = lambda: True) -> JobRecord | None:
        """What Ctrl-C, SIGINT or a kernel interrupt means while the job is followed. A job on this machine is
        cancelled; one elsewhere as `remote` says (the cell's --on-interrupt): "cancel", "detach" (it keeps
        running), or "ask" (`ask()`: True cancels). None: detached. A second interrupt during that cancel
        finishes it before it propagates (nothing keeps running for an impatient Ctrl-C); a third cuts it short,
        the job stays CANCELLING and the next cancel takes it over (see `cancel`)."""
        if self.backend.traits.runs_locally or remote == "cancel" or (remote == "ask" and ask()):
            try:
                return self.cancel()
            except KeyboardInterrupt:
                self.cancel()  # claimed by this run: it stops the job at once
                raise
        return self.detach()

    def detach(self) -> None:
        """Leave the job running where it runs (the caller says how to find it again)."""
        self.detached = True

    def cancel(self, reason: str = CANCELLED_BY_USER) -> JobRecord:
        """Stop the job as CANCELLED, once: a job not started yet never starts (its starter sees the record);
        a job already ended stays as it ended; a cancel already under way is waited for, and taken over
        when its caller died."""
        store, job_id = self.backend.store, self.record.id
        if store.transition(job_id, (JobStatus.QUEUED,), unsubmitted=True, status=JobStatus.CANCELLED,
                            message="cancelled before it started", finished_at=time.time()):
            return self._seen(store.get(job_id))
        if store.transition(job_id, (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING),
                            status=JobStatus.CANCELLING):
            self._claimed = True
            return self._stop(JobStatus.CANCELLED, reason)
        current = self._seen(store.get(job_id)) if self._claimed else self._settled()
        if current.status.is_final:
            return current
        return self._stop(JobStatus.CANCELLED, reason)  # its claimant was interrupted or is gone: finish it

    def expire(self) -> JobRecord:
        """--timeout passed by the follower's clock: the job FAILED (exit 124 to the CLI, by its message)."""
        return self._stop(JobStatus.FAILED, f"timed out after {self.record.spec.timeout_s} s (--timeout)")

    def _stop(self, status: JobStatus, message: str) -> JobRecord:
        return self._seen(self.backend.stop(self.backend.store.get(self.record.id), status, message))

    def _settled(self) -> JobRecord:
        """The record once no other cancel is under way on it (or that one is presumed dead)."""
        give_up = time.monotonic() + UNDER_WAY_S + self.backend.settings.stop_timeout_s
        current = self.backend.store.get(self.record.id)
        while current.status is JobStatus.CANCELLING and time.monotonic() < give_up:
            time.sleep(_SETTLE_S)
            current = self.backend.store.get(self.record.id)
        return self._seen(current)

    def _seen(self, record: JobRecord) -> JobRecord:
        self.record = record
        return record
