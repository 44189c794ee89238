"""A backend a test registers as a plugin (the `containerjob.backends` entry-point group) that runs nothing:
a job "runs" until its folder holds `finish`, and each stop that reaches the backend is a line in the
folder's `stops`, so a test counts the cancels a job got by what the backend saw, in any process."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

from containerjob.backends.base import Backend, Capabilities, Outcome, StreamStop
from containerjob.core.models import JobRecord, JobStatus, Traits

STOP_TAKES_S = 0.3  # a stop is not instant: other cancels and the job's own end arrive meanwhile


def stops(record: JobRecord) -> list[str]:
    """The final status each stop that reached the backend was asked for, in order."""
    path = Path(record.job_dir) / "stops"
    return path.read_text().split() if path.exists() else []


def finish(record: JobRecord) -> None:
    """The job ends on its own (SUCCEEDED) the next time anyone looks."""
    (Path(record.job_dir) / "finish").write_text("")


class Counting(Backend):
    name = "counting"
    label = "Counting (a test plugin)"
    capabilities = Capabilities(kinds=["cell", "script", "notebook", "container"], schedules=False, gpus=False,
                                cancel=True, live_logs=True)
    traits = Traits(runs_locally=True, enforces_timeout=False, mounts_buckets=False, cloud_machines=False)
    poll_s = 0.05

    def health(self) -> tuple[bool, str]:
        return True, "counts"

    def preflight(self, spec, payload, notify) -> None:
        pass

    def start(self, record, spec, payload, notify) -> str:
        return f"counting-{record.id}"

    def _ended(self, record: JobRecord) -> bool:
        return (Path(record.job_dir) / "finish").exists()

    def refresh(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        return self.finalise(record, "finished") if self._ended(record) else self.store.get(record.id)

    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        with open(Path(record.job_dir) / "stops", "a") as fh:
            fh.write(f"{status.value}\n")
        time.sleep(STOP_TAKES_S)
        return self.finalise(record, "stopped", status, message)

    def stream_logs(self, record: JobRecord, follow: bool, stop: StreamStop | None = None) -> Iterator[str]:
        yield "started\n"
        while follow and not (stop and stop.is_set()) and not self._ended(record) \
                and not self.store.get(record.id).status.is_final:
            time.sleep(0.05)

    def describe(self, spec, payload, job_id, origin="") -> dict[str, Any]:
        return {}

    def conclude(self, record, observed, status, message) -> Outcome:
        return Outcome(status, message) if status is not None else Outcome(JobStatus.SUCCEEDED, "", 0)


class CountingRemote(Counting):
    """The same, as a backend whose jobs run elsewhere (an interrupt asks what to do, as for Vertex AI)."""

    name = "counting-remote"
    traits = Traits(runs_locally=False, enforces_timeout=False, mounts_buckets=False, cloud_machines=False)
