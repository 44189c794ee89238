"""Files a local job wrote where nothing keeps them: under /gcs/<bucket> outside every mount, or under a
path with a `gs:` component (a gs:// URI used as a file name). On Vertex AI they vanish with the
container; here they are copied out of the container's own layer (`docker diff`, then an archive of
each place) into the job folder before it is removed, and the job's message says where and why."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import docker.errors

UNSAVED_DIR = "unsaved"
MAX_UNSAVED_BYTES = 1024 * 1024 * 1024  # a copy, not a second bucket: beyond these, the rest is not copied
MAX_UNSAVED_PATHS = 10_000
_ADDED_OR_CHANGED = (0, 1)  # docker diff kinds: 0 modified, 1 added, 2 deleted


def unsaved_paths(changes: list[dict] | None, mount_targets: list[str]) -> list[str]:
    """Leaves of the container's diff under /gcs or under a `gs:` directory: written beside the mounts (a
    bind mount's content never shows in the diff; its mount point, a leaf, is left out by name)."""
    paths = sorted(c["Path"] for c in changes or [] if c["Kind"] in _ADDED_OR_CHANGED)
    wanted = [p for p in paths if p.startswith("/gcs/") or "gs:" in p.split("/")]
    leaves = [p for i, p in enumerate(wanted) if not (i + 1 < len(wanted) and wanted[i + 1].startswith(p + "/"))]
    return [p for p in leaves if p not in mount_targets][:MAX_UNSAVED_PATHS]


def keep_unsaved(client: docker.DockerClient, container_id: str, job_dir: Path, mount_targets: list[str]) -> str:
    """Copy unsaved files into job_dir/unsaved/<path in the container>; a message for the job, or ""."""
    try:
        paths = unsaved_paths(client.api.diff(container_id), mount_targets)
    except docker.errors.APIError:
        return ""  # the container is already gone: nothing can be kept, and the job's own result stands
    kept, size, places = 0, 0, set()
    root = (job_dir / UNSAVED_DIR).resolve()
    for path in paths:
        try:
            stream, _ = client.api.get_archive(container_id, path)
            data = b"".join(stream)
        except docker.errors.APIError:
            continue
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                if not member.isfile() or size + member.size > MAX_UNSAVED_BYTES:
                    continue
                dest = (root / os.path.dirname(path).lstrip("/") / member.name).resolve()
                if not str(dest).startswith(str(root) + os.sep):
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(dest, "wb") as out:
                    out.write(src.read())
                kept, size = kept + 1, size + member.size
                parts = path.split("/")
                places.add("/".join(parts[:3]) if path.startswith("/gcs/") else "/".join(parts[:parts.index("gs:") + 1]))
    if not kept:
        return ""
    return (f"{kept} file(s) written under {', '.join(sorted(places))}, where nothing keeps them, were copied to "
            f"{root}; on Vertex AI these would be lost too: mount the bucket (--mount gs://BUCKET) or write "
            "under a mounted /gcs/BUCKET/PREFIX, never to a gs:// name with open()")
