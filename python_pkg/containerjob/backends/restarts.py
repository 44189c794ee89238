"""Vertex AI's automatic restarts of a job, rehearsed on the local engine, as far as they apply to one.

Google's "Understand the Vertex AI serverless training service" page
(https://cloud.google.com/vertex-ai/docs/training/understanding-training-service, "Handle common errors"; stored
copy read 2026-12-07, no "Last updated" date): a replica that exits with a non-zero status is a user code
exception, a permanent error that shuts the whole job down, except for "exit codes that could be transient",
where Vertex AI "tries to restart the job up to three times": SIGABRT (exit code 6, or 134 in custom
containers) and SIGSEGV (11, or 139). An out-of-memory exit is permanent. The page's other restarts (VM
maintenance, Compute Engine stockouts, internal errors, and a worker's non-permanent errors, restarted up to five
times) come from Google's machines, which a local engine has none of; so `scheduling.restartJobOnWorkerRestart`
("Restarts the entire CustomJob if a worker gets restarted", Scheduling reference) is sent to Vertex AI as a
CustomJob file gives it and changes nothing here, where no worker is ever restarted on its own.

Here the job's containers are restarted in place (`docker restart`, every replica of a pool job): the same
container, its log going on. Unlike a job Vertex AI restarts on fresh machines, a container keeps what it wrote
to its own filesystem. Each restart is a line in the job's log and in its message, kept in restarts.json."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.job_files import FINAL_LOG
from ..core.models import JobRecord, JobStatus
from . import replicas
from .engine import engine_errors, gone_ok

TRANSIENT_EXIT_CODES = {6: "SIGABRT", 134: "SIGABRT", 11: "SIGSEGV", 139: "SIGSEGV"}
MAX_RESTARTS = 3  # "up to three times"
RESTARTS_FILE = "restarts.json"
_PREFIX = "[containerjob] "


def read(job_dir: Path) -> list[dict[str, Any]]:
    """The job's restarts so far (replica, exit_code, finished_at, line, offset), oldest first."""
    try:
        return json.loads((job_dir / RESTARTS_FILE).read_text())
    except FileNotFoundError:
        return []


def transient_failure(infos: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The replica whose exit Vertex AI would retry, with its state; None when none did, or when another
    replica's exit (any other non-zero code, or memory) is permanent."""
    found = None
    for name, info in sorted(infos.items()):
        state = info["State"]
        if state.get("Status") not in ("exited", "dead") or not state.get("ExitCode"):
            continue
        if state.get("OOMKilled") or state["ExitCode"] not in TRANSIENT_EXIT_CODES:
            return None
        found = found or (name, state)
    return found


def restart_job(backend, record: JobRecord, infos: dict[str, dict[str, Any]], *, log_ref: str | None) -> bool:
    """Restart every container of the job when Vertex AI would restart the job; True when the job goes on
    (restarted here, or by another process that got here first). `log_ref`: the container whose log is the job's
    (a single replica), where the restart's line goes at the point it happened; a pool job's go at its end."""
    failed = transient_failure(infos)
    job_dir = Path(record.job_dir)
    if failed is None or len(read(job_dir)) >= MAX_RESTARTS:
        return False
    name, state = failed
    with backend.job_lock(record) as current:
        if current.status is not JobStatus.RUNNING:  # ended, or being cancelled: nothing to restart
            return False
        done = read(job_dir)
        if any(r["replica"] == name and r["finished_at"] == state.get("FinishedAt") for r in done):
            return True  # another process restarted it for this exit
        if len(done) >= MAX_RESTARTS:
            return False
        code = state["ExitCode"]
        attempt = f"attempt {len(done) + 2} of {MAX_RESTARTS + 1}"
        said = f"replica {name} restarted ({attempt}): exit code {code} ({TRANSIENT_EXIT_CODES[code]}), which Vertex AI retries"
        offset = None
        if log_ref:
            with engine_errors(f"read the log of job {record.id}"):
                offset = len(backend.client.api.logs(log_ref, stdout=True, stderr=True)
                             .decode("utf-8", errors="replace").encode())
        done.append({"replica": name, "exit_code": code, "finished_at": state.get("FinishedAt"),
                     "line": said, "offset": offset})
        tmp = job_dir / (RESTARTS_FILE + ".tmp")
        tmp.write_text(json.dumps(done))
        os.replace(tmp, job_dir / RESTARTS_FILE)
        def restart(container_id: str) -> None:
            with engine_errors(f"restart job {record.id}"), gone_ok():
                backend.client.api.restart(container_id, timeout=backend.settings.stop_timeout_s)

        replicas.each(restart, [(info["Id"],) for info in infos.values()])  # the whole job, as Vertex AI does
        backend.store.update(record.id, message=said)  # what `status` and the sidebar show while it runs
    return True


def in_log(job_dir: Path, log: bytes) -> bytes:
    """The job's log with each restart's line where it happened (or at its end when that is not known)."""
    done = read(job_dir)
    placed = sorted((r["offset"], r["line"]) for r in done if r["offset"] is not None and r["offset"] <= len(log))
    parts, at = [], 0
    for offset, line in placed:
        parts += [log[at:offset], b"" if offset == 0 or log[offset - 1:offset] == b"\n" else b"\n",
                  (_PREFIX + line + "\n").encode()]
        at = offset
    parts.append(log[at:])
    parts += [(_PREFIX + r["line"] + "\n").encode() for r in done if r["offset"] is None or r["offset"] > len(log)]
    return b"".join(parts)


def kept(job_dir: Path) -> str:
    """Put the restarts' lines into the job's kept log; they are also the final message's ("" when none)."""
    done, log = read(job_dir), job_dir / FINAL_LOG
    if done and log.is_file():
        log.write_bytes(in_log(job_dir, log.read_bytes()))
    return "; ".join(r["line"] for r in done)
