"""A script's folder as it travels with the job (as `gcloud ai custom-jobs local-run` ships it): what git would
commit from it (`git ls-files -co --exclude-standard`, so nested .gitignore files and .git/info/exclude count),
or, outside a git work tree, every file that no .gitignore in it ignores; never containerjob's own short list,
and never what looks like a secret (`.env`, `.aws/`, keys) unless `--include PATTERN` names it. Within the
payload limit, so sibling modules, a params.yaml next to the script and `__file__` work in the job."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import SpecError

ALWAYS_LEFT_OUT = [".git/", "__pycache__/", "*.pyc", ".ipynb_checkpoints/", ".venv/", "venv/", "node_modules/"]
STAYS_HOME = [".env*", ".aws/", ".ssh/", ".netrc", "*.pem", "*credentials*"]  # secrets: shipped only by --include
MAX_FILES = 10_000
GIT_RULES = "git's ignore rules (.gitignore files, .git/info/exclude)"
WALK_RULES = "the .gitignore files in it"


@dataclass
class Workdir:
    root: Path
    script: str  # the script's path relative to root
    files: list[str]  # relative paths of the files that travel, sorted
    size: int
    rules: str = WALK_RULES  # what decided which files are ignored, for the shipping line
    left_home: list[str] = field(default_factory=list)  # files STAYS_HOME kept back, sorted

    def describe(self, size: str) -> str:
        """The shipping line's words (`size`: self.size, humanly)."""
        line = f"shipping {self.root} ({len(self.files)} files, {size}; {self.rules} honoured)"
        if self.left_home:
            shown = ", ".join(self.left_home[:5]) + (f" and {len(self.left_home) - 5} more"
                                                     if len(self.left_home) > 5 else "")
            line += f"; left home: {shown} (secrets; --include PATTERN ships them)"
        return line


def collect(script: Path, workdir: str | None, max_bytes: int, leave_out: tuple[Path, ...] = (),
            include: Iterable[str] = ()) -> Workdir:
    """The files under `workdir` (default: the script's folder) that travel; errors name the fix.
    `leave_out`: folders never shipped (containerjob's own home, when a project holds it); `include`:
    gitignore-style patterns of files that travel although STAYS_HOME keeps them back."""
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
    skipped = pathspec.GitIgnoreSpec.from_lines(ALWAYS_LEFT_OUT)
    secret = pathspec.GitIgnoreSpec.from_lines(STAYS_HOME)
    wanted = pathspec.GitIgnoreSpec.from_lines(list(include))

    def skip(rel: str, is_dir: bool) -> bool:
        return skipped.match_file(rel + ("/" if is_dir else "")) or is_dir and (root / rel).resolve() in leave_out

    listed = _git_files(root)
    rules = GIT_RULES if listed is not None else WALK_RULES
    files: list[str] = []
    left_home: list[str] = []
    size = 0
    for rel in listed if listed is not None else _walk(root, skip):
        path = root / rel
        if skip(rel, False) or any(path.is_relative_to(d) for d in leave_out) or not path.is_file():
            continue  # a socket, FIFO, dangling link or git submodule: nothing a job can use
        target = path.resolve()
        if path.is_symlink() and not target.is_relative_to(root):
            raise SpecError(f"{rel} in {root} links to {target}, outside the folder that travels: copy "
                            f"what the job needs into the folder, or list {rel} in {root / '.gitignore'}")
        if any(secret.match_file(r) and not wanted.match_file(r) for r in {rel, target.relative_to(root).as_posix()}):
            left_home.append(rel)  # a secret, or a link to one
            continue
        if not os.access(path, os.R_OK):
            raise SpecError(f"{rel} in {root} cannot be read, so it cannot travel with the job: list it in "
                            f"{root / '.gitignore'} or make it readable")
        files.append(rel)
        size += path.stat().st_size
        if len(files) > MAX_FILES or size > max_bytes:
            what = f"over {MAX_FILES} files" if len(files) > MAX_FILES else f"over {max_bytes // 2**20} MiB"
            raise SpecError(f"the folder {root} is {what}, more than a job ships: list what the job does not "
                            f"need (data, outputs, environments) in {root / '.gitignore'}, give a smaller folder "
                            "with --workdir DIR, or raise CONTAINERJOB_MAX_PAYLOAD_MB")
    script_rel = script.relative_to(root).as_posix()
    if script_rel in left_home:
        raise SpecError(f"{script_rel} looks like a secret ({', '.join(STAYS_HOME)}), which stays home: rename "
                        f"it, or ship it with --include {script_rel}")
    if script_rel not in files:
        raise SpecError(f"{script_rel} is left out by {rules}; a script must travel with its folder: "
                        "remove the pattern that matches it")
    return Workdir(root=root, script=script_rel, files=sorted(files), size=size, rules=rules,
                   left_home=sorted(left_home))


def _git_files(root: Path) -> list[str] | None:
    """What git would commit under `root` (tracked, and untracked but not ignored), relative to it; None
    when `root` is in no git work tree, or git is not installed (then every .gitignore is read instead)."""
    run: dict[str, Any] = {"cwd": root, "capture_output": True, "env": {**os.environ, "LC_ALL": "C"}}
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], text=True, **run)
    except FileNotFoundError:
        return None
    if inside.returncode != 0:
        if "not a git repository" in inside.stderr:
            return None
        raise SpecError(f"git cannot read the work tree {root}, so what travels cannot be decided: "
                        f"{inside.stderr.strip()}; fix that, or give a folder outside it with --workdir DIR")
    if inside.stdout.strip() != "true":  # inside a .git folder itself
        return None
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
                            **run)
    if listed.returncode != 0:
        raise SpecError(f"git ls-files failed in {root}, so what travels cannot be decided: "
                        f"{listed.stderr.decode(errors='replace').strip()}; fix that, or give a folder outside it "
                        "with --workdir DIR")
    names = (os.fsdecode(n) for n in listed.stdout.split(b"\0") if n)
    return sorted(set(n for n in names if not n.startswith("../")))


def _walk(root: Path, skip: Callable[[str, bool], bool]) -> Iterator[str]:
    """Every file under `root` (relative, posix) that no .gitignore in it ignores, each .gitignore's patterns
    read relative to its own folder and the last match winning, as git reads them; folders that are ignored
    or that `skip` names are not entered (nor is anything under them shipped, as with git)."""
    import pathspec

    chain: dict[Path, list[Any]] = {}  # folder (relative to root) -> its .gitignore's patterns, in order

    def ignored(rel: Path, is_dir: bool) -> bool:
        verdict = False
        for folder in reversed([rel.parent, *rel.parent.parents]):  # the outer .gitignore first, deeper ones win
            below = rel.relative_to(folder).as_posix() + ("/" if is_dir else "")
            for pattern in chain.get(folder, ()):
                if pattern.include is not None and pattern.match_file(below) is not None:
                    verdict = pattern.include
        return verdict

    for folder, dirs, names in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        ignore = Path(folder) / ".gitignore"
        if ignore.is_file():
            lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
            chain[rel_folder] = list(pathspec.GitIgnoreSpec.from_lines(lines).patterns)
        dirs[:] = sorted(d for d in dirs if not ignored(rel_folder / d, True)
                         and not skip((rel_folder / d).as_posix(), True))
        for name in sorted(names):
            if not ignored(rel_folder / name, False):
                yield (rel_folder / name).as_posix()
