"""The name a container job goes by when none is chosen: its image and what it runs.

`python:3.11-slim · python3 train.py --epochs 3` rather than the image alone, so reruns of one image with
different programs read differently in the sidebar, the jobs table, `containerjob list` and Vertex AI's
console. This module owns the rule; the front end shows the record's name as it is (js_src/jobnames.ts).
Cell, script and notebook jobs are named elsewhere (their file; a cell by the front end, which knows it).
"""
from __future__ import annotations

import shlex
from typing import Iterable

SEPARATOR = " · "
MAX_CHARS = 128  # Vertex AI's limit on a display name (core/spec.py refuses a longer --name)


def container_name(image: str, command: str | None, args: Iterable[str] = ()) -> str:
    """The image without its registry path, then the command as typed and the arguments as a shell reads
    them; cut to MAX_CHARS with an ellipsis (the spec keeps every word)."""
    program = " ".join(part for part in ((command or "").strip(), shlex.join(args)) if part)
    short = image.rsplit("/", 1)[-1]
    name = f"{short}{SEPARATOR}{program}" if program else short
    return name if len(name) <= MAX_CHARS else name[:MAX_CHARS - 1] + "…"
