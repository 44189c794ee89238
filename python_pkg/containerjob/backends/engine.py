"""The Docker SDK's errors, translated into ours once, with the fix in the message."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import docker.errors
import requests.exceptions

from ..core.errors import BackendError, BackendUnavailable, SpecError


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate the SDK's exceptions into ours, once, with the fix in the message."""
    try:
        yield
    except docker.errors.NotFound:
        raise
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        if isinstance(exc, docker.errors.APIError) and exc.response is not None:
            raise BackendError(f"Docker engine refused to {action}: {exc.explanation or exc}") from None
        raise BackendUnavailable(
            f"cannot reach the Docker engine to {action} ({exc}); start it (dockerd or `systemctl start docker`) "
            "or point DOCKER_HOST at a running engine"
        ) from None


@contextmanager
def gone_ok() -> Iterator[None]:
    """A container already removed, or being removed by another process, is not an error here."""
    try:
        yield
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:
            raise


@contextmanager
def program_errors(pool, payload) -> Iterator[None]:
    """A container job whose program is missing, or an image with nothing to run, is the user's to fix."""
    try:
        yield
    except docker.errors.APIError as exc:
        if payload.kind == "container" and no_such_executable(exc):
            program = (pool.command or ["the image's ENTRYPOINT"])[0]
            raise SpecError(f"image {pool.image} has no program {program!r} ({exc.explanation}); check --command "
                            "or the image's ENTRYPOINT") from None
        if payload.kind == "container" and "no command specified" in str(exc.explanation or exc).lower():
            raise SpecError(f"image {pool.image} has neither an ENTRYPOINT nor a CMD: say what to run with "
                            "--command 'PROG ARG...'") from None
        raise


def no_such_executable(exc: docker.errors.APIError) -> bool:
    """The runtime's answer when the image has no python3 (runc: "executable file not found in $PATH")."""
    text = str(exc.explanation or exc).lower()
    return "executable file not found" in text or "no such file or directory" in text
