"""Several processes on the same jobs: runs, pollers and cancels must agree on one true state."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from containerjob.core.store import Store
from containerjob.service import JobService


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=180, **kw)


def test_parallel_runs_with_a_poller(cj_home, engine, tmp_path, labelled):
    script = tmp_path / "job.py"
    script.write_text("import time\ntime.sleep(0.5)\nprint('done')\n")
    stop = threading.Event()
    errors: list[BaseException] = []

    def poll() -> None:
        service = JobService()
        while not stop.is_set():
            try:
                service.list()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    procs = [subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outcomes = [p.communicate(timeout=180) + (p.returncode,) for p in procs]
    stop.set()
    poller.join()
    assert errors == []
    assert [rc for _, _, rc in outcomes] == [0] * 6, outcomes
    records = Store(cj_home / "jobs.db").list()
    assert [r.status.value for r in records] == ["SUCCEEDED"] * 6
    assert labelled() == []


def test_cancel_from_another_process_while_followed(cj_home, engine, tmp_path, labelled):
    script = tmp_path / "sleep.py"
    script.write_text("import time\nprint('started', flush=True)\ntime.sleep(300)\n")
    run = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "started"
    (job,) = json.loads(cli("list", "--json").stdout)
    cancel = cli("cancel", job["id"])
    assert cancel.returncode == 0 and "CANCELLED" in cancel.stdout, cancel.stderr
    run.communicate(timeout=60)
    assert run.returncode != 0
    record = Store(cj_home / "jobs.db").get(job["id"])
    assert record.status.value == "CANCELLED" and labelled() == []


def test_detached_job_times_out_by_itself(cj_home, engine, tmp_path, labelled):
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(300)\n")
    job_id = cli("run", str(script), "--detach", "--timeout", "2s").stdout.strip()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = json.loads(cli("status", job_id).stdout)
        if status["status"] != "RUNNING":
            break
        time.sleep(0.5)
    assert status["status"] == "FAILED" and "timed out after 2 s" in status["message"] and status["exit_code"] == 124
    assert labelled() == []


def test_reader_going_away_cancels_the_job(cj_home, engine, tmp_path, labelled):
    """`containerjob run spam.py | head -2`: a closed stdout must not leave the job running unwatched."""
    script = tmp_path / "spam.py"
    script.write_text("import time\nfor i in range(100000):\n    print('line', i, flush=True)\n    time.sleep(0.01)\n")
    proc = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc.stdout.readline()
    proc.stdout.close()
    proc.wait(timeout=60)
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.status.value == "CANCELLED" and labelled() == []


def test_kernel_variable_shadowing_a_builtin_is_sent(ip):
    ip.user_ns["input"] = [1, 2, 3]
    result = ip.run_cell("%%containerjob\ny = len(input)")
    assert result.success, result.error_in_exec
    assert ip.user_ns["y"] == 3


def test_container_left_by_a_finished_job_goes_before_the_next_run(cj_home, engine, tmp_path, labelled):
    """E.g. a job marked LOST while the engine was away, whose container the engine kept: no orphan stays."""
    script = tmp_path / "ok.py"
    script.write_text("print('ok')\n")
    assert cli("run", str(script)).returncode == 0
    (finished,) = Store(cj_home / "jobs.db").list()
    from conftest import store_label

    leftover = engine.containers.run("python:3.11-slim", ["true"], detach=True, labels={
        "containerjob.store": store_label(cj_home), "containerjob.job": finished.id})
    leftover.wait(timeout=60)
    running = engine.containers.run("python:3.11-slim", ["sleep", "30"], detach=True, labels={
        "containerjob.store": store_label(cj_home), "containerjob.job": "cj-0000beef"})  # unknown job, still running
    assert cli("run", str(script)).returncode == 0
    assert [c.id for c in labelled()] == [running.id]  # a running container is never touched by the sweep
