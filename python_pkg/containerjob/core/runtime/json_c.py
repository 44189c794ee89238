"""JSON through CPython's C accelerator (`_json`) alone, for the runner's manifest and result.

The json package imports re (and enum, collections, ...): ~12 ms of every job's start, more than the rest
of the runner (bench/overhead.py). `_json` is the scanner and encoder json itself calls; this module gives
them the settings json.loads/json.dumps would. Stdlib only, shipped with the runner; where `_json` is
missing (a Python other than CPython), the json package does the work.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    from typing import Any, NoReturn
try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None  # type: ignore[assignment]

_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Settings:
    """The attributes _json.make_scanner reads from a json.JSONDecoder, with json.loads's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_CONSTANTS.__getitem__)


def _unknown(value: object) -> NoReturn:
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


if _json is not None:
    _scan = _json.make_scanner(_Settings())  # type: ignore[arg-type]  # it reads only these attributes
    _encode = _json.make_encoder(None, _unknown, _json.encode_basestring_ascii, None, ":", ",", False, False, True)


def loads(text: str) -> Any:
    """json.loads for a whole document (no leading or trailing whitespace other than a final newline)."""
    if _json is None:
        import json

        return json.loads(text)
    try:
        value, end = _scan(text, 0)
    except StopIteration as exc:
        raise ValueError("not JSON: nothing to read at character %d" % exc.value) from None
    if text[end:].strip():
        raise ValueError("not JSON: extra data at character %d" % end)
    return value


def dumps(value: object) -> str:
    """json.dumps(value, separators=(",", ":")): ASCII, NaN allowed, keys as given."""
    if _json is None:
        import json

        return json.dumps(value, separators=(",", ":"))
    return "".join(_encode(value, 0))
