"""Backends run a JobSpec somewhere; `get_backend(name)` returns one by name.

They are found through the `containerjob.backends` entry-point group (`name = "module:Class"`), so
another package can add one; the built-ins are also named here, so a source checkout whose package
metadata is not installed still finds them. Each is imported only when asked for: loading the magic
stays fast.
"""
from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points
from typing import Any

from ..core.errors import BackendUnavailable, SpecError
from ..core.models import Traits
from .base import Backend, Capabilities, HostedSchedules, Outcome, StreamStop

GROUP = "containerjob.backends"
BUILTIN = {
    "local": "containerjob.backends.local:LocalBackend",
    "vertex": "containerjob.backends.vertex:VertexBackend",
    "executor": "containerjob.backends.executor:ExecutorBackend",
}

__all__ = ["Backend", "Capabilities", "HostedSchedules", "Outcome", "StreamStop", "available_backends", "backend_class",
           "backend_traits", "get_backend"]


@functools.lru_cache(maxsize=1)
def _registered() -> dict[str, str]:
    """Name -> "module:Class": the built-ins first, then what installed packages declare (read once)."""
    found = entry_points()
    declared = found.select(group=GROUP) if hasattr(found, "select") else found.get(GROUP, [])  # Python 3.9
    return {**BUILTIN, **{ep.name: ep.value for ep in declared}}


def available_backends() -> list[str]:
    """Names of every backend this installation can load (built-ins first, in their order)."""
    return list(_registered())


def backend_class(name: str) -> type[Backend]:
    """The class registered as `name`; unknown names are a SpecError naming the choices."""
    target = _registered().get(name)
    if target is None:
        raise SpecError(f"unknown backend {name!r}: choose one of {', '.join(available_backends())}", field="backend")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except Exception as exc:  # noqa: BLE001 - a broken plugin is its own problem, never a traceback here
        raise BackendUnavailable(f"backend {name!r} cannot be loaded from {target} ({type(exc).__name__}: {exc}); "
                                 "reinstall the package that provides it or choose another backend") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise SpecError(f"backend {name!r} ({target}) is not a containerjob Backend", field="backend")
    return cls


def backend_traits(name: str) -> Traits:
    """How the backend called `name` runs jobs (what build_spec and the callers decide by)."""
    return backend_class(name).traits


def get_backend(name: str, **kwargs: Any) -> Backend:
    """A new backend called `name`, constructed with `kwargs` (settings, store)."""
    return backend_class(name)(**kwargs)
