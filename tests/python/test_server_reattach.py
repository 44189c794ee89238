"""A server that starts while jobs run reattaches to them and finalises them; its threads stop with it."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cjtest import IMAGE
from containerjob.core.spec import RunOptions
from containerjob.core.store import Store
from containerjob.service import JobService


@pytest.fixture
def running_job(cj_home):
    """Submitted straight through JobService (as a kernel or the CLI would) and followed by nobody."""
    service = JobService()
    prepared = service.prepare(RunOptions(image=IMAGE), "import time; time.sleep(2); print('finished')",
                               kind="cell", filename="<cell>")
    return service.submit(prepared)


@pytest.fixture
def jp_server_config(running_job):
    """The job exists before the server (and its extension) starts."""
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def test_running_jobs_are_reattached_and_finalised(jp_serverapp, running_job, cj_home, labelled, caplog):
    store = Store(cj_home / "jobs.db")
    assert store.get(running_job.id).status.value == "RUNNING"
    deadline = time.monotonic() + 20
    while not store.get(running_job.id).status.is_final and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # the store is read without refreshing: only the server's watcher finalises
    record = store.get(running_job.id)
    assert record.status.value == "SUCCEEDED" and record.exit_code == 0
    assert (Path(record.job_dir) / "logs.txt").read_text() == "finished\n"
    assert labelled(running_job.id) == []
    # Not the "following 1 unfinished jobs" line: the first pass may log it while ServerApp.initialize has
    # the logger detached from pytest's capture (pytest-jupyter reattaches it after initialize).
    logged = [r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase)]
    assert f"containerjob: job {running_job.id} ended SUCCEEDED" in logged


async def test_threads_stop_with_the_server(jp_serverapp, running_job):
    extension = jp_serverapp.extension_manager.extension_points["containerjob"].app
    assert {"containerjob-watcher", "containerjob-scheduler"} <= set(extension.ctx.alive())
    await jp_serverapp.extension_manager.stop_all_extensions()
    assert extension.ctx.alive() == []
