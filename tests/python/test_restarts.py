"""Restarts as Vertex AI documents them ("Understand the Vertex AI serverless training service", Handle common
errors): a replica that exits with a code that could be transient (SIGABRT 6/134, SIGSEGV 11/139) restarts the
job up to three times; any other exit ends it. Each attempt is a line in the log and in the record's message.
scheduling.restartJobOnWorkerRestart is accepted in a CustomJob file and sent as given."""
from __future__ import annotations

import json

from cjtest import IMAGE
from containerjob.core.store import Store
from test_cli import cli

COUNTED = """\
import pathlib, sys
runs = pathlib.Path('/tmp/runs')  # the container's own filesystem: kept across a restart here
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
print('run', n, flush=True)
sys.exit({code} if n < {until} else 0)
"""


def _run(tmp_path, code: int, until: int, rc: int) -> None:
    script = tmp_path / "job.py"
    script.write_text(COUNTED.format(code=code, until=until))
    cli("run", str(script), check_rc=rc, timeout=240)


def _record(cj_home):
    (record,) = Store(cj_home / "jobs.db").list()
    return record


def _line(attempt: int, code: int, signal: str) -> str:
    return (f"[containerjob] replica workerpool0-0 restarted (attempt {attempt} of 4): exit code {code} ({signal}), "
            "which Vertex AI retries")


def test_a_transient_exit_restarts_the_job_and_each_attempt_is_in_log_and_record(cj_home, tmp_path, labelled):
    _run(tmp_path, 134, until=3, rc=0)
    record = _record(cj_home)
    assert record.status.value == "SUCCEEDED" and record.exit_code == 0
    log = cli("logs", record.id).stdout
    assert log == (f"run 1\n{_line(2, 134, 'SIGABRT')}\nrun 2\n{_line(3, 134, 'SIGABRT')}\nrun 3\n")
    assert record.message == "; ".join(line[len("[containerjob] "):] for line in (_line(2, 134, "SIGABRT"),
                                                                                   _line(3, 134, "SIGABRT")))
    assert "attempt 3 of 4" in cli("status", record.id).stdout
    assert labelled() == []


def test_after_three_restarts_the_job_fails_with_its_own_exit_code(cj_home, tmp_path, labelled):
    _run(tmp_path, 139, until=99, rc=139)
    record = _record(cj_home)
    assert record.status.value == "FAILED" and record.exit_code == 139
    log = cli("logs", record.id).stdout
    assert [line for line in log.splitlines() if line.startswith("run ")] == ["run 1", "run 2", "run 3", "run 4"]
    assert [a for a in range(2, 6) if _line(a, 139, "SIGSEGV") in log] == [2, 3, 4]
    assert record.message.startswith("the container exited with code 139; replica workerpool0-0 restarted (attempt 2")
    assert labelled() == []


def test_any_other_exit_code_ends_the_job_at_once(cj_home, tmp_path, labelled):
    _run(tmp_path, 1, until=3, rc=1)
    record = _record(cj_home)
    assert record.status.value == "FAILED" and record.exit_code == 1 and "restarted" not in record.message
    assert cli("logs", record.id).stdout == "run 1\n"


def test_restart_job_on_worker_restart_is_accepted_and_sent_as_given(cj_home, tmp_path):
    for value in (True, False):
        config = tmp_path / f"job-{value}.yaml"
        config.write_text(json.dumps({"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"},
                                                            "replicaCount": 1, "containerSpec": {"imageUri": IMAGE}}],
                                      "scheduling": {"restartJobOnWorkerRestart": value}}))
        done = cli("run", "--backend", "vertex", "--project", "p", "--staging-bucket", "gs://stage-b", "--dry-run",
                   "--config", str(config))
        assert json.loads(done.stdout)["customJob"]["jobSpec"]["scheduling"]["restartJobOnWorkerRestart"] is value
    assert cli("run", "--config", str(config), "--", "true").returncode == 0  # runs here too
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("false", '"yes"'))
    refused = cli("run", "--config", str(bad), check_rc=2)
    assert "Expected true or false without quotes at CustomJob.jobSpec.scheduling.restartJobOnWorkerRestart" \
        in refused.stderr


def test_a_pool_job_restarts_every_replica(cj_home, tmp_path, labelled):
    """Vertex AI restarts the whole job: a worker's transient exit restarts the chief too."""
    script = tmp_path / "pool.py"
    script.write_text("import json, os, pathlib, sys, time\n"
                      "task = json.loads(os.environ['CLUSTER_SPEC'])['task']['type']\n"
                      "runs = pathlib.Path('/tmp/runs')\nn = int(runs.read_text()) + 1 if runs.exists() else 1\n"
                      "runs.write_text(str(n))\nprint(task, 'run', n, flush=True)\n"
                      "if task == 'workerpool0':\n    time.sleep(4)\nsys.exit(134 if task != 'workerpool0' and n == 1 else 0)\n")
    cli("run", str(script), "--replicas", "2", timeout=240)
    record = _record(cj_home)
    assert record.status.value == "SUCCEEDED", record.message
    assert record.message == ("replica workerpool1-0 restarted (attempt 2 of 4): exit code 134 (SIGABRT), "
                              "which Vertex AI retries")
    log = cli("logs", record.id).stdout
    assert "workerpool0 run 2" in log and "workerpool1 run 2" in log \
        and "[containerjob] replica workerpool1-0 restarted (attempt 2 of 4)" in log
    assert labelled() == []
