"""The `%%containerjob` line read and written with the magic's own parser (IPython's `arg_split` and the
magic's argparse arguments), for the sidebar's forms: which words set which run option, the words a form
does not show (kept as typed, in order), and a line from a form's options. The browser parses nothing."""
from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass, field
from typing import Any, Iterable

from IPython.core.error import UsageError
from IPython.utils.process import arg_split

from ..core.option_table import OPTIONS, Option
from ..core.options import Problem, exact_options, for_kind, mapping_problems, unknown_option
from .cell import ContainerJob, _names

MAX_LINE_CHARS = 10_000  # far past any line a person types; a longer one is refused naming the limit
_PARSER = exact_options(ContainerJob.containerjob.parser)  # the magic's parser, as decorated in cell.py
# The same parser reporting argparse's ArgumentError (which names its flag) instead of a message only.
_READER = copy.copy(_PARSER)
_READER.exit_on_error = False
_DEFAULTS = vars(_PARSER.parse_args([]))
_BY_NAME = {o.name: o for o in OPTIONS}
_CELL = {o.name: o for o in for_kind("cell")}
_ORDER = sorted(OPTIONS, key=lambda o: 0 if o.name == "backend" else 2 if o.kind == "list" else 1)
_UNSET = object()


@dataclass
class LineReading:
    """What the magic reads in a line: the run options it sets, those of the form's `fields`, the other
    words as typed, and a problem (field, message) for every word the magic would refuse."""

    line: str
    options: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    rest: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "options": self.options, "fields": self.fields, "rest": " ".join(self.rest),
                "problems": [{"field": f, "message": m} for f, m in self.problems]}


def _flags() -> list[str]:
    return list(_PARSER._option_string_actions)  # the magic's flags, its own included (argparse's table)


def _parse_one(words: list[str]) -> tuple[str | None, list[str]]:
    """The destination `words` set (None: none) and the words argparse did not know."""
    namespace = argparse.Namespace(**{d: [] if isinstance(v, list) else _UNSET for d, v in _DEFAULTS.items()})
    _, extra = _READER.parse_known_args(words, namespace)
    return next((d for d, v in vars(namespace).items() if v is not _UNSET and v != []), None), extra


def _set_by(words: list[str]) -> tuple[str | None, int]:
    """The destination the first word sets and how many words it takes (the flag, and its value unless
    it came with `=`), as argparse reads them; (None, 0) when argparse does not know the word.
    ArgumentError/UsageError when argparse refuses it."""
    try:
        dest, extra = _parse_one(words[:1])
    except argparse.ArgumentError:
        if len(words) < 2:
            raise
        dest, extra = _parse_one(words[:2])  # a flag that takes the next word as its value
        return (dest, 2) if dest and not extra else (None, 0)
    return (dest, 1) if dest and not extra else (None, 0)


def _unknown(words: list[str], at: int) -> tuple[int, str]:
    """How many words an unknown one takes (a flag and its value) and what to say of them."""
    word = words[at]
    if not word.startswith("-"):
        return 1, (f"{word} is no flag's value: the %%containerjob line takes only its flags; remove it, or "
                   "put it after the flag it belongs to")
    takes = 2 if at + 1 < len(words) and not words[at + 1].startswith("-") and "=" not in word else 1
    return takes, f"{unknown_option(word, _flags(), '%%containerjob?')}; correct it or remove it"


def _refused(words: list[str], at: int, exc: Exception) -> tuple[int, str | None, str]:
    """A word argparse refuses: how many words to set aside, the option it names, what to say."""
    flag = getattr(exc, "argument_name", None)
    option = next((o for o in OPTIONS if o.cli_flag == flag), None)
    after = words[at + 1] if at + 1 < len(words) else None
    if flag and (after is None or after.startswith("-")) and "=" not in words[at]:
        metavar = f" {option.metavar}" if option and option.metavar else " VALUE"
        return 1, option and option.name, f"{words[at]} needs a value: write {flag}{metavar}, or remove the flag"
    takes = 1 if "=" in words[at] or after is None else 2
    return takes, option and option.name, f"{' '.join(words[at:at + takes])}: {exc}; correct it or remove it"


def read_line(line: str, fields: Iterable[str] | None = None, where: str = "rest") -> LineReading:
    """The line as the magic reads it. `fields`: the run options a form shows (default: all that take a
    value); a flag option stays in the rest (a form has no checkbox for it). Problems of a run option's
    words are under `options.NAME`, those of other words under `where`, an unreadable line under `line`."""
    shown = set(fields) if fields is not None else {o.name for o in OPTIONS}
    reading = LineReading(line)
    try:
        words = arg_split(line)
    except ValueError as exc:  # arg_split's shlex: an unbalanced quote
        reading.problems.append(("line", f"cannot read the %%containerjob line: {exc}; balance the quotes"))
        return reading
    kept: list[str] = []
    at = 0
    while at < len(words):
        try:
            dest, takes = _set_by(words[at:])
        except (argparse.ArgumentError, UsageError) as exc:
            takes, name, message = _refused(words, at, exc)
            reading.problems.append((f"options.{name}" if name else where, message))
            reading.rest += words[at:at + takes]
            at += takes
            continue
        if dest is None:
            takes, message = _unknown(words, at)
            reading.problems.append((where, message))
            reading.rest += words[at:at + takes]
        else:
            group = words[at:at + takes]
            kept += group
            option = _CELL.get(dest)
            if option and option.kind != "flag" and option.name in shown:
                reading.fields[dest] = None  # its value: the whole line's, below
            else:
                reading.rest += group
        at += takes
    args = _PARSER.parse_args(kept)
    reading.options = {o.name: getattr(args, o.name) for o in _CELL.values()
                       if getattr(args, o.name) != _DEFAULTS[o.name]}
    reading.fields = {name: reading.options[name] for name in reading.fields}
    for flag, value in (("--in", args.inputs), ("--out", args.outputs)):
        try:
            _names(value)
        except UsageError as exc:
            reading.problems.append((where, f"{flag} {value}: {exc}"))
    return reading


def word_problem(flag: str, value: str) -> str | None:
    """Why a value cannot go on the line, or None: it must stay one word, and quotes would stay in it."""
    if any(c.isspace() for c in value):
        return f'{flag} "{value}" contains whitespace, which the %%containerjob line cannot carry; remove it'
    if '"' in value or "'" in value:
        return f"{flag} {value} contains a quote, which the %%containerjob line would keep as part of the value; remove it"
    return None


def _option_words(option: Option, value: Any) -> list[str]:
    if option.kind == "flag":
        return [option.cli_flag] if value != option.default else []
    values = value if option.kind == "list" else [value]
    texts = [str(v).strip() for v in values if str(v).strip()]
    return [w for t in texts if not (option.name == "gpus" and t == "0") for w in (option.cli_flag, t)]


def write_line(options: Any, rest: str = "", fields: Iterable[str] | None = None) -> LineReading:
    """The line a form writes: its options' flags (`--backend` first, repeatable ones last; no `--gpus 0`),
    then `rest` as typed; read back as the magic reads it. A value the line cannot carry is left out and
    named under `options.NAME`; an unreadable `rest` is left out of the line, named under `rest`, and comes
    back as typed at the end of the reply's rest."""
    values, problems = mapping_problems(options)
    words: list[str] = []
    for option in _ORDER:
        pair = _option_words(option, values[option.name]) if option.name in values else []
        bad = [word_problem(option.cli_flag, value) for value in pair[1::2]]
        if any(bad):
            problems.append((f"options.{option.name}", next(b for b in bad if b)))
        else:
            words += pair
    unread = ""
    try:
        words += arg_split(rest)
    except ValueError as exc:
        problems.append(("rest", f"Other flags: {exc}; balance the quotes"))
        unread = rest.strip()
    reading = read_line(" ".join(words), fields)
    reading.problems = problems + reading.problems
    reading.rest += [unread] if unread else []  # kept as typed, out of the line, until it can be read
    return reading
