"""Run a function on a module right after its first import, without importing it first.

The runner adapts modules only some jobs use (IPython's display, matplotlib's backend, linecache for
tracebacks of the job's source): importing them up front would cost every job their import time. Stdlib
only, shipped with the runner: a meta path finder by the protocol, not importlib.abc's base class, whose
import costs more than the rest of the runner.
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import types
    from importlib.machinery import ModuleSpec
    from typing import Any, Callable, Sequence

    Patch = Callable[[types.ModuleType], object]
    OnError = Callable[[str], object]


def install(patches: dict[str, Patch], on_error: OnError) -> None:
    """patches: {module name: patch(module)}; on_error(text) hears of a patch that failed (the import
    itself never fails for it). A module already imported is patched now."""
    waiting: dict[str, Patch] = {}
    for name, patch in patches.items():
        if name in sys.modules:
            _apply(patch, sys.modules[name], on_error)
        else:
            waiting[name] = patch
    if waiting:
        sys.meta_path.insert(0, _AfterImport(waiting, on_error))


def _apply(patch: Patch, module: types.ModuleType, on_error: OnError) -> None:
    try:
        patch(module)
    except Exception as exc:  # noqa: BLE001 - the import itself succeeded: never fail it
        on_error("could not adapt %s: %s: %s" % (module.__name__, type(exc).__name__, exc))


class _AfterImport:
    def __init__(self, patches: dict[str, Patch], on_error: OnError) -> None:
        self.patches, self.on_error = patches, on_error
        self.finding: set[str] = set()  # names being looked up: a finder that asks importlib again gets no answer here

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> ModuleSpec | None:
        patch = self.patches.get(name)
        if patch is None or name in self.finding:
            return None
        self.finding.add(name)
        try:
            spec = self._find_elsewhere(name, path, target)
        finally:
            self.finding.discard(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            # a loader by the protocol, not by importlib.abc.Loader's class (module docstring)
            spec.loader = _PatchingLoader(spec.loader, patch, self.on_error)  # type: ignore[assignment]
        return spec

    def _find_elsewhere(self, name: str, path: Sequence[str] | None,
                        target: types.ModuleType | None) -> ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec: ModuleSpec | None = finder.find_spec(name, path, target)
                if spec is not None:
                    return spec
        return None


class _PatchingLoader:
    """The real loader, plus the patch once the module has run; the module keeps the real loader."""

    def __init__(self, loader: Any, patch: Patch, on_error: OnError) -> None:
        self.loader, self.patch, self.on_error = loader, patch, on_error

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:  # always, for a module this loader runs
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _apply(self.patch, module, self.on_error)
