"""The files kept for a job (executed notebook, files it wrote, logs, results), listed and resolved safely:
a path from a user or a URL never leaves the job's directory, symlinks included."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import JobNotFound


def list_files(job_dir: Path) -> list[dict[str, Any]]:
    """The log and every regular file under output/ (not hidden or temporary files), by path."""
    root = job_dir.resolve()
    found = []
    for path in sorted([root / "logs.txt", *(root / "output").rglob("*")]):
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
