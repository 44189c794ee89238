"""FUSE mounts made on the host with gcsfuse (Vertex's own) or rclone; never a filesystem of our own.

A mount is a foreground child process; its PID, mount point and rclone's control port are kept in
a small record, so any process (kernel, CLI, server) can drain and unmount it later. rclone's remote
control answers only to a user and password made for that one mount, handed to rclone in its environment
(never its command line, which every local user can read) and kept in a file only its owner can read.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.errors import MountError
from ..core.settings import Settings
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
    rc_auth: str = ""  # the owner-only file with rclone's remote-control login (records from before: none)

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


def _new_rc_login(cache_dir: Path) -> tuple[str, dict[str, str]]:
    """A fresh user and password for one mount's remote control, written to a file created 0600 (never one
    that was there before, nor a link planted in its place): only this user can drive the mount."""
    login = {"user": secrets.token_urlsafe(12), "password": secrets.token_urlsafe(32)}
    path = cache_dir / "rc-login.json"
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "w") as fh:
        json.dump(login, fh)
    return str(path), login


def _rc_headers(handle: FuseHandle) -> dict[str, str]:
    """HTTP basic auth with the mount's own login (none for a record made before mounts had one)."""
    headers = {"Content-Type": "application/json"}
    if handle.rc_auth:
        try:
            login = json.loads(Path(handle.rc_auth).read_text())
        except (OSError, ValueError) as exc:
            raise MountError(f"cannot read the remote-control login of the rclone mount at {handle.mountpoint} "
                             f"({handle.rc_auth}: {exc}); its uploads cannot be awaited: wait a minute, then "
                             "unmount it") from None
        token = base64.b64encode(f"{login['user']}:{login['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return headers


def _command(tool: str, bucket: str, prefix: str, mountpoint: str, cache_dir: Path, rc_port: int,
             rc_login: dict[str, str], project: str) -> tuple[list[str], dict[str, str]]:
    """`bucket` "": the view of every bucket. gcsfuse's dynamic mounting is Vertex's own /gcs (BUCKET_NAME
    "Optional. Exclude a bucket name from this command to perform dynamic mounting", cloud.google.com/storage/
    docs/gcsfuse-cli, read 2026-12-07); rclone's root lists the project's buckets, read-only, since rclone makes
    a bucket for a `mkdir` there (rclone 1.60, tried on the emulator), which Vertex's /gcs never does."""
    env = dict(os.environ)
    emulator = emulator_host()
    if tool == "gcsfuse":
        cmd = ["gcsfuse", "--foreground", "--implicit-dirs", "-o", "allow_other"]
        if prefix:
            cmd += ["--only-dir", prefix]
        if emulator:
            cmd += ["--custom-endpoint", f"{emulator.rstrip('/')}/storage/v1/", "--anonymous-access"]
        return cmd + ([bucket] if bucket else []) + [mountpoint], env
    env = {k: v for k, v in env.items() if not k.startswith("RCLONE_RC_")}  # the remote control is set up here alone
    env.update({"RCLONE_RC_USER": rc_login["user"], "RCLONE_RC_PASS": rc_login["password"]})
    env.update({"RCLONE_CONFIG_CJGCS_TYPE": "google cloud storage", "RCLONE_CONFIG_CJGCS_BUCKET_POLICY_ONLY": "true"})
    if emulator:
        env.update({"RCLONE_CONFIG_CJGCS_ANONYMOUS": "true",
                    "RCLONE_CONFIG_CJGCS_ENDPOINT": f"{emulator.rstrip('/')}/storage/v1/"})
    elif os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        env["RCLONE_CONFIG_CJGCS_SERVICE_ACCOUNT_FILE"] = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    else:
        env["RCLONE_CONFIG_CJGCS_ENV_AUTH"] = "true"
    if not bucket:  # the buckets a listing of the project shows; it needs the project (rclone's "project_number")
        env["RCLONE_CONFIG_CJGCS_PROJECT_NUMBER"] = project
    remote = f"cjgcs:{bucket}/{prefix}" if prefix else f"cjgcs:{bucket}"
    # write-back 1s, not 0s: rclone 1.60 loses a file renamed right after close when uploads start at
    # once (write tmp + rename is how most libraries save); drain() waits for the queue either way.
    # --transfers 32, as sync mode: closed files upload 32 at a time, not rclone's 4, since each small file is
    # one request and per-request latency, not bandwidth, bounds a job that writes many (300 x 4 KiB written
    # and uploaded on the emulator: 5.4 s with 4, 3.9 s with 16, 2.8 s with 64). The price: while many large
    # files upload at once, each holds its 16 MiB resumable chunk in memory (32 x 16 MiB at most).
    cmd = ["rclone", "mount", remote, mountpoint, "--vfs-cache-mode", "writes", "--vfs-write-back", "1s",
           "--transfers", "32", "--dir-cache-time", "5s", "--cache-dir", str(cache_dir), "--rc",
           "--rc-addr", f"127.0.0.1:{rc_port}", *_allow_other(), *([] if bucket else ["--read-only"])]
    # rclone's own waits on a silent service (its IO idle timeout, 5 min by default) take the network bound:
    # a read or write through /gcs in a job fails after it instead of hanging
    bound = f"{Settings.load().network_timeout_s}s"
    cmd += ["--timeout", bound, "--contimeout", bound]
    return cmd, env


def mount(bucket: str, prefix: str, mountpoint: Path, cache_dir: Path, timeout_s: float = 20, *,
          project: str = "") -> FuseHandle:
    """Mount and wait until the kernel shows the mount; a failed start leaves nothing mounted or running.
    `bucket` "": the view of every bucket (of `project`, with rclone)."""
    tool = fuse_tool()
    mountpoint.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    rc_port, rc_auth, rc_login = 0, "", {}
    if tool == "rclone":
        rc_port = _free_port()
        rc_auth, rc_login = _new_rc_login(cache_dir)
    cmd, env = _command(tool, bucket, prefix, str(mountpoint), cache_dir, rc_port, rc_login, project)
    log = open(cache_dir / f"{tool}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    handle = FuseHandle(tool, bucket, prefix, str(mountpoint), proc.pid, rc_port, rc_auth)
    deadline = time.monotonic() + timeout_s
    try:
        while not is_mounted(str(mountpoint)):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (cache_dir / f"{tool}.log").read_text(errors="replace")[-600:]
                raise MountError(f"{tool} could not mount gs://{bucket}/{prefix or ('' if bucket else '*')} at {mountpoint}: "
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


def drain(handle: FuseHandle, timeout_s: float | None = None) -> None:
    """Wait until rclone's write-back queue has stayed empty for QUIET_S, so every closed file is in Cloud
    Storage. Bounded by silence, not duration: it gives up once uploads are pending and no byte has moved
    for `timeout_s` (default: the network bound), however long a moving upload takes."""
    if handle.tool != "rclone" or not handle.rc_port:
        return  # gcsfuse uploads on close(); nothing is queued
    bound = Settings.load().network_timeout_s if timeout_s is None else timeout_s
    headers = _rc_headers(handle)
    quiet_since = None
    moved, moved_at = -1, time.monotonic()
    while True:
        try:
            cache = _rc(handle, "vfs/stats", headers).get("diskCache", {})
            sent = int(_rc(handle, "core/stats", headers).get("bytes") or 0)
        except urllib.error.HTTPError as exc:  # an answer, so rclone runs: never taken for a clean unmount
            raise MountError(f"rclone's remote control for gs://{handle.bucket} refused to report its uploads "
                             f"({exc.code} {exc.reason}); wait a minute before unmounting {handle.mountpoint}, "
                             "or files written last may be missing from the bucket") from None
        except OSError:
            if is_mounted(handle.mountpoint) and not _alive(handle.pid):
                raise MountError(f"rclone for gs://{handle.bucket} died before its uploads finished; files written "
                                 "after its last upload may be missing from the bucket") from None
            return  # unmounted cleanly: nothing left to drain
        pending = (cache.get("uploadsInProgress") or 0) + (cache.get("uploadsQueued") or 0)
        now = time.monotonic()
        if sent != moved:
            moved, moved_at = sent, now
        if pending:
            quiet_since = None
            if now - moved_at > bound:
                raise MountError(f"Cloud Storage took no bytes for {bound:g} s while rclone uploaded {pending} files "
                                 f"to gs://{handle.bucket}; they stay in rclone's cache, and may be missing from the "
                                 "bucket (the bound is CONTAINERJOB_NETWORK_TIMEOUT_S)")
        elif cache.get("erroredFiles"):
            raise MountError(f"rclone could not upload {cache['erroredFiles']} files to gs://{handle.bucket}; "
                             f"see {handle.mountpoint} logs and retry")
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= QUIET_S:
            return
        time.sleep(0.1)


def _rc(handle: FuseHandle, method: str, headers: dict[str, str]) -> dict:
    """One call of rclone's remote control (its own loopback port, the mount's login)."""
    req = urllib.request.Request(f"http://127.0.0.1:{handle.rc_port}/{method}", data=b"{}", method="POST",
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


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
    if handle.rc_auth:
        Path(handle.rc_auth).unlink(missing_ok=True)  # the login of a remote control that is gone


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
