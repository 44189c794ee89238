"""Turn a cell or script plus kernel variables into an immutable, content-addressed job payload
(results come back through core/results.py)."""
from __future__ import annotations

import compileall
import hashlib
import json
import os
import py_compile
import shutil
import sys
import tempfile
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import cloudpickle

from .digests import Digest
from .errors import PayloadError, SpecError, unwritable
from .runtime import RUNNER_FILE, pickle_frames, writeback
from .workdir import Workdir

KERNEL_PYTHON = "%d.%d" % sys.version_info[:2]
Chunks = Iterable[Any]  # a file's bytes in pieces (bytes, or memoryviews of large buffers: never joined)
_CODE_MARKERS = (b"_make_function", b"_make_skeleton_class")


@dataclass
class Payload:
    """A payload directory plus what the preflight learnt while building it."""

    path: Path
    runtime: Path
    manifest: dict[str, Any]
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {type, size} or {module}

    @property
    def code_by_value(self) -> bool:
        return bool(self.manifest.get("code_by_value"))

    @property
    def kind(self) -> str:
        """cell, script, notebook, or container (nothing for the runner: the image's program runs)."""
        kind: str = self.manifest["kind"]
        return kind


def type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


@lru_cache(maxsize=None)
def _runtime_files() -> tuple[tuple[str, Chunks], ...]:
    files = [(path.name, [path.read_bytes()]) for path in sorted(RUNNER_FILE.parent.glob("*.py"))
             if path.name != "__init__.py"]
    pkg = Path(cloudpickle.__file__).parent
    for path in sorted(pkg.glob("*.py")):
        files.append((f"site/cloudpickle/{path.name}", [path.read_bytes()]))
    return tuple(files)


def ensure_runtime(home: Path) -> Path:
    """The runner and the pure-Python helpers it needs, stored once per content hash."""
    files = _runtime_files()
    digest = hashlib.sha256()
    for name, (data,) in files:
        digest.update(name.encode() + b"\0" + data + b"\0")
    with _Staging(home / "runtime") as staging:
        return staging.publish(digest.hexdigest()[:16], files, bytecode=True)


class _Staging:
    """A payload's files written into a temporary folder beside the store and published under their content
    address once it is known: inputs can be written while they are being hashed. An address that exists
    already is reused as it is (the staged copy is dropped)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp: Path | None = None

    def __enter__(self) -> "_Staging":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _folder(self) -> Path:
        if self.tmp is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        return self.tmp

    def write(self, name: str, data: Chunks) -> None:
        dest = self._folder() / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as fh:
            writeback.write(fh, data)  # on disk before the engine flushes it at the container's create

    def publish(self, key: str, files: Iterable[tuple[str, Chunks]], *, bytecode: bool = False) -> Path:
        """root/key, made of the files written so far plus `files`, atomically. With `bytecode`, the modules
        are compiled too (unchecked-hash .pyc: the folder never changes), so a job whose image runs the
        kernel's Python does not compile the runtime it imports on every start."""
        target = self.root / key
        if target.is_dir():
            return target
        for name, data in files:
            self.write(name, data)
        folder = self._folder()
        if bytecode:
            compileall.compile_dir(folder, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        folder.chmod(0o755)
        try:
            os.rename(folder, target)
            self.tmp = None
        except OSError:  # published meanwhile by another kernel: the same bytes
            if not target.is_dir():
                raise
        return target


def build_payload(
    source: str,
    *,
    home: Path,
    kind: str,
    filename: str,
    namespace: Mapping[str, Any] | None = None,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    max_bytes: int | None = None,
    workdir: Workdir | None = None,
) -> Payload:
    """Serialise inputs (all problems reported at once), write the payload, return it. `workdir`: a script's
    folder, shipped under workdir/ (the runner runs the script there)."""
    namespace = namespace or {}
    entries: dict[str, dict[str, Any]] = {}
    files: list[tuple[str, Chunks]] = [("source.py", [source.encode("utf-8")])]
    if workdir is not None:
        files += [(f"workdir/{rel}", _FileChunks(workdir.root / rel)) for rel in workdir.files]
    problems: list[str] = []
    pickled: list[tuple[str, Chunks]] = []
    code_by_value = False
    for name in inputs:
        if name not in namespace:
            raise SpecError(f"variable {name!r} given in --in is not defined in the kernel; define it or drop it from --in")
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            entries[name] = {"module": value.__name__}
            continue
        try:
            frames = pickle_frames.dumps(value, cloudpickle.dumps)
        except Exception as exc:  # noqa: BLE001 - every pickling failure is reported to the user
            problems.append(f"{name} ({type_name(value)}: {type(exc).__name__}: {exc})")
            continue
        code_by_value = code_by_value or any(m in frames.inband for m in _CODE_MARKERS)
        entries[name] = {"pickle": f"inputs/{name}.pkl", "type": type_name(value), "size": frames.size}
        pickled.append((f"inputs/{name}.pkl", frames.chunks()))
    if problems:
        raise PayloadError(
            "cannot send " + "; ".join(problems)
            + " — create these inside the cell or leave them out with --in"
        )
    total = sum(_size(chunks) for _, chunks in files + pickled)  # the code counts too: a cell can embed data
    if max_bytes is not None and total > max_bytes:
        raise PayloadError(
            f"inputs and code are {human_size(total)}, over the {human_size(max_bytes)} payload limit; send less "
            "(--in), read the data from storage inside the job, or raise CONTAINERJOB_MAX_PAYLOAD_MB"
        )
    with _Staging(home / "payloads") as staging:
        digests = _hash_while_writing(staging, pickled)
        manifest = {
            "version": 1,
            "kind": kind,
            "filename": filename,
            "source_file": "source.py",
            "inputs": {k: {kk: vv for kk, vv in v.items() if kk in ("pickle", "module")}
                       for k, v in entries.items()},
            "outputs": list(outputs),
            "last_expr": kind == "cell",
            "python": KERNEL_PYTHON,
            "code_by_value": code_by_value,
        }
        if workdir is not None:
            manifest.update(workdir="workdir", script=workdir.script)
        return _store(home, staging, files, manifest, entries, digests)


def build_notebook_payload(notebook: bytes, *, home: Path, filename: str, kernel_name: str) -> Payload:
    """A parameterised notebook as a payload; the runner executes it and saves the executed copy as `filename`."""
    manifest = {"version": 1, "kind": "notebook", "filename": filename, "source_file": "notebook.ipynb",
                "inputs": {}, "outputs": [], "last_expr": False, "python": KERNEL_PYTHON,
                "code_by_value": False, "kernel_name": kernel_name}
    with _Staging(home / "payloads") as staging:
        return _store(home, staging, [("notebook.ipynb", [notebook])], manifest, {})


def build_container_payload(*, home: Path) -> Payload:
    """A container job ships no code: its payload is only the manifest that says so (one for all such jobs)."""
    manifest = {"version": 1, "kind": "container", "inputs": {}, "outputs": [], "code_by_value": False}
    with _Staging(home / "payloads") as staging:
        return _store(home, staging, [], manifest, {})


class _FileChunks:
    """A file's bytes read in pieces when iterated (hashed, then written): a folder is never held in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            while piece := fh.read(1 << 20):
                yield piece


def _size(chunks: Chunks) -> int:
    return sum(memoryview(c).nbytes for c in chunks)


def _hash_while_writing(staging: _Staging, files: list[tuple[str, Chunks]]) -> dict[str, bytes]:
    """Each file's digest (digests.Digest), its pieces hashed on a thread per core while this thread
    writes the same bytes into `staging`: hashing first, then writing, would add the two."""
    try:
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            pending = {name: Digest(chunks, pool) for name, chunks in files}
            for name, chunks in files:
                staging.write(name, chunks)
            return {name: digest.result() for name, digest in pending.items()}
    except OSError as exc:
        raise unwritable(staging.root, exc) from None


def _store(home: Path, staging: _Staging, files: list[tuple[str, Chunks]], manifest: dict[str, Any],
           entries: dict[str, dict[str, Any]], digests: Mapping[str, bytes] | None = None) -> Payload:
    """Publish `staging` plus `files` under the payload's content address. `digests`: files already staged
    and hashed (inputs), so no byte is hashed twice."""
    files = [*files, ("manifest.json", [json.dumps(manifest, sort_keys=True).encode()])]
    parts = {**{name: Digest(chunks).result() for name, chunks in files}, **(digests or {})}
    digest = hashlib.sha256()
    for name in sorted(parts):
        digest.update(name.encode() + b"\0" + parts[name])
    try:
        path = staging.publish(digest.hexdigest()[:24], files)
        runtime = ensure_runtime(home)
    except OSError as exc:
        raise unwritable(home / "payloads", exc) from None
    return Payload(path=path, runtime=runtime, manifest=manifest, inputs=entries)
