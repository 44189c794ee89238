"""The /gcs/<bucket> mounts of one local job: prepared before the container starts, finished after it.

State lives in <job_dir>/mounts.json so whichever process finalises the job (kernel, CLI, server)
can upload, drain and unmount.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core.errors import MountError, SpecError
from ..core.gcs_names import VIEW
from ..core.gcs_uri import GCS_ROOT
from ..core.models import Mount
from ..core.settings import Settings
from . import fuse
from .storage import emulator_host, gcs_errors, storage_client
from .sync import BucketStage
from .transfer import Transfer

Notify = Callable[[str], None]
GCS_ROOT_DIR = "gcs-root"  # in the job folder: bound at /gcs, under the buckets' own binds; the view's mount point


@dataclass
class BindMount:
    source: str
    target: str
    mode: str = "sync"  # or "fuse": the bucket itself, through a FUSE mount on the host


def check_buckets(mounts: list[Mount], project: str | None) -> None:
    """Fail before anything starts when a declared or named bucket is missing or unreadable, or mounted two
    ways; the error says where the job named a bucket no --mount gave."""
    mounts = [m for m in mounts if m.mode != VIEW]
    if not mounts:
        return
    bucket_locations([m.bucket for m in mounts], project, {m.bucket: m.named for m in mounts if m.named})
    modes: dict[str, set[str]] = {}
    for m in mounts:
        modes.setdefault(m.bucket, set()).add(m.mode)
    mixed = [b for b, ms in modes.items() if len(ms) > 1]
    if mixed:
        raise SpecError(f"--mount: bucket {mixed[0]} is mounted in both sync and fuse mode; choose one")


def described(mounts: list[Mount]) -> dict[str, dict[str, Any]]:
    """/gcs/<bucket> -> what a dry run shows of its bind: the mode, the objects a sync mount downloads (names
    starting so), and where the job named the bucket when no --mount gave it; /gcs -> the view, and where the
    job makes a name at run time."""
    out: dict[str, dict[str, Any]] = {}
    for m in mounts:
        entry = out.setdefault(f"{GCS_ROOT}/{m.bucket}" if m.bucket else GCS_ROOT, {"mode": m.mode})
        if m.mode == "sync":
            entry.setdefault("downloads", []).append(f"gs://{m.bucket}/{m.key_prefix}*")
        if m.named:
            entry.setdefault("named", []).append(m.named)
    return out


def bucket_locations(buckets: list[str], project: str | None, named: dict[str, str] | None = None) -> dict[str, str]:
    """bucket -> location (e.g. US-CENTRAL1); raises MountError for a missing or unreadable bucket, saying where
    the job named it (`named`: bucket -> where)."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    client = storage_client(project)
    bound = Settings.load().network_timeout_s  # per request, and for the retries of a silent service
    out = {}
    for bucket in dict.fromkeys(buckets):
        where = (named or {}).get(bucket)
        with gcs_errors(f"bucket gs://{bucket}" + (f" (the job names it: {where})" if where else "")):
            out[bucket] = client.get_bucket(bucket, timeout=bound, retry=DEFAULT_RETRY.with_deadline(bound)).location or ""
    return out


class JobMounts:
    def __init__(self, job_dir: Path) -> None:
        self.job_dir = Path(job_dir)
        self.state_file = self.job_dir / "mounts.json"

    def plan(self, mounts: list[Mount]) -> list[BindMount]:
        """Where each mount will come from on the host; pure, so --dry-run shows the exact binds."""
        binds: list[BindMount] = []
        for bucket in dict.fromkeys(m.bucket for m in mounts if m.mode == "sync"):
            binds.append(BindMount(str(self.job_dir / "gcs" / bucket), f"{GCS_ROOT}/{bucket}"))
        for bucket in dict.fromkeys(m.bucket for m in mounts if m.mode == "fuse"):
            binds.append(BindMount(str(self.job_dir / "fuse" / bucket), f"{GCS_ROOT}/{bucket}", "fuse"))
        return binds

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {"sync": [], "fuse": [], "upload_on_failure": True, "project": None}

    def _write(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)

    def host_path(self, mounts: list[Mount], container_path: str) -> str:
        """The host path behind a /gcs/... path of this job (for folders the job expects to exist)."""
        for bind in sorted(self.plan(mounts), key=lambda b: -len(b.target)):
            if container_path == bind.target or container_path.startswith(bind.target + "/"):
                return bind.source + container_path[len(bind.target):]
        raise MountError(f"{container_path} is not under any mount of this job")

    def prepare(self, mounts: list[Mount], *, project: str | None, upload_on_failure: bool,
                notify: Notify) -> list[BindMount]:
        """Download sync prefixes and make fuse mounts; on any failure undo what was done and raise."""
        state = {"sync": [], "fuse": [], "upload_on_failure": upload_on_failure, "project": project}
        try:
            sync_prefixes: dict[str, list[str]] = {}
            for m in mounts:
                if m.mode == "sync":
                    sync_prefixes.setdefault(m.bucket, []).append(m.key_prefix)
            if sync_prefixes:
                transfer = Transfer(project)
            for bucket, prefixes in sync_prefixes.items():
                stage = self.job_dir / "gcs" / bucket
                entry = {"bucket": bucket, "stage": str(stage), "manifest": str(self.job_dir / f"gcs-{bucket}.json")}
                state["sync"].append(entry)
                self._write(state)
                report = BucketStage(transfer, bucket, stage, Path(entry["manifest"])).download(prefixes)
                for prefix in prefixes:  # a folder with no objects yet exists all the same: the first write works
                    (stage / prefix.rpartition("/")[0]).mkdir(parents=True, exist_ok=True)
                notify(f"gs://{bucket}: downloaded {report.downloaded} files into the stage (sync mode)")
            # The whole bucket, as on Vertex AI: a write outside the declared prefix must land in the bucket,
            # not in the container's own filesystem.
            for bucket in dict.fromkeys(m.bucket for m in mounts if m.mode == "fuse"):
                handle = fuse.mount(bucket, "", self.job_dir / "fuse" / bucket, self.job_dir / "fuse-cache" / bucket)
                state["fuse"].append(handle.__dict__)
                self._write(state)
                for m in mounts:
                    if m.mode == "fuse" and m.bucket == bucket and m.prefix:
                        (self.job_dir / "fuse" / bucket / m.prefix).mkdir(parents=True, exist_ok=True)
                notify(f"gs://{bucket}: mounted with {handle.tool} at /gcs/{bucket} (fuse mode)")
            view = next((m for m in mounts if m.mode == VIEW), None)
            if view:
                self._view(view, project, state, notify)
        except BaseException:
            self.release(keep_stage=False)
            raise
        self._write(state)
        return self.plan(mounts)

    def _view(self, view: Mount, project: str | None, state: dict, notify: Notify) -> None:
        """Every bucket at /gcs, for a job that makes a bucket's name at run time (Vertex AI shows it every bucket
        it can read); the named buckets' binds lie over it. A machine that cannot show it runs the job all the
        same, saying so: such a name then fails as before, with its fix (backends/unsaved.not_mounted)."""
        emulator = emulator_host()
        try:
            if not project and not emulator:
                raise MountError("no project to list buckets in: give --project")
            handle = fuse.mount("", "", self.job_dir / GCS_ROOT_DIR, self.job_dir / "fuse-cache" / "-view",
                                project=project or "containerjob")  # the emulator lists every bucket it holds
        except MountError as exc:
            notify(f"/gcs shows only the buckets the job names ({exc}); {view.named} makes a bucket's name at "
                   "run time: name the bucket in the job or add --mount gs://BUCKET")
            return
        state["fuse"].append(handle.__dict__)
        self._write(state)
        writes = "read and written" if handle.tool == "gcsfuse" else "read-only: to write one, name it in the job"
        where = f"project {project}" if project else f"the storage emulator at {emulator}"
        notify(f"/gcs: every bucket of {where} ({writes}), since {view.named} makes a bucket's name at run time")

    def close_view(self) -> None:
        """Unmount the view of every bucket before anything walks the job's folder (it would walk the buckets)."""
        state = self._state()
        views = [raw for raw in state["fuse"] if not raw["bucket"]]
        for raw in views:
            fuse.unmount(fuse.FuseHandle(**raw))
        if views:
            state["fuse"] = [raw for raw in state["fuse"] if raw["bucket"]]
            self._write(state)

    def finish(self, *, succeeded: bool) -> str:
        """Drain and unmount fuse mounts, upload sync stages; returns a one-line summary.

        Raises MountError when an upload fails; the stage stays for `containerjob sync JOB_ID`.
        """
        state = self._state()
        lines = []
        errors = []
        for raw in state["fuse"]:
            handle = fuse.FuseHandle(**raw)
            try:
                fuse.drain(handle)
            except MountError as exc:
                errors.append(str(exc))
            finally:
                fuse.unmount(handle)
        state["fuse"] = []
        self._write(state)
        if state["sync"] and (succeeded or state["upload_on_failure"]):
            lines.append(self.upload())
        elif state["sync"]:
            lines.append("not uploaded (the job failed and --no-upload-on-failure was given); stage kept")
        if errors:
            raise MountError("; ".join(errors))
        return "; ".join(lines)

    def upload(self) -> str:
        """Upload every sync stage; a clean upload removes its stage, conflicts keep it for inspection."""
        state = self._state()
        if not state["sync"]:
            return ""
        transfer = Transfer(state["project"])
        parts = []
        for entry in state["sync"]:
            stage = Path(entry["stage"])
            if not stage.is_dir():
                continue
            report = BucketStage(transfer, entry["bucket"], stage, Path(entry["manifest"])).upload()
            parts.append(report.describe() + (f" (stage kept at {stage})" if report.conflicts else ""))
            if not report.conflicts:
                shutil.rmtree(stage, ignore_errors=True)
        return "; ".join(parts)

    def release(self, *, keep_stage: bool) -> None:
        """Unmount without uploading (a start that failed, or gc); removes stages unless asked to keep them."""
        state = self._state()
        for raw in state["fuse"]:
            fuse.unmount(fuse.FuseHandle(**raw))
        if not keep_stage:
            for entry in state["sync"]:
                shutil.rmtree(entry["stage"], ignore_errors=True)
        state["fuse"] = []
        if self.state_file.parent.is_dir():
            self._write(state)
