"""The buckets a local job names under /gcs/<bucket>, so that it gets them without --mount, as on Vertex AI:
"Custom training jobs can access your Cloud Storage buckets as subdirectories of the root /gcs directory" and
"by default, a custom training job can access any Cloud Storage bucket within the same Google Cloud project"
(cloud.google.com/vertex-ai/docs/training/cloud-storage-file-system, read 2026-12-07).

Names are found where a job writes them: the command, args and environment of every worker pool (a CustomJob
file's fields become these) and the string literals of a cell's or script's source. What a name says is kept
as the start of the object names it means (`/gcs/b/in/data.csv` -> `in/data.csv`, `/gcs/b/out/` -> `out/`),
so a sync mount downloads nothing else of the bucket. A name is cut where a pattern or a value filled in at
run time begins (`/gcs/b/part-*.csv` -> `part-`); a bucket not known in full (`'/gcs/' + name`, `f'/gcs/{b}'`,
`os.path.join('/gcs', b)`, `/gcs/$BUCKET`) is made at run time: the job then also gets a view of every bucket
(VIEW, mounted by mounts/job_mounts.py), as Vertex AI shows every bucket it can read."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

from .errors import SpecError
from .gcs_uri import validate_bucket
from .models import JobSpec, Mount

# A path ends at what a shell word, a list of paths or code around it puts after it ...
_ENDS = re.escape("\"'`,;:|<>()=#") + r"\s\x00-\x1f\x7f"
# ... and is known only up to where a pattern or a value filled in at run time starts.
_OPEN = "*?[]{}$%!&\\"
_NAME_MAX = 255  # bytes in a file's name (a longer segment cannot be a folder of the stage)
_NAME_RE = re.compile(rf"(?<![\w.~/-])/gcs/([^/{_ENDS}{re.escape(_OPEN)}]*)([^{_ENDS}]*)")
_ROOT = "/gcs"  # a literal that is the root alone: `os.path.join('/gcs', bucket)`, `Path('/gcs') / bucket`
VIEW = "view"  # Mount.mode of the view of every bucket, for names made at run time (its bucket is "")


@dataclass(frozen=True)
class Named:
    """One /gcs name: its bucket, the object names it means (`key` starts them), and where it was found."""

    bucket: str
    key: str
    path: str  # as the job wrote it, up to where it is known
    where: str


def names_in_text(text: str, where: str, *, after_value: bool = False, before_value: bool = False,
                  run_time: bool = False) -> list[Named]:
    """The /gcs names in one string. `after_value`/`before_value`: a value filled in at run time comes right
    before/after it (an f-string's parts, the left side of `+`), so a name cannot start/end its bucket there.
    `run_time`: also a Named with bucket "" for each path whose bucket is made at run time."""
    if _ROOT not in text:
        return []
    if run_time and text == _ROOT:
        return [Named("", "", _ROOT, where)]
    found = []
    for match in _NAME_RE.finditer(text):
        bucket, rest = match.group(1), match.group(2)
        if after_value and match.start() == 0:
            continue  # the path began earlier: not a /gcs path
        made = (rest and not rest.startswith("/")) or (before_value and match.end() == len(text) and not rest)
        if not made:  # else the bucket's name goes on in a pattern or a value (`'/gcs/my' + suffix`)
            try:
                validate_bucket(bucket)
            except SpecError:
                made = bucket == ""  # `'/gcs/' + name`; another string is no bucket's name, so nothing to mount
                if not made:
                    continue
        if made:
            if run_time:
                found.append(Named("", "", match.group(0), where))
            continue
        key = _known_part(rest[1:])
        found.append(Named(bucket, key, f"/gcs/{bucket}/{key}" if key or rest else f"/gcs/{bucket}", where))
    return found


def _known_part(key: str) -> str:
    """The start of the object names a path means: up to a pattern, or to a `.`/`..`/empty segment (which a
    filesystem resolves and Cloud Storage keeps) or one no filesystem holds: the folder before it."""
    key = key[:min((i for i, c in enumerate(key) if c in _OPEN), default=len(key))]
    parts = key.split("/")
    for i, part in enumerate(parts):
        if part in (".", "..") or (part == "" and i < len(parts) - 1) or len(part.encode()) > _NAME_MAX:
            return "/".join(parts[:i]) + "/" if i else ""
    return key


def names_in_source(source: str, where: str) -> list[Named]:
    """The names in a Python source's string literals (f-strings' constant parts too; docstrings and other bare
    strings are never used, so not looked at). A source that does not parse names nothing: it fails anyway."""
    if _ROOT not in source:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    skip = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    ends_before_value = {id(n.left) for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add)
                         and not (isinstance(n.right, ast.Constant) and str(n.right.value).startswith("/"))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in skip:
            parts = node.values
            for i, part in enumerate(parts):
                skip.add(id(part))
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found += names_in_text(part.value, where, after_value=i > 0, run_time=True,
                                           before_value=i + 1 < len(parts) or id(node) in ends_before_value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found += names_in_text(node.value, where, before_value=id(node) in ends_before_value, run_time=True)
    return found


def names_in_spec(spec: JobSpec) -> list[Named]:
    """The names in every pool's command, args and environment (a --secret-env value is never looked at: the
    dry run would show what it names)."""
    found = []
    several = len(spec.worker_pools) > 1
    for index, pool in enumerate(spec.worker_pools):
        pool_name = f" (workerPoolSpecs[{index}])" if several else ""
        for word in pool.command:
            found += names_in_text(word, f"its command{pool_name}", run_time=True)
        for word in pool.args:
            found += names_in_text(word, f"its args{pool_name}", run_time=True)
        for name, value in pool.env.items():
            if name not in pool.secret_env:
                found += names_in_text(str(value), f"its environment, {name}{pool_name}", run_time=True)
    return found


def with_named(mounts: list[Mount], names: Iterable[Named]) -> list[Mount]:
    """`mounts` and, in sync mode, what `names` adds: nothing for a bucket a --mount gives (it says what the
    job sees of it), nor a name that a shorter one of the same bucket already covers."""
    given = {m.bucket for m in mounts if not m.named}
    keys: dict[str, dict[str, str]] = {}  # bucket -> key -> where it was named
    for m in mounts:
        if m.named:
            keys.setdefault(m.bucket, {})[m.key_prefix] = ""  # --output-dir's: kept as it is
    for name in names:
        if name.bucket and name.bucket not in given:
            keys.setdefault(name.bucket, {}).setdefault(name.key, f"{name.path} in {name.where}")
    added = []
    for bucket, named in keys.items():
        kept: list[str] = []
        for key in sorted(named):  # a name sorts after every name it starts with
            if not any(key.startswith(k) for k in kept):
                kept.append(key)
                if named[key]:
                    added.append(Mount(bucket=bucket, prefix=key, mode="sync", named=named[key]))
    return [*mounts, *added]


def mount_named(spec: JobSpec, source_names: Iterable[Named] = ()) -> None:
    """A job whose backend does not mount every bucket itself (Traits.mounts_buckets: Vertex AI does, and
    refuses no job for naming one) gets, at /gcs, every bucket its spec or its code (`source_names`) names, and
    the view of every bucket when it makes a name at run time."""
    names = [*names_in_spec(spec), *source_names]
    spec.mounts = with_named(spec.mounts, names)
    made = next((n for n in names if not n.bucket), None)
    if made and not any(m.mode == VIEW for m in spec.mounts):
        spec.mounts.append(Mount(bucket="", mode=VIEW, named=f"{made.path} in {made.where}"))
