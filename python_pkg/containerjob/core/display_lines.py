"""Displays in a job's log: the marker lines the runner writes (core/runtime/rich_output.py), put together
again into mime bundles for the cell (magics/display.py), or shortened to a `[display: ...]` line for the
readers of a plain log (`containerjob logs`, the REST logs, the sidebar)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, Union

from .runtime.rich_output import END, MARKER, MAX_BUNDLE, PART_CHARS, display_key

# A part, after the `[workerpool1-0] ` a multi-replica log puts in front of each line of a replica
_PART = re.compile(r"(?P<replica>\[[\w.-]+\] )?" + re.escape(MARKER) + r"(?P<ident>[0-9a-f]+-[0-9]+);(?P<index>[0-9]+)/"
                   r"(?P<count>[0-9]+);(?P<size>[0-9]+);(?P<mimes>[\w.+/,-]*);(?P<mac>[0-9a-f]*);(?P<chunk>[^\x07\n]*)"
                   + re.escape(END))
_LINE_OF_PART = re.compile(r"(?m)^" + _PART.pattern + r"\n?")  # a marker line, with its newline
_DAMAGED = re.compile(re.escape(MARKER) + r"[^\x07\n]*\x07?")
MAX_PENDING = 2 * MAX_BUNDLE  # characters of unfinished bundles a view holds
MAX_HELD = 4 * PART_CHARS  # an unfinished marker line longer than this is damaged, not held back

Bundle = Dict[str, Any]  # {"data": {mime: value}, "metadata": {...}}
Item = Union[str, Bundle]  # a line of text (without its newline) or a display


@dataclass
class _Pending:
    count: int
    size: int
    mac: str
    chunks: list[str] = field(default_factory=list)


class Displays:
    """Splits a view's lines into text lines and displays; `key` (the job's signing key, when its results
    are signed) makes unsigned or altered displays a note instead: Cloud Logging is not only the job's."""

    def __init__(self) -> None:
        self.key: bytes | None = None
        self._pending: dict[str, _Pending] = {}

    def feed(self, line: str) -> list[Item]:
        """The items of one line: text around markers, each bundle once its last part arrived, notes."""
        if MARKER not in line:
            return [line]
        items: list[Item] = []
        at = 0
        for match in _PART.finditer(line):
            items += [line[at:match.start()]] if match.start() > at else []
            items += self._part(**match.groupdict())
            at = match.end()
        rest = line[at:]
        if MARKER in rest:
            items += [rest[:rest.index(MARKER)], "[containerjob] a display arrived damaged and is not shown"]
        elif rest:
            items.append(rest)
        return [item for item in items if item != ""]

    def close(self) -> list[str]:
        """Notes for displays whose end never came (the job was stopped while writing one)."""
        notes = ["[containerjob] a display was cut off before its end and is not shown" for _ in self._pending]
        self._pending.clear()
        return notes

    def _part(self, ident: str, index: str, count: str, size: str, mac: str, chunk: str, **_: str) -> list[Item]:
        pending = self._pending.get(ident)
        if index == "1":
            pending = self._pending[ident] = _Pending(int(count), int(size), mac)
        elif pending is None or int(index) != len(pending.chunks) + 1:
            self._pending.pop(ident, None)
            return ["[containerjob] parts of a display went missing; it is not shown"]
        pending.chunks.append(chunk)
        if sum(len(c) for p in self._pending.values() for c in p.chunks) > MAX_PENDING:
            self._pending.clear()
            return ["[containerjob] displays arrived too interleaved to put together; they are not shown"]
        if len(pending.chunks) < pending.count:
            return []
        del self._pending[ident]
        return [self._bundle("".join(pending.chunks), pending)]

    def _bundle(self, text: str, pending: _Pending) -> Item:
        if len(text) != pending.size:
            return "[containerjob] a display arrived incomplete and is not shown"
        if self.key is not None:
            expected = hmac.new(display_key(self.key), text.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, pending.mac):
                return "[containerjob] a display without this job's signature is not shown (it did not come from its runner)"
        try:
            bundle: Bundle = json.loads(text)  # checked below
        except (ValueError, RecursionError):  # a job's output is data: a deep nest is unreadable, not a crash
            return "[containerjob] a display arrived unreadable and is not shown"
        if not _is_bundle(bundle):
            return "[containerjob] a display is not a mime bundle and is not shown"
        return bundle


def _is_bundle(bundle: Any) -> bool:
    if not isinstance(bundle, dict) or not isinstance(bundle.get("data"), dict) or not bundle["data"]:
        return False
    return isinstance(bundle.get("metadata", {}), dict) and all(isinstance(m, str) for m in bundle["data"])


def summarise(text: str) -> str:
    """Log text with each display as one `[display: image/png, text/plain, 34 KiB]` line in place of its
    first part (its other parts vanish, whole lines with them), so a plain reader never shows encoded data."""
    text = _LINE_OF_PART.sub(lambda m: m.group(0) if m["index"] == "1" else "", text)
    text = _PART.sub(_short, text)
    return _DAMAGED.sub("[display: damaged]", text)


def _short(match: re.Match[str]) -> str:
    if match["index"] != "1":
        return ""
    mimes = match["mimes"].replace(",", ", ") or "nothing"
    return f"{match['replica'] or ''}[display: {mimes}, {_size(int(match['size']))}]"


def split_unfinished(text: str) -> tuple[str, str]:
    """(text, held): held is a display line still being written (or a marker's first characters) at the
    end of text, for a reader to ask for again whole; "" when text ends on whole lines or plain text."""
    at = text.rfind(MARKER)
    rest = text[at:] if at >= 0 else ""
    if rest and END not in rest and "\n" not in rest and len(rest) <= MAX_HELD:
        return text[:at], rest
    at = text.rfind(MARKER[0], max(0, len(text) - len(MARKER) + 1))
    if at >= 0 and MARKER.startswith(text[at:]):
        return text[:at], text[at:]
    return text, ""


def plain_log(chunks: Iterable[str]) -> Iterator[str]:
    """A log stream (`containerjob logs [--follow]`) with displays summarised, markers split across chunks
    put together first."""
    held = ""
    for chunk in chunks:
        text, held = split_unfinished(held + chunk)
        if text:
            yield summarise(text)
    if held:
        yield summarise(held)


def _size(chars: int) -> str:
    return f"{chars / 1048576:.1f} MiB" if chars >= 1048576 else f"{max(1, round(chars / 1024))} KiB"
