"""A finished job's results. Anyone (CLI, server, watcher, finalisation) reads the JSON the runner wrote;
only the kernel that asked for the job's values loads its pickles (`load_values`), after checking that the
job's own runner wrote them when they came back through shared storage."""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ResultRefused, unwritable
from .remote_error import load_exception
from .runtime import pickle_frames, result_signing

SECRET_FILE = "signing.secret"


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


def read_result(output_dir: Path) -> JobResult:
    """The runner's JSON (error, value summaries, the trailing expression's repr); nothing is unpickled."""
    result = JobResult()
    error_file = output_dir / "error.json"
    if error_file.is_file():
        result.error = json.loads(error_file.read_text())
        return result
    result_file = output_dir / "result.json"
    if not result_file.is_file():
        return result
    data = json.loads(result_file.read_text())
    result.skipped = dict(data.get("skipped", {}))
    result.summary = dict(data.get("outputs", {}))
    result.modules = dict(data.get("modules", {}))
    result.updated = list(data.get("updated", []))
    result.unchanged = list(data.get("unchanged", []))
    result.last = data.get("last") or None
    return result


def load_values(result: JobResult, output_dir: Path, *, key: bytes | None, job_id: str) -> None:
    """Load the values, trailing value and exception into `result` (the kernel's side only). With `key`,
    every result file must carry the runner's signature first; a value that cannot load is reported."""
    if key is not None:
        found = result_signing.problems(str(output_dir), key)
        if found:
            raise ResultRefused(f"job {job_id}'s results were not loaded: {'; '.join(found)}. They are not what its "
                                "runner wrote (changed in the staging bucket or on the way back); run the job again")
    if result.error is not None:
        pickled = output_dir / "error.pkl"
        if result.error.get("pickled") and pickled.is_file():
            result.remote_exception = load_exception(pickled)
        return
    for name, info in list(result.summary.items()):
        if "value" in info:  # a plain scalar (int, float, str, bool, None) travels in result.json itself
            result.values[name] = info["value"]
            continue
        try:
            result.values[name] = pickle_frames.load(output_dir / "values" / f"{name}.pkl")
        except Exception as exc:  # noqa: BLE001 - e.g. a class the kernel cannot import
            del result.summary[name]
            result.skipped[name] = f"cannot be unpickled in the kernel: {type(exc).__name__}: {exc}"
    for name, module in result.modules.items():
        try:
            result.values[name] = importlib.import_module(module)
        except ImportError:
            result.skipped[name] = f"module {module} is not installed in the kernel"
    last_file = output_dir / "values" / "_last.pkl"
    if result.last is not None and "value" in result.last:
        result.last_value = result.last["value"]
    elif result.last is not None and last_file.is_file():
        try:
            result.last_value = pickle_frames.load(last_file)
        except Exception:  # noqa: BLE001 - the repr is still shown
            result.last_value = None


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
