"""Notebook parameters as typed in a form -> the values a job gets, by the type papermill inferred for each
(`GET notebooks/parameters`); only the texts changed from the declared default count. The browser sends
the texts and shows what comes back: it types nothing itself."""
from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from .options import Problem

_INT = re.compile(r"[-+]?\d+")
_EXAMPLES = {"int": "an int, e.g. 3", "float": "a number, e.g. 0.1", "bool": "True or False",
             "list": "a JSON list, e.g. [1, 2]", "dict": 'a JSON dict, e.g. {"a": 1}'}


def default_text(parameter: Mapping[str, Any]) -> str:
    """The text a parameter's input starts with: its declared default (Python source) as it is."""
    value = parameter.get("default")
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def _unquote(text: str) -> str:
    match = re.fullmatch(r"(['\"])(.*)\1", text, re.S)
    return match.group(2) if match else text


def _typed(kind: str, text: str) -> Any:
    """The value of `text` for a parameter of type `kind`; ValueError when it does not fit."""
    if kind == "int" and _INT.fullmatch(text):
        return int(text)
    if kind == "float" and text and math.isfinite(number := float(text)):
        return number
    if kind == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "str":
        return _unquote(text)
    if kind in ("list", "dict"):
        return json.loads(text)
    if kind not in _EXAMPLES:  # no type declared: JSON when it reads as JSON, else the text
        try:
            return json.loads(text)
        except ValueError:
            return _unquote(text)
    raise ValueError(text)


def typed_parameters(declared: list[Mapping[str, Any]], texts: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The values of the texts changed from their defaults, typed, and a problem under `parameters.NAME` for
    each text that does not fit its parameter's type, naming the form expected."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for parameter in declared:
        name, kind = str(parameter.get("name", "")), str(parameter.get("type") or "")
        text = texts.get(name)
        if text is None or text.strip() == default_text(parameter).strip():
            continue
        try:
            values[name] = _typed(kind, text.strip())
        except ValueError:
            problems.append((f"parameters.{name}", f'parameter {name}: "{text.strip()}" is not {_EXAMPLES[kind]}'))
    return values, problems
