"""FUSE mounts made on the host with gcsfuse (Vertex's own) or rclone; never a filesystem of our own.

A mount is a foreground child process; its PID, mount point and rclone's control port are kept in
a small record, so any process (kernel, CLI, server) can drain and unmount it later.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.errors import MountError
from .storage import emulator_host

INSTALL_HINT = ("install gcsfuse (https://cloud.google.com/storage/docs/cloud-storage-fuse/install) or Debian's "
                "rclone and fuse3 (`apt-get install rclone fuse3`), or use sync mode (the default)")


@dataclass
class FuseHandle:
    tool: str
    bucket: str
    prefix: str
    mountpoint: str
    pid: int
    rc_port: int = 0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> "FuseHandle":
        return cls(**json.loads(path.read_text()))


def fuse_tool() -> str:
    """gcsfuse when installed (same semantics as Vertex), else rclone; a clear error when neither is."""
    if shutil.which("gcsfuse"):
        return "gcsfuse"
    if shutil.which("rclone") and (shutil.which("fusermount3") or shutil.which("fusermount")):
        return "rclone"
    raise MountError(f"fuse mode needs gcsfuse or rclone with FUSE on this machine: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _allow_other() -> list[str]:
    """Docker (root) must read a user's FUSE mount: allow_other, which non-root users need fuse.conf for."""
    if os.getuid() == 0:
        return ["--allow-other"]
    try:
        allowed = any(line.strip() == "user_allow_other" for line in open("/etc/fuse.conf"))
    except OSError:
        allowed = False
    if not allowed:
        raise MountError("fuse mode needs 'user_allow_other' in /etc/fuse.conf so Docker can read your mount: "
                         "add that line (as root), or use sync mode")
    return ["--allow-other"]


def _command(tool: str, bucket: str, prefix: str, mountpoint: str, cache_dir: Path, rc_port: int) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    emulator = emulator_host()
    if tool == "gcsfuse":
        cmd = ["gcsfuse", "--foreground", "--implicit-dirs", "-o", "allow_other"]
        if prefix:
            cmd += ["--only-dir", prefix]
        if emulator:
            cmd += ["--custom-endpoint", f"{emulator.rstrip('/')}/storage/v1/", "--anonymous-access"]
        return cmd + [bucket, mountpoint], env
    env.update({"RCLONE_CONFIG_CJGCS_TYPE": "google cloud storage", "RCLONE_CONFIG_CJGCS_BUCKET_POLICY_ONLY": "true"})
    if emulator:
        env.update({"RCLONE_CONFIG_CJGCS_ANONYMOUS": "true",
                    "RCLONE_CONFIG_CJGCS_ENDPOINT": f"{emulator.rstrip('/')}/storage/v1/"})
    elif os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        env["RCLONE_CONFIG_CJGCS_SERVICE_ACCOUNT_FILE"] = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    else:
        env["RCLONE_CONFIG_CJGCS_ENV_AUTH"] = "true"
    remote = f"cjgcs:{bucket}/{prefix}" if prefix else f"cjgcs:{bucket}"
    # write-back 1s, not 0s: rclone 1.60 loses a file renamed right after close when uploads start at
    # once (write tmp + rename is how most libraries save); drain() waits for the queue either way.
    cmd = ["rclone", "mount", remote, mountpoint, "--vfs-cache-mode", "writes", "--vfs-write-back", "1s",
           "--dir-cache-time", "5s", "--cache-dir", str(cache_dir), "--rc", "--rc-no-auth",
           "--rc-addr", f"127.0.0.1:{rc_port}", *_allow_other()]
    return cmd, env


def mount(bucket: str, prefix: str, mountpoint: Path, cache_dir: Path, timeout_s: float = 20) -> FuseHandle:
    """Mount and wait until the kernel shows the mount; a failed start leaves nothing mounted or running."""
    tool = fuse_tool()
    mountpoint.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    rc_port = _free_port() if tool == "rclone" else 0
    cmd, env = _command(tool, bucket, prefix, str(mountpoint), cache_dir, rc_port)
    log = open(cache_dir / f"{tool}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    handle = FuseHandle(tool, bucket, prefix, str(mountpoint), proc.pid, rc_port)
    deadline = time.monotonic() + timeout_s
    try:
        while not is_mounted(str(mountpoint)):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (cache_dir / f"{tool}.log").read_text(errors="replace")[-600:]
                raise MountError(f"{tool} could not mount gs://{bucket}/{prefix} at {mountpoint}: "
                                 f"{tail.strip() or 'timed out'}")
            time.sleep(0.05)
    except BaseException:  # an interrupt here too: nothing may stay mounted or running
        unmount(handle)
        raise
    return handle


def is_mounted(point: str) -> bool:
    """From /proc/mounts: os.path.ismount is False for a mount whose tool died (ENOTCONN)."""
    return any(p == point for _, p in active_mounts())


QUIET_S = 0.5  # FUSE's RELEASE is asynchronous: a file closed just now may reach rclone's queue a moment later


def drain(handle: FuseHandle, timeout_s: float = 600) -> None:
    """Wait until rclone's write-back queue has stayed empty for QUIET_S, so every closed file is in Cloud Storage."""
    if handle.tool != "rclone" or not handle.rc_port:
        return  # gcsfuse uploads on close(); nothing is queued
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{handle.rc_port}/vfs/stats", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                cache = json.load(resp).get("diskCache", {})
        except OSError:
            if is_mounted(handle.mountpoint) and not _alive(handle.pid):
                raise MountError(f"rclone for gs://{handle.bucket} died before its uploads finished; files written "
                                 "after its last upload may be missing from the bucket") from None
            return  # unmounted cleanly: nothing left to drain
        if cache.get("uploadsInProgress") or cache.get("uploadsQueued"):
            quiet_since = None
        elif cache.get("erroredFiles"):
            raise MountError(f"rclone could not upload {cache['erroredFiles']} files to gs://{handle.bucket}; "
                             f"see {handle.mountpoint} logs and retry")
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            return
        time.sleep(0.1)
    raise MountError(f"uploads to gs://{handle.bucket} did not finish within {timeout_s:.0f} s")


def unmount(handle: FuseHandle, timeout_s: float = 30) -> None:
    """Unmount (lazily if busy, or if the tool died) and wait for the tool to exit; safe to call twice."""
    if is_mounted(handle.mountpoint):
        tool = shutil.which("fusermount3") or shutil.which("fusermount") or "umount"
        args = [tool, "-u", handle.mountpoint] if "fusermount" in tool else [tool, handle.mountpoint]
        if subprocess.run(args, capture_output=True).returncode != 0:
            subprocess.run([*args[:-1], "-z", handle.mountpoint] if "fusermount" in tool else [tool, "-l", handle.mountpoint],
                           capture_output=True)
    deadline = time.monotonic() + timeout_s
    while _alive(handle.pid) and handle.tool in _cmdline(handle.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(handle.pid) and handle.tool in _cmdline(handle.pid):  # never a PID reused by something else
        os.kill(handle.pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child (another process mounted it): fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def active_mounts() -> list[tuple[str, str]]:
    """(source, mount point) of every gcsfuse/rclone mount on this machine, from /proc/mounts."""
    found = []
    try:
        for line in open("/proc/mounts"):
            source, point, fstype = line.split()[:3]
            if fstype in ("fuse.rclone", "fuse.gcsfuse", "fuse"):
                found.append((source, point.replace("\\040", " ")))
    except OSError:
        pass
    return found
