"""--retries N / --retry-on CODES (core/retries.py): a job killed (137) or ending with a code --retry-on names runs
again up to N times, each attempt kept (its log, its exit code) and shown (`attempt 2 of 3`); a cancel ends the
retries; any other code ends the job at once. On Vertex AI the same meaning by resubmission: test_vertex_retries.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from test_cli import cli

COUNTED_CELL = """\
import os, pathlib
runs = pathlib.Path(os.environ['AIP_MODEL_DIR']) / 'runs'
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
print('attempt', n, flush=True)
if n < 3:
    os._exit(137)
attempts_seen = n
"""

COUNTED_SCRIPT = """\
import os, pathlib, sys, time
runs = pathlib.Path(os.environ['AIP_MODEL_DIR']) / 'runs'
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
print('run', n, flush=True)
time.sleep({sleep})
sys.exit({code})
"""


def _records(cj_home):
    return Store(cj_home / "jobs.db").list()


def _restarts(record) -> list[dict]:
    return json.loads((Path(record.job_dir) / "restarts.json").read_text())


def test_a_cell_killed_twice_succeeds_on_its_third_attempt_with_three_attempts_kept(ip, cj_home, tmp_path, labelled):
    out = tmp_path / "out"
    ip.run_cell_magic("containerjob", f"--retries 2 --output-dir {out}", COUNTED_CELL)
    assert ip.user_ns["attempts_seen"] == 3
    assert (out / "model" / "runs").read_text() == "3"  # the folder bound with --output-dir counted them
    (record,) = _records(cj_home)
    assert record.status is JobStatus.SUCCEEDED and record.exit_code == 0
    assert [(r["exit_code"], r["by"]) for r in _restarts(record)] == [(137, "retry"), (137, "retry")]
    attempts = Path(record.job_dir) / "attempts"
    assert [(attempts / f"{n}.log").read_text() for n in (1, 2, 3)] == [f"attempt {n}\n" for n in (1, 2, 3)]
    assert record.message == ("attempt 2 of 3: the last one exited with code 137 (--retry-on), so it runs again "
                              "(--retries 2); attempt 3 of 3: the last one exited with code 137 (--retry-on), so it "
                              "runs again (--retries 2)")
    log = cli("logs", record.id).stdout
    assert log.index("attempt 1\n") < log.index("[containerjob] attempt 2 of 3") < log.index("attempt 2\n") \
        < log.index("[containerjob] attempt 3 of 3") < log.index("attempt 3\n")
    assert "attempt 3 of 3" in cli("status", record.id).stdout
    assert labelled() == []


def test_an_exit_code_retry_on_does_not_name_ends_the_job_at_once(cj_home, tmp_path, labelled):
    for n, (flags, code) in enumerate(((["--retries", "2"], 1), (["--retries", "2", "--retry-on", "139"], 137))):
        script = tmp_path / f"job{n}.py"
        script.write_text(COUNTED_SCRIPT.format(sleep=0, code=code))
        cli("run", *flags, "--output-dir", str(tmp_path / f"out{n}"), str(script), check_rc=code)
        assert (tmp_path / f"out{n}" / "model" / "runs").read_text() == "1"
    for record in _records(cj_home):
        assert record.status is JobStatus.FAILED and record.exit_code in (1, 137), record
        assert not (Path(record.job_dir) / "restarts.json").exists() and "attempt" not in record.message
    assert labelled() == []


def test_a_cancel_during_a_retry_stops_the_retries(cj_home, tmp_path, labelled):
    script = tmp_path / "job.py"
    script.write_text(COUNTED_SCRIPT.format(sleep=3, code=137))
    follower = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", "--retries", "5", "--output-dir",
                                 str(tmp_path / "out"), str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            records = _records(cj_home)
            if records and "attempt 2 of 6" in records[0].message:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"never retried: {[r.message for r in _records(cj_home)]}")
        (record,) = records
        assert cli("cancel", record.id).returncode == 0
        follower.wait(60)
    finally:
        follower.kill()
    (record,) = _records(cj_home)
    assert record.status is JobStatus.CANCELLED, record
    time.sleep(4)  # a retry the cancel did not stop would have run (and counted) by now
    assert len(_restarts(record)) == 1 and (tmp_path / "out" / "model" / "runs").read_text() == "2"
    assert labelled() == []


def test_the_dry_run_shows_the_retry_settings_and_bad_ones_are_refused(cj_home, tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    shown = json.loads(cli("run", str(script), "--dry-run", "--retries", "3").stdout)
    assert shown["retries"] == {"retries": 3, "retryOn": [6, 11, 134, 137, 139]}
    assert "retries" not in json.loads(cli("run", str(script), "--dry-run").stdout)
    for flags, said in ((["--retries", "x"], "--retries 'x' is not a number"),
                        (["--retries", "101"], "--retries 101 is out of range: use 0..100"),
                        (["--retry-on", "137"], "--retry-on '137' does nothing without --retries N"),
                        (["--retries", "1", "--retry-on", "137,abc"], "'abc' is not an exit code")):
        done = cli("run", str(script), "--dry-run", *flags, check_rc=None)
        assert done.returncode != 0 and said in done.stderr, (flags, done.stderr)


def test_a_pool_job_whose_worker_is_killed_runs_every_replica_again(cj_home, tmp_path, labelled):
    script = tmp_path / "pool.py"
    script.write_text("import json, os, pathlib, sys, time\n"
                      "task = json.loads(os.environ['CLUSTER_SPEC'])['task']['type']\n"
                      "runs = pathlib.Path('/tmp/runs')\nn = int(runs.read_text()) + 1 if runs.exists() else 1\n"
                      "runs.write_text(str(n))\nprint(task, 'run', n, flush=True)\n"
                      "if task == 'workerpool0':\n    time.sleep(4)\nsys.exit(137 if task != 'workerpool0' and n == 1 else 0)\n")
    cli("run", str(script), "--replicas", "2", "--retries", "1", timeout=240)
    (record,) = _records(cj_home)
    assert record.status is JobStatus.SUCCEEDED, record.message
    assert record.message == ("attempt 2 of 2: the last one exited with code 137 in replica workerpool1-0 "
                              "(--retry-on), so it runs again (--retries 1)")
    log = cli("logs", record.id).stdout
    assert "workerpool0 run 2" in log and "workerpool1 run 2" in log
    assert labelled() == []
