"""The replicas of a job and their states, as the job page shows them: kept in the job's folder by the backend
that saw them (local: each container's state at every refresh and at the end), so a read never asks an engine,
and a job that ended still shows how each replica ended after its containers are gone."""
from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any, TypedDict

from . import job_output
from .models import JobSpec, JobStatus

log = logging.getLogger(__name__)
STATES_FILE = "replicas.json"  # in the job folder; not an output (job_files lists only output folders)


class ReplicaState(TypedDict):
    """One replica: its Vertex name (workerpool{P}-{I}), pool and index, a JobStatus word, exit code if ended."""

    name: str
    pool: int
    index: int
    state: str
    exit_code: int | None
    message: str


def from_spec(spec: JobSpec, status: JobStatus) -> list[ReplicaState]:
    """What a backend that cannot see replicas one by one knows: each replica the spec asks for, in the
    job's own state (Vertex reports a job's state, not its replicas')."""
    return [ReplicaState(name=r.name, pool=r.pool, index=r.index, state=status.value, exit_code=None, message="")
            for r in spec.replicas()]


def keep(job_dir: Path, states: list[ReplicaState]) -> None:
    """Replace the kept states at once (a reader never sees half a file). What is shown must never stop a job
    from ending: a deleted job folder, a full disk or an unwritable folder leave the last states (or none)."""
    path = job_dir / STATES_FILE
    tmp = job_dir / f".{STATES_FILE}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(states))
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if not isinstance(exc, FileNotFoundError):  # a deleted job folder: nothing left to show them in
            log.warning("could not keep the replica states of %s: %s", job_dir.name, exc)


def read(job_dir: Path) -> list[ReplicaState] | None:
    """The states kept last, or None when none were (a job with one replica, or not seen yet). Read as any
    file in a job's folder is (job_output): one that is not the list `keep` writes is said in the log and
    shown as no states kept, never raised into a page that polls it."""
    try:
        states: list[ReplicaState] | None = job_output.read_json(job_dir, STATES_FILE, job_output.REPLICAS_MAX,
                                                                 _check)  # _check saw their shape
        return states
    except job_output.OutputUnreadable as exc:
        log.warning("job %s: %s; its replicas are shown in the job's state", job_dir.name, exc)
        return None


def _check(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"it is {job_output.kind(value)}, not a list"
    states = {s.value for s in JobStatus}
    shape = {"name": lambda v: isinstance(v, str), "pool": job_output.is_int, "index": job_output.is_int,
             "state": lambda v: isinstance(v, str) and v in states, "exit_code": lambda v: v is None or job_output.is_int(v),
             "message": lambda v: isinstance(v, str)}
    return next((p for p in (job_output.fields(r, "a replica", shape, tuple(shape)) for r in value) if p), None)
