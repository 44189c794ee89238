"""--retries on Vertex AI: a CustomJob that ends FAILED for a cause --retry-on names is submitted again, as a new
CustomJob with the same jobSpec, up to --retries times; the record follows the newest (its backend_ref) and keeps
each attempt: its resource name, exit code, error and log (attempts/N.log), in resubmits.json.

What Vertex AI restarts by itself is not counted here: a replica's transient exit (restarts.py) and, with
`scheduling.restartJobOnWorkerRestart`, a worker restarted on another VM restarting the whole job. That field is
sent true for a job of several replicas with --retries, so a lone worker restarted by Vertex AI (VM maintenance,
a Spot VM reclaimed) runs the whole job again, as a retry runs every replica again on the local engine; it adds
no attempt, and a job of one replica has no workers for it to apply to.

The cause is read from the job's error as Vertex AI words it: "The replica workerpool0-0 exited with a non-zero
status of 137. Termination reason: OOMKilled ..." (the exit code and the termination reason). A Spot VM
reclaimed: Google documents the wording only for prediction ("the prediction job fails with a STOCKOUT error",
"Use Spot VMs with prediction", https://cloud.google.com/vertex-ai/docs/predictions/use-spot-vms, stored copy read
2026-12-08) and none for training, so a --spot job's error naming a preemption or STOCKOUT counts as killed."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..core.models import JobRecord, JobStatus
from ..core.retries import KILLED, attempt_line, retryable
from .gcp import api_errors, parse_resource_name

RESUBMITS_FILE = "resubmits.json"
ATTEMPTS_DIR = "attempts"
_PREFIX = "[containerjob] "
_EXIT_RE = re.compile(r"exited with a non-zero status of (\d+)")
_PREEMPTED_RE = re.compile(r"preempt|STOCKOUT", re.IGNORECASE)


def read(job_dir: Path) -> list[dict[str, Any]]:
    """The attempts before the current CustomJob (name, exit_code, error, line), oldest first."""
    try:
        return json.loads((job_dir / RESUBMITS_FILE).read_text())
    except FileNotFoundError:
        return []


def cause(record: JobRecord, job: Any) -> tuple[int | None, str] | None:
    """(exit code, how it ended) when the FAILED job's end is one --retry-on names; None otherwise."""
    if job.state.name != "JOB_STATE_FAILED":
        return None
    error = job.error.message or ""
    match = _EXIT_RE.search(error)
    code = int(match.group(1)) if match else None
    oom = "Termination reason: OOMKilled" in error
    if record.spec.spot and code is None and _PREEMPTED_RE.search(error):
        return KILLED, "was preempted (Spot VM reclaimed)"
    if not retryable(code, oom, record.spec.retry_on):
        return None
    return code, "was killed (out of memory)" if oom else f"exited with code {code}"


def again(backend, record: JobRecord, job: Any) -> bool:
    """Submit the job again when its end and --retries allow; True when the job goes on (resubmitted here, or by
    another process first). Under the job's lock, and only while it is not being cancelled: a cancel ends it."""
    found = cause(record, job) if record.spec.retries else None
    job_dir = Path(record.job_dir)
    if found is None or len(read(job_dir)) >= record.spec.retries:
        return False
    with backend.job_lock(record) as current:
        if current.backend_ref != job.name:
            return not current.status.is_final  # another process resubmitted it already
        if current.status.is_final or current.status is JobStatus.CANCELLING:
            return False
        done = read(job_dir)
        if len(done) >= record.spec.retries:
            return False
        code, how = found
        said = attempt_line(len(done) + 2, record.spec.retries, how)
        log = backend.job_log(current).read()  # this attempt's whole log, before the record moves on
        (job_dir / ATTEMPTS_DIR).mkdir(exist_ok=True)
        (job_dir / ATTEMPTS_DIR / f"{len(done) + 1}.log").write_text(log)
        body = type(job)(display_name=job.display_name, job_spec=job.job_spec, labels=dict(job.labels),
                         encryption_spec=job.encryption_spec)
        region = backend.region_of(current)  # the parent as the first submission named it (the project's ID)
        with api_errors(f"submit job {record.id} again (--retries)"):
            new = backend.client(region).create_custom_job(parent=f"projects/{current.spec.project}/locations/{region}",
                                                           custom_job=body)
        parse_resource_name(new.name, backend.collection)
        done.append({"name": job.name, "exit_code": code, "error": job.error.message, "line": said})
        tmp = job_dir / (RESUBMITS_FILE + ".tmp")
        tmp.write_text(json.dumps(done))
        os.replace(tmp, job_dir / RESUBMITS_FILE)
        backend.store.update(record.id, backend_ref=new.name, message=said)
    return True


def whole_log(job_dir: Path, last: str) -> str:
    """The job's log over every attempt: each earlier attempt's, the line that ran it again, then the last's;
    the last attempt's own log is kept beside the others."""
    done = read(job_dir)
    if not done:
        return last
    (job_dir / ATTEMPTS_DIR / f"{len(done) + 1}.log").write_text(last)
    parts = []
    for attempt, entry in enumerate(done, 1):
        text = (job_dir / ATTEMPTS_DIR / f"{attempt}.log").read_text()
        parts += [text, "" if not text or text.endswith("\n") else "\n", f"{_PREFIX}{entry['line']}\n"]
    return "".join([*parts, last])


def message(job_dir: Path) -> str:
    """The attempts' lines, for the final message ("" when there were none)."""
    return "; ".join(entry["line"] for entry in read(job_dir))
