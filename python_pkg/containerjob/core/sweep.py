"""A sweep: the same job once per combination of parameter values (`--sweep NAME=V1,V2`, `--sweep-file`).

The grid is read here, once, for the magic and the CLI alike; the jobs themselves are ordinary jobs, each
labelled with the sweep's ID (`containerjob-sweep`), so the store, the sidebar and Vertex AI group them.
"""
from __future__ import annotations

import ast
import dataclasses
import itertools
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .options import RunOptions

SWEEP_LABEL = "containerjob-sweep"  # its value: the sweep's ID, a valid label value on Docker and Vertex AI
SWEEP_OPTIONS = ("sweep", "sweep_file", "parallel", "sweep_into")
DEFAULT_PARALLEL = 2
MAX_COMBINATIONS = 1000  # each one is a job: a grid bigger than this is a typo, or a job for a tuning service


@dataclass
class Sweep:
    """The combinations to run (in order), how many at once, and the kernel name the results go to."""

    id: str
    names: list[str]
    combinations: list[dict[str, Any]]
    parallel: int
    into: str

    def describe(self) -> str:
        return (f"sweep {self.id}: {len(self.combinations)} jobs over {', '.join(self.names)}, "
                f"{self.parallel} at once")


def requested(options: RunOptions) -> bool:
    return bool(options.sweep or options.sweep_file)


def without_sweep(options: RunOptions) -> RunOptions:
    """The options each of the sweep's jobs runs with: the sweep's own are the sweep's, not the job's."""
    defaults = RunOptions()
    return dataclasses.replace(options, **{name: getattr(defaults, name) for name in SWEEP_OPTIONS})


def refuse_in_one_job(options: RunOptions) -> None:
    """A sweep option that reaches a single job (a REST body, a schedule) would be dropped: refuse it."""
    for name in SWEEP_OPTIONS:
        if getattr(options, name) not in (None, [], False):
            flag = "--" + name.replace("_", "-")
            raise SpecError(f"{flag} runs a sweep, which the magic (%%containerjob {flag} ...) and the command line "
                            f"(containerjob run FILE {flag} ...) start; one job takes no {flag}: leave it out",
                            field=name)


def read_sweep(options: RunOptions, *, default_parallel: int = DEFAULT_PARALLEL) -> Sweep:
    """The grid of `--sweep` (the product of all) or `--sweep-file` (not both), checked before any job runs."""
    if options.sweep and options.sweep_file:
        raise SpecError("--sweep and --sweep-file both give the grid: keep one", field="sweep_file")
    if options.sweep_file:
        names, combinations = _from_file(options.sweep_file)
    else:
        axes = [_axis(item) for item in options.sweep]
        names = [name for name, _ in axes]
        seen = [n for n in names if names.count(n) > 1]
        if seen:
            raise SpecError(f"--sweep {seen[0]} is given twice: give each name once, its values separated by "
                            f"commas (--sweep {seen[0]}=1,2,3)", field="sweep")
        combinations = [dict(zip(names, values)) for values in itertools.product(*(v for _, v in axes))]
    if len(combinations) > MAX_COMBINATIONS:
        raise SpecError(f"the sweep has {len(combinations)} combinations; at most {MAX_COMBINATIONS} run as one "
                        "sweep: split the grid", field="sweep")
    into = (options.sweep_into or "sweep_results").strip()
    if not into.isidentifier():
        raise SpecError(f"--sweep-into {into!r} is not a variable name: give one such as results", field="sweep_into")
    return Sweep(id=f"sw-{secrets.token_hex(4)}", names=names, combinations=combinations,
                 parallel=parse_parallel(options.parallel, default_parallel), into=into)


def parse_parallel(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        count = int(str(value).strip())
    except ValueError:
        raise SpecError(f"--parallel {value!r} is not a number: give how many jobs run at once, e.g. --parallel 4",
                        field="parallel") from None
    if not 1 <= count <= 100:
        raise SpecError(f"--parallel {count} is out of range: 1..100 jobs at once", field="parallel")
    return count


def local_parallel(gpus_per_job: str | None, host_gpus: int) -> int:
    """The local default: one job per free GPU share when the jobs take GPUs (`--gpus N`), else 2."""
    if not gpus_per_job:
        return DEFAULT_PARALLEL
    if gpus_per_job.strip() == "all":
        return 1
    try:
        return max(1, host_gpus // max(1, int(gpus_per_job)))
    except ValueError:
        return 1  # the spec names the bad --gpus value itself


def value_of(text: str) -> Any:
    """A value as typed: a Python literal (1, 0.1, True, None, 'a b', (1, 2)), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _axis(item: str) -> tuple[str, list[Any]]:
    name, sep, values = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise SpecError(f"--sweep {item!r}: write NAME=V1,V2,... with NAME a variable name (--sweep lr=0.1,0.01)",
                        field="sweep")
    words = [w.strip() for w in _split_values(values)]
    if not words or any(w == "" for w in words):
        raise SpecError(f"--sweep {item!r} has an empty value: separate the values by single commas "
                        f"(--sweep {name}=1,2,3)", field="sweep")
    return name, [value_of(w) for w in words]


def _split_values(text: str) -> list[str]:
    """Commas split values, except inside brackets and quotes: --sweep shape='(1, 2)',(3,4) is two values."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]


def _from_file(path_text: str) -> tuple[list[str], list[dict[str, Any]]]:
    """A YAML (or JSON) mapping of lists (their product), or a list of combinations (mappings, as they are)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path_text).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError, RuntimeError) as exc:  # ValueError: a NUL or not UTF-8; RuntimeError: ~nobody
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(f"--sweep-file {path_text!r}: cannot read it ({why})", field="sweep_file") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"--sweep-file {path_text} is not YAML: {str(exc).splitlines()[0]}", field="sweep_file") from None
    shape = ("write a mapping of lists (lr: [0.1, 0.01]) or a list of combinations (- {lr: 0.1, batch: 32})")
    if isinstance(data, dict) and data:
        if not all(isinstance(v, list) and v for v in data.values()):
            raise SpecError(f"--sweep-file {path_text}: every name needs a non-empty list of values; {shape}",
                            field="sweep_file")
        names = [str(n) for n in data]
        combinations = [dict(zip(names, values)) for values in itertools.product(*data.values())]
    elif isinstance(data, list) and data and all(isinstance(c, dict) and c for c in data):
        names = list(dict.fromkeys(str(n) for c in data for n in c))
        missing = next((c for c in data if set(map(str, c)) != set(names)), None)
        if missing is not None:
            raise SpecError(f"--sweep-file {path_text}: combination {missing} does not set {', '.join(names)}: "
                            "give every combination the same names", field="sweep_file")
        combinations = [{str(k): v for k, v in c.items()} for c in data]
    else:
        raise SpecError(f"--sweep-file {path_text}: {shape}", field="sweep_file")
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise SpecError(f"--sweep-file {path_text}: {bad[0]!r} is not a variable name", field="sweep_file")
    return names, combinations


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(args: list[str], combination: dict[str, Any]) -> list[str]:
    """A script's or container's arguments for one combination: `{name}` of a swept name is its value (as
    typed, str()); other braces stay as they are."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(combination[name]) if name in combination else match.group(0)

    return [_PLACEHOLDER.sub(one, arg) for arg in args]


def check_placeholders(args: list[str], names: list[str]) -> None:
    """A script sees the sweep only through its arguments: a swept name none of them uses would run the same
    job N times."""
    used = {m.group(1) for arg in args for m in _PLACEHOLDER.finditer(arg)}
    unused = [n for n in names if n not in used]
    if unused:
        raise SpecError(f"--sweep {unused[0]}: no argument says {{{unused[0]}}}, so every job would run the same: "
                        f"pass it after --, e.g. containerjob run train.py --sweep {unused[0]}=1,2 -- "
                        f"--{unused[0].replace('_', '-')} {{{unused[0]}}}", field="sweep")


def combination_text(combination: dict[str, Any]) -> str:
    return " ".join(f"{name}={value!r}" for name, value in combination.items())
