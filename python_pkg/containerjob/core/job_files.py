"""The files kept for a job (executed notebook, files it wrote, logs, results), listed and resolved safely:
a path from a user or a URL never leaves the job's directory, symlinks included."""
from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any

from .display_lines import split_unfinished, summarise
from .errors import JobNotFound

FINAL_LOG = "logs.txt"  # written by the backend when it finalises the job
LIVE_LOG = "logs.live"  # a running job's log so far, as a server's watcher copies it; logs.txt begins the same
MAX_READ = 4 * 1024 * 1024  # bytes per answer; a longer log comes in several (done stays false until the end)


def list_files(job_dir: Path) -> list[dict[str, Any]]:
    """The log and every regular file under output/, unsaved/ (what the job wrote where nothing kept it;
    backends/unsaved.py) and replicas/ (each replica's log), not hidden or temporary files, by path."""
    root = job_dir.resolve()
    found = []
    for path in sorted([root / FINAL_LOG, *(root / "output").rglob("*"), *(root / "unsaved").rglob("*"),
                        *(root / "replicas").rglob("*")]):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.name.endswith(".tmp") or path.is_symlink():
            continue
        if path.is_file():
            stat = path.stat()
            found.append({"path": rel.as_posix(), "size": stat.st_size, "modified": stat.st_mtime})
    return found


def resolve_file(job_dir: Path, relpath: str) -> Path:
    """The file at `relpath` inside the job directory; anything else (escapes, links out, missing) is not found."""
    missing = JobNotFound(f"no file {relpath!r} among the job's outputs; list them with `containerjob outputs JOB_ID`")
    if "\0" in relpath or relpath.startswith("/"):
        raise missing
    root = job_dir.resolve()
    try:
        target = (root / relpath).resolve()
        inside = target.is_relative_to(root) and target.is_file()
    except (OSError, ValueError):  # a name too long for the filesystem, and the like
        raise missing from None
    if not inside or any(part.startswith(".") for part in target.relative_to(root).parts):
        raise missing
    return target


def read_log(job_dir: Path, final: bool, offset: int) -> tuple[str, int, bool]:
    """The text from byte `offset` on, the offset to ask for next, and whether that is all of a final log.
    An answer ends on a whole UTF-8 character and a whole display line (each shown as `[display: ...]`);
    one still being written comes with the next answer. Offsets count the bytes of the log as kept."""
    path = job_dir / FINAL_LOG
    if not (final and path.is_file()):
        path = job_dir / LIVE_LOG  # running; or a final job whose backend kept no log (its container was lost)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(offset)
            data = fh.read(MAX_READ)
    except FileNotFoundError:
        # Final and no log at all (cancelled before it started, failed to start, lost): that is all there
        # is. Running: not started yet, or just finalised and the live copy removed: ask again.
        return "", offset, final and not (job_dir / FINAL_LOG).is_file() and not (job_dir / LIVE_LOG).is_file()
    at_end = offset + len(data) >= size
    complete = final and at_end
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=complete)
    pending = len(decoder.getstate()[0])
    if not complete:
        text, unfinished = split_unfinished(text)
        pending += len(unfinished.encode())
    return summarise(text), offset + len(data) - pending if data else offset, complete
