"""Every file a job writes for the host (its error, its results, their signatures, an executed notebook) is
data from a writer the host does not trust: read here and only here, as a regular file reached through no
link, up to a size per kind, and checked against the shape the host uses. Anything else is one
OutputUnreadable ("its error.json was unreadable: ..."), which finalisation turns into a FAILED job with
that note: nothing a job writes can make a reader raise anything else, or show a file of the host."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import ContainerJobError

MiB = 1 << 20
ERROR_MAX = 1 * MiB  # error.json: a type, a message and a traceback's frames
RESULT_MAX = 16 * MiB  # result.json: a summary per value, plain scalars inline (4 KiB each at most)
SIGNATURES_MAX = 4 * MiB  # signatures.json: a MAC per result file
REPLICAS_MAX = 1 * MiB  # replicas.json: one short entry per replica
NOTEBOOK_MAX = 256 * MiB  # an executed notebook, images in its outputs included
KEPT_MAX = 1 * MiB  # .containerjob-kept.json: counts and at most 50 files not kept, each named once
MAX_LINENO = 10_000_000  # a frame's line number, as a source file could have it
MAX_NAMES = 4096  # characters of a path a job names (a longer one is no file of its output)
Check = Callable[[Any], "str | None"]  # the reason a parsed value has not the expected shape, or None


class OutputUnreadable(ContainerJobError):
    """A file a job wrote for the host is not what the host reads: a link, not a regular file, too large,
    not JSON or not of the expected shape. The message is the note a failed job's record carries."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"its {name} was unreadable: {reason}")
        self.name = name
        self.reason = reason


def size_text(size: int) -> str:
    return f"{size / MiB:.1f} MiB" if size >= MiB else f"{max(1, round(size / 1024))} KiB"


def open_regular(root: Path, relpath: str) -> int | None:
    """A read-only descriptor of the regular file at `relpath` under `root` (a folder the host made), None
    when there is none. No part of `relpath` may be a link: each is opened with O_NOFOLLOW from the one
    before, so a link the job made (to a host file, or a folder of the host) is refused, never followed;
    a FIFO or device is refused before it is opened for reading."""
    parts = relpath.split("/")
    if len(relpath) > MAX_NAMES or any(p in ("", ".", "..") for p in parts):
        raise OutputUnreadable(relpath, "its name is not a file inside the job's output folder")
    try:
        folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
            os.close(folder)
            folder = inner
        info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        _regular(relpath, info)
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OutputUnreadable(relpath, "a folder on its path is a link, and links a job made are never "
                                            "followed") from None
        raise OutputUnreadable(relpath, exc.strerror or str(exc)) from None
    finally:
        os.close(folder)
    try:
        _regular(relpath, os.fstat(fd))  # what was opened, should the name have changed since the stat
    except OutputUnreadable:
        os.close(fd)
        raise
    return fd


def _regular(name: str, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise OutputUnreadable(name, "it is a link, and links a job made are never followed")
    if not stat.S_ISREG(info.st_mode):
        raise OutputUnreadable(name, "it is not a regular file")


def read_bytes(root: Path, relpath: str, limit: int) -> bytes | None:
    """The whole file (None when there is none), refused over `limit` bytes (one that grows while read too)."""
    fd = open_regular(root, relpath)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        data = fh.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        raise OutputUnreadable(relpath, f"it is {size_text(max(size, len(data)))}, over the {size_text(limit)} "
                                        "limit for it")
    return data


def chunks(root: Path, relpath: str) -> Iterator[bytes]:
    """A regular file's bytes a MiB at a time, for hashing a value of any size; nothing when there is none."""
    fd = open_regular(root, relpath)
    if fd is None:
        return
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(MiB):
            yield chunk


def parse(data: bytes | str, name: str, check: Check) -> Any:
    """JSON text of the expected shape, or OutputUnreadable saying what it is instead."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; a deep nest recurses
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else f"it is not JSON ({exc})"
        raise OutputUnreadable(name, reason) from None
    problem = check(value)
    if problem:
        raise OutputUnreadable(name, problem)
    return value


def read_json(root: Path, relpath: str, limit: int, check: Check) -> Any:
    """The parsed file, or None when the job wrote none."""
    data = read_bytes(root, relpath, limit)
    return None if data is None else parse(data, relpath, check)


# -- shapes: what each reader uses, with the types it uses them as -----------------------------------------
def kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fields(value: Any, what: str, types: dict[str, Callable[[Any], bool]], required: tuple[str, ...] = ()) -> str | None:
    """The first problem of an object's fields: `types` says how each one present is to be."""
    if not isinstance(value, dict):
        return f"{what} is {kind(value)}, not an object"
    owner = "its" if what == "it" else f"{what}'s"
    for key in required:
        if key not in value:
            return f"{what} has no {key!r}"
    for key, ok in types.items():
        if key in value and not ok(value[key]):
            return f"{owner} {key!r} has the wrong type ({kind(value[key])})"
    return None


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, str) and n.isidentifier() for n in value)


def _named(value: Any, each: Callable[[Any], bool]) -> bool:
    """An object keyed by Python names (a value's file is named after its key: no other name may be one)."""
    return isinstance(value, dict) and all(k.isidentifier() and each(v) for k, v in value.items())


def _module(value: Any) -> bool:
    return isinstance(value, str) and all(part.isidentifier() for part in value.split("."))


def _frame(value: Any) -> bool:
    """A traceback frame; its line number makes that many lines in the kernel (remote_error.raise_in_source)."""
    return fields(value, "a frame", {"filename": lambda v: isinstance(v, str),
                                     "lineno": lambda v: is_int(v) and 0 <= v <= MAX_LINENO,
                                     "name": lambda v: isinstance(v, str), "line": _str_or_none},
                  ("filename", "lineno", "name")) is None


def check_error(value: Any) -> str | None:
    """error.json: the runner's (runner.py) or the notebook runner's record of the failure."""
    return fields(value, "it", {"type": lambda v: isinstance(v, str), "message": lambda v: isinstance(v, str),
                                "module": _str_or_none, "source_filename": _str_or_none,
                                "pickled": lambda v: isinstance(v, bool),
                                "frames": lambda v: isinstance(v, list) and all(map(_frame, v))},
                  ("type", "message"))


def _output(value: Any) -> bool:
    return fields(value, "a value", {"type": lambda v: isinstance(v, str), "size": is_int}, ("type", "size")) is None


def check_result(value: Any) -> str | None:
    """result.json: the summaries of the values (values_out.py) and the trailing expression's repr."""
    return fields(value, "it", {
        "outputs": lambda v: _named(v, _output),
        "skipped": lambda v: _named(v, lambda reason: isinstance(reason, str)),
        "modules": lambda v: _named(v, _module),
        "updated": _names, "unchanged": _names,
        "last": lambda v: v is None or fields(v, "last", {"repr": lambda r: isinstance(r, str)}, ("repr",)) is None,
    })


def check_signatures(value: Any) -> str | None:
    """signatures.json: a MAC per file and one over them all (runtime/result_signing.py)."""
    return fields(value, "it", {"files": lambda v: isinstance(v, dict) and all(isinstance(m, str) for m in v.values()),
                                "manifest": lambda v: isinstance(v, str)}, ("files", "manifest"))


def _lines(value: Any) -> bool:
    """nbformat's multiline strings: one string, or a list of them."""
    return isinstance(value, str) or isinstance(value, list) and all(isinstance(s, str) for s in value)


def _cell_output(value: Any) -> bool:
    return fields(value, "an output", {"output_type": lambda v: isinstance(v, str), "text": _lines,
                                       "data": lambda v: fields(v, "data", {"text/plain": _lines}) is None}) is None


def check_notebook(value: Any) -> str | None:
    """An executed notebook, as far as its text outputs and first error are read (executor.notebook_text)."""
    cell = {"outputs": lambda v: isinstance(v, list) and all(map(_cell_output, v))}
    return fields(value, "it", {"cells": lambda v: isinstance(v, list) and all(fields(c, "a cell", cell) is None
                                                                              for c in v)})


def _not_kept(value: Any) -> bool:
    return fields(value, "an entry", {"path": lambda v: isinstance(v, str), "reason": lambda v: isinstance(v, str)},
                  ("path", "reason")) is None


def check_kept(value: Any) -> str | None:
    """.containerjob-kept.json: what an Executor run's closing cell kept and what not (runtime/keep_files.py)."""
    return fields(value, "it", {"kept": is_int, "more_not_kept": is_int,
                                "not_kept": lambda v: isinstance(v, list) and all(map(_not_kept, v))},
                  ("kept", "not_kept", "more_not_kept"))
