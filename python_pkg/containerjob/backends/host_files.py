"""What a local job leaves on this machine is data, never a way in. A job is root in its container on a root
host (as on Vertex), so it could leave a setuid-root shell or a device node in a folder the host keeps, and
any job can leave a FIFO that blocks whoever reads it. Once its containers have ended, and before anything
reads or uploads its files, every folder it could write (container_config.writable_binds) is walked: setuid
and setgid bits are cleared from regular files, device nodes, FIFOs and sockets are removed, and the job's
message says what was done.

Links are never followed: folders are walked by descriptor (os.fwalk), each entry is looked at with lstat
semantics, and a change applies to the entry found there, not to whatever its path names a moment later."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..core.models import JobSpec
from .container_config import writable_binds

PRIVILEGE_BITS = stat.S_ISUID | stat.S_ISGID
REMOVED_KINDS = {stat.S_IFCHR: "device node", stat.S_IFBLK: "device node", stat.S_IFIFO: "FIFO",
                 stat.S_IFSOCK: "socket"}
SHOWN = 3  # paths named per kind in the message; the count says the rest


@dataclass
class Swept:
    """Container paths, by what was done to them."""

    removed: dict[str, list[str]] = field(default_factory=dict)  # kind -> paths
    cleared: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One clause per action, e.g. "removed 1 device node (/containerjob/output/null); cleared setuid/setgid
        on 1 file (/containerjob/output/sh)"; "" when the job left nothing of the kind."""
        parts = []
        if self.removed:
            parts.append("removed " + ", ".join(_counted(kind, self.removed[kind]) for kind in
                                                dict.fromkeys(REMOVED_KINDS.values()) if kind in self.removed))
        if self.cleared:
            parts.append(f"cleared setuid/setgid on {_counted('file', self.cleared)}")
        if self.failed:
            parts.append(f"could not make safe {_named(self.failed)}")
        return "; ".join(parts)


def make_job_safe(spec: JobSpec, job_dir: Path) -> str:
    """Sweep what the job could write, but its buckets' FUSE mounts (the bucket itself: Cloud Storage keeps no
    modes or special files, and walking a bucket costs a listing per folder)."""
    return make_safe(writable_binds(spec, job_dir, fuse=False))


def make_safe(binds: list[tuple[str, str]]) -> str:
    """Sweep each (host folder, its path in the container); the sentence for the job's message, or ""."""
    swept = Swept()
    for host, inside in binds:
        if os.path.isdir(host) and not os.path.islink(host) and not os.path.ismount(host):  # a mount is a bucket
            _sweep(host, inside, swept)
    found = swept.message()
    return f"the job left files unsafe to keep on this machine: {found}" if found else ""


def _sweep(host: str, inside: str, swept: Swept) -> None:
    def unreadable(exc: OSError) -> None:
        swept.failed.append(f"{_inside(exc.filename or host, host, inside)} ({exc.strerror})")

    for folder, dirs, files, dir_fd in os.fwalk(host, follow_symlinks=False, onerror=unreadable):
        for name in dirs + files:
            path = _inside(os.path.join(folder, name), host, inside)
            try:
                found = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                kind = REMOVED_KINDS.get(stat.S_IFMT(found.st_mode))
                if kind:
                    os.unlink(name, dir_fd=dir_fd)
                    swept.removed.setdefault(kind, []).append(path)
                elif stat.S_ISREG(found.st_mode) and found.st_mode & PRIVILEGE_BITS and _clear_bits(name, dir_fd):
                    swept.cleared.append(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                swept.failed.append(f"{path} ({exc.strerror})")


def _clear_bits(name: str, dir_fd: int) -> bool:
    """Clear setuid/setgid on the regular file `name` is now; False when it is no longer one."""
    o_path = getattr(os, "O_PATH", 0)  # Linux: a descriptor that opens nothing (no read, no FIFO wait)
    fd = os.open(name, (o_path or os.O_RDONLY | os.O_NONBLOCK) | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or not found.st_mode & PRIVILEGE_BITS:
            return False
        mode = stat.S_IMODE(found.st_mode) & ~PRIVILEGE_BITS
        if o_path:
            os.chmod(f"/proc/self/fd/{fd}", mode)  # fchmod refuses an O_PATH descriptor; glibc does the same
        else:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return True


def _inside(path: str, host: str, inside: str) -> str:
    relative = os.path.relpath(path, host)
    return inside if relative == "." else f"{inside.rstrip('/')}/{relative}"


def _counted(noun: str, paths: list[str]) -> str:
    return f"{len(paths)} {noun}{'s' if len(paths) != 1 else ''} ({_named(paths)})"


def _named(paths: list[str]) -> str:
    more = len(paths) - SHOWN
    return ", ".join(paths[:SHOWN]) + (f" and {more} more" if more > 0 else "")
