"""The one translation of errors into HTTP: core's typed errors get a status, everything else is a 500."""
from __future__ import annotations

import os
import re
from http.client import responses
from pathlib import Path
from typing import Any, Callable

from tornado.web import HTTPError

from ..core.errors import BackendError, BackendUnavailable, ContainerJobError, JobNotFound, MountError, SpecError

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


def public_paths(root: Path, places: dict[str, Path]) -> Callable[[str], str]:
    """A function that writes the server's own directories out of a message: a path under the root as the
    client names it (relative to the root, `.` for the root itself), one under a place in `places` (such as
    CONTAINERJOB_HOME, `~`) as that name. A client sees no absolute path of the server's disk, whichever
    module built the message."""
    names: dict[str, str] = {}
    for name, place in [("", root), *places.items()]:
        for form in (str(place), os.path.realpath(place)):
            if form != os.sep and os.path.isabs(form):
                names.setdefault(form.rstrip(os.sep), name)  # the root first: it wins a tie
    if not names:
        return lambda text: text
    found = re.compile(r"(?<![\w.~/-])(" + "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
                       + r")(/|(?![\w~-]|\.[\w.~/-]))")  # a sentence's full stop ends a path

    def public(match: re.Match[str]) -> str:
        name, slash = names[match.group(1)], match.group(2)
        return (name + slash) if name else ("" if slash else ".")

    return lambda text: found.sub(public, text)
