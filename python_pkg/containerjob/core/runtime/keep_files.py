"""Keeps what a notebook writes under its working directory on Vertex AI's Workbench Executor, which itself
keeps only the executed notebook. Runs inside the notebook's kernel: containerjob adds a hidden first cell
that calls begin() (a listing of the working directory) and a hidden closing cell that calls finish(); a
cell that fails calls finish() too, through IPython's post_run_cell event, since no cell runs after a
failing one. finish() uploads every file created or changed since begin() to DESTINATION/files/PATH and
writes DESTINATION/.containerjob-kept.json, naming each file it could not keep and why; the host reads
it (core/job_output.check_kept) and names them in the job's message.

Uploads go through google-cloud-storage when the runtime has it (Colab Enterprise runtimes do), else
through Cloud Storage's JSON API with the runtime's service-account token from the metadata server
(stdlib only); both honour STORAGE_EMULATOR_HOST. Hidden names (.config, .cache, .ipynb_checkpoints) are
left out: they hold tools' state and credentials, and the job's file list never shows them either."""
from __future__ import annotations

import json
import os
import stat
import tempfile
import time
import urllib.parse
import urllib.request

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

    Seen = tuple[int, int, int]  # (mode, size, mtime_ns) of a path when listed
    Upload = Callable[[str, str, str], None]  # (bucket, object name, local path)


MANIFEST = ".containerjob-kept.json"
FILE_MAX = 2 << 30  # bytes per file: a bigger one belongs in a bucket the notebook writes to itself
TOTAL_MAX = 8 << 30  # bytes in all
FILES_MAX = 1000
NAMED_MAX = 50  # files named as not kept in the manifest; past that they are counted
TIMEOUT_S = 120
_state: dict[str, Any] = {}  # destination, root, before (the listing begin() made), done


def begin(destination: str, shell: Any = None) -> None:
    """Note the working directory's files; `shell` (the kernel's IPython) runs finish() after a failing cell."""
    try:
        root = os.getcwd()
        _state.update(destination=destination.rstrip("/"), root=root, before=dict(_walk(root)), done=False)
        if shell is not None:
            shell.events.register("post_run_cell", _after_cell)
    except Exception as exc:  # noqa: BLE001 - the notebook runs on; the host says the files were not kept
        _say("files not kept: the working directory could not be listed: %s: %s" % (type(exc).__name__, exc))


def _after_cell(result: Any = None) -> None:  # IPython's ExecutionResult
    if result is not None and (result.error_in_exec is not None or result.error_before_exec is not None):
        finish()


def finish() -> None:
    """Upload what changed and the manifest, once; never raises (a failure is said in the cell's output)."""
    if _state.get("done", True):
        return
    _state["done"] = True
    try:
        _keep(_state["destination"], _state["root"], _state["before"])
    except Exception as exc:  # noqa: BLE001
        _say("files not kept: %s: %s" % (type(exc).__name__, exc))


def _say(text: str) -> None:
    print("[containerjob] " + text, flush=True)


def _walk(root: str) -> Iterator[tuple[str, Seen]]:
    """(path relative to root, (mode, size, mtime_ns)) of everything under root but hidden names; a folder
    that cannot be read is listed with mode 0. Links are listed, never followed."""
    folders = [""]
    while folders:
        rel = folders.pop()
        try:
            entries = list(os.scandir(os.path.join(root, rel)))
        except OSError:
            yield rel, (0, 0, 0)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = rel + "/" + entry.name if rel else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                yield path, (0, 0, 0)
                continue
            if stat.S_ISDIR(info.st_mode):
                folders.append(path)
            else:
                yield path, (info.st_mode, info.st_size, info.st_mtime_ns)


def _size_text(size: int) -> str:
    return "%.1f GiB" % (size / float(1 << 30)) if size >= 1 << 30 else "%.1f MiB" % (size / float(1 << 20))


def _keep(destination: str, root: str, before: dict[str, Seen]) -> None:
    bucket, _, prefix = destination[len("gs://"):].partition("/")
    prefix = prefix + "/" if prefix else ""
    changed = sorted(p for p, seen in _walk(root) if before.get(p) != seen)
    upload, via = _uploader()
    kept, kept_bytes = 0, 0
    not_kept: list[tuple[str, str]] = []
    for path in changed:
        full = os.path.join(root, path)
        try:
            info = os.lstat(full)
        except OSError as exc:
            not_kept.append((path, "it could not be read (%s)" % exc.strerror))
            continue
        if stat.S_ISLNK(info.st_mode):
            reason = "it is a link, and links are not followed"
        elif stat.S_ISDIR(info.st_mode):
            reason = "the folder could not be read"
        elif not stat.S_ISREG(info.st_mode):
            reason = "it is not a regular file"
        elif info.st_size > FILE_MAX:
            reason = "it is %s, over the %s limit for a file" % (_size_text(info.st_size), _size_text(FILE_MAX))
        elif kept >= FILES_MAX:
            reason = "over the limit of %d files" % FILES_MAX
        elif kept_bytes + info.st_size > TOTAL_MAX:
            reason = "over the %s limit for all files" % _size_text(TOTAL_MAX)
        else:
            try:
                upload(bucket, prefix + "files/" + path, full)
            except Exception as exc:  # noqa: BLE001 - named in the manifest, the others are still kept
                not_kept.append((path, "the upload failed: %s: %s" % (type(exc).__name__, str(exc)[:300])))
                continue
            kept, kept_bytes = kept + 1, kept_bytes + info.st_size
            continue
        not_kept.append((path, reason))
    manifest = {"version": 1, "kept": kept, "kept_bytes": kept_bytes, "via": via,
                "not_kept": [{"path": p, "reason": r} for p, r in not_kept[:NAMED_MAX]],
                "more_not_kept": max(0, len(not_kept) - NAMED_MAX)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(manifest, fh)
    try:
        upload(bucket, prefix + MANIFEST, fh.name)
    finally:
        os.unlink(fh.name)
    _say("kept %d file(s) it wrote under %s in %s/files/" % (kept, root, destination))
    for path, reason in not_kept[:NAMED_MAX]:
        _say("not kept: %s (%s)" % (path, reason))


def _uploader() -> tuple[Upload, str]:
    """(upload(bucket, name, path), how): google-cloud-storage if the runtime has it, else the JSON API."""
    try:
        from google.cloud.storage import Client
    except ImportError:
        return _JsonApi(), "the Cloud Storage JSON API"
    client = Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT") or None)

    def upload(bucket: str, name: str, path: str) -> None:
        client.bucket(bucket).blob(name).upload_from_filename(path, timeout=TIMEOUT_S)
    return upload, "google-cloud-storage"


class _JsonApi:
    """Cloud Storage's simple upload (uploadType=media), authorised by the metadata server's token for the
    runtime's service account; with STORAGE_EMULATOR_HOST, the emulator without a token."""

    def __init__(self) -> None:
        host = os.environ.get("STORAGE_EMULATOR_HOST", "")
        self.base = (host if "://" in host else "http://" + host) if host else "https://storage.googleapis.com"
        self.anonymous = bool(host)
        self.token, self.expires = "", 0.0

    def _authorization(self) -> dict[str, str]:
        if self.anonymous:
            return {}
        if time.time() > self.expires - 300:
            host = os.environ.get("GCE_METADATA_HOST", "metadata.google.internal")
            request = urllib.request.Request(
                "http://%s/computeMetadata/v1/instance/service-accounts/default/token" % host,
                headers={"Metadata-Flavor": "Google"})
            with urllib.request.urlopen(request, timeout=30) as resp:
                answer = json.load(resp)
            self.token, self.expires = answer["access_token"], time.time() + float(answer.get("expires_in", 0))
        return {"Authorization": "Bearer " + self.token}

    def __call__(self, bucket: str, name: str, path: str) -> None:
        url = "%s/upload/storage/v1/b/%s/o?uploadType=media&name=%s" % (
            self.base.rstrip("/"), urllib.parse.quote(bucket, safe=""), urllib.parse.quote(name, safe=""))
        with open(path, "rb") as fh:
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(os.fstat(fh.fileno()).st_size)}
            headers.update(self._authorization())
            request = urllib.request.Request(url, data=fh, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
                resp.read()
