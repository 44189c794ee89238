"""A script's folder as it travels with the job (as `gcloud ai custom-jobs local-run` ships it): every
file under it except what its .gitignore (and containerjob's own short list) leaves out, within the
payload limit, so sibling modules, a params.yaml next to the script and `__file__` work in the job."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError

ALWAYS_LEFT_OUT = [".git/", "__pycache__/", "*.pyc", ".ipynb_checkpoints/", ".venv/", "venv/", "node_modules/"]
MAX_FILES = 10_000


@dataclass
class Workdir:
    root: Path
    script: str  # the script's path relative to root
    files: list[str]  # relative paths of the files that travel, sorted
    size: int


def collect(script: Path, workdir: str | None, max_bytes: int, leave_out: tuple[Path, ...] = ()) -> Workdir:
    """The files under `workdir` (default: the script's folder) that travel; errors name the fix.
    `leave_out`: folders never shipped (containerjob's own home, when a project holds it)."""
    import pathspec

    script = script.resolve()
    root = Path(workdir).expanduser().resolve() if workdir else script.parent
    if not root.is_dir():
        raise SpecError(f"--workdir {workdir} is not a folder; give the folder the script runs in")
    if not script.is_relative_to(root):
        raise SpecError(f"{script} is not inside --workdir {root}: give the folder that holds the script")
    if root == Path("/") or root == Path.home():
        raise SpecError(f"{script.name} is directly in {root}, which would ship that whole folder: move the script "
                        "and what it needs into a project folder, or give one with --workdir DIR")
    patterns = list(ALWAYS_LEFT_OUT)
    ignore = root / ".gitignore"
    if ignore.is_file():
        patterns += ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    files: list[str] = []
    size = 0
    for folder, dirs, names in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not spec.match_file(f"{(rel_folder / d).as_posix()}/")
                         and (Path(folder) / d).resolve() not in leave_out)
        for name in sorted(names):
            rel = (rel_folder / name).as_posix()
            path = Path(folder) / name
            if spec.match_file(rel) or not path.is_file():
                continue  # ignored, or a socket, FIFO or dangling link: nothing a job can use
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise SpecError(f"{rel} in {root} links to {path.resolve()}, outside the folder that travels: copy "
                                f"what the job needs into the folder, or list {rel} in {ignore}")
            if not os.access(path, os.R_OK):
                raise SpecError(f"{rel} in {root} cannot be read, so it cannot travel with the job: list it in "
                                f"{ignore} or make it readable")
            files.append(rel)
            size += path.stat().st_size
            if len(files) > MAX_FILES or size > max_bytes:
                what = f"over {MAX_FILES} files" if len(files) > MAX_FILES else f"over {max_bytes // 2**20} MiB"
                raise SpecError(f"the folder {root} is {what}, more than a job ships: list what the job does not "
                                f"need (data, outputs, environments) in {ignore}, give a smaller folder with "
                                "--workdir DIR, or raise CONTAINERJOB_MAX_PAYLOAD_MB")
    script_rel = script.relative_to(root).as_posix()
    if script_rel not in files:
        raise SpecError(f"{script_rel} is left out by {ignore}; a script must travel with its folder: "
                        "remove the pattern that matches it")
    return Workdir(root=root, script=script_rel, files=sorted(files), size=size)
