"""Faults while jobs run: mass cancels and interrupts, random crashes, full or read-only disks, oversized
payloads, an image without Python, a kernel killed mid-job, a Jupyter server restarted mid-job and `gc` on
a machine with no Docker engine.

Each test asserts what the user is told and what is left behind (records, containers, files), never timing.
The engine's own loss is in test_engine_loss.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
from IPython.core.error import UsageError

from cjtest import IMAGE, commit_without_python3
from containerjob.backends.restarts import TRANSIENT_EXIT_CODES
from containerjob.core.models import JobRecord, JobStatus
from containerjob.core.spec import RunOptions
from containerjob.core.store import Store
from containerjob.service import JobService
from faultkit import (
    PKG,
    ServerProcess,
    fill,
    finished_vertex_record,
    half_written,
    home_entries,
    run_cli,
    tmpfs,
    wait_for,
)

# A job that stays busy (printing, so a follower gets output to be interrupted in) until its .go file appears.
TICKING = ("import time\nfor _ in range(1200):\n    print('tick', flush=True)\n    time.sleep(0.1)\n")
WAIT_FOR_GO = ("import os, time\n"
               "go = os.path.join(os.environ['CONTAINERJOB_OUTPUT'], '.go')\n"
               "deadline = time.time() + 120\n"
               "while not os.path.exists(go) and time.time() < deadline:\n"
               "    time.sleep(0.05)\n")


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=180, **kw)


def release(record: JobRecord) -> None:
    """Let a WAIT_FOR_GO job finish: the file appears in its bind-mounted output folder (hidden: not an output)."""
    (Path(record.job_dir) / "output" / ".go").write_text("")


def records(home: Path) -> list[JobRecord]:
    return Store(home / "jobs.db").list(limit=100_000)


# -- 1. fifty running jobs, half cancelled, half interrupted ---------------------------------------------
def test_fifty_running_jobs_cancelled_or_interrupted(ip, cj_home, tmp_path, labelled):
    """25 cancelled (20 by JobService.cancel from threads, 5 by `containerjob cancel`) and 25 interrupted the way
    Ctrl-C interrupts the magic (20 followers getting KeyboardInterrupt inside follow, 4 `containerjob run` getting
    SIGINT, 1 real %%containerjob cell getting SIGINT), all at the same moment: every job ends CANCELLED, no
    container is left, no file is half-written."""
    service = JobService()
    prepared = service.prepare(RunOptions(image=IMAGE), TICKING, kind="cell", filename="<cell>")
    with ThreadPoolExecutor(8) as pool:
        started = list(pool.map(lambda _: service.submit(prepared), range(45)))
    to_cancel, cli_cancel, followed = started[:20], started[20:25], started[25:]
    script = tmp_path / "tick.py"
    script.write_text(TICKING)
    runs = [subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for run in runs:
        assert run.stdout.readline().strip() == "tick"  # running, and followed by its CLI

    interrupt = threading.Event()
    outcomes: dict[str, object] = {}

    def follow(record: JobRecord) -> None:
        def on_output(_text: str) -> None:
            if interrupt.is_set():
                raise KeyboardInterrupt  # where Ctrl-C lands in the kernel: inside follow, while output arrives
        try:
            outcomes[record.id] = JobService().follow(record, on_output)
        except KeyboardInterrupt as exc:
            outcomes[record.id] = exc

    followers = [threading.Thread(target=follow, args=(r,)) for r in followed]
    for thread in followers:
        thread.start()

    def storm() -> None:
        """Once the magic's own job runs: every cancel and interrupt at once, the magic's SIGINT last."""
        store = Store(cj_home / "jobs.db")
        wait_for(lambda: len(store.list(limit=100, status="RUNNING")) == 50, "50 running jobs")
        interrupt.set()
        for run in runs:
            run.send_signal(signal.SIGINT)
        cancels = [subprocess.Popen([sys.executable, "-m", "containerjob.cli", "cancel", r.id], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for r in cli_cancel]
        with ThreadPoolExecutor(8) as pool:
            outcomes["cancelled"] = list(pool.map(lambda r: JobService().cancel(r.id), to_cancel))
        outcomes["cli cancels"] = [(p.wait(120), p.stdout.read()) for p in cancels]
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    stormer = threading.Thread(target=storm)
    stormer.start()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("containerjob", "", TICKING)
    stormer.join(180)
    for thread in followers:
        thread.join(120)
    for run in runs:
        run.wait(120)

    assert [run.returncode for run in runs] == [130] * 4
    assert all(isinstance(outcomes[r.id], KeyboardInterrupt) for r in followed), outcomes
    assert [r.status for r in outcomes["cancelled"]] == [JobStatus.CANCELLED] * 20
    assert all(code == 0 and "CANCELLED" in out for code, out in outcomes["cli cancels"]), outcomes["cli cancels"]
    final = records(cj_home)
    assert len(final) == 50
    assert {r.status for r in final} == {JobStatus.CANCELLED}, [(r.id, r.status, r.message) for r in final]
    assert labelled() == []
    assert half_written(cj_home) == []
    for record in final:  # the logs were kept before the container went; no result was written
        assert "tick" in (Path(record.job_dir) / "logs.txt").read_text()
        assert os.listdir(Path(record.job_dir) / "output") == []


# -- 2. two hundred runs with random exits and crashes ------------------------------------------------
@dataclass
class Crash:
    """One run: the cell, what it does, and what its record must say afterwards."""

    source: str
    status: JobStatus
    exit_code: int
    message: str = ""
    logs: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    kill_on: str = ""  # the engine kills the container (SIGKILL) when this text is printed


def restarted(plan: Crash) -> Crash:
    """An exit Vertex AI retries (SIGABRT, SIGSEGV) is retried here as there, three times (backends/restarts.py):
    the record then names each restart after the exit; the logs hold each attempt's lines."""
    if plan.exit_code not in TRANSIENT_EXIT_CODES:
        return plan
    lines = [f"replica workerpool0-0 restarted (attempt {n} of 4): exit code {plan.exit_code} "
             f"({TRANSIENT_EXIT_CODES[plan.exit_code]}), which Vertex AI retries" for n in (2, 3, 4)]
    return dataclasses.replace(plan, message="; ".join([plan.message, *lines]))


def crash_plan(i: int, rng: random.Random) -> Crash:
    code = rng.randrange(256)
    failed = JobStatus.SUCCEEDED if code == 0 else JobStatus.FAILED
    exited = "" if code == 0 else f"the container exited with code {code}"
    lines = [f"out-{i}-{k}" for k in range(rng.randrange(4))]
    head = "import os, sys\n" + "".join(f"print({line!r})\n" for line in lines)
    kind = rng.choice(["ok", "sys_exit", "os_exit", "partial_line", "raise_before", "raise_after", "segfault",
                       "killed", "flood", "stderr", "exit_text"])
    if kind == "ok":
        return Crash(head + f"value = {i}\n", JobStatus.SUCCEEDED, 0, logs=lines, values={"value": i})
    if kind == "sys_exit":  # sys.exit(0) is a success and the variables still come back
        return Crash(head + f"value = {i}\nsys.exit({code})\n", failed, code, exited, lines,
                     {"value": i} if code == 0 else {})
    if kind == "os_exit":  # no runner code runs after os._exit: no result at all
        return Crash(head + f"value = {i}\nos._exit({code})\n", failed, code, exited, lines)
    if kind == "partial_line":
        return Crash(head + f"sys.stdout.write('partial-{i}')\nos._exit({code})\n", failed, code, exited,
                     [*lines, f"partial-{i}"])
    if kind == "raise_before":
        return Crash(f"raise ValueError('boom {i} ünï')\nprint('never')\n", JobStatus.FAILED, 1,
                     f"ValueError: boom {i} ünï", ["Traceback", f"ValueError: boom {i} ünï"])
    if kind == "raise_after":
        raised, message = rng.choice([
            (f"raise RuntimeError('late {i}')", f"RuntimeError: late {i}"),
            ("1 / 0", "ZeroDivisionError: division by zero"),
            (f"class Boom(Exception):\n    pass\nraise Boom('custom {i}')", f"Boom: custom {i}"),
            ("raise KeyboardInterrupt", "KeyboardInterrupt: "),
            (f"{{}}['k{i}']", f"KeyError: 'k{i}'"),
        ])
        return Crash(head + raised + "\n", JobStatus.FAILED, 1, message, [*lines, message.split(":")[0]])
    if kind == "segfault":
        return Crash(head + "import ctypes\nctypes.string_at(0)\n", JobStatus.FAILED, 139,
                     "the container exited with code 139", lines)
    if kind == "killed":  # SIGKILL from outside (the engine, as the OOM killer or an operator would)
        return Crash(head + f"print('ready-{i}', flush=True)\nimport time\ntime.sleep(120)\n", JobStatus.FAILED, 137,
                     "the container exited with code 137", [*lines, f"ready-{i}"], kill_on=f"ready-{i}")
    if kind == "flood":
        return Crash(head + f"for n in range(3000):\n    print('flood-{i}-%d' % n)\nsys.exit({code})\n", failed, code,
                     exited, [*lines, f"flood-{i}-0\n", f"flood-{i}-2999\n"])
    if kind == "stderr":
        return Crash(head + f"sys.stderr.write('err-{i}\\n')\nos._exit({code})\n", failed, code, exited,
                     [*lines, f"err-{i}"])
    return Crash(head + f"sys.exit('bye {i}')\n", JobStatus.FAILED, 1, "the container exited with code 1",
                 [*lines, f"bye {i}"])


def test_two_hundred_random_crashes_are_reported_exactly(cj_home, engine, labelled):
    """200 real runs, 8 at a time (seeded): every record's status, exit code and message match what the cell
    did, its logs hold what it printed before dying, and variables come back only from a clean end."""
    rng = random.Random(7)
    plans = [restarted(crash_plan(i, rng)) for i in range(200)]
    local = threading.local()

    def run(plan: Crash) -> tuple[Crash, JobRecord, str, dict]:
        service = getattr(local, "service", None) or JobService()
        local.service = service
        prepared = service.prepare(RunOptions(image=IMAGE), plan.source, kind="cell", filename="<cell>",
                                   outputs=["value"])
        record = service.submit(prepared)
        seen: list[str] = []

        def on_output(text: str) -> None:
            seen.append(text)
            if plan.kill_on and plan.kill_on in "".join(seen):
                try:
                    engine.api.kill(f"containerjob-{record.id}")
                except docker.errors.APIError:
                    pass  # already killed on an earlier chunk
        record = service.follow(record, on_output)
        logs = (Path(record.job_dir) / "logs.txt").read_text()
        return plan, record, logs, service.values(record).values

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, plans))
    misreported = []
    for plan, record, logs, values in results:
        got = (record.status, record.exit_code, record.message, values)
        want = (plan.status, plan.exit_code, plan.message, plan.values)
        missing = [text for text in plan.logs if text not in logs]
        if got != want or missing:
            misreported.append({"source": plan.source, "got": got, "want": want, "missing from logs": missing})
    assert misreported == []
    kinds = {(r.status, r.exit_code) for _, r, _, _ in results}
    assert len(kinds) > 50  # the seed really spreads exit codes
    assert labelled() == []
    assert half_written(cj_home) == []


# -- 4. no space, no write access, too big, no python3 -------------------------------------------------
def as_is(_home: Path) -> None:
    """Leave the home as it is: a 3 MiB input cannot fit in 2 MiB anyway."""


@pytest.mark.parametrize("cell,ns,make_full", [
    pytest.param("n = len(blob)", {"blob": os.urandom(3_000_000)}, as_is, id="payload-does-not-fit"),
    pytest.param("x = 1", {}, fill, id="record-does-not-fit"),
])
def test_full_home_is_a_clear_error_and_leaves_nothing(ip, cj_home, labelled, cell, ns, make_full):
    """CONTAINERJOB_HOME on a full 2 MiB disk: the cell is refused with a UsageError that says so, and the home
    holds exactly what it held before (the payload write and the job's record are all or nothing)."""
    with tmpfs(cj_home, size="2m"):
        ip.run_cell_magic("containerjob", "", "x = 1")  # the store, the runtime and one finished job exist
        make_full(cj_home)
        before = home_entries(cj_home)
        ip.user_ns.update(ns)
        with pytest.raises(UsageError, match=r"(?i)no space|disk is full") as info:
            ip.run_cell_magic("containerjob", "", cell)
        assert str(cj_home) in str(info.value)
        assert home_entries(cj_home) == before
        assert [r.status for r in records(cj_home)] == [JobStatus.SUCCEEDED]
        assert labelled() == []


def test_disk_filling_up_during_the_run_fails_the_job_cleanly(ip, cj_home, tmp_path, labelled):
    """--output-dir on a 1 MiB disk and a job writing 3 MiB there: the user's own write fails inside the job,
    which ends FAILED with that error; nothing is left running."""
    with tmpfs(tmp_path / "small", size="1m") as small:
        with pytest.raises(OSError, match="No space left on device"):
            ip.run_cell_magic("containerjob", f"--output-dir {small}",
                              "import os\nopen(os.environ['AIP_MODEL_DIR'] + 'model.bin', 'wb').write(bytes(3 << 20))")
    (record,) = records(cj_home)
    assert record.status is JobStatus.FAILED and record.exit_code == 1
    assert record.message == "OSError: [Errno 28] No space left on device"
    assert labelled() == [] and half_written(cj_home) == []


def test_read_only_home_is_a_usage_error(ip, cj_home, labelled):
    with tmpfs(cj_home, size="1m", read_only=True):
        with pytest.raises(UsageError, match="cannot open the job store .* writable directory"):
            ip.run_cell_magic("containerjob", "", "x = 1")
        assert home_entries(cj_home) == []
    assert labelled() == []


@pytest.mark.parametrize("part", ["jobs", "payloads"])
def test_read_only_part_of_home_is_a_usage_error(ip, cj_home, labelled, part):
    """The store opens but jobs/ or payloads/ is read-only (a full quota or a stale mount looks the same)."""
    with tmpfs(cj_home / part, size="1m", read_only=True):
        with pytest.raises(UsageError, match=f"{re.escape(str(cj_home / part))}.*CONTAINERJOB_HOME"):
            ip.run_cell_magic("containerjob", "", "x = 1")
        assert records(cj_home) == [] and half_written(cj_home) == []
    assert labelled() == []


@pytest.mark.parametrize("where", ["read-only", "under-a-file"])
def test_unwritable_output_dir_is_a_usage_error(ip, cj_home, tmp_path, labelled, where):
    if where == "under-a-file":
        (tmp_path / "a-file").write_text("")
        target = tmp_path / "a-file" / "out"
        with pytest.raises(UsageError, match=f"--output-dir.*{re.escape(str(target))}"):
            ip.run_cell_magic("containerjob", f"--output-dir {target}", "x = 1")
    else:
        with tmpfs(tmp_path / "ro", size="1m", read_only=True) as target:
            with pytest.raises(UsageError, match=f"--output-dir.*{re.escape(str(target))}"):
                ip.run_cell_magic("containerjob", f"--output-dir {target}", "x = 1")
    assert [r for r in records(cj_home) if not r.status.is_final] == []
    assert labelled() == [] and half_written(cj_home) == []


@pytest.mark.parametrize("cell,ns", [
    pytest.param("n = len(blob)", {"blob": os.urandom(2 << 20)}, id="inputs"),
    pytest.param(f"blob = {bytes(2 << 20)!r}\nn = len(blob)", {}, id="source"),
])
def test_payload_over_the_limit_is_refused_before_anything_is_written(ip, cj_home, monkeypatch, labelled, cell, ns):
    monkeypatch.setenv("CONTAINERJOB_MAX_PAYLOAD_MB", "1")
    ip.user_ns.update(ns)
    with pytest.raises(UsageError, match=r"over the 1\.0 MiB payload limit.*CONTAINERJOB_MAX_PAYLOAD_MB"):
        ip.run_cell_magic("containerjob", "", cell)
    assert records(cj_home) == [] and labelled() == []
    assert not (cj_home / "payloads").exists() or list((cj_home / "payloads").iterdir()) == []


@pytest.fixture
def image_without_python(engine):
    """python:3.11-slim with its python3 binaries deleted (so the image is otherwise a normal Debian)."""
    tag = f"containerjob-test/python-removed:{os.getpid()}"
    yield commit_without_python3(engine, tag)
    engine.images.remove(tag, force=True)


def test_image_without_python3_is_refused_before_a_job_exists(ip, cj_home, engine, tmp_path, labelled,
                                                             image_without_python):
    with pytest.raises(UsageError, match=f"image {image_without_python} has no python3"):
        ip.run_cell_magic("containerjob", f"--image {image_without_python}", "x = 1")
    assert records(cj_home) == [] and labelled() == []
    assert engine.containers.list(all=True, filters={"ancestor": image_without_python}) == []  # nor the probe's
    assert half_written(cj_home) == [] and not (cj_home / "jobs").exists()
    (tmp_path / "job.py").write_text("print('never')\n")
    done = cli("run", "--image", image_without_python, str(tmp_path / "job.py"))
    assert done.returncode == 2 and "has no python3" in done.stderr


# -- 5. the kernel dies mid-job ---------------------------------------------------------------------
@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


KERNEL_CELL = "%%containerjob\n" + WAIT_FOR_GO + "result = 'written after the kernel died'\nprint('finished')\n"


async def poll(predicate, what: str, timeout_s: float = 60.0):
    """wait_for without blocking the event loop the in-process Jupyter server runs on."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (value := await asyncio.to_thread(predicate)):
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.1)
    return value


FINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "LOST")


async def poll_api(fetch, job_id: str, timeout_s: float = 15.0) -> dict:
    """GET jobs/ID until the job is final (or the time is up)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        job = json.loads((await fetch("containerjob", "jobs", job_id)).body)
        if job["status"] in FINAL or asyncio.get_running_loop().time() > deadline:
            return job
        await asyncio.sleep(0.1)


async def test_kernel_killed_mid_job(cj_home, jp_fetch, engine, labelled):
    """kill -9 of the kernel that follows a job: the job goes on in its container, and both the core API and the
    REST API the sidebar reads show it RUNNING, then SUCCEEDED with its logs and result; no container is left."""
    from jupyter_client import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name="python3")
    pythonpath = os.pathsep.join(filter(None, [str(PKG), os.environ.get("PYTHONPATH")]))
    await manager.start_kernel(env={**os.environ, "PYTHONPATH": pythonpath})
    try:
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive("%load_ext containerjob", timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        client.execute(KERNEL_CELL)
        store = Store(cj_home / "jobs.db")
        record = await poll(lambda: next(iter(store.list(status="RUNNING")), None), "the kernel's job to run")
        client.stop_channels()
        os.kill(manager.provisioner.process.pid, signal.SIGKILL)
        await poll(lambda: manager.provisioner.process.poll() is not None, "the kernel to die")
    finally:
        await manager.cleanup_resources()
    service = JobService()
    assert service.get(record.id).status is JobStatus.RUNNING
    assert engine.containers.get(f"containerjob-{record.id}").status == "running"
    job = json.loads((await jp_fetch("containerjob", "jobs", record.id)).body)
    assert job["status"] == "RUNNING"

    release(record)
    job = await poll_api(jp_fetch, record.id)  # the server's watcher finalises it; reads serve the store
    assert (job["status"], job["exit_code"]) == ("SUCCEEDED", 0)
    logs = json.loads((await jp_fetch("containerjob", "jobs", record.id, "logs")).body)
    assert logs["done"] and logs["text"] == "finished\n"
    final = service.get(record.id)
    assert final.status is JobStatus.SUCCEEDED
    assert service.values(final).values["result"] == "written after the kernel died"  # `%containerjob fetch` works
    assert labelled(record.id) == []


# -- 6. the Jupyter server restarts while jobs run ------------------------------------------------------
def test_server_restart_with_jobs_in_every_state(cj_home, tmp_path, engine, labelled):
    """Four jobs submitted through the REST API of a server that is then killed (SIGKILL). While it is down one
    job succeeds, one exits with 3, one is cancelled from the CLI and one keeps running. The next server
    reattaches at start: it finalises the first two itself (the store is read without refreshing), sees the
    cancel, follows the running one to SUCCEEDED, and leaves no container."""
    sources = {"ok": WAIT_FOR_GO + "print('done')\n",
               "exit3": WAIT_FOR_GO + "import sys\nprint('failing')\nsys.exit(3)\n",
               "running": WAIT_FOR_GO + "print('late')\n",
               "cancelled": WAIT_FOR_GO + "print('never')\n"}
    store = Store(cj_home / "jobs.db")
    first = ServerProcess(tmp_path / "first", dict(os.environ))
    first.start()
    try:
        ids = {}
        for name, source in sources.items():
            code, job = first.api("POST", "jobs", {"kind": "cell", "source": source, "options": {"image": IMAGE}})
            assert code == 201, job
            ids[name] = job["id"]
        wait_for(lambda: all(store.get(i).status is JobStatus.RUNNING for i in ids.values()), "four running jobs")
    finally:
        first.kill()
    jobs = {name: store.get(job_id) for name, job_id in ids.items()}

    for name in ("ok", "exit3"):
        release(jobs[name])
        assert engine.api.wait(f"containerjob-{ids[name]}", 60)["StatusCode"] == (0 if name == "ok" else 3)
    cancel = cli("cancel", ids["cancelled"])
    assert cancel.returncode == 0 and "CANCELLED" in cancel.stdout, cancel.stderr
    assert [store.get(ids[n]).status for n in ("ok", "exit3", "running")] == [JobStatus.RUNNING] * 3

    second = ServerProcess(tmp_path / "second", dict(os.environ))
    second.start()
    try:
        wait_for(lambda: store.get(ids["ok"]).status.is_final and store.get(ids["exit3"]).status.is_final,
                 "the new server to finalise the jobs that ended while it was down")
        code, job = second.api("GET", f"jobs/{ids['running']}")
        assert (code, job["status"]) == (200, "RUNNING")
        release(jobs["running"])
        wait_for(lambda: store.get(ids["running"]).status.is_final, "the new server to follow the running job")
        final = {name: second.api("GET", f"jobs/{job_id}")[1] for name, job_id in ids.items()}
        logs = {name: second.api("GET", f"jobs/{job_id}/logs")[1]["text"] for name, job_id in ids.items()}
    finally:
        second.stop()
    assert {n: (j["status"], j["exit_code"], j["message"]) for n, j in final.items()} == {
        "ok": ("SUCCEEDED", 0, ""),
        "exit3": ("FAILED", 3, "the container exited with code 3"),
        "running": ("SUCCEEDED", 0, ""),
        "cancelled": ("CANCELLED", 143, "cancelled by the user"),
    }
    assert logs == {"ok": "done\n", "exit3": "failing\n", "running": "late\n",
                    "cancelled": "stopped: cancelled by the user\n"}
    unfinished = ", ".join(sorted(ids[n] for n in ("ok", "exit3", "running")))
    assert f"containerjob: following 3 unfinished jobs: {unfinished}" in second.log.read_text()
    assert labelled() == [] and half_written(cj_home) == []


# -- 7. no Docker engine at all ---------------------------------------------------------------------------
def test_gc_without_an_engine_prunes_everything_but_containers(cj_home, tmp_path, labelled):
    """A Vertex-only machine has no engine: `containerjob gc --older-than 0` still removes the old local and
    Vertex AI jobs (records and folders) and their payloads, says in one line that containers were not checked
    and that a later gc with the engine takes any, and exits 0."""
    service = JobService()
    local = service.submit(service.prepare(RunOptions(image=IMAGE), "x = 1", kind="cell", filename="<cell>"))
    assert service.wait([local.id])[0].status is JobStatus.SUCCEEDED
    finished_vertex_record(service.store, local)
    proc = run_cli("gc", "--older-than", "0", DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    summary, skipped = proc.stdout.splitlines()
    assert summary.startswith("removed 0 containers, 1 payloads, 2 jobs"), summary
    assert skipped.startswith("skipped: local containers not checked: cannot reach the Docker engine"), skipped
    assert "if the 1 local jobs removed now left containers, the next `containerjob gc` that reaches" in skipped
    assert Store(cj_home / "jobs.db").list() == []
    assert list((cj_home / "jobs").iterdir()) == [] and list((cj_home / "payloads").iterdir()) == []
    assert labelled() == []


def test_a_silent_storage_fails_the_job_within_the_bound_and_sync_finishes_it(ip, cj_home, gcs, gcs_emulator,
                                                                                capsys, monkeypatch):
    """fake-gcs-server is stopped (SIGSTOP: connections taken, never answered) while a sync-mode job runs: the
    upload gives up after CONTAINERJOB_NETWORK_TIMEOUT_S of silence (gcsfs alone retries for minutes), the
    job ends FAILED naming what it waited for, and after SIGCONT `containerjob sync` uploads the kept stage."""
    monkeypatch.setenv("CONTAINERJOB_NETWORK_TIMEOUT_S", "3")
    ip.run_cell_magic("containerjob", f"--detach --mount gs://{gcs.name}",
                      f"import time\nopen('/gcs/{gcs.name}/out.txt', 'w').write('late')\ntime.sleep(3)")
    job_id = capsys.readouterr().out.split("submitted ")[1].split(";")[0]
    os.kill(gcs_emulator["pid"], signal.SIGSTOP)
    try:
        started = time.monotonic()
        (record,) = JobService().wait([job_id])
        waited = time.monotonic() - started
    finally:
        os.kill(gcs_emulator["pid"], signal.SIGCONT)
    assert record.status.value == "FAILED", record.message
    assert "Cloud Storage did not answer for 3 s while uploading 1 files to gs://" in record.message
    assert f"containerjob sync {job_id}" in record.message
    assert waited < 40  # the job's 3 s, the 3 s bound and the engine; unbounded, this wait never ended
    assert (cj_home / "jobs" / job_id / "gcs" / gcs.name / "out.txt").read_text() == "late"  # stage kept
    ip.run_line_magic("containerjob", f"sync {job_id}")  # the stalled request may land on SIGCONT: then
    assert f"gs://{gcs.name}: uploaded" in capsys.readouterr().out  # sync finds its own upload, no conflict
    assert gcs.client.bucket(gcs.name).blob("out.txt").download_as_bytes() == b"late"
    assert not (cj_home / "jobs" / job_id / "gcs" / gcs.name).exists()  # a clean sync removes the stage
    ip.run_line_magic("containerjob", f"status {job_id}")
    assert json.loads(capsys.readouterr().out)["status"] == "FAILED"  # the record keeps what happened


def test_a_silent_storage_ends_a_striped_download_and_nothing_is_written_after(gcs, gcs_emulator, tmp_path):
    """fake-gcs-server is stopped while a big object downloads in stripes: the download gives up after the
    bound, naming what it waited for, and once the server answers again the stripes it left mid-request
    write nothing into the file (it stays as the failure left it: zeros)."""
    from containerjob.core.errors import MountError
    from containerjob.mounts.transfer import PART_BYTES, STREAMS, Transfer

    size = PART_BYTES * STREAMS * 2
    gcs.bucket.blob("big.bin").upload_from_string(b"\x01" * size)
    transfer = Transfer(None, timeout_s=2)
    generation = transfer.list(gcs.name, "big.bin")["big.bin"]["generation"]
    target = tmp_path / "big.bin"
    os.kill(gcs_emulator["pid"], signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(MountError, match=r"did not answer for 2 s while downloading 1 objects from gs://"):
            transfer.download(gcs.name, [("big.bin", target, size, generation)])
        waited = time.monotonic() - started
    finally:
        os.kill(gcs_emulator["pid"], signal.SIGCONT)
    assert waited < 10
    time.sleep(3)  # the abandoned requests are answered now
    assert target.stat().st_size == size and target.read_bytes().count(0) == size


def test_a_silent_storage_ends_a_fuse_drain_within_the_bound(ip, cj_home, gcs, gcs_emulator, tmp_path, monkeypatch):
    """rclone's upload of a file written through a %gcsmount stalls (the emulator stopped): unmounting waits
    for CONTAINERJOB_NETWORK_TIMEOUT_S of no bytes moving, not for rclone's own minutes, then says so."""
    monkeypatch.setenv("CONTAINERJOB_NETWORK_TIMEOUT_S", "3")
    point = tmp_path / "bucket"
    ip.run_line_magic("gcsmount", f"gs://{gcs.name} {point}")
    (point / "late.txt").write_text("late")  # in rclone's cache; uploaded after its 1 s write-back
    os.kill(gcs_emulator["pid"], signal.SIGSTOP)  # before that upload starts: it goes into the silence
    try:
        started = time.monotonic()
        with pytest.raises(UsageError, match=r"Cloud Storage took no bytes for 3 s while rclone uploaded 1 files "
                                             r"to gs://.*CONTAINERJOB_NETWORK_TIMEOUT_S"):
            ip.run_line_magic("gcsunmount", str(point))
        waited = time.monotonic() - started
    finally:
        os.kill(gcs_emulator["pid"], signal.SIGCONT)
    assert waited < 30  # 1 s write-back, the 3 s bound; rclone alone would retry for minutes
    assert not os.path.ismount(point)  # unmounted all the same
