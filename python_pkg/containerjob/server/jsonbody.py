"""The one parser of request bodies: JSON within limits that every legitimate body keeps, so a hostile
body is a 400 naming the limit rather than the parser's own RecursionError or ValueError (a 500)."""
from __future__ import annotations

import json
from typing import Any

from ..core.errors import SpecError

# The deepest legitimate body is a notebook parameter holding nested data ({"parameters": {"cfg": {...}}}):
# the options and fields themselves nest at most 3 levels (body, options, a list of env values).
MAX_DEPTH = 64
# Longer number literals are no quantity a job takes (int() refuses past 4,300 digits); send such values as text.
MAX_NUMBER_CHARS = 100


def parse_body(raw: bytes) -> Any:
    """The body's JSON value (an empty body is `{}`); SpecError naming the problem and the limit."""
    try:
        data = json.loads(raw or b"{}", parse_int=_int, parse_float=_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise SpecError(f"the request body is not valid JSON ({exc}); send a JSON object") from None
    if depth_over(data, MAX_DEPTH):
        raise _too_deep()
    return data


def _too_deep() -> SpecError:
    return SpecError(f"the request body nests arrays and objects deeper than {MAX_DEPTH} levels, the limit; "
                     "send a flatter JSON object")


def depth_over(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (the top level is 1); a loop, not recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _checked_number(text: str) -> str:
    """A number literal as given, refused when longer than MAX_NUMBER_CHARS."""
    if len(text) > MAX_NUMBER_CHARS:
        raise SpecError(f"a number in the request is {len(text)} characters long; numbers are at most "
                        f"{MAX_NUMBER_CHARS} characters: send a shorter one")
    return text


def _int(text: str) -> int:
    return int(_checked_number(text))


def _float(text: str) -> float:
    return float(_checked_number(text))
