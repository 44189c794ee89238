"""Sync mode: download declared prefixes into a stage before the run, upload what changed after it.

Uploads carry generation preconditions, so an object changed elsewhere during the run is reported
as a conflict instead of being overwritten. The manifest (what was downloaded, with generations and
checksums) lives beside the stage, so an upload that failed can be retried from any process.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import MountError
from ..core.payload import human_size
from .storage import file_md5, gcs_errors

WORKERS = 16


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

    def __init__(self, client, bucket: str, stage: Path, manifest: Path) -> None:
        self.client = client
        self.bucket_name = bucket
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
        """Fetch every object under the prefixes; objects already staged with the same checksum are skipped."""
        report = SyncReport(self.bucket_name)
        with gcs_errors(f"bucket gs://{self.bucket_name}"):
            bucket = self.client.get_bucket(self.bucket_name)
            blobs = {b.name: b for p in prefixes for b in bucket.list_blobs(prefix=f"{p}/" if p else None)}
        self.stage.mkdir(parents=True, exist_ok=True)
        manifest = self._load()

        def fetch(blob) -> tuple[str, dict[str, Any], int]:
            local = self._local(blob.name)
            if blob.name.endswith("/"):  # a directory placeholder object
                local.mkdir(parents=True, exist_ok=True)
                return blob.name, {"generation": blob.generation, "md5": blob.md5_hash, "dir": True}, 0
            entry = manifest.get(blob.name)
            if entry and entry.get("md5") == blob.md5_hash and local.is_file() and file_md5(local) == blob.md5_hash:
                return blob.name, {**entry, "generation": blob.generation}, -1
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.containerjob-part")
            with gcs_errors(f"object gs://{self.bucket_name}/{blob.name}"):
                blob.download_to_filename(str(tmp))
            os.replace(tmp, local)
            return blob.name, {"generation": blob.generation, "md5": blob.md5_hash}, blob.size or 0

        with ThreadPoolExecutor(WORKERS) as pool:
            for name, entry, size in pool.map(fetch, blobs.values()):
                manifest[name] = entry
                if size >= 0 and not entry.get("dir"):
                    report.downloaded += 1
                    report.downloaded_bytes += size
        self._save(manifest)
        return report

    def upload(self) -> SyncReport:
        """Upload new and changed files (by MD5), delete removed ones; preconditions turn races into conflicts."""
        from google.api_core import exceptions as gexc

        report = SyncReport(self.bucket_name)
        manifest = self._load()
        bucket = self.client.bucket(self.bucket_name)
        local_files: dict[str, Path] = {}
        for root, dirs, files in os.walk(self.stage):
            for name in dirs + files:
                path = Path(root) / name
                if path.is_symlink() or (name in files and not path.is_file()):
                    report.skipped.append(str(path.relative_to(self.stage)))
            for name in files:
                path = Path(root) / name
                if not path.is_symlink() and path.is_file() and not name.endswith(".containerjob-part"):
                    local_files[path.relative_to(self.stage).as_posix()] = path

        def push(item: tuple[str, Path]) -> tuple[str, str, int, dict[str, Any]]:
            key, path = item
            entry = manifest.get(key)
            md5 = file_md5(path)
            if entry and entry.get("md5") == md5:
                return key, "same", 0, entry
            blob = bucket.blob(key)
            with gcs_errors(f"upload of gs://{self.bucket_name}/{key}"):
                try:
                    blob.upload_from_filename(str(path), if_generation_match=entry["generation"] if entry else 0)
                except gexc.PreconditionFailed:
                    return key, "conflict", 0, {}
            return key, "uploaded", path.stat().st_size, {"generation": blob.generation, "md5": md5}

        def remove(key: str) -> tuple[str, str]:
            try:
                bucket.blob(key).delete(if_generation_match=manifest[key]["generation"])
            except gexc.PreconditionFailed:
                return key, "conflict"
            except gexc.NotFound:
                return key, "gone"
            return key, "deleted"

        removed = [k for k, e in manifest.items() if k not in local_files and not e.get("dir")]
        with ThreadPoolExecutor(WORKERS) as pool:
            for key, outcome, size, entry in pool.map(push, local_files.items()):
                if outcome == "conflict":
                    report.conflicts.append(key)
                elif outcome == "uploaded":
                    report.uploaded += 1
                    report.uploaded_bytes += size
                    manifest[key] = entry
            with gcs_errors(f"deletes in gs://{self.bucket_name}"):
                for key, outcome in pool.map(remove, removed):
                    if outcome == "conflict":
                        report.conflicts.append(key)
                    else:
                        report.deleted += outcome == "deleted"
                        manifest.pop(key, None)
        self._save(manifest)
        return report

    def _local(self, key: str) -> Path:
        path = (self.stage / key).resolve()
        if not str(path).startswith(str(self.stage.resolve()) + os.sep):
            raise MountError(f"object name gs://{self.bucket_name}/{key} escapes the stage directory; refusing it")
        return path
