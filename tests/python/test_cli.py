"""The `containerjob` command, run as a real subprocess against the real engine."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def cli(*args: str, check_rc: int | None = 0, timeout: int = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


@pytest.fixture
def script(tmp_path):
    def _write(text: str, name: str = "job.py"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return _write


def test_run_streams_output_and_records(cj_home, engine, script, labelled):
    path = script("import sys\nprint('argv', sys.argv[1:])\nprint('to stderr', file=sys.stderr)\n")
    proc = cli("run", path, "--env", "A=1", "--", "x", "--flag")
    assert "argv ['x', '--flag']" in proc.stdout
    assert "to stderr" in proc.stdout  # one combined log stream, as in the cell
    assert "SUCCEEDED" in proc.stderr
    listing = json.loads(cli("list", "--json").stdout)
    assert [j["status"] for j in listing] == ["SUCCEEDED"] and listing[0]["name"] == "job.py"
    job_id = listing[0]["id"]
    assert "argv ['x', '--flag']" in cli("logs", job_id).stdout
    assert json.loads(cli("status", job_id).stdout)["exit_code"] == 0
    assert labelled() == []


def test_exit_code_and_traceback_with_file_lines(cj_home, engine, script):
    path = script("x = 1\nraise ValueError('broken input')\n", name="train.py")
    proc = cli("run", path, check_rc=1)
    assert 'File "train.py", line 2, in <module>' in proc.stdout
    assert "ValueError: broken input" in proc.stdout
    assert "runner.py" not in proc.stdout  # the runner's own frames are hidden
    assert cli("run", script("import sys\nsys.exit(7)\n"), check_rc=7).returncode == 7


@pytest.mark.parametrize("args, message", [
    (["--gpus", "-1"], "--gpus -1 is out of range"),
    (["--image", "UPPER/Case"], "not a valid image reference"),
    (["--timeout", "0"], "not a positive duration"),
])
def test_bad_options_one_line_exit_2(cj_home, engine, script, args, message):
    proc = cli("run", script("pass\n"), *args, check_rc=2)
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(cli("list", "--json").stdout) == []


def test_missing_file_and_unknown_job(cj_home, engine):
    assert "cannot read /nonexistent.py" in cli("run", "/nonexistent.py", check_rc=2).stderr
    assert "no job cj-deadbeef" in cli("status", "cj-deadbeef", check_rc=3).stderr
    assert "not a job ID" in cli("cancel", "../x", check_rc=3).stderr


def test_gpu_on_gpu_less_host(cj_home, engine, script, labelled):
    proc = cli("run", script("pass\n"), "--gpus", "1", check_rc=4)
    assert "no NVIDIA GPU is available to Docker" in proc.stderr
    assert labelled() == []


def test_detach_cancel_and_dry_run(cj_home, engine, script, labelled):
    path = script("import time\ntime.sleep(300)\n")
    spec = json.loads(cli("run", path, "--dry-run", "--project", "p9").stdout)
    assert spec["entrypoint"][:2] == ["python3", "-u"] and spec["environment"]["CLOUDSDK_CORE_PROJECT"] == "p9"
    job_id = cli("run", path, "--detach").stdout.strip()
    assert json.loads(cli("status", job_id).stdout)["status"] == "RUNNING"
    assert len(labelled(job_id, settle_s=0)) == 1
    assert "CANCELLED" in cli("cancel", job_id).stdout
    assert labelled(job_id) == []


def test_ctrl_c_cancels(cj_home, engine, script, labelled):
    path = script("import time\nprint('started', flush=True)\ntime.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "cancelled" in err
    assert time.monotonic() - started < 10
    assert labelled() == []
    assert json.loads(cli("list", "--json").stdout)[0]["status"] == "CANCELLED"


def test_script_arguments_are_the_jobs_args(cj_home, engine, script, labelled):
    """The arguments after -- are containerSpec.args: in the dry runs and the record, and the script's sys.argv."""
    path = script("import sys\nprint('argv', sys.argv[1:])\n", name="train.py")
    local = json.loads(cli("run", path, "--dry-run", "--", "--epochs", "3").stdout)
    assert local["command"] == ["--epochs", "3"] and local["entrypoint"][-1].endswith("/runner.py")
    vertex = json.loads(cli("run", path, "--dry-run", "--backend", "vertex", "--project", "p", "--staging-bucket",
                            "gs://bkt", "--", "--epochs", "3").stdout)
    assert vertex["customJob"]["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["args"] == ["--epochs", "3"]
    proc = cli("run", path, "--", "--epochs", "3")
    assert "argv ['--epochs', '3']" in proc.stdout
    job_id = json.loads(cli("list", "--json").stdout)[0]["id"]
    assert json.loads(cli("status", job_id).stdout)["spec"]["worker_pools"][0]["args"] == ["--epochs", "3"]
    assert labelled() == []
