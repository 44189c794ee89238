"""gs:// URIs, /gcs/<bucket> paths and the `--mount gs://BUCKET[/PREFIX][:MODE]` option."""
from __future__ import annotations

import re

from .errors import SpecError
from .models import Mount

GCS_ROOT = "/gcs"
MODES = ("sync", "fuse")
# Cloud Storage bucket naming rules (without dotted, domain-named buckets' 222-char form).
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$|^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def validate_bucket(bucket: str, option: str = "--mount") -> str:
    if not _BUCKET_RE.match(bucket) or ".." in bucket or bucket.startswith("goog") or "google" in bucket:
        raise SpecError(
            f"{option}: {bucket!r} is not a valid bucket name: use 3-63 lowercase letters, digits, '-' and '_' "
            "(dots allowed), starting and ending with a letter or digit"
        )
    return bucket


def split_gs(uri: str, option: str = "--mount") -> tuple[str, str]:
    """gs://bucket/some/key -> ("bucket", "some/key"). Every gs:// URI a job, a file, a request or an API answer
    names is parsed here: its key becomes a path under /gcs/<bucket> on the host (a job's sync stage, its
    output folders), so `.` and `..` segments and control characters are refused, never resolved."""
    if not isinstance(uri, str) or not uri.startswith("gs://"):
        raise SpecError(f"{option}: {uri!r} is not a gs:// URI: write gs://BUCKET[/PREFIX]")
    bucket, _, key = uri[5:].partition("/")
    key = key.strip("/")
    if any(part in (".", "..") for part in key.split("/")):
        raise SpecError(f"{option}: {uri!r} has a . or .. segment, which Cloud Storage keeps as a name and a "
                        "folder would resolve: write the prefix without them, e.g. gs://BUCKET/runs/1")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise SpecError(f"{option}: {uri!r} holds a control character (a newline, a NUL ...); Cloud Storage "
                        "refuses them in object names: remove it")
    return validate_bucket(bucket, option), key


def parse_mount(value: str) -> Mount:
    """`gs://bucket/prefix:fuse` -> Mount(bucket, prefix, mode); the mode defaults to sync."""
    uri, mode = value, "sync"
    head, sep, tail = value.rpartition(":")
    if sep and head.startswith("gs://") and "/" not in tail:
        uri, mode = head, tail
    if mode not in MODES:
        raise SpecError(f"--mount {value!r}: unknown mode {mode!r}; use :sync (default) or :fuse")
    bucket, prefix = split_gs(uri)
    return Mount(bucket=bucket, prefix=prefix, mode=mode)


def gcs_path(uri: str) -> str:
    """gs://bucket/key -> /gcs/bucket/key, the path Vertex AI (and containerjob) mount it at."""
    bucket, key = split_gs(uri, "gcs_path")
    return f"{GCS_ROOT}/{bucket}/{key}" if key else f"{GCS_ROOT}/{bucket}"


def gs_uri(path: str) -> str:
    """/gcs/bucket/key -> gs://bucket/key; the inverse of gcs_path."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "" or parts[1] != GCS_ROOT.strip("/") or not parts[2]:
        raise SpecError(f"gs_uri: {path!r} is not under {GCS_ROOT}/<bucket>/")
    bucket = validate_bucket(parts[2], "gs_uri")
    key = "/".join(parts[3:])
    return f"gs://{bucket}/{key}" if key else f"gs://{bucket}"
