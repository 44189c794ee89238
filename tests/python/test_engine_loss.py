"""The Docker engine dies while jobs run, and comes back.

The engine killed here is a second dockerd of our own (own socket, data root, exec root and containerd;
containerjob reaches it through DOCKER_HOST), never the machine's main engine, which others share. It is
SIGKILLed mid-job and restarted on the same data root, where it stops the containers it orphaned.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from pathlib import Path

import docker
import pytest
import tornado.httpclient
from IPython.core.error import UsageError

from cjtest import IMAGE
from containerjob.core.errors import JobLost
from containerjob.core.models import JobStatus
from containerjob.core.spec import RunOptions
from containerjob.core.store import Store
from containerjob.service import JobService
from faultkit import EngineDidNotStart, SecondEngine, finished_vertex_record, run_cli, wait_for

SLEEPER = "print('started', flush=True)\nimport time\ntime.sleep(120)\n"
ENGINE_FIX = "start it (dockerd or `systemctl start docker`) or point DOCKER_HOST at a running engine"


@pytest.fixture(scope="module")
def second_engine(engine):
    """Started once for the module with IMAGE loaded from the main engine; always stopped and removed."""
    if os.geteuid() != 0:
        pytest.skip("a second dockerd needs root")
    if not shutil.which("dockerd"):
        pytest.skip("no dockerd binary on this machine")
    second = SecondEngine(engine)
    try:
        try:
            second.start()
        except EngineDidNotStart as exc:
            pytest.skip(f"a second dockerd cannot start here (its log: {exc})")
        second.load_image(engine, IMAGE)
        yield second
    finally:
        second.remove()


@pytest.fixture
def on_second_engine(second_engine, cj_home, monkeypatch):
    """containerjob (kernel, CLI, server) pointed at the running second engine; its containers removed after."""
    if not second_engine.running:
        second_engine.start()
    monkeypatch.setenv("DOCKER_HOST", second_engine.host)
    yield second_engine
    if not second_engine.running:
        second_engine.start()
    for container in second_engine.client().containers.list(all=True):
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass  # already gone, or being removed by a finalising job


@pytest.fixture
def jp_server_config(on_second_engine):
    """The server starts after DOCKER_HOST is set, so its JobService talks to the second engine too."""
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


def ours(second: SecondEngine, cj_home) -> list:
    """Containers of this test's store on the second engine (conftest's `labelled` asks the main engine); warm
    ones waiting for a job are counted apart, as there."""
    from conftest import listed, store_label, waiting_warm

    found = listed(second.client(), {"label": f"containerjob.store={store_label(cj_home)}"})
    return [c for c in found if not waiting_warm(c, cj_home)]


def kill_once_started(second: SecondEngine, store: Store, count: int = 1) -> threading.Thread:
    """In the background: once `count` jobs run and have printed, SIGKILL the engine."""
    def run() -> None:
        running = wait_for(lambda: (r := store.list(status="RUNNING")) and len(r) >= count and r, "running jobs")
        client = second.client()
        for record in running:
            wait_for(lambda: b"started" in client.containers.get(record.backend_ref).logs(), "the job's output")
        second.kill()
    thread = threading.Thread(target=run, name="engine-killer")
    thread.start()
    return thread


async def api(fetch, *parts, **kwargs) -> tuple[int, dict]:
    try:
        response = await fetch("containerjob", *parts, **kwargs)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def test_engine_killed_mid_job(ip, on_second_engine, jp_fetch, cj_home, capsys):
    """The kernel following the job gets a UsageError naming the engine and the fix, the job is LOST, the shell and
    the Jupyter server keep answering; once the engine is back the next jobs (magic and REST) succeed and the
    LOST job's leftover container is gone."""
    second = on_second_engine
    store = Store(cj_home / "jobs.db")
    killer = kill_once_started(second, store)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("containerjob", "", SLEEPER)
    killer.join(60)
    (lost,) = store.list()
    assert f"job {lost.id} is LOST: cannot reach the Docker engine" in str(info.value)
    assert ENGINE_FIX in str(info.value)
    assert lost.status is JobStatus.LOST and "Docker engine stopped answering" in lost.message

    assert ip.run_cell("z = 6 * 7").success and ip.user_ns["z"] == 42
    capsys.readouterr()
    ip.run_line_magic("containerjob", f"status {lost.id}")
    assert json.loads(capsys.readouterr().out)["status"] == "LOST"
    with pytest.raises(UsageError, match="cannot reach the Docker engine"):
        ip.run_cell_magic("containerjob", "", "x = 1")

    assert (await api(jp_fetch, "version"))[0] == 200
    code, job = await api(jp_fetch, "jobs", lost.id)
    assert (code, job["status"]) == (200, "LOST")
    code, error = await api(jp_fetch, "jobs", method="POST",
                            body=json.dumps({"kind": "cell", "source": "x = 1", "options": {"image": IMAGE}}))
    assert (code, error["error"]) == (503, "BackendUnavailable") and ENGINE_FIX in error["message"]

    second.start()
    ip.run_cell_magic("containerjob", "", "y = 21 * 2")
    assert ip.user_ns["y"] == 42
    code, job = await api(jp_fetch, "jobs", method="POST",
                          body=json.dumps({"kind": "cell", "source": "print('back')", "options": {"image": IMAGE}}))
    assert code == 201
    while not store.get(job["id"]).status.is_final:  # the server's watcher finalises it
        await asyncio.sleep(0.2)
    assert (await api(jp_fetch, "jobs", job["id"], "logs"))[1]["text"] == "back\n"
    assert {r.status for r in store.list()} == {JobStatus.LOST, JobStatus.SUCCEEDED}
    assert store.get(lost.id).status is JobStatus.LOST
    assert ours(second, cj_home) == []


async def test_job_watched_by_the_server_is_lost_with_the_engine(on_second_engine, jp_fetch, cj_home):
    """A job submitted through the REST API (followed by the server's watcher, no kernel) when the engine dies:
    the API names the engine while it is down, and once it is back the job is LOST, not a job that failed."""
    second = on_second_engine
    store = Store(cj_home / "jobs.db")
    code, job = await api(jp_fetch, "jobs", method="POST",
                          body=json.dumps({"kind": "cell", "source": SLEEPER, "options": {"image": IMAGE}}))
    assert code == 201
    killer = kill_once_started(second, store)
    while killer.is_alive():
        await asyncio.sleep(0.1)
    code, body = await api(jp_fetch, "jobs", job["id"])  # while it is down: the store's answer, no engine asked
    assert code == 200 and body["status"] in ("RUNNING", "LOST"), body
    deadline = asyncio.get_running_loop().time() + 15
    while body["status"] == "RUNNING" and asyncio.get_running_loop().time() < deadline:  # until the watcher notices
        await asyncio.sleep(0.1)
        body = (await api(jp_fetch, "jobs", job["id"]))[1]
    assert body["status"] == "LOST" and "Docker engine" in body["message"]
    second.start()
    code, job = await api(jp_fetch, "jobs", job["id"])
    assert (code, job["status"]) == (200, "LOST") and "Docker engine" in job["message"]
    leftover = ours(second, cj_home)  # the engine kept the stopped container; as the message says, gc removes it
    assert JobService().gc().containers == len(leftover)
    assert ours(second, cj_home) == []


def fuse_mounts_under(path: Path) -> list[str]:
    return [line.split()[1] for line in open("/proc/mounts") if line.split()[1].startswith(str(path))]


def test_gc_without_an_engine_prunes_all_but_containers(on_second_engine, cj_home, gcs, tmp_path):
    """A machine without an engine (Vertex-only, or the engine died): `containerjob gc --older-than 0` still removes
    old records, job folders and payloads, says in one line that containers were not checked and that a later gc
    takes them, and exits 0. The job LOST with the engine keeps its FUSE mount: gc unmounts it first, never
    deletes the bucket's files through it. With the engine back, gc removes the container that job left."""
    second = on_second_engine
    service = JobService()
    cell = {"kind": "cell", "filename": "<cell>"}
    done = service.submit(service.prepare(RunOptions(image=IMAGE), "x = 1", **cell))
    assert service.wait([done.id])[0].status is JobStatus.SUCCEEDED
    gcs.bucket.blob("kept.txt").upload_from_string(b"the bucket's own")
    writer = f"open('/gcs/{gcs.name}/from-job.txt', 'w').write('the job wrote it')\n" + SLEEPER.replace("120", "4")
    lost = service.submit(service.prepare(RunOptions(image=IMAGE, mounts=[f"gs://{gcs.name}:fuse"]), writer, **cell))
    kill_once_started(second, service.store).join(60)
    with pytest.raises(JobLost):
        service.get(lost.id)
    assert fuse_mounts_under(cj_home) != []  # the LOST job's bucket is still mounted in its folder
    finished_vertex_record(service.store, done)

    proc = run_cli("gc", "--older-than", "0", DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    summary, skipped = proc.stdout.splitlines()
    assert summary.startswith("removed 0 containers, 2 payloads, 3 jobs"), summary
    assert skipped.startswith("skipped: local containers not checked: cannot reach the Docker engine"), skipped
    assert skipped.endswith("if the 2 local jobs removed now left containers, the next `containerjob gc` that "
                            "reaches the engine removes them"), skipped
    assert Store(cj_home / "jobs.db").list() == []
    assert list((cj_home / "jobs").iterdir()) == [] and list((cj_home / "payloads").iterdir()) == []
    assert fuse_mounts_under(cj_home) == []
    assert gcs.bucket.blob("kept.txt").download_as_bytes() == b"the bucket's own"
    assert gcs.bucket.blob("from-job.txt").download_as_bytes() == b"the job wrote it"

    second.start()
    leftover = ours(second, cj_home)  # the LOST job's container, kept by the engine
    proc = run_cli("gc", DOCKER_HOST=second.host)
    assert proc.returncode == 0 and proc.stdout.startswith(f"removed {len(leftover)} containers"), proc.stdout
    assert "skipped" not in proc.stdout and ours(second, cj_home) == []
