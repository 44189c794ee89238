"""Fault injection for test_faults.py and test_engine_loss.py: a Docker engine of our own to kill, small or
read-only filesystems, a real Jupyter server process to restart and a real IPython kernel to kill -9.

Everything here starts real processes and mounts; each helper undoes what it did, also when a test fails.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import docker
import pytest

PKG = Path(__file__).resolve().parents[2] / "python_pkg"
# What the job store, the payloads and a job directory may hold; anything else is garbage from a half-done step.
JOB_DIR_ENTRIES = {".lock", "output", "logs.txt", "mounts.json", "unsaved", "replicas", "restarts.json",
                   "attempts"}  # attempts/N.log: each earlier run of a restarted job (backends/restarts.py)


def wait_for(predicate: Callable[[], Any], what: str, timeout_s: float = 60.0, every_s: float = 0.1) -> Any:
    """Poll until predicate() is truthy and return its value; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout_s:.0f} s")
        time.sleep(every_s)


def half_written(home: Path) -> list[str]:
    """Leftovers of an interrupted write under CONTAINERJOB_HOME: temporary payload or runtime directories,
    payloads missing their manifest or source, `*.tmp` files of the runner, unexpected entries in job dirs."""
    found: list[str] = []
    for area in ("payloads", "runtime"):
        root = home / area
        if root.is_dir():
            found += [str(p) for p in root.iterdir() if p.name.startswith(".tmp")]
    payloads = home / "payloads"
    if payloads.is_dir():
        for payload in payloads.iterdir():
            names = {p.name for p in payload.iterdir()} if payload.is_dir() else set()
            container = names == {"manifest.json"} and '"container"' in (payload / "manifest.json").read_text()
            if not {"manifest.json"} <= names or not ({"source.py", "notebook.ipynb"} & names or container):
                found.append(f"{payload} (incomplete: {sorted(names)})")
    jobs = home / "jobs"
    if jobs.is_dir():
        for job_dir in jobs.iterdir():
            found += [str(job_dir / n) for n in os.listdir(job_dir) if n not in JOB_DIR_ENTRIES]
            found += [str(p) for p in (job_dir / "output").rglob("*.tmp")]
    return found


def home_entries(home: Path) -> list[str]:
    """Every path under CONTAINERJOB_HOME except the SQLite store itself, for before/after comparisons."""
    if not home.is_dir():
        return []
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if not p.name.startswith("jobs.db"))


def run_cli(*args: str, timeout_s: float = 180, **env: str) -> subprocess.CompletedProcess:
    """The real `containerjob` CLI of this checkout in a process of its own, with `env` on top of ours."""
    pythonpath = os.pathsep.join(filter(None, [str(PKG), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, "PYTHONPATH": pythonpath, **env})


def finished_vertex_record(store: Any, like: Any) -> Any:
    """A Vertex AI job that ended days ago, as its record and job folder stand on this machine (it ran in the
    cloud: no engine involved), made from `like`, a local job's record (same payload)."""
    from dataclasses import replace

    from containerjob.core.models import JobRecord, JobStatus

    job_dir = Path(like.job_dir).with_name("cj-0123abcd")
    (job_dir / "output").mkdir(parents=True)
    (job_dir / "logs.txt").write_text("trained\n")
    record = JobRecord(id=job_dir.name, name="remote", backend="vertex", status=JobStatus.SUCCEEDED,
                       spec=replace(like.spec, backend="vertex"), created_at=time.time() - 3 * 86400,
                       finished_at=time.time() - 2 * 86400, job_dir=str(job_dir),
                       backend_ref="projects/p/locations/us-central1/customJobs/1")
    store.add(record)
    return record


# -- filesystems -------------------------------------------------------------------------------------
@contextmanager
def tmpfs(path: Path, *, size: str = "2m", read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at path (created if needed); unmounted afterwards. Skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root and "
                    "CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Fill the filesystem holding path to the last byte (a file, then one-byte writes for what is left)."""
    for size in (65536, 1):
        try:
            with open(path / f"filler-{size}", "ab") as fh:
                while True:
                    fh.write(b"\0" * size)
                    fh.flush()
        except OSError:
            pass


# -- a second Docker engine of our own ------------------------------------------------------------------
class SecondEngine:
    """A dockerd with its own socket, data root, exec root and managed containerd: ours to SIGKILL and restart,
    so the machine's main engine (shared with others) is never touched. The data root survives restarts."""

    def __init__(self, main: docker.DockerClient) -> None:
        self.driver = storage_driver(main)  # fixed once: a restart on another driver would not see the containers
        # Short path: unix socket paths (ours and containerd's under the exec root) must stay under 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="cj-engine-", dir="/tmp"))
        self.socket = self.root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.log = self.root / "dockerd.log"
        self.cgroup_parent = f"containerjob-test-{self.root.name}"
        # A bridge of its own: `--bridge=none` makes dockerd delete the host's docker0, the main engine's.
        self.bridge = f"cjt{os.getpid() % 100000:05d}"
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        return ["dockerd", "--host", self.host, "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "dockerd.pid"),
                f"--bridge={self.bridge}", "--iptables=false", "--ip-masq=false", "--storage-driver", self.driver,
                "--cgroup-parent", self.cgroup_parent]

    def start(self) -> None:
        """Start (or restart on the same data root) and wait until it answers."""
        if subprocess.run(["ip", "link", "show", self.bridge], capture_output=True).returncode != 0:
            for args in (["link", "add", self.bridge, "type", "bridge"],
                         ["addr", "add", "10.213.0.1/24", "dev", self.bridge], ["link", "set", self.bridge, "up"]):
                subprocess.run(["ip", *args], check=True, capture_output=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.client().ping()
                return
            except docker.errors.DockerException:
                time.sleep(0.2)
        tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        raise EngineDidNotStart(" | ".join(tail) or f"dockerd exited with {self.proc.returncode}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.host, timeout=60)

    def kill(self) -> None:
        """The engine dies mid-job (SIGKILL): its containerd goes with it, the containers' shims stay."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)
        # Its containerd dies with it but may stay a zombie (nobody reaps it here); a restarted dockerd that
        # finds the pid file would take that zombie for a live containerd and wait on it for ever.
        pidfile = self.root / "exec" / "containerd" / "containerd.pid"
        if pidfile.is_file():
            pid = int(pidfile.read_text().strip() or 0)
            wait_for(lambda: not _alive(pid), f"containerd {pid} of the killed engine to die", timeout_s=30)
            pidfile.unlink()

    def load_image(self, main: docker.DockerClient, ref: str) -> None:
        """Copy an image from the main engine (docker save | docker load) under the same tag."""
        image = main.images.get(ref)
        client = self.client()
        client.images.load(main.api.get_image(image.id))
        client.images.get(image.id).tag(*ref.rsplit(":", 1))

    def stop(self) -> None:
        """Graceful stop, which stops its containers; a killed engine is restarted first, since a restart is
        what stops the containers it orphaned. Then anything of ours still alive is killed and unmounted."""
        if not self.running and self.proc is not None:
            try:
                self.start()
            except EngineDidNotStart:
                pass
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        for pid in self._leftover_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for mount in reversed(self._mounts()):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)

    def remove(self) -> None:
        self.stop()
        subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _leftover_processes(self) -> list[int]:
        """Only what this engine started: its dockerd, containerd and shims name our root on their command
        line; container processes sit under our cgroup parent."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                cgroup = (entry / "cgroup").read_text()
            except OSError:
                continue
            if str(self.root) in cmdline or self.cgroup_parent in cgroup:
                found.append(int(entry.name))
        return found

    def _mounts(self) -> list[str]:
        with open("/proc/self/mountinfo") as fh:
            points = [line.split()[4] for line in fh]
        return [p for p in points if p == str(self.root) or p.startswith(str(self.root) + "/")]


class EngineDidNotStart(Exception):
    """dockerd could not start here (no privileges, no kernel support); the message is its log's tail."""


def storage_driver(main: docker.DockerClient) -> str:
    """The main engine's storage driver when a data root on the same filesystem can use it, else vfs (works
    anywhere, only slower)."""
    driver = main.info().get("Driver", "")
    return driver if driver in ("overlay2", "vfs") else "vfs"


# -- a Jupyter server process ------------------------------------------------------------------------
class ServerProcess:
    """`jupyter server` with the containerjob extension, as a separate process that can be killed and restarted."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(PKG), env.get("PYTHONPATH")]))}
        self.token = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log = root / "server.log"

    def start(self) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = self.root / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"containerjob": True}}}))
        argv = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={self.port}",
                "--ip=127.0.0.1", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                "--ContainerJobExtension.sweep_s=600"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
                                         env={**self.env, "JUPYTER_CONFIG_DIR": str(config)})
        wait_for(self._answers, f"the Jupyter server on port {self.port} (log {self.log})", timeout_s=60, every_s=0.2)

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the Jupyter server exited with {self.proc.returncode}; see {self.log}")
        try:
            return self.api("GET", "version")[0] == 200
        except OSError:
            return False

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        """One REST call to /containerjob/PATH with the token; (status, decoded JSON or None)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/containerjob/{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                data = response.read()
                return response.status, json.loads(data) if data else None
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def kill(self) -> None:
        """The server dies (SIGKILL): no shutdown hook runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
