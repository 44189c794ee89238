"""Re-raise a job's remote exception in the kernel with frames that point at the user's source lines."""
from __future__ import annotations

import builtins
import linecache
import pickle
import sys
import types
from pathlib import Path
from typing import Any, NoReturn

from .kernel_env import MissingInImage, missing_module_fix
from .runtime import pickle_frames


class RemoteError(Exception):
    """A remote exception whose class could not be loaded in the kernel (its rebuilt class is named as the
    job's was, with this as its base); `remote_type` is the job's module.Name."""

    remote_type = ""


class _ExceptionUnpickler(pickle.Unpickler):
    """Loads exceptions of classes the kernel has already imported, with plain arguments: the pickle names
    every class it needs, and anything that is not such an exception class (a function such as os.system,
    a class pickled by value, any other object) stops the load."""

    def find_class(self, module: str, name: str) -> Any:
        found: Any = sys.modules.get(module)
        for part in name.split("."):
            found = getattr(found, part, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
        raise pickle.UnpicklingError(f"{module}.{name} is not an exception class imported in the kernel")


def load_exception(path: Path) -> BaseException | None:
    """The job's exception when it is made only of allowed parts; None (type and message from the JSON)
    otherwise."""
    try:
        exc = pickle_frames.load(path, _ExceptionUnpickler)
    except Exception:  # noqa: BLE001 - refused or unreadable: the JSON record is rebuilt instead
        return None
    return exc if isinstance(exc, BaseException) else None


def rebuild_exception(error: dict[str, Any], pickled: BaseException | None) -> BaseException:
    if pickled is not None:
        return pickled
    cls = getattr(builtins, error.get("type", ""), None)
    if error.get("module") == "builtins" and isinstance(cls, type) and issubclass(cls, BaseException):
        try:
            return cls(error.get("message", ""))
        except Exception:  # noqa: BLE001 - exotic constructors: fall through to RemoteError
            pass
    # Not loadable here (a class defined in the cell, pickled by value, or not imported in the kernel): a
    # RemoteError of the same name, so the traceback reads as the job's did; `except RemoteError` catches it.
    name, module = str(error.get("type") or "RemoteError"), str(error.get("module") or "")
    kind = type(name, (RemoteError,), {"__module__": module, "__qualname__": name})
    exc: RemoteError = kind(error.get("message", ""))
    exc.remote_type = f"{module}.{name}" if module else name
    return exc


def raise_in_source(error: dict[str, Any], pickled: BaseException | None, source: str, *, note: str) -> NoReturn:
    """Raise the remote exception through synthetic frames at the remote line numbers of `source`.

    Each frame is a real code object compiled under the source's filename, so IPython and the plain
    traceback module show the user's own lines, not generated files.
    """
    __tracebackhide__ = True
    exc = rebuild_exception(error, pickled)
    fix = missing_module_fix(exc)
    if fix and not error.get("frames"):  # the inputs needed it before the code ran: one line, the fix in it
        raise MissingInImage(f"{exc}; {fix}",
                             name=getattr(exc, "name", None)) from None
    filename = error.get("source_filename") or "<containerjob>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    frames = [f for f in error.get("frames", []) if f.get("filename") == filename]
    others = [f for f in error.get("frames", []) if f.get("filename") != filename]
    if hasattr(exc, "add_note"):
        if fix:
            exc.add_note(fix)
        exc.add_note(note)
        if others:
            last = others[-1]
            exc.add_note(f"innermost remote frame: {last['filename']}, line {last['lineno']}, in {last['name']}")
    if not frames:
        raise exc
    call: Any = None
    for index, frame in enumerate(reversed(frames)):
        statement = "raise __cj_exc__" if index == 0 else "__cj_next__()"
        code = compile("\n" * (max(frame["lineno"], 1) - 1) + statement, filename, "exec")
        name = frame["name"] if frame["name"] != "<module>" else "<cell>"
        code = code.replace(co_name=name)
        call = types.FunctionType(code, {"__cj_exc__": exc, "__cj_next__": call, "__builtins__": builtins})
    call()
    raise AssertionError("unreachable")  # pragma: no cover
