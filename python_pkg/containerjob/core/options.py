"""Everything produced from the option table (option_table.py): `RunOptions`, the argparse arguments
of the magic and the CLI, REST validation, the per-backend check, the openapi schema and the
TypeScript module the sidebar's forms read."""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .errors import Problems, SpecError
from .option_table import OPTIONS, WHERE, Option

_PY_TYPES = {"text": "str | None", "flag": "bool", "list": "list[str]"}


def _field(option: Option) -> tuple[str, str, Any]:
    if option.kind == "list":
        return option.name, _PY_TYPES["list"], dataclasses.field(default_factory=list)
    return option.name, _PY_TYPES[option.kind], dataclasses.field(default=option.default)


if TYPE_CHECKING:  # what the type checker sees: the table's fields, written by .ci/generate_options.py
    # BEGIN generated RunOptions
    @dataclasses.dataclass
    class RunOptions:
        """Options as typed by a user (magic line, CLI flags, REST body); strings until validated."""

        image: str | None = None
        command: str | None = None
        gpus: str | None = None
        env: list[str] = dataclasses.field(default_factory=list)
        secret_env: list[str] = dataclasses.field(default_factory=list)
        project: str | None = None
        output_dir: str | None = None
        timeout: str | None = None
        name: str | None = None
        backend: str | None = None
        labels: list[str] = dataclasses.field(default_factory=list)
        mounts: list[str] = dataclasses.field(default_factory=list)
        credentials: bool = False
        upload_on_failure: bool = True
        include: list[str] = dataclasses.field(default_factory=list)
        region: str | None = None
        machine_type: str | None = None
        accelerator: str | None = None
        replicas: str | None = None
        spot: bool = False
        service_account: str | None = None
        staging_bucket: str | None = None
        requirements: str | None = None
        pip: list[str] = dataclasses.field(default_factory=list)
        image_repo: str | None = None
        runtime_template: str | None = None
        sweep: list[str] = dataclasses.field(default_factory=list)
        sweep_file: str | None = None
        parallel: str | None = None
        sweep_into: str | None = None
        retries: str | None = None
        retry_on: str | None = None
    # END generated RunOptions
else:  # what runs: built from the table itself, so an entry added to it (a test's) is a field at once
    RunOptions = dataclasses.make_dataclass("RunOptions", [_field(o) for o in OPTIONS])
    RunOptions.__module__ = __name__
    RunOptions.__doc__ = "Options as typed by a user (magic line, CLI flags, REST body); strings until validated."


def argparse_arguments(option: Option) -> tuple[tuple[str, ...], dict[str, Any]]:
    """`add_argument` positional and keyword arguments, the same for the CLI and the magic."""
    kwargs: dict[str, Any] = {"dest": option.name, "help": option.help}
    if option.kind == "flag":
        kwargs["action"] = "store_false" if option.negated else "store_true"
    else:
        if option.kind == "list":
            kwargs.update(action="append", default=[])
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.choices:
            kwargs["choices"] = list(option.choices)
    return (option.cli_flag,), kwargs


_OPTION_WORD = re.compile(r"--?[A-Za-z]")  # a word meant as an option (not a value such as -1 or -)


def exact_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Match option names exactly, in `parser` and its subcommands: argparse's allow_abbrev would read
    `--gpu 1` as `--gpus 1` without a word, and a later option named --gpu... would change what it means."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                exact_options(sub)
    return parser


def unknown_option(word: str, flags: Iterable[str], listing: str) -> str:
    """What to say of an option word no option is named: "unknown option --gpu: did you mean --gpus?",
    the nearest flag by spelling; `listing` says where the options are listed."""
    name = word.split("=", 1)[0]
    close = difflib.get_close_matches(name, sorted(f for f in flags if f.startswith("--")), n=1)
    hint = f"did you mean {close[0]}?" if close else f"{listing} lists the options"
    return f"unknown option {name}: {hint}"


def _command_parser(parser: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    """The (sub)command parser the words go to (`schedule create`'s for `schedule create NB --cron ...`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            at = next((i for i, word in enumerate(words) if word in action.choices), None)
            if at is not None:
                return _command_parser(action.choices[words[at]], words[at + 1:])
    return parser


def _known(word: str, flags: Mapping[str, Any]) -> bool:
    name = word.split("=", 1)[0]
    return name in flags or (not name.startswith("--") and name[:2] in flags)  # -pNAME: a short flag's value


def parse_exact(parser: argparse.ArgumentParser, words: list[str], listing: str | None = None) -> argparse.Namespace:
    """`parser.parse_args(words)` with options matched exactly and an unknown one named with its nearest
    flag before anything else is said (a near miss of a required option is not "--cron is required"),
    through `parser.error`: the caller's error type. `listing`: where the options are listed (default:
    the command's --help)."""
    chosen = _command_parser(exact_options(parser), words)
    flags = chosen._option_string_actions
    word = next((w for w in words if _OPTION_WORD.match(w) and not _known(w, flags)), None)
    if word is not None:
        parser.error(unknown_option(word, flags, listing or f"{chosen.prog} --help"))
    return parser.parse_args(words)


def for_kind(*kinds: str | None) -> list[Option]:
    """The options any of the job kinds (cell, script, notebook, container) takes; none or None: all of them."""
    return [o for o in OPTIONS if not kinds or None in kinds or any(k in o.kinds for k in kinds)]


def add_arguments(add_argument: Callable[..., Any], *kinds: str | None) -> None:
    """Declare the run options of `kinds` through `add_argument` (an ArgumentParser's or IPython's `argument`)."""
    for option in for_kind(*kinds):
        args, kwargs = argparse_arguments(option)
        add_argument(*args, **kwargs)


def options_from_args(args: Any, **overrides: Any) -> RunOptions:
    """RunOptions from an argparse namespace made by `add_arguments` or `magic_arguments`."""
    values = {o.name: getattr(args, o.name) for o in OPTIONS if hasattr(args, o.name)}
    return RunOptions(**{**values, **overrides})


def options_from_mapping(data: Any, where: str = "options") -> RunOptions:
    """RunOptions from a JSON object (REST bodies, stored schedules): strings (numbers accepted), lists of
    strings, booleans; null is the default; unknown keys and wrong types are named, never dropped."""
    values, problems = mapping_problems(data, where)
    if problems:
        raise SpecError(problems[0][1])
    return RunOptions(**values)


Problem = tuple[str, str]  # (field, message): the field as the request names it, e.g. "options.gpus"


def mapping_problems(data: Any, where: str = "options") -> tuple[dict[str, Any], list[Problem]]:
    """A JSON object's run options checked key by key: the values that pass (typed as the table says) and a
    problem for every key that does not, so a form hears of all of them at once."""
    if data is None:
        return {}, []
    if not isinstance(data, Mapping):
        return {}, [(where, f"{where} must be a JSON object of run options such as {{\"image\": \"python:3.11-slim\"}}")]
    table = {o.name: o for o in OPTIONS}
    problems = [(f"{where}.{name}", f"{where}.{name} is not a run option; the options are {', '.join(sorted(table))}")
                for name in sorted(set(data) - set(table))]
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in table or value is None:  # null: the default
            continue
        problem = _value_problem(table[name], value, f"{where}.{name}")
        if problem:
            problems.append((f"{where}.{name}", problem))
        else:
            values[name] = str(value) if table[name].kind == "text" else value
    return values, problems


def _value_problem(option: Option, value: Any, field: str) -> str | None:
    if option.kind == "flag" and not isinstance(value, bool):
        return f"{field} must be true or false, not {value!r}"
    if option.kind == "list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return f"{field} must be a list of strings such as [\"A=1\"]"
    if option.kind == "text":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"{field} must be a string"
        if option.choices and str(value) not in option.choices:
            return f"{field} {str(value)!r} is not one of {', '.join(option.choices)}"
    return None


def spec_problems(options: RunOptions, check: Callable[[RunOptions], object],
                  where: str = "options") -> list[Problem]:
    """Every refusal of `check` (the checks the CLI runs), each on the field its SpecError names. A pass
    reports all its problems at once (SpecError.problems); their options are then set back to their defaults
    and `check` runs again, for the checks that run only after those passed (the backend's job kinds). A
    refusal that names no option, or one its option's default does not cure (a server setting's value), ends
    the search: one naming no option is reported under `where`."""
    problems: list[Problem] = []
    seen: set[str] = set()
    names = {o.name for o in OPTIONS}
    while True:
        try:
            check(options)
            return problems
        except SpecError as exc:
            found = exc.problems
        for problem in found:
            entry = (f"{where}.{problem.field}" if problem.field in names else where, str(problem))
            if entry not in problems:
                problems.append(entry)
        fields = {p.field or "" for p in found}  # "": a problem of no one option, which no default cures
        if not fields <= names or fields & seen:
            return problems
        seen |= fields
        options = dataclasses.replace(options, **{name: getattr(RunOptions(), name) for name in fields})


def changed(options: RunOptions) -> dict[str, Any]:
    """Only the options set to something other than their default (what a schedule stores)."""
    defaults = RunOptions()
    return {o.name: getattr(options, o.name) for o in OPTIONS if getattr(options, o.name) != getattr(defaults, o.name)}


def check_applicable(options: RunOptions, backend: str, exempt: frozenset[str] = frozenset()) -> None:
    """Refuse an option the chosen backend would ignore (no silent drop), naming where it applies; `exempt`:
    options a CustomJob file set, which mean the same file everywhere (core/custom_job_file.py)."""
    defaults, found = RunOptions(), Problems()
    for option in OPTIONS:
        if option.name in exempt:
            continue
        if getattr(options, option.name) != getattr(defaults, option.name) and not option.accepts(backend):
            hint = f"; {option.hint}" if backend in option.hint_for else ""
            found.add(SpecError(f"{option.cli_flag} is for {option.where()}, not --backend {backend}{hint}",
                                field=option.name))
    found.raise_any()


_KIND_WORDS = {"cell": "cells", "script": "Python files", "notebook": "notebooks",
               "container": "container jobs (an image's own program or --command, no Python file)"}


def check_kind(options: RunOptions, kind: str) -> None:
    """Refuse an option this job kind would ignore (--command with a Python file, --pip for a container job)."""
    defaults, found = RunOptions(), Problems()
    for option in OPTIONS:
        if getattr(options, option.name) != getattr(defaults, option.name) and kind not in option.kinds:
            takes = " and ".join(_KIND_WORDS[k] for k in option.kinds)
            found.add(SpecError(f"{option.cli_flag} is for {takes}, not {_KIND_WORDS[kind]}", field=option.name))
    found.raise_any()


def options_for_backend(backend: str) -> list[str]:
    """Names of the run options `backend` accepts, in table order."""
    return [o.name for o in OPTIONS if o.accepts(backend)]


# -- generated files ------------------------------------------------------------------------------------
_TS_TYPES = {"text": "string", "flag": "boolean", "list": "string[]"}
GENERATED_NOTE = "Generated from python_pkg/containerjob/core/option_table.py by `python .ci/generate_options.py`; do not edit."


def typescript_module() -> str:
    """js_src/options.generated.ts: the RunOptions type, the table, and the form fields per backend."""
    lines = [f"// {GENERATED_NOTE}", "", "/** Run options as the REST API takes them (`RunOptions`). */",
             "export interface IRunOptions {"]
    lines += [f"  /** {o.help} */\n  {o.name}?: {_TS_TYPES[o.kind]};" for o in OPTIONS]
    lines += ["}", "", "export type RunOptionName = keyof IRunOptions;", "",
              "/** How a launch form shows an option; `setting` names the server setting used as placeholder. */",
              "export interface IFormSpec {", "  label: string;", "  placeholder: string;",
              "  setting: string | null;", "}", "",
              "/** One row of the option table. `backends: null` means every backend accepts it. */",
              "export interface IRunOptionSpec {", "  name: RunOptionName;", "  flag: string;",
              "  kind: 'text' | 'flag' | 'list';", "  help: string;", "  metavar: string | null;",
              "  choices: string[] | null;", "  backends: string[] | null;", "  kinds: string[];",
              "  negated: boolean;", "  form: IFormSpec | null;",
              "  /** JobSpec fields the option sets; a worker pool's as `worker_pools.NAME`. */", "  spec: string[];",
              "}", ""]
    rows = [{"name": o.name, "flag": o.cli_flag, "kind": o.kind, "help": o.help, "metavar": o.metavar,
             "choices": list(o.choices) if o.choices else None, "backends": list(o.backends) if o.backends else None,
             "kinds": list(o.kinds), "negated": o.negated, "form": dataclasses.asdict(o.form) if o.form else None,
             "spec": list(o.spec)}
            for o in OPTIONS]
    lines.append(f"export const RUN_OPTIONS: IRunOptionSpec[] = {json.dumps(rows, indent=2)};")
    per_backend = {b: options_for_backend(b) for b in WHERE}  # the built-in backends
    lines += ["", "/** Options each built-in backend accepts (the server's `GET backends` says it for every backend). */",
              f"export const OPTIONS_BY_BACKEND: Record<string, RunOptionName[]> = {json.dumps(per_backend, indent=2)};",
              ""]
    return "\n".join(lines)


def run_options_stub(indent: str = "    ") -> str:
    """The `RunOptions` class the type checker reads in this module (its runtime twin is `make_dataclass`'s)."""
    lines = [f"{indent}@dataclasses.dataclass", f"{indent}class RunOptions:",
             f'{indent}    """Options as typed by a user (magic line, CLI flags, REST body); strings until validated."""',
             ""]
    for o in OPTIONS:
        default = "dataclasses.field(default_factory=list)" if o.kind == "list" else repr(o.default)
        lines.append(f"{indent}    {o.name}: {_PY_TYPES[o.kind]} = {default}")
    return "\n".join(lines)


def openapi_schema(indent: str = "    ") -> str:
    """The `RunOptions` schema of openapi.yaml (components.schemas), as YAML lines."""
    types = {"text": "{type: string", "flag": "{type: boolean", "list": "{type: array, items: {type: string}"}
    lines = [f"{indent}RunOptions:", f"{indent}  type: object", f"{indent}  additionalProperties: false",
             f"{indent}  description: The options of %%containerjob and `containerjob run`; unknown keys are a 400",
             f"{indent}  properties:"]
    for o in OPTIONS:
        where = f" Backends: {', '.join(o.backends)}." if o.backends else ""
        text = f"true unless false ({o.cli_flag}): {o.help}" if o.negated else o.help
        enum = f", enum: [{', '.join(o.choices)}]" if o.choices else ""
        lines.append(f"{indent}    {o.name}: {types[o.kind]}{enum}, description: {json.dumps(text + '.' + where)}}}")
    return "\n".join(lines)


def replace_block(text: str, block: str, marker: str = "RunOptions") -> str:
    """Swap the lines between `# BEGIN generated MARKER` and `# END generated MARKER` for `block`."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == f"# BEGIN generated {marker}"]
    ends = [i for i, line in enumerate(lines) if line.strip() == f"# END generated {marker}"]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"one '# BEGIN generated {marker}' line and one '# END generated {marker}' line expected")
    return "\n".join([*lines[:starts[0] + 1], block, *lines[ends[0]:]])
