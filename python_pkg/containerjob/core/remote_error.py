"""Re-raise a job's remote exception in the kernel with frames that point at the user's source lines."""
from __future__ import annotations

import builtins
import linecache
import types
from typing import Any, NoReturn


class RemoteError(Exception):
    """A remote exception whose class does not exist in the kernel; the message keeps its full name."""


def rebuild_exception(error: dict[str, Any], pickled: BaseException | None) -> BaseException:
    if pickled is not None:
        return pickled
    cls = getattr(builtins, error.get("type", ""), None)
    if error.get("module") == "builtins" and isinstance(cls, type) and issubclass(cls, BaseException):
        try:
            return cls(error.get("message", ""))
        except Exception:  # noqa: BLE001 - exotic constructors: fall through to RemoteError
            pass
    return RemoteError(f"{error.get('module')}.{error.get('type')}: {error.get('message')}")


def raise_in_source(error: dict[str, Any], pickled: BaseException | None, source: str, *, note: str) -> NoReturn:
    """Raise the remote exception through synthetic frames at the remote line numbers of `source`.

    Each frame is a real code object compiled under the source's filename, so IPython and the plain
    traceback module show the user's own lines, not generated files.
    """
    __tracebackhide__ = True
    exc = rebuild_exception(error, pickled)
    filename = error.get("source_filename") or "<containerjob>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    frames = [f for f in error.get("frames", []) if f.get("filename") == filename]
    others = [f for f in error.get("frames", []) if f.get("filename") != filename]
    if hasattr(exc, "add_note"):
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
