"""What every containerjob handler shares: JSON bodies, blocking work off the IOLoop, one error format."""
from __future__ import annotations

import functools
import json
from typing import Any, Callable, Iterable, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado.ioloop import IOLoop
from tornado.web import HTTPError

from ..core.errors import ContainerJobError, JobNotFound, SpecError
from ..core.models import JOB_ID_RE
from .context import ServerContext
from .errors import INTERNAL, error_body
from .jsonbody import parse_body

T = TypeVar("T")


class ContainerJobHandler(APIHandler):
    """Base of every route. Subclasses decorate each method with @tornado.web.authenticated."""

    ctx: ServerContext
    _body: tuple[Any] | None = None  # the parsed request body, once read

    def initialize(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @property
    def service(self):
        return self.ctx.service

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run Docker, Vertex and SQLite calls in the extension's thread pool: the server loop never waits."""
        return await IOLoop.current().run_in_executor(self.ctx.executor, functools.partial(fn, *args, **kwargs))

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))

    def json_body(self, allowed: Iterable[str]) -> dict[str, Any]:
        """The request body as a JSON object whose keys are all in `allowed`; anything else is a 400. Parsed
        once a request, within jsonbody.py's limits; a route reads it first with `self.blocking`, so a large
        body is parsed in the pool, not on the loop."""
        allowed = sorted(allowed)
        if self._body is None:
            self._body = (parse_body(self.request.body),)
        data = self._body[0]
        if not isinstance(data, dict):
            raise SpecError(f"the request body must be a JSON object with the fields {', '.join(allowed)}")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise SpecError(f"unknown field {unknown[0]!r} in the request body; the fields are {', '.join(allowed)}")
        return data

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SpecError(f"query parameter {name}={raw!r} is not a whole number; give one in {low}..{high}") from None
        if not low <= value <= high:
            raise SpecError(f"query parameter {name}={value} is out of range; give one in {low}..{high}")
        return value

    @staticmethod
    def job_id(value: str) -> str:
        """Full job IDs only in URLs (prefixes are a CLI convenience)."""
        if not JOB_ID_RE.match(value):
            raise JobNotFound(f"{value!r} is not a job ID (they look like cj-1a2b3c4d5e6f7a8b); list the jobs with GET jobs")
        return value

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs["exc_info"][1] if kwargs.get("exc_info") else None
        status, body = error_body(exc, status_code)
        if body != INTERNAL:  # that fixed text names nothing of the server's
            body["message"] = self.ctx.public(body["message"])
        self.set_status(status)
        self.finish(json.dumps(body))

    def log_exception(self, typ, value, tb) -> None:  # noqa: ANN001 - tornado's signature
        """Typed errors are the user's to fix: one warning line. Anything else: the full traceback."""
        if isinstance(value, ContainerJobError):
            self.log.warning("containerjob %s: %s: %s", self._request_summary(), type(value).__name__, value)
        elif isinstance(value, HTTPError):
            super().log_exception(typ, value, tb)
        else:
            self.log.error("containerjob %s failed", self._request_summary(), exc_info=(typ, value, tb))
