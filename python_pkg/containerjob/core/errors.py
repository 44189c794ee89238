"""Typed errors: core raises these; each layer (magic, server, CLI) translates them once."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")


class ContainerJobError(Exception):
    """Base class: the message names the problem and the fix, in one line."""


class SpecError(ContainerJobError):
    """The user's options or spec are invalid (HTTP 400, UsageError). `field`: the run option the problem is
    about, as the option table names it (`gpus`, `secret_env`), so a form shows it there; None when it is
    about no single option. `problems`: every problem the same pass found, this one first (see Problems)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems: list[SpecError] = [self]


class Problems:
    """Runs independent checks and keeps each refusal, so one pass names every bad option: `check` returns
    None for a refused value (what depends on it is skipped by the caller), `raise_any` raises the first
    problem, carrying all of them (the CLI and the magic say the first; a form shows each at its field)."""

    def __init__(self) -> None:
        self.found: list[SpecError] = []

    def check(self, field: str | None, run: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """`run(*args, **kwargs)`; a SpecError that names no option is put on `field`."""
        try:
            return run(*args, **kwargs)
        except SpecError as exc:
            for problem in exc.problems:
                problem.field = problem.field or field
            self.found += exc.problems
            return None

    def add(self, problem: SpecError) -> None:
        self.found.append(problem)

    def raise_any(self) -> None:
        if self.found:
            first = self.found[0]
            first.problems = list(self.found)
            raise first


def unwritable(path: object, exc: OSError) -> SpecError:
    """Disk full, read-only or a file in the way under CONTAINERJOB_HOME: the place, the reason, the fix."""
    return SpecError(f"cannot write {path} ({exc.strerror or exc}); free space there or set CONTAINERJOB_HOME "
                     "to a writable directory with room")


class JobNotFound(ContainerJobError):
    """No job or schedule with that ID (HTTP 404)."""


class BackendUnavailable(ContainerJobError):
    """The backend cannot be reached or lacks a capability, e.g. no Docker engine or no GPU (HTTP 503)."""


class JobLost(BackendUnavailable):
    """The backend stopped answering while a job ran; the job is recorded LOST (HTTP 503)."""


class BackendError(ContainerJobError):
    """The backend answered with an error (HTTP 502)."""


class ResourceGone(BackendError):
    """The backend no longer has the job's resource (deleted outside containerjob)."""


class MountError(ContainerJobError):
    """A Cloud Storage mount could not be prepared or finished."""


class PayloadError(SpecError):
    """Variables cannot be serialised or the payload is unusable."""


class JobFailed(ContainerJobError):
    """The job ran and failed; carries the remote error when the runner reported one."""

    def __init__(self, message: str, *, job_id: str, exit_code: int | None = None,
                 remote: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.exit_code = exit_code
        self.remote = remote or {}


class ResultRefused(ContainerJobError):
    """A job's results are not what its runner wrote (unsigned or altered on the way back): not loaded."""


class AlreadyRecorded(ContainerJobError):
    """Another record already holds this backend resource (another process recorded it first)."""


class IdTaken(SpecError):
    """A new record's ID is already another job's (a given ID, or a random one that collided: retried)."""
