"""Files a job wrote where nothing keeps them: under /gcs/<bucket> outside every mount, or under a path with
a `gs:` component (a gs:// URI used as a file name). On Vertex AI they vanish with the container; here they
are kept in the job folder and the job's message says where and why. A Vertex job's runner copies its `gs:`
folder under the job's output prefix, and the host, which fetches it with the results, reports it the same way.

Cheap by construction (no `docker diff`, which walks the container's whole layer): /gcs itself is a bind
of the job's own folder, the buckets' binds nest inside it, so what lands in that folder was written
beside the mounts; the runner moves a `gs:` folder it finds in its working directory to output/unsaved/.
Reads there fail: a failed job that reached such a bucket is told which, and the fix (not_mounted)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..core.gcs_names import VIEW, names_in_text
from ..core.job_files import FINAL_LOG
from ..core.models import Mount
from ..mounts.job_mounts import GCS_ROOT_DIR

LOG_TAIL_BYTES = 64 * 1024  # where a failed job's last error is
UNSAVED_DIR = "unsaved"


def keep_unsaved(job_dir: Path, mount_targets: list[str], *, on_vertex: bool = False) -> str:
    """Move what the job left beside its mounts into job_dir/unsaved/<path in the container>; a message, or "".
    Links are never followed: the container made them, and they may point anywhere on this machine.
    `on_vertex`: the job ran there (its runner's copy, fetched to output/unsaved/), and the message says so."""
    root = job_dir / UNSAVED_DIR
    moved, failed, places = 0, [], set()

    def keep(path: Path, inside: str) -> None:
        nonlocal moved
        dest = root / inside.lstrip("/")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), dest)
        except OSError as exc:
            failed.append(f"{inside} ({exc.strerror})")
            return
        moved += 1
        parts = inside.split("/")
        if inside.startswith("/gcs/"):
            places.add("/".join(parts[:3]))
        else:
            places.add("/".join(parts[:parts.index("gs:") + 1]) if "gs:" in parts else inside)

    for base, prefix in ((job_dir / GCS_ROOT_DIR, "/gcs/"), (job_dir / "output" / UNSAVED_DIR, "/")):
        if base.is_symlink() or not base.is_dir() or os.path.ismount(base):  # a mount: the view of every bucket
            continue
        for folder, _, names in os.walk(base):  # followlinks=False: a linked folder is not entered
            for name in names:
                path = Path(folder) / name
                inside = prefix + path.relative_to(base).as_posix()
                if path.is_symlink() or not path.is_file() or any(inside.startswith(t + "/") for t in mount_targets):
                    continue
                keep(path, inside)
    shutil.rmtree(job_dir / "output" / UNSAVED_DIR, ignore_errors=True)
    if not os.path.ismount(job_dir / GCS_ROOT_DIR):  # never through the view: it holds the buckets themselves
        shutil.rmtree(job_dir / GCS_ROOT_DIR, ignore_errors=True)  # what is left: the mount points, empty
    if not moved and not failed:
        return ""
    lost, fix = (("Vertex AI kept none of them (containerjob's runner copied them out)",
                  "write under /gcs/BUCKET/PREFIX, where Vertex AI mounts every bucket") if on_vertex else
                 ("on Vertex AI these would be lost too",
                  "mount the bucket (--mount gs://BUCKET) or write under a mounted /gcs/BUCKET/PREFIX"))
    message = (f"{moved} file(s) written under {', '.join(sorted(places))}, where nothing keeps them, were moved to "
               f"{root}; {lost}: {fix}, never to a gs:// name with open()")
    if failed:
        message += f"; could not keep {', '.join(failed[:3])}" + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    return message


def not_mounted(job_dir: Path, message: str, mounts: list[Mount]) -> str:
    """For a failed job: the /gcs paths its error (`No such file or directory`, or `Read-only file system` in the
    view, in its message or the end of its log) names that nothing here holds, one line saying why and the fix.
    Such a name was made at run time (`'/gcs/' + name`), where containerjob cannot look before the job starts;
    Vertex AI mounts every bucket."""
    try:
        with open(job_dir / FINAL_LOG, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            text = message + "\n" + fh.read().decode("utf-8", errors="replace")
    except OSError:
        text = message
    view = any(m.mode == VIEW for m in mounts)  # names made at run time reach the project's buckets, read-only
    buckets, parts, read_only = [], [], []
    for line in text.splitlines():
        written = view and "Read-only file system" in line
        if "No such file or directory" not in line and not written:
            continue
        for name in names_in_text(line, ""):
            held = [m for m in mounts if m.bucket == name.bucket]
            if written and not held:
                read_only.append(name.bucket)
            elif not held:
                buckets.append(name.bucket)
            elif all(m.named and not name.key.startswith(m.key_prefix) for m in held):
                parts.append(name)
    lines = []
    if read_only:
        named = list(dict.fromkeys(read_only))
        lines.append(f"{', '.join(f'/gcs/{b}' for b in named)} is read-only here: the job makes the name only at run "
                     "time, and /gcs shows such buckets read-only (rclone); name the bucket in the job (a /gcs/BUCKET "
                     f"path in its code, args or environment) or add {' '.join(f'--mount gs://{b}' for b in named)}")
    if buckets and view:
        missing = list(dict.fromkeys(buckets))
        lines.append(f"{', '.join(f'/gcs/{b}' for b in missing)}: not found among the buckets of the job's project, "
                     "which /gcs shows for names made at run time; a bucket of another project needs "
                     f"{' '.join(f'--mount gs://{b}' for b in missing)}")
    elif buckets:
        missing = list(dict.fromkeys(buckets))
        lines.append(f"{', '.join(f'/gcs/{b}' for b in missing)} is not mounted here: the job makes the name only "
                     "at run time, and containerjob mounts the buckets a job names before it starts (in its command, "
                     f"args, environment, --output-dir or a string in its code); add "
                     f"{' '.join(f'--mount gs://{b}' for b in missing)}")
    for name in list(dict.fromkeys(parts))[:3]:
        got = ", ".join(f"gs://{m.bucket}/{m.key_prefix}*" for m in mounts if m.bucket == name.bucket)
        folder = f"gs://{name.bucket}/{name.key.rpartition('/')[0]}".rstrip("/")
        lines.append(f"{name.path} was not downloaded: of its bucket only {got} was, what the job names before it "
                     f"starts; add --mount {folder} to have the folder")
    return "; ".join(lines)
