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
to its own filesystem. Each restart is a line in the job's log and in its message, kept in restarts.json.

--retries N (core/retries.py) runs the job again the same way after an end --retry-on names, once Vertex AI's own
restarts above are spent: on Vertex AI that is a new CustomJob (resubmit.py), here the same containers again.
Each attempt's log is kept in attempts/N.log, its exit code in restarts.json ("attempt 2 of 3" in the message)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from ..core.job_files import FINAL_LOG
from ..core.models import JobRecord, JobStatus
from ..core.retries import VERTEX_TRANSIENT, attempt_line, retryable
from . import replicas
from .engine import engine_errors, gone_ok

TRANSIENT_EXIT_CODES = VERTEX_TRANSIENT
MAX_RESTARTS = 3  # "up to three times"
RESTARTS_FILE = "restarts.json"  # every run after the first: its replica, exit code, by whom, its line
ATTEMPTS_DIR = "attempts"
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
    return _failure(infos, lambda state: not state.get("OOMKilled") and state["ExitCode"] in TRANSIENT_EXIT_CODES)


def retry_failure(infos: dict[str, dict[str, Any]], retry_on: list[int]) -> tuple[str, dict[str, Any]] | None:
    """The replica whose end --retry-on names (core/retries.py), with its state; None when another's is not."""
    return _failure(infos, lambda state: retryable(state["ExitCode"], bool(state.get("OOMKilled")), retry_on))


def _failure(infos: dict[str, dict[str, Any]], again: Callable[[dict[str, Any]], bool]) -> tuple[str, dict[str, Any]] | None:
    found = None
    for name, info in sorted(infos.items()):
        state = info["State"]
        if state.get("Status") not in ("exited", "dead") or not state.get("ExitCode"):
            continue
        if not again(state):
            return None
        found = found or (name, state)
    return found


def _next_run(spec, infos: dict[str, dict[str, Any]], done: list[dict[str, Any]]) -> tuple[str, dict[str, Any], str, str] | None:
    """Whether the job runs again, and why: (replica, its state, "vertex" or "retry", the line that says so).
    Vertex AI's own restarts come first (up to three per submission); --retries resubmits after them."""
    retried = [i for i, r in enumerate(done) if r.get("by") == "retry"]
    restarted = sum(1 for r in done[retried[-1] + 1 if retried else 0:] if r.get("by", "vertex") == "vertex")
    failed = transient_failure(infos)
    if failed is not None and restarted < MAX_RESTARTS:
        name, state = failed
        code = state["ExitCode"]
        attempt = f"attempt {restarted + 2} of {MAX_RESTARTS + 1}"
        return name, state, "vertex", (f"replica {name} restarted ({attempt}): exit code {code} "
                                       f"({TRANSIENT_EXIT_CODES[code]}), which Vertex AI retries")
    failed = retry_failure(infos, spec.retry_on) if spec.retries else None
    if failed is None or len(retried) >= spec.retries:
        return None
    name, state = failed
    cause = "was killed (out of memory)" if state.get("OOMKilled") else f"exited with code {state['ExitCode']}"
    if len(infos) > 1:
        cause = f"{cause} in replica {name}"
    return name, state, "retry", attempt_line(len(retried) + 2, spec.retries, cause)


def restart_job(backend, record: JobRecord, infos: dict[str, dict[str, Any]], *, log_ref: str | None) -> bool:
    """Run every container of the job again when Vertex AI would restart the job or --retries asks for it;
    True when the job goes on (run again here, or by another process that got here first). `log_ref`: the
    container whose log is the job's (a single replica), where the line goes at the point it happened (and where
    each attempt's own log is cut from); a pool job's go at its end. Only a RUNNING job runs again: a cancel
    (CANCELLING) ends the retries."""
    job_dir = Path(record.job_dir)
    failing = transient_failure(infos) or (retry_failure(infos, record.spec.retry_on) if record.spec.retries else None)
    if failing is None:
        return False
    with backend.job_lock(record) as current:
        if current.status is not JobStatus.RUNNING:  # ended, or being cancelled: nothing to restart
            return False
        done = read(job_dir)
        if any(r["replica"] == failing[0] and r["finished_at"] == failing[1].get("FinishedAt") for r in done):
            return True  # another process restarted it for this exit
        decided = _next_run(record.spec, infos, done)
        if decided is None:
            return False
        name, state, by, said = decided
        offset = None
        if log_ref:
            with engine_errors(f"read the log of job {record.id}"):
                offset = len(backend.client.api.logs(log_ref, stdout=True, stderr=True)
                             .decode("utf-8", errors="replace").encode())
        done.append({"replica": name, "exit_code": state["ExitCode"], "oom_killed": bool(state.get("OOMKilled")),
                     "finished_at": state.get("FinishedAt"), "by": by, "line": said, "offset": offset})
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
    """Put the restarts' lines into the job's kept log, and each attempt's own log in attempts/N.log where the
    points between them are known; the lines are also the final message's ("" when none)."""
    done, log = read(job_dir), job_dir / FINAL_LOG
    if done and log.is_file():
        raw = log.read_bytes()
        cuts = [r["offset"] for r in done if r["offset"] is not None and r["offset"] <= len(raw)]
        if len(cuts) == len(done):
            (job_dir / ATTEMPTS_DIR).mkdir(exist_ok=True)
            for attempt, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(raw)]), 1):
                (job_dir / ATTEMPTS_DIR / f"{attempt}.log").write_bytes(raw[start:end])
        log.write_bytes(in_log(job_dir, raw))
    return "; ".join(r["line"] for r in done)
