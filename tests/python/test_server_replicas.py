"""GET jobs/{id}/replicas with real replicas: a 2-replica local job (one container each, the real engine) shows
each replica's state while it runs and how each ended once its containers are gone; a one-replica job shows
itself; the route reads the job's folder, never the engine."""
from __future__ import annotations

import asyncio
import time

import pytest

from test_server_jobs import api, submit, wait_for

# The chief and the worker of a 2-replica job; the worker exits with WORKER_EXIT when it is set.
ROLES = """\
import json, os, sys, time
me = json.loads(os.environ["CLUSTER_SPEC"])["task"]
if me["type"] == "workerpool1" and os.environ.get("WORKER_EXIT"):
    sys.exit(int(os.environ["WORKER_EXIT"]))
time.sleep(60)
"""


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def replicas_until(fetch, job_id: str, wanted: dict[str, str], timeout_s: float = 30) -> list[dict]:
    """The replicas once their states are `wanted` (name -> state)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = (await api(fetch, "jobs", job_id, "replicas"))["replicas"]
        if {r["name"]: r["state"] for r in found} == wanted or time.monotonic() > deadline:
            assert {r["name"]: r["state"] for r in found} == wanted, found
            return found
        await asyncio.sleep(0.2)


async def test_two_replicas_show_their_states_while_running_and_after_cancel(jp_fetch, labelled):
    job = await submit(jp_fetch, ROLES, options={"image": "python:3.11-slim", "replicas": "2"})
    running = await replicas_until(jp_fetch, job["id"], {"workerpool0-0": "RUNNING", "workerpool1-0": "RUNNING"})
    assert [(r["pool"], r["index"], r["exit_code"]) for r in running] == [(0, 0, None), (1, 0, None)]
    await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="")
    assert labelled(job["id"]) == []  # the containers are gone; their last states are kept
    ended = await replicas_until(jp_fetch, job["id"], {"workerpool0-0": "CANCELLED", "workerpool1-0": "CANCELLED"})
    assert all(r["exit_code"] in (137, 143) and r["message"] == "stopped as the job ended" for r in ended), ended


async def test_the_failing_replica_is_named_and_the_stopped_one_is_not_failed(jp_fetch, labelled):
    job = await submit(jp_fetch, ROLES, options={"image": "python:3.11-slim", "replicas": "2", "env": ["WORKER_EXIT=5"]})
    final = await wait_for(jp_fetch, job["id"], "FAILED", timeout_s=60)
    assert "replica workerpool1-0 exited with code 5" in final["message"]
    chief, worker = await replicas_until(jp_fetch, job["id"], {"workerpool0-0": "CANCELLED", "workerpool1-0": "FAILED"})
    assert (worker["exit_code"], worker["message"]) == (5, "exited with code 5")
    assert chief["exit_code"] in (137, 143)


async def test_one_replica_job_is_its_own_replica_and_the_route_never_asks_the_engine(jp_fetch, jp_serverapp,
                                                                                      monkeypatch):
    job = await submit(jp_fetch, "import time; time.sleep(60)")
    service = jp_serverapp.extension_manager.extension_points["containerjob"].app.ctx.service

    def refused(*args, **kwargs):
        raise AssertionError("the replicas route asked the engine")
    monkeypatch.setattr(service.backend("local"), "_replica_infos", refused)
    monkeypatch.setattr(service.backend("local"), "_inspect", refused)
    (only,) = (await api(jp_fetch, "jobs", job["id"], "replicas"))["replicas"]
    assert (only["name"], only["pool"], only["index"]) == ("workerpool0-0", 0, 0)
    assert only["state"] == (await api(jp_fetch, "jobs", job["id"]))["status"]
    monkeypatch.undo()
    await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="")
