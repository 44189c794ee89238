"""The Docker SDK's errors, translated into ours once, with the fix in the message."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import docker.errors
import requests.exceptions

from ..core.errors import BackendError, BackendUnavailable


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
