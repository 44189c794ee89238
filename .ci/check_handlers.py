#!/usr/bin/env python3
"""Check the server extension's route table: every handler is a jupyter_server APIHandler/JupyterHandler,
every HTTP method it serves is @tornado.web.authenticated, and the routes and their methods are exactly
those documented in python_pkg/containerjob/server/openapi.yaml. Exits 1 naming each offender."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python_pkg"))  # the source tree, whatever is installed

import tornado.web  # noqa: E402
import yaml  # noqa: E402
from jupyter_server.base.handlers import APIHandler, JupyterHandler  # noqa: E402

from containerjob.server.routes import ROUTES  # noqa: E402

METHODS = ("get", "post", "put", "patch", "delete")
OPENAPI = ROOT / "python_pkg" / "containerjob" / "server" / "openapi.yaml"
_AUTHENTICATED_CODE = tornado.web.authenticated(lambda self: None).__code__


def is_authenticated(method) -> bool:  # noqa: ANN001 - any callable
    """Whether tornado.web.authenticated wraps the method, at any depth of decorators."""
    while method is not None:
        if getattr(method, "__code__", None) is _AUTHENTICATED_CODE:
            return True
        method = getattr(method, "__wrapped__", None)
    return False


def served_methods(handler: type) -> list[str]:
    """HTTP methods the handler implements (tornado's defaults answer 405 and do not count)."""
    return [m for m in METHODS if getattr(handler, m) is not getattr(tornado.web.RequestHandler, m)]


def openapi_path(pattern: str) -> str:
    """`jobs/(?P<job_id>[^/]+)/logs` -> `/jobs/{job_id}/logs`."""
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def problems(routes: list[tuple[str, type]] = ROUTES, openapi: Path = OPENAPI) -> list[str]:
    found = []
    documented = yaml.safe_load(openapi.read_text())["paths"]
    routed = {}
    for pattern, handler in routes:
        name = f"{handler.__module__}.{handler.__qualname__}"
        if not issubclass(handler, (APIHandler, JupyterHandler)):
            found.append(f"{name} ({pattern}) does not derive from jupyter_server's APIHandler or JupyterHandler")
        methods = served_methods(handler)
        if not methods:
            found.append(f"{name} ({pattern}) serves no HTTP method")
        found += [f"{name}.{m} ({pattern}) lacks @tornado.web.authenticated" for m in methods
                  if not is_authenticated(getattr(handler, m))]
        path = openapi_path(pattern)
        routed[path] = (name, set(methods))
        if path not in documented:
            found.append(f"route {path} ({name}) is missing from {openapi.name}")
            continue
        ops = {m for m in documented[path] if m in METHODS}
        found += [f"{name}.{m} ({path}) is not documented in {openapi.name}" for m in sorted(set(methods) - ops)]
        found += [f"{openapi.name} documents {m.upper()} {path}, which {name} does not serve" for m in sorted(ops - set(methods))]
    found += [f"{openapi.name} documents {path}, which no route serves" for path in sorted(set(documented) - set(routed))]
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(f"check_handlers: {line}", file=sys.stderr)
    if not found:
        print(f"check_handlers: {len(ROUTES)} routes authenticated and documented")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
