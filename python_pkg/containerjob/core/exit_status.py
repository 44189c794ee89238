"""One number per finished job, for shells and CI that chain jobs: the job's own exit code, or a documented
code for an end that has none (cancelled, lost, expired on Vertex AI)."""
from __future__ import annotations

from .models import JobRecord, JobStatus

EXIT_FAILED = 1  # failed with no exit code of its own (e.g. it could not start)
EXIT_LOST = 69  # sysexits EX_UNAVAILABLE: the engine or Vertex lost the job
EXIT_EXPIRED = 75  # sysexits EX_TEMPFAIL: Vertex AI could not schedule it in time (JOB_STATE_EXPIRED)
EXIT_TIMEOUT = 124  # the job's --timeout ran out (as timeout(1) says), or `wait --timeout` did first
EXIT_CANCELLED = 143  # 128 + SIGTERM, what a cancelled process exits with


def exit_status(record: JobRecord) -> int:
    """0 for SUCCEEDED; the job's own code when it has one; else the code for how it ended."""
    if record.status is JobStatus.SUCCEEDED:
        return 0
    if record.status is JobStatus.CANCELLED:
        return EXIT_CANCELLED
    if record.status is JobStatus.LOST:
        return EXIT_LOST
    if not record.status.is_final:
        return EXIT_TIMEOUT
    if record.message.startswith("timed out"):  # whatever signal it was stopped with
        return EXIT_TIMEOUT
    if record.exit_code:
        return record.exit_code
    return EXIT_EXPIRED if record.message.startswith("expired") else EXIT_FAILED
