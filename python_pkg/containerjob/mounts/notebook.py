"""Mounts for interactive use in the notebook itself: /gcs/<bucket> as in jobs and on Vertex AI.

Made with the same tools as fuse mode. Each mount's record lives in <home>/notebook-mounts/, and
/proc/mounts is the truth about what is still mounted.
"""
from __future__ import annotations

import atexit
import hashlib
import os
from pathlib import Path

from ..core.errors import MountError
from ..core.gcs_uri import GCS_ROOT, split_gs
from . import fuse

_MADE_HERE: list[fuse.FuseHandle] = []


def default_mountpoint(bucket: str, prefix: str = "") -> Path:
    """/gcs/<bucket>[/<prefix>] (so gcs_path() resolves) when this user may create it, else the same
    layout under ~/gcs."""
    root = Path(GCS_ROOT)
    try:
        root.mkdir(exist_ok=True)
        if os.access(root, os.W_OK):
            return root / bucket / prefix if prefix else root / bucket
    except OSError:
        pass
    return Path.home() / "gcs" / bucket / prefix if prefix else Path.home() / "gcs" / bucket


def _records(home: Path) -> Path:
    path = home / "notebook-mounts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mount_bucket(uri: str, mountpoint: str | None, *, home: Path) -> fuse.FuseHandle:
    bucket, prefix = split_gs(uri, "%gcsmount")
    point = Path(mountpoint).expanduser().resolve() if mountpoint else default_mountpoint(bucket, prefix)
    if fuse.is_mounted(str(point)):
        raise MountError(f"{point} is already a mount point: %gcsunmount {point} first, or choose another")
    if point.exists() and any(point.iterdir()):
        raise MountError(f"{point} is not empty: mounting over it would hide its files; choose an empty directory")
    key = hashlib.sha256(str(point).encode()).hexdigest()[:16]
    handle = fuse.mount(bucket, prefix, point, home / "notebook-mounts" / f"{key}-cache")
    handle.save(_records(home) / f"{key}.json")
    _MADE_HERE.append(handle)
    return handle


def list_mounts(home: Path) -> list[fuse.FuseHandle]:
    """Our notebook mounts that are still mounted; stale records are dropped."""
    live = []
    for record in sorted(_records(home).glob("*.json")):
        handle = fuse.FuseHandle.load(record)
        if fuse.is_mounted(handle.mountpoint):  # a dead mount is listed too, so it can be unmounted
            live.append(handle)
        else:
            record.unlink(missing_ok=True)
    return live


def unmount_bucket(target: str | None, *, home: Path) -> list[fuse.FuseHandle]:
    """Unmount by mount point or gs:// URI; with no target, every notebook mount. Uploads drain first."""
    handles = list_mounts(home)
    if target:
        wanted = str(Path(target).expanduser().resolve()) if not target.startswith("gs://") else None
        handles = [h for h in handles if h.mountpoint == wanted
                   or (wanted is None and f"gs://{h.bucket}/{h.prefix}".rstrip("/") == target.rstrip("/"))]
        if not handles:
            raise MountError(f"{target} is not mounted by %gcsmount; see %gcsmount --list")
    for handle in handles:
        try:
            fuse.drain(handle)
        finally:
            fuse.unmount(handle)
            key = hashlib.sha256(handle.mountpoint.encode()).hexdigest()[:16]
            (_records(home) / f"{key}.json").unlink(missing_ok=True)
    return handles


@atexit.register
def _unmount_on_exit() -> None:
    """A kernel that exits takes its mounts with it: no stale FUSE mounts after a restart."""
    for handle in _MADE_HERE:
        if fuse.is_mounted(handle.mountpoint):
            try:
                fuse.drain(handle, timeout_s=60)
            except MountError:
                pass
            fuse.unmount(handle)
