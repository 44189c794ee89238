"""Shared fixtures: a real Docker engine, an isolated containerjob home, an IPython shell."""
from __future__ import annotations

import hashlib

import docker
import pytest

from cjtest import IMAGE

pytest_plugins = ["pytest_jupyter.jupyter_server"]


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


@pytest.fixture
def cj_home(tmp_path, monkeypatch, engine):
    """Each test gets its own store, payloads and job directories, and no ambient GCP project."""
    home = tmp_path / "cjhome"
    monkeypatch.setenv("CONTAINERJOB_HOME", str(home))
    monkeypatch.setenv("CONTAINERJOB_CONFIG", str(tmp_path / "no-config.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    for var in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS",
                "CONTAINERJOB_PROJECT", "CONTAINERJOB_DEFAULT_IMAGE", "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    yield home
    for container in engine.containers.list(all=True, filters={"label": f"containerjob.store={store_label(home)}"}):
        container.remove(force=True)  # hygiene after a failed test; the tests themselves assert on orphans


def store_label(home) -> str:
    return hashlib.sha256(str((home / "jobs.db").resolve()).encode()).hexdigest()[:12]


@pytest.fixture
def labelled(engine, cj_home):
    """Containers this test's store launched (found by label): the orphan check."""
    def _list(job_id: str | None = None):
        labels = [f"containerjob.store={store_label(cj_home)}"] + ([f"containerjob.job={job_id}"] if job_id else [])
        return engine.containers.list(all=True, filters={"label": labels})
    return _list


@pytest.fixture
def ip(cj_home, engine):
    """A fresh IPython shell with the extension loaded."""
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
