"""The one translation of errors into HTTP: core's typed errors get a status, everything else is a 500."""
from __future__ import annotations

import re
from http.client import responses
from typing import Any

from tornado.web import HTTPError

from ..core.errors import (BackendError, BackendUnavailable, ContainerJobError, JobNotFound, MountError,
                           SpecError)

# The most specific class wins (looked up along the exception's MRO); PayloadError is a SpecError.
STATUS: dict[type[BaseException], int] = {
    SpecError: 400,
    JobNotFound: 404,
    BackendUnavailable: 503,
    BackendError: 502,
    MountError: 502,
    ContainerJobError: 400,  # any other typed error names a problem the user can fix
}
INTERNAL = {"error": "InternalError", "message": "internal error; see the server log"}


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a typed error, or None for an unexpected exception."""
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), None)


def error_body(exc: BaseException | None, status: int) -> tuple[int, dict[str, Any]]:
    """(status, `{"error", "message"}`) for any exception; unexpected ones never leak their text."""
    if isinstance(exc, HTTPError):  # tornado's and jupyter_server's own: 403, 404, 405, ...
        phrase = exc.reason or responses.get(exc.status_code, "Error")
        message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
        return exc.status_code, {"error": _camel(phrase), "message": message or phrase}
    if exc is None and status < 500:  # send_error without an exception (tornado's 405 for a missing method)
        phrase = responses.get(status, "Error")
        return status, {"error": _camel(phrase), "message": phrase}
    mapped = status_of(exc) if exc is not None else None
    if mapped is None:
        return 500, dict(INTERNAL)
    return mapped, {"error": type(exc).__name__, "message": " ".join(str(exc).split()) or type(exc).__name__}


def _camel(phrase: str) -> str:
    """`Method Not Allowed` -> `MethodNotAllowed`."""
    return re.sub(r"[^A-Za-z]", "", phrase.title()) or "HTTPError"
