"""The modules a pickle references, read from its opcodes without loading it (nothing in it runs): what
`--pip kernel` installs for a job's inputs (core/kernel_env.py)."""
from __future__ import annotations

import pickletools

_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_NO_PUSH = {"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"}


def modules_in_pickle(data: bytes) -> set[str]:
    """The modules of the pickle's globals (GLOBAL, INST, STACK_GLOBAL; names fetched from the memo too) and
    those cloudpickle re-imports by name (`subimport`, for the modules a by-value function uses)."""
    modules: set[str] = set()
    memo: dict[int, object] = {}
    pushed: list[object] = [None, None]  # the last two values pushed (None: not a string)
    subimport = False  # the next string pushed is a module cloudpickle imports
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            value: object = None
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                modules.add(module)
                subimport = _is_subimport(module, attr)
            elif name == "STACK_GLOBAL":
                named, called = pushed[-2], pushed[-1]
                if isinstance(named, str):
                    modules.add(named)
                    subimport = _is_subimport(named, str(called))
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1]
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = pushed[-1]  # type: ignore[arg-type]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                value = memo.get(int(arg))  # type: ignore[arg-type]
            elif name in _STRINGS:
                value = arg if isinstance(arg, str) else None
            if name in _NO_PUSH:
                continue
            if subimport and isinstance(value, str):
                modules.add(value)
                subimport = False
            pushed = [pushed[-1], value]
    except (ValueError, EOFError):  # a truncated or odd stream: what was read so far
        pass
    return {m for m in modules if m}


def _is_subimport(module: str, attr: str) -> bool:
    return module.startswith("cloudpickle") and attr in ("subimport", "dynamic_subimport")
