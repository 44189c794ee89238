"""Request-body fields shared by jobs and schedules, checked with messages that name the field."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import SpecError
from ..core.options import RunOptions, for_kind, options_from_mapping

def run_options(data: Any, where: str = "options", kind: str | None = None) -> RunOptions:
    """RunOptions from a JSON object, checked against the option table (types, and the job kind's options)."""
    options = options_from_mapping(data, where)
    allowed = {o.name for o in for_kind(kind)}
    extra = sorted(k for k, v in (data or {}).items() if k not in allowed and v is not None)  # null: the default
    if extra:
        raise SpecError(f"{where}.{extra[0]} is not an option of {kind} jobs; they take {', '.join(sorted(allowed))}")
    return options


def confined_options(data: Any, root: Path, where: str = "options") -> Any:
    """Options with file paths (requirements) made absolute under the server's root: a client names files
    there, as for notebooks, never elsewhere on the server's disk."""
    if isinstance(data, dict) and isinstance(data.get("requirements"), str) and data["requirements"]:
        return {**data, "requirements": str(under_root(root, data["requirements"], f"{where}.requirements"))}
    return data


def string(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise SpecError(f"the request body needs the field {name!r}")
        return None
    if not isinstance(value, str):
        raise SpecError(f"field {name!r} must be a string, not {type(value).__name__}")
    return value


def strings(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"field {name!r} must be a list of strings, e.g. [\"--epochs\", \"3\"]")
    return value


def mapping(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise SpecError(f"field {name!r} must be a JSON object of name: value pairs")
    return value


def under_root(root: Path, path: str, field: str = "path") -> Path:
    """A path the client gave relative to the server's root directory; nothing outside it."""
    if not path or "\0" in path or Path(path).is_absolute():
        raise SpecError(f"{field} {path!r} must be a path relative to the server's root directory, e.g. work/report.ipynb")
    try:
        full = (root / path).resolve()
    except OSError as exc:  # a symlink loop, a name too long
        raise SpecError(f"{field} {path!r} cannot be resolved ({exc.strerror}); give a path inside the root directory") from None
    if not full.is_relative_to(root):
        raise SpecError(f"{field} {path!r} leads outside the server's root directory; give a path inside it")
    return full
