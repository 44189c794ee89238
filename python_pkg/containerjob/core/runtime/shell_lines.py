"""A cell's `!cmd` and `x = !cmd` lines, which the kernel rewrites into calls of these (core/names.py
ipython_lines), run as IPython's system() and getoutput() run them: in /bin/sh, $name and {expression}
expanded from the caller's variables, a failing command no error but `_exit_code`.

Stdlib only: shipped with the runner.
"""
from __future__ import annotations

import builtins
import sys

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import string
    import types
    from typing import Any, Callable, Iterator, Optional, TypeVar

    Started = TypeVar("Started")  # what the command's start gives back: an exit code, a finished process
    Field = tuple[str, Optional[str], Optional[str], Optional[str]]  # string.Formatter.parse's (literal, field, spec, conversion)


SHELL = "/bin/sh"
SYSTEM_CALL = "__cj_shell__"  # what `!cmd` becomes
GETOUTPUT_CALL = "__cj_getoutput__"  # what `x = !cmd` becomes
# $name or $name.attr outside single quotes; $$ is a literal $ (IPython's DollarFormatter)
_DOLLAR = r"(.*?)\$(\$?[\w.]+)(?=([^']*'[^']*')*[^']*$)"


def used_in(source: str) -> bool:
    """Whether the kernel rewrote `!cmd` lines of this source into calls of ours (the runner installs them,
    and imports subprocess, only then)."""
    return SYSTEM_CALL in source or GETOUTPUT_CALL in source


def install() -> None:
    setattr(builtins, SYSTEM_CALL, system)
    setattr(builtins, GETOUTPUT_CALL, getoutput)


def system(cmd: str) -> None:
    """`!cmd`: its output goes to the job's log as it comes; sets _exit_code, raises nothing for a failure."""
    import subprocess

    frame = sys._getframe(1)
    sys.stdout.flush()  # what the cell printed before comes first
    sys.stderr.flush()
    frame.f_globals["_exit_code"] = _run(frame, cmd, subprocess.call)


def getoutput(cmd: str) -> list[str]:
    """`x = !cmd`: its output (stderr included) as a list of lines; a plain list, which the kernel can
    unpickle, where IPython gives an SList."""
    import subprocess

    frame = sys._getframe(1)
    done = _run(frame, cmd, lambda argv: subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    return done.stdout.decode("utf-8", errors="replace").splitlines()


def _run(frame: types.FrameType, cmd: str, start: Callable[[list[str]], Started]) -> Started:
    try:
        return start([SHELL, "-c", expand(cmd, frame)])
    except FileNotFoundError:
        raise RuntimeError(
            "line %d of the cell (!%s) runs a shell command, but this image has no %s; use an image with a shell, "
            "or run the program without one: subprocess.run([...])" % (frame.f_lineno, cmd, SHELL)
        ) from None


def expand(cmd: str, frame: types.FrameType) -> str:
    """{expression} and $name from the caller's variables, as IPython does; when one cannot be expanded
    (a shell variable such as $HOME, awk's {print $1}) the command goes to the shell as written."""
    namespace = dict(frame.f_globals)
    namespace.update(frame.f_locals)
    try:
        return "".join(_expanded(cmd, namespace))
    except Exception:  # noqa: BLE001 - IPython's rule: anything that fails leaves the command unexpanded
        return cmd


def _expanded(cmd: str, namespace: dict[str, Any]) -> Iterator[str]:
    import string  # with re, only once a `!cmd` runs: every job imports this module

    formatter = string.Formatter()
    for literal, field, spec, conversion in _fields(formatter, cmd):
        yield literal
        if field is not None:
            expression = field + ":" + spec if spec else field  # {x[1:3]} slices: a spec is part of the expression
            yield format(formatter.convert_field(eval(expression, namespace), conversion), "")


def _fields(formatter: string.Formatter, cmd: str) -> Iterator[Field]:
    """string.Formatter's fields, with each $name found in the literal text as a field of its own."""
    import re

    for literal, field, spec, conversion in formatter.parse(cmd):
        kept, end = "", 0
        for match in re.finditer(_DOLLAR, literal):
            before, name = match.group(1, 2)
            if name.startswith("$"):
                kept += before + name
            else:
                yield kept + before, name, "", None
                kept = ""
            end = match.end()
        yield kept + literal[end:], field, spec, conversion
