"""IPython's own syntax in a cell, for a container that has no IPython: `!cmd` lines become calls of the
runner's shell functions; a magic line is refused, naming it. Found with IPython's own transformer, so it
lives here, in the IPython layer."""
from __future__ import annotations

from ..core.errors import SpecError
from ..core.runtime.shell_lines import GETOUTPUT_CALL, SYSTEM_CALL

TRANSFORM_LIMIT = 500  # IPython's own bound on the transforms of one cell
_SHELL_CALLS = {"get_ipython().system(": f"{SYSTEM_CALL}(", "get_ipython().getoutput(": f"{GETOUTPUT_CALL}("}


def ipython_lines(source: str) -> str:
    """The cell with `!cmd`, `!!cmd` and `x = !cmd` as calls of the runner's shell functions (found by IPython's
    own transformer, so strings and comments are left alone), line for line: tracebacks keep their line
    numbers. A magic (`%time ...`, `%%bash`, `x = %who`, help `x?`) cannot run in the container: a SpecError."""
    from IPython.core.inputtransformer2 import TransformerManager

    manager = TransformerManager()
    original = source.splitlines(keepends=True)
    lines = list(original)
    for _ in range(TRANSFORM_LIMIT):
        changed, after = manager.do_one_token_transform(lines)
        if not changed:
            break
        lines = _one_for_one(lines, after, original)
    return "".join(lines)


def _one_for_one(before: list[str], after: list[str], original: list[str]) -> list[str]:
    """One transform's result with its IPython call made the runner's, padded with blank lines where a
    continued (backslash) line was joined into one."""
    at = next(i for i, (old, new) in enumerate(zip(before, after)) if old != new)
    line = after[at]
    call = next((c for c in _SHELL_CALLS if c in line), None)
    if call is not None:
        line = line.replace(call, _SHELL_CALLS[call], 1)
    elif "get_ipython()." in line:  # else an autocall escape (`,f a b`), plain Python now
        raise SpecError(f"line {at + 1} of the cell is an IPython magic ({original[at].strip()}), which runs in the "
                        "kernel, not in a container job; run it in the kernel before the cell, or as a !command")
    return [*after[:at], line, *["\n"] * (len(before) - len(after)), *after[at + 1:]]
