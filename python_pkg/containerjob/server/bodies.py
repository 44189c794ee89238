"""Request-body fields shared by jobs and schedules, checked with messages that name the field."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from ..core.errors import SpecError
from ..core.spec import RunOptions

_KINDS = {f.name: ("list" if f.default_factory is list else "bool" if isinstance(f.default, bool) else "str")
          for f in fields(RunOptions)}


def run_options(data: Any, where: str = "options") -> RunOptions:
    """RunOptions from a JSON object: strings (numbers accepted), lists of strings, booleans; unknown keys refused."""
    if data is None:
        return RunOptions()
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a JSON object of run options such as {{\"image\": \"python:3.11-slim\"}}")
    unknown = sorted(set(data) - set(_KINDS))
    if unknown:
        raise SpecError(f"{where}.{unknown[0]} is not a run option; the options are {', '.join(sorted(_KINDS))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = _KINDS[name]
        if value is None:
            continue  # the default
        if kind == "bool" and not isinstance(value, bool):
            raise SpecError(f"{where}.{name} must be true or false, not {value!r}")
        if kind == "list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise SpecError(f"{where}.{name} must be a list of strings such as [\"A=1\"]")
        if kind == "str":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise SpecError(f"{where}.{name} must be a string")
            value = str(value)
        values[name] = value
    return RunOptions(**values)


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
