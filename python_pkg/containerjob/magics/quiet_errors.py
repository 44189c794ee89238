"""Endings of a cell job that are not errors in anyone's code (a cancel the user asked for, an interrupt) are
one line in the cell, not a traceback through the magic and threading, and so is a module the job's inputs
need that its image lacks (with the fix); a job's own exception shows the cell's frames only. Both through
IPython's own hooks: its custom exception handler and `__tracebackhide__`."""
from __future__ import annotations

from typing import Any

from ..core.errors import JobFailed
from ..core.kernel_env import MissingInImage

HIDE = "__tracebackhide__"


class JobCancelled(JobFailed):
    """The job was cancelled (from the sidebar, the CLI, or by an interrupt): nothing came back."""


class Interrupted(KeyboardInterrupt):
    """Kernel > Interrupt reached the cell while its job ran; the message says what became of the job."""


ONE_LINE = (JobCancelled, Interrupted, MissingInImage)


def _one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    name = "KeyboardInterrupt" if issubclass(etype, KeyboardInterrupt) else \
        "ModuleNotFoundError" if issubclass(etype, MissingInImage) else etype.__name__
    shell._showtraceback(etype, value, [f"{name}: {value}"])  # how IPython shows any traceback it made


def install(shell: Any) -> None:
    """The one-line endings unless another extension already owns IPython's custom exception handler (then
    they stay tracebacks)."""
    if not shell.custom_exceptions:
        shell.set_custom_exc(ONE_LINE, _one_line)
    if _forget_hidden not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _forget_hidden)


def uninstall(shell: Any) -> None:
    if shell.custom_exceptions == ONE_LINE:
        shell.set_custom_exc((), None)
    if _forget_hidden in shell.events.callbacks["post_run_cell"]:
        shell.events.unregister("post_run_cell", _forget_hidden)


def hide_cell_frame(shell: Any) -> None:
    """The cell's own frame (`get_ipython().run_cell_magic(...)`) is hidden from the traceback IPython is
    about to show, so a job's exception reads as the cell's; undone once that cell has run."""
    shell.user_ns[HIDE] = True


def _forget_hidden(*_args: Any) -> None:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.user_ns.pop(HIDE, None)
