"""Files a local job wrote where nothing keeps them: under /gcs/<bucket> outside every mount, or under a
path with a `gs:` component (a gs:// URI used as a file name). On Vertex AI they vanish with the
container; here they are kept in the job folder and the job's message says where and why.

Cheap by construction (no `docker diff`, which walks the container's whole layer): /gcs itself is a bind
of the job's own folder, the buckets' binds nest inside it, so what lands in that folder was written
beside the mounts; the runner moves a `gs:` folder it finds in its working directory to output/unsaved/."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

UNSAVED_DIR = "unsaved"
GCS_ROOT_DIR = "gcs-root"  # in the job folder: bound at /gcs, under the buckets' own binds


def keep_unsaved(job_dir: Path, mount_targets: list[str]) -> str:
    """Move what the job left beside its mounts into job_dir/unsaved/<path in the container>; a message, or ""."""
    root = job_dir / UNSAVED_DIR
    kept, places = 0, set()
    gcs = job_dir / GCS_ROOT_DIR
    for folder, _, names in os.walk(gcs):
        for name in names:
            path = Path(folder) / name
            inside = "/gcs/" + path.relative_to(gcs).as_posix()
            if path.is_symlink() or not path.is_file() or any(inside.startswith(t + "/") for t in mount_targets):
                continue
            dest = root / inside.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), dest)
            kept += 1
            places.add("/".join(inside.split("/")[:3]))
    from_runner = job_dir / "output" / UNSAVED_DIR  # the runner's gs: folder, by its path in the container
    if from_runner.is_dir():
        for path in sorted(p for p in from_runner.rglob("*") if p.is_file()):
            dest = root / path.relative_to(from_runner)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), dest)
            kept += 1
            parts = path.relative_to(from_runner).parts
            places.add("/" + "/".join(parts[:parts.index("gs:") + 1]) if "gs:" in parts else "/gs:")
        shutil.rmtree(from_runner, ignore_errors=True)
    if not kept:
        return ""
    return (f"{kept} file(s) written under {', '.join(sorted(places))}, where nothing keeps them, were copied to "
            f"{root}; on Vertex AI these would be lost too: mount the bucket (--mount gs://BUCKET) or write "
            "under a mounted /gcs/BUCKET/PREFIX, never to a gs:// name with open()")
