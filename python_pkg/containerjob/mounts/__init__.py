"""`/gcs/<bucket>/...` everywhere: sync stages and FUSE mounts for local jobs, mounts in the notebook."""
from __future__ import annotations

from ..core.gcs_uri import GCS_ROOT, gcs_path, gs_uri, parse_mount

__all__ = ["GCS_ROOT", "gcs_path", "gs_uri", "parse_mount"]
