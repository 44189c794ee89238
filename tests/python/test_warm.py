"""Warm containers (backends/warm.py): the next job's container is made before it is needed and handed the job,
with the semantics of a cold start: its own container, the same environment, the same cancel and interrupt;
and none stays behind (idle time, a dead maker, gc, the sweep before a run)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from cjtest import IMAGE
from conftest import listed, store_label

# What a job reports about itself: warm (the handoff folder is bound) or cold, and what it sees.
PROBE = textwrap.dedent("""
    import json, os, subprocess, sys
    shell = subprocess.run(["sh", "-c", "env; grep -E '^SigIgn' /proc/$$/status"], capture_output=True,
                           text=True).stdout
    status = {k: v for k, v in (l.split(':\\t') for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)}
    seen = os.path.exists('/tmp/left-by-a-job')
    open('/tmp/left-by-a-job', 'w').close()
    print(json.dumps({"warm": os.path.exists('/containerjob/handoff'), "env": dict(os.environ), "shell": shell,
                      "argv": sys.orig_argv, "pid": os.getpid(), "cwd": os.getcwd(), "seen": seen,
                      "signals": {k: status[k] for k in ("SigIgn", "SigBlk", "SigCgt")}}))
""")


def service(**settings):
    from containerjob.core.settings import Settings
    from containerjob.service import JobService

    return JobService(Settings.load(settings))


def run(svc, source: str = PROBE, **options):
    from containerjob.core.spec import RunOptions

    prepared = svc.prepare(RunOptions(image=IMAGE, **options), source, kind="cell", filename="<cell>",
                           namespace={}, inputs=[], outputs=[])
    chunks: list[str] = []
    record = svc.follow(svc.submit(prepared), chunks.append)
    return record, "".join(chunks)


def probe(svc, **options) -> dict:
    record, out = run(svc, **options)
    assert record.status.value == "SUCCEEDED" and record.message == "", (record.message, out)
    return {**json.loads(out), "id": record.id}


def waiting(svc, count: int = 1, within_s: float = 60.0) -> list:
    """The warm containers ready for a job, once there are `count` (they are made in the background: created,
    started, then ready)."""
    backend = svc.backend("local")
    deadline = time.monotonic() + within_s
    while True:
        ready = backend.warm_pool.ready()
        found = [c for c in backend.containers(warm_only=True) if c.attrs["Labels"]["containerjob.job"] in ready]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def warm_of_store(engine, home) -> list:
    return listed(engine, {"label": [f"containerjob.store={store_label(home)}", "containerjob.warm"]})


def test_each_job_gets_a_fresh_container_with_a_cold_jobs_environment(cj_home, engine):
    cold = probe(service(warm=False))
    svc = service()
    first = probe(svc)  # cold: nothing was waiting yet
    assert waiting(svc)
    second = probe(svc)
    assert waiting(svc)
    third = probe(svc)
    assert (cold["warm"], first["warm"], second["warm"], third["warm"]) == (False, False, True, True)
    assert not any(j["seen"] for j in (cold, first, second, third))  # /tmp of one job is not the next one's
    for job in (second, third):
        assert job["env"]["CONTAINERJOB_JOB_ID"] == job["id"]
        for name in ("env", "shell", "argv", "pid", "cwd", "signals"):  # shell: what a `!shell` line sees
            assert same_but_id(job, name) == same_but_id(cold, name), name


def same_but_id(job: dict, name: str):
    """What the job saw, its own ID (CONTAINERJOB_JOB_ID, CLOUD_ML_JOB_ID) written as ID."""
    return json.loads(json.dumps(job[name]).replace(job["id"], "ID"))


def test_a_warm_container_goes_after_its_idle_time(cj_home, engine):
    svc = service(warm_idle_s=3)
    probe(svc)
    assert waiting(svc)
    ready = time.monotonic()
    time.sleep(1)
    assert len(warm_of_store(engine, cj_home)) == 1  # not before its time
    while warm_of_store(engine, cj_home) and time.monotonic() < ready + 30:
        time.sleep(0.1)
    assert warm_of_store(engine, cj_home) == [] and time.monotonic() - ready >= 3
    assert not any((cj_home / "warm").iterdir())


def test_an_image_or_option_change_makes_a_new_launch_key(cj_home, engine):
    svc = service()
    probe(svc)
    (plain,) = waiting(svc)
    labelled_job = probe(svc, labels=["team=a"])  # a label is fixed when a container is created
    assert labelled_job["warm"] is False
    keys = {c.attrs["Labels"]["containerjob.warm"] for c in waiting(svc, 2)}
    assert len(keys) == 2 and plain.attrs["Labels"]["containerjob.warm"] in keys
    assert probe(svc)["warm"] is True  # the plain one still waited for a plain job


def test_a_warm_container_killed_behind_our_back_is_not_handed_a_job(cj_home, engine):
    svc = service()
    probe(svc)
    (warm,) = waiting(svc)
    engine.api.kill(warm.id)
    job = probe(svc)  # SUCCEEDED, no message (probe checks): started cold
    assert job["warm"] is False
    assert warm.id not in [c.id for c in listed(engine, {"label": f"containerjob.store={store_label(cj_home)}"})]


def test_a_warm_started_job_is_cancelled_as_a_cold_one(cj_home, engine, labelled):
    svc = service()
    probe(svc)
    assert waiting(svc)
    from containerjob.core.spec import RunOptions

    prepared = svc.prepare(RunOptions(image=IMAGE), "import time, os\nprint(os.path.exists('/containerjob/handoff'), "
                           "flush=True)\ntime.sleep(120)", kind="cell", filename="<cell>", namespace={}, inputs=[],
                           outputs=[])
    record = svc.submit(prepared)
    chunks: list[str] = []
    threading.Timer(2.0, svc.cancel, args=(record.id,)).start()
    done = svc.follow(record, chunks.append)
    assert "".join(chunks).startswith("True\nstopped: cancelled by the user")  # as a cold job's
    assert (done.status.value, done.message) == ("CANCELLED", "cancelled by the user")
    svc.backend("local").wait_removed()
    assert labelled(record.id) == []


def test_a_warm_started_cell_is_interrupted_as_a_cold_one(ip, cj_home, labelled, capsys):
    assert ip.run_cell("%%containerjob\nx = 1").success  # cold; makes the next one
    svc = ip.magics_manager.registry["ContainerJob"].service  # the magic's
    assert waiting(svc)
    timer = threading.Timer(3.0, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("containerjob", "", "import time, os\nprint('warm', os.path.exists('/containerjob/handoff'), "
                          "flush=True)\ntime.sleep(120)")
    assert "warm True" in capsys.readouterr().out
    last = max(svc.list(refresh=False), key=lambda r: r.created_at)
    assert (last.status.value, last.message) == ("CANCELLED", "cancelled by the user")
    assert labelled(last.id) == []


MAKER = textwrap.dedent("""
    import sys, time
    sys.path[:0] = {paths!r}
    from test_warm import probe, service, waiting
    svc = service()
    probe(svc)
    print(waiting(svc)[0].id, flush=True)
    time.sleep(600)
""")


@pytest.mark.parametrize("then", ["gc", "next run"])
def test_a_killed_maker_leaves_no_warm_container(cj_home, engine, then):
    paths = [str(Path(__file__).parent), *sys.path]
    maker = subprocess.Popen([sys.executable, "-c", MAKER.format(paths=paths)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)})
    try:
        warm_id = maker.stdout.readline().strip()
        assert warm_id, "the maker made no warm container"
    finally:
        maker.kill()  # SIGKILL: no atexit
        maker.wait()
    svc = service()
    if then == "gc":
        svc.gc()
    else:
        probe(svc)
    assert warm_id not in [c.id for c in warm_of_store(engine, cj_home)]


def test_list_all_and_gc_show_warm_containers_as_such(cj_home, engine, capsys):
    from containerjob.cli import main

    svc = service()
    job = probe(svc)
    (warm,) = waiting(svc)
    reserved = warm.attrs["Labels"]["containerjob.job"]
    assert main(["list", "--all"]) == 0
    out = capsys.readouterr().out
    assert job["id"] in out and f"warm containers waiting for a job: 1\n  {IMAGE}" in out and reserved in out
    assert main(["gc"]) == 0
    assert capsys.readouterr().out.startswith("removed 0 containers (and 1 warm ones waiting for a job)")
    assert warm_of_store(engine, cj_home) == []
    assert probe(svc)["warm"] is False  # the one gc removed is not handed the job: it starts cold
