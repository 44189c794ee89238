"""Request-body fields shared by jobs and schedules, checked with messages that name the field."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import SpecError
from ..core.gcs_uri import split_gs
from ..core.host_paths import confine
from ..core.options import Problem, RunOptions, for_kind, mapping_problems


def run_options(data: Any, where: str = "options", kind: str | None = None) -> RunOptions:
    """RunOptions from a JSON object, checked against the option table (types, and the job kind's options)."""
    options, problems = checked_options(data, where, kind)
    if problems:
        raise SpecError(problems[0][1])
    return options


def checked_options(data: Any, where: str = "options", kind: str | None = None, root: Path | None = None,
                    store_home: Path | None = None) -> tuple[RunOptions, list[Problem]]:
    """Every problem of a JSON object of run options (types, the job kind's options, and with `root` the host
    paths), and RunOptions of the values that pass: a bad one is left at its default, so the checks that
    follow (core/spec.py) do not report it twice."""
    problems: list[Problem] = []
    if root is not None:
        data, problems = confined_options(data, root, where, store_home)
    values, found = mapping_problems(data, where)
    problems += found
    allowed = {o.name for o in for_kind(kind)}
    for name in sorted(set(values) - allowed):
        problems.append((f"{where}.{name}", f"{where}.{name} is not an option of {kind} jobs; they take "
                                            f"{', '.join(sorted(allowed))}"))
        del values[name]
    return RunOptions(**values), problems


# The run options that name a path on the server's disk, with an example of one inside the root. The job
# reads requirements and writes output_dir (bind-mounted read-write into the container): a client names
# them under the server's root, as it does notebooks; a gs:// output_dir is parsed as every gs:// URI is.
PATH_OPTIONS = {"requirements": "work/requirements.txt", "output_dir": "outputs/run-1, or gs://BUCKET/PREFIX"}


def confined_options(data: Any, root: Path, where: str = "options",
                     store_home: Path | None = None) -> tuple[Any, list[Problem]]:
    """Options with their host paths made absolute under the server's root (links resolved) and held to
    core/host_paths.py's rule, and a problem naming each path that leads anywhere else (that option is left
    out). `where`: the field the options came from (`options`, or `config` for a CustomJob file's)."""
    if not isinstance(data, dict):
        return data, []  # checked_options says what is wrong with it
    confined, problems = dict(data), []
    for name, example in PATH_OPTIONS.items():
        value, field = data.get(name), f"{where}.{name}"
        if not isinstance(value, str) or not value:
            continue
        try:
            if value.startswith("gs://"):
                split_gs(value, field)
            else:
                full = under_root(root, value, field, example)
                confined[name] = str(confine(full, field, store_home=store_home, shown=value,
                                             fix=f"give a folder of your own under the server's root, e.g. {example}"))
        except SpecError as exc:
            problems.append((field, str(exc)))
            del confined[name]
    return confined, problems


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


def under_root(root: Path, path: str, field: str = "path", example: str = "work/report.ipynb") -> Path:
    """A path the client gave relative to the server's root directory, with its links resolved: `..`, an
    absolute path or a link that leads out of the root is refused, so a request never reaches other files."""
    if not path or "\0" in path or Path(path).is_absolute():
        raise SpecError(f"{field} {path!r} must be a path relative to the server's root directory, e.g. {example}")
    try:
        full = (root / path).resolve()
    except (OSError, RuntimeError) as exc:  # a name too long; a symlink loop (RuntimeError before Python 3.13)
        raise SpecError(f"{field} {path!r} cannot be resolved ({getattr(exc, 'strerror', None) or exc}); give a "
                        f"path inside the server's root directory, e.g. {example}") from None
    if not full.is_relative_to(root):
        raise SpecError(f"{field} {path!r} leads outside the server's root directory; give a path inside it, "
                        f"e.g. {example}")
    return full
