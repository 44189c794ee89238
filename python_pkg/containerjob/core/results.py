"""A finished job's results. Anyone (CLI, server, watcher, finalisation) reads the JSON the runner wrote,
through job_output (regular files only, size-capped, schema-checked: OutputUnreadable otherwise); only the
kernel that asked for the job's values loads its pickles (`load_values`). Results that came back through
shared storage are checked against the runner's signatures before anything of them is parsed."""
from __future__ import annotations

import hashlib
import hmac
import importlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import job_output
from .errors import ResultRefused, unwritable
from .job_output import OutputUnreadable  # what read_result raises, for its callers
from .remote_error import load_exception
from .runtime import pickle_frames, result_signing

SECRET_FILE = "signing.secret"
MAX_MESSAGE = 2000  # characters of a job's own error message its record keeps


@dataclass
class JobResult:
    """What a finished job sent back: `read_result` fills the JSON part, `load_values` the values."""

    values: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # name -> module the job had under that name
    updated: list[str] = field(default_factory=list)  # inputs changed in place (rows.append): sent back
    unchanged: list[str] = field(default_factory=list)  # inputs the job left as they were: not sent back
    last: dict[str, Any] | None = None
    last_value: Any = None
    error: dict[str, Any] | None = None
    remote_exception: BaseException | None = None


def read_result(output_dir: Path, *, key: bytes | None = None, job_id: str = "",
                verify: tuple[str, ...] | None = None) -> JobResult:
    """The runner's JSON (error, value summaries, the trailing expression's repr); nothing is unpickled.
    With `key`, the results must be the runner's own (signatures checked: every file's, or only `verify`'s
    and the list's) before anything is parsed: ResultRefused otherwise. A file that is not what the runner
    writes is OutputUnreadable."""
    if key is not None:
        check_signed(output_dir, key, job_id, verify)
    result = JobResult()
    error = job_output.read_json(output_dir, "error.json", job_output.ERROR_MAX, job_output.check_error)
    if error is not None:
        result.error = error
        return result
    data = job_output.read_json(output_dir, "result.json", job_output.RESULT_MAX, job_output.check_result)
    if data is None:
        return result
    result.skipped = dict(data.get("skipped", {}))
    result.summary = dict(data.get("outputs", {}))
    result.modules = dict(data.get("modules", {}))
    result.updated = list(data.get("updated", []))
    result.unchanged = list(data.get("unchanged", []))
    result.last = data.get("last") or None
    return result


def failure_text(error: dict[str, Any]) -> str:
    """A job's own error as its record's message says it: a long message is cut (the record is shown in
    every list; the whole error stays in error.json)."""
    message = error["message"]
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]}... ({len(message) - MAX_MESSAGE} more characters in its error.json)"
    return f"{error['type']}: {message}"


def check_signed(output_dir: Path, key: bytes, job_id: str, verify: tuple[str, ...] | None = None) -> None:
    """Refuse results the job's runner did not write as they are (ResultRefused, nothing of them parsed):
    signatures.json must be its own (the list's MAC), name the same files as are there, and each file
    (or each of `verify`) must match its MAC, which covers its name and content."""
    found = signature_problems(output_dir, key, verify)
    if found:
        raise ResultRefused(f"job {job_id}'s results were not loaded: {'; '.join(found)}. They are not what its "
                            "runner wrote (changed in the staging bucket or on the way back); run the job again")


def signature_problems(output_dir: Path, key: bytes, verify: tuple[str, ...] | None = None) -> list[str]:
    """What in `output_dir` the runner holding `key` did not write as it is now: [] when everything is its
    own (or there is nothing to load: a job that ended before writing results)."""
    present = result_signing.result_files(str(output_dir))
    if not present:
        return []
    try:
        signed = job_output.read_json(output_dir, result_signing.SIGNATURES, job_output.SIGNATURES_MAX,
                                      job_output.check_signatures)
    except OutputUnreadable as exc:
        return [f"{result_signing.SIGNATURES} is unreadable ({exc.reason}): the results are unsigned"]
    if signed is None:
        return [f"{result_signing.SIGNATURES} is missing: the results are unsigned"]
    files = signed["files"]
    if not hmac.compare_digest(result_signing.manifest_mac(key, files), signed["manifest"]):
        return [f"{result_signing.SIGNATURES} was altered (its list of files is not the runner's)"]
    found = [f"{name} was signed but is missing" for name in sorted(set(files) - set(present))]
    found += [f"{name} is not signed" for name in present if name not in files]
    for name in present:
        if name in files and (verify is None or name in verify):
            try:
                mac = result_signing.file_mac(key, name)
                for chunk in job_output.chunks(output_dir, name):
                    mac.update(chunk)
            except OutputUnreadable as exc:
                found.append(f"{name} is unreadable ({exc.reason})")
                continue
            if not hmac.compare_digest(mac.hexdigest(), files[name]):
                found.append(f"{name} was altered")
    return found


def load_values(result: JobResult, output_dir: Path) -> None:
    """Load the values, trailing value and exception into `result` (the kernel's side only; results that
    came back through shared storage were checked by read_result first); a value that cannot load is
    reported, a file that is a link or not a regular file is never opened."""
    if result.error is not None:
        if result.error.get("pickled") and _regular(output_dir, "error.pkl"):
            result.remote_exception = load_exception(output_dir / "error.pkl")  # None: rebuilt from the JSON
        return
    for name, info in list(result.summary.items()):
        if "value" in info:  # a plain scalar (int, float, str, bool, None) travels in result.json itself
            result.values[name] = info["value"]
            continue
        try:
            if not _regular(output_dir, f"values/{name}.pkl"):
                raise FileNotFoundError(f"values/{name}.pkl is missing, a link or not a regular file")
            result.values[name] = pickle_frames.load(output_dir / "values" / f"{name}.pkl")
        except Exception as exc:  # noqa: BLE001 - e.g. a class the kernel cannot import
            del result.summary[name]
            result.skipped[name] = f"cannot be unpickled in the kernel: {type(exc).__name__}: {exc}"
    for name, module in result.modules.items():
        try:
            result.values[name] = importlib.import_module(module)
        except ImportError:
            result.skipped[name] = f"module {module} is not installed in the kernel"
    if result.last is not None and "value" in result.last:
        result.last_value = result.last["value"]
    elif result.last is not None and _regular(output_dir, "values/_last.pkl"):
        try:
            result.last_value = pickle_frames.load(output_dir / "values" / "_last.pkl")
        except Exception:  # noqa: BLE001 - the repr is still shown
            result.last_value = None


def restorable(kind: str, status: str, job_dir: str) -> bool:
    """Whether `%containerjob fetch` has anything to bring back: a cell job that ended (succeeded or failed)
    with the runner's results or its error written. A cancelled or lost job, or one that never ran its
    code, has nothing: no one is offered to restore it."""
    if kind != "cell" or status not in ("SUCCEEDED", "FAILED") or not job_dir:
        return False
    output_dir = Path(job_dir) / "output"
    return _regular(output_dir, "result.json") or _regular(output_dir, "error.json")


def _regular(output_dir: Path, relpath: str) -> bool:
    """Whether the job left a regular file there, reached through no link; a link or the like never is."""
    try:
        fd = job_output.open_regular(output_dir, relpath)
    except OutputUnreadable:
        return False
    if fd is None:
        return False
    os.close(fd)
    return True


def signing_key(home: Path, job_id: str) -> bytes:
    """The job's own key: derived from a secret that never leaves this machine's containerjob home."""
    return hmac.new(_host_secret(home), job_id.encode(), hashlib.sha256).digest()


def _host_secret(home: Path) -> bytes:
    """Made once, 0600, published whole (link, not write-in-place), so concurrent first users agree."""
    path = home / SECRET_FILE
    if not path.exists():
        try:
            home.mkdir(parents=True, exist_ok=True)
            tmp = home / f".{SECRET_FILE}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        except OSError as exc:
            raise unwritable(path, exc) from None
    return path.read_bytes()
