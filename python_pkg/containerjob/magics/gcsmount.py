"""`%gcsmount` / `%gcsunmount`: Cloud Storage at /gcs/<bucket> in the notebook, as in jobs and on Vertex AI."""
from __future__ import annotations

import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..core.errors import ContainerJobError
from ..core.settings import Settings
from ..mounts import notebook


@magics_class
class GcsMountMagics(Magics):
    @line_magic
    def gcsmount(self, line: str) -> None:
        """Mount a bucket (or a prefix) for interactive use.

        %gcsmount gs://BUCKET[/PREFIX] [MOUNTPOINT]   default mount point /gcs/BUCKET (else ~/gcs/BUCKET)
        %gcsmount --list                              what is mounted
        Uses gcsfuse when installed, else rclone (Debian: apt-get install rclone fuse3).
        """
        words = _split(line)
        home = Settings.load().home_path
        try:
            if words == ["--list"]:
                mounts = notebook.list_mounts(home)
                print("\n".join(f"gs://{h.bucket}/{h.prefix}".rstrip("/") + f" -> {h.mountpoint} ({h.tool})"
                                for h in mounts) or "no Cloud Storage mounts")
                return
            if not 1 <= len(words) <= 2 or not words[0].startswith("gs://"):
                raise UsageError("usage: %gcsmount gs://BUCKET[/PREFIX] [MOUNTPOINT] | %gcsmount --list")
            handle = notebook.mount_bucket(words[0], words[1] if len(words) == 2 else None, home=home)
            print(f"gs://{handle.bucket}/{handle.prefix}".rstrip("/") + f" mounted at {handle.mountpoint} ({handle.tool})")
        except ContainerJobError as exc:
            raise UsageError(str(exc)) from None

    @line_magic
    def gcsunmount(self, line: str) -> None:
        """%gcsunmount [MOUNTPOINT | gs://BUCKET[/PREFIX]]: unmount one, or every %gcsmount mount (uploads drain first)."""
        words = _split(line)
        if len(words) > 1:
            raise UsageError("usage: %gcsunmount [MOUNTPOINT | gs://BUCKET[/PREFIX]]")
        try:
            done = notebook.unmount_bucket(words[0] if words else None, home=Settings.load().home_path)
        except ContainerJobError as exc:
            raise UsageError(str(exc)) from None
        print("\n".join(f"unmounted {h.mountpoint}" for h in done) or "nothing was mounted")


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot parse {line!r}: {exc}") from None
