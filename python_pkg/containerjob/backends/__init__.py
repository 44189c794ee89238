"""Backends run a JobSpec somewhere; `get_backend(name)` returns one by name."""
from __future__ import annotations

from ..core.errors import SpecError
from .base import Backend

BACKENDS = ("local", "vertex", "executor")


def get_backend(name: str, **kwargs) -> Backend:
    """Return the backend called `name`; imported lazily so loading the magic stays fast."""
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(**kwargs)
    if name == "vertex":
        from .vertex import VertexBackend

        return VertexBackend(**kwargs)
    if name == "executor":
        from .executor import ExecutorBackend

        return ExecutorBackend(**kwargs)
    raise SpecError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
