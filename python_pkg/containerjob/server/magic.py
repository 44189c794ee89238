"""`POST magic`: the sidebar's forms read and write a cell's `%%containerjob` line through the magic's own
parser (magics/magic_line.py), so the browser keeps no copy of its flags or of IPython's word splitting."""
from __future__ import annotations

from typing import Any

import tornado.web

from ..core.errors import SpecError
from ..core.option_table import OPTIONS
from ..magics.magic_line import MAX_LINE_CHARS, read_line, write_line
from .base import ContainerJobHandler

FIELDS = ("line", "options", "rest", "fields")


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise SpecError(f"{name} must be a string (the words of a %%containerjob line), not {type(value).__name__}")
    if len(value) > MAX_LINE_CHARS:
        raise SpecError(f"{name} is {len(value)} characters long; a %%containerjob line is at most {MAX_LINE_CHARS} "
                        "characters: shorten it")
    return value


def _fields(body: dict[str, Any]) -> list[str] | None:
    fields = body.get("fields")
    if fields is None:
        return None
    names = {o.name for o in OPTIONS}
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise SpecError("fields must be a list of run option names, e.g. [\"image\", \"env\"]")
    unknown = sorted(set(fields) - names)
    if unknown:
        raise SpecError(f"fields: {unknown[0]!r} is not a run option; the options are {', '.join(sorted(names))}")
    return fields


class MagicLineHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """`{line}`: what the magic reads in it; `{options, rest}`: the line a form writes, read back."""
        body = await self.blocking(self.json_body, FIELDS)
        fields = _fields(body)
        if "line" in body:
            if "options" in body or "rest" in body:
                raise SpecError("send either line (to read it) or options and rest (to write a line), not both")
            reading = read_line(_text(body, "line"), fields)
        else:
            reading = write_line(body.get("options"), _text(body, "rest"), fields)
        self.reply(reading.as_json())
