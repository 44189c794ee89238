"""Sync mode: download declared prefixes into a stage before the run, upload what changed after it.

Uploads carry generation preconditions, so an object changed elsewhere during the run is reported
as a conflict instead of being overwritten. The manifest (what was downloaded, with generations and
checksums) lives beside the stage, so an upload that failed can be retried from any process.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import MountError
from ..core.payload import human_size
from .storage import file_md5
from .transfer import Transfer


@dataclass
class SyncReport:
    bucket: str
    downloaded: int = 0
    downloaded_bytes: int = 0
    uploaded: int = 0
    uploaded_bytes: int = 0
    deleted: int = 0
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # symlinks and other non-files

    def describe(self) -> str:
        text = (f"gs://{self.bucket}: uploaded {self.uploaded} files ({human_size(self.uploaded_bytes)}), "
                f"deleted {self.deleted}")
        if self.conflicts:
            text += (f"; {len(self.conflicts)} conflicts (changed in Cloud Storage during the run, not overwritten): "
                     + ", ".join(self.conflicts[:5]) + (" ..." if len(self.conflicts) > 5 else ""))
        if self.skipped:
            text += f"; skipped {len(self.skipped)} symlinks/special files (Cloud Storage has none): " + ", ".join(self.skipped[:5])
        return text


class BucketStage:
    """One bucket's stage directory (bound at /gcs/<bucket>) and its manifest."""

    def __init__(self, transfer: Transfer, bucket: str, stage: Path, manifest: Path) -> None:
        self.transfer = transfer
        self.bucket = bucket
        self.stage = stage
        self.manifest_path = manifest

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, manifest: dict[str, dict[str, Any]]) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, self.manifest_path)

    def download(self, prefixes: list[str]) -> SyncReport:
        """Fetch every object whose name starts with one of `prefixes` (Mount.key_prefix); objects already
        staged with the same checksum are skipped."""
        report = SyncReport(self.bucket)
        with transfer_errors(f"listing gs://{self.bucket}"):
            remote = {k: v for p in prefixes for k, v in self.transfer.list(self.bucket, p).items()}
        self.stage.mkdir(parents=True, exist_ok=True)
        manifest = self._load()
        wanted: list[tuple[str, Path, int, int]] = []
        for key, info in remote.items():
            local = self._local(key)
            if key.endswith("/"):  # a directory placeholder object
                local.mkdir(parents=True, exist_ok=True)
                manifest[key] = {**info, "dir": True}
                continue
            entry = manifest.get(key)
            if entry and entry.get("md5") == info["md5"] and local.is_file() and file_md5(local) == info["md5"]:
                manifest[key] = info
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            wanted.append((key, local, info["size"], info["generation"]))
        with transfer_errors(f"downloads from gs://{self.bucket}"):
            self.transfer.download(self.bucket, wanted)
        for key, local, _, _ in wanted:
            manifest[key] = {**remote[key], **_stamp(local)}
            report.downloaded += 1
            report.downloaded_bytes += remote[key]["size"]
        self._save(manifest)
        return report

    def upload(self) -> SyncReport:
        """Upload new and changed files (by MD5), delete removed ones; preconditions turn races into conflicts."""
        report = SyncReport(self.bucket)
        manifest = self._load()
        local_files: dict[str, Path] = {}
        for root, dirs, files in os.walk(self.stage):
            for name in dirs + files:
                path = Path(root) / name
                if path.is_symlink() or (name in files and not path.is_file()):
                    report.skipped.append(str(path.relative_to(self.stage)))
                elif name in files:
                    local_files[path.relative_to(self.stage).as_posix()] = path
        changed: list[tuple[str, Path, int, str]] = []
        md5s: dict[str, str] = {}
        with transfer_errors(f"reading the stage of gs://{self.bucket}"):
            self._changes(manifest, local_files, changed, md5s)
        removed = [(k, e["generation"]) for k, e in manifest.items() if k not in local_files and not e.get("dir")]
        with transfer_errors(f"uploads to gs://{self.bucket}"):
            uploaded = self.transfer.upload(self.bucket, changed)
            deleted = self.transfer.delete(self.bucket, removed)
        return self._record(report, manifest, changed, md5s, uploaded, deleted)

    def _changes(self, manifest: dict[str, dict[str, Any]], local_files: dict[str, Path],
                 changed: list[tuple[str, Path, int, str]], md5s: dict[str, str]) -> None:
        for key, path in local_files.items():
            entry = manifest.get(key)
            stamp = _stamp(path)
            if entry and stamp == {k: entry.get(k) for k in stamp}:
                continue  # untouched since we wrote it: no need to hash it
            md5s[key] = file_md5(path)  # touched: only a different checksum makes it an upload
            if not entry or entry.get("md5") != md5s[key]:
                changed.append((key, path, entry["generation"] if entry else 0, md5s[key]))

    def _record(self, report: SyncReport, manifest: dict[str, dict[str, Any]],
                changed: list[tuple[str, Path, int, str]], md5s: dict[str, str],
                uploaded: dict[str, int | None], deleted: dict[str, str]) -> SyncReport:
        for key, path, _, _ in changed:
            if uploaded[key] is None:
                remote = self.transfer.info(self.bucket, key)
                if remote and remote["md5"] == md5s[key]:  # our own earlier upload (a retry): not a conflict
                    manifest[key] = {"generation": remote["generation"], "md5": md5s[key], **_stamp(path)}
                    continue
                report.conflicts.append(key)
            else:
                report.uploaded += 1
                report.uploaded_bytes += path.stat().st_size
                manifest[key] = {"generation": uploaded[key], "md5": md5s[key], **_stamp(path)}
        for key, outcome in deleted.items():
            if outcome == "conflict":
                report.conflicts.append(key)
            else:
                report.deleted += outcome == "deleted"
                manifest.pop(key, None)
        self._save(manifest)
        return report

    def _local(self, key: str) -> Path:
        """Object names that a filesystem cannot hold one-to-one (.., //, ./) are refused, not normalised:
        normalising would upload one name and delete another."""
        parts = key.rstrip("/").split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise MountError(f"object name gs://{self.bucket}/{key!r} has no file path of its own (empty, '.' or "
                             "'..' segments); rename it in Cloud Storage or mount a prefix without it")
        return self.stage.joinpath(*parts)


def _stamp(path: Path) -> dict[str, int]:
    """size, mtime, ctime and inode: a restored mtime (cp -p, tar, os.utime) still changes ctime."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns, "ino": stat.st_ino}


@contextmanager
def transfer_errors(what: str) -> Iterator[None]:
    """Name the bucket in one line for any Cloud Storage failure, and keep the stage for a retry."""
    from google.api_core.exceptions import NotFound

    try:
        yield
    except MountError:
        raise
    except (FileNotFoundError, NotFound) as exc:
        raise MountError(f"{what}: {exc} (it does not exist, or this identity cannot see it)") from None
    except Exception as exc:  # noqa: BLE001 - google-api-core errors, requests' and OSErrors: one line each
        raise MountError(f"Cloud Storage refused {what}: {type(exc).__name__}: {exc}") from None
