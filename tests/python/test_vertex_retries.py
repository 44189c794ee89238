"""--retries on Vertex AI (backends/resubmit.py): a CustomJob that the Vertex fake ends FAILED as Vertex words a
replica's exit ("The replica workerpool0-0 exited with a non-zero status of 137. ...") is submitted again, each
attempt recorded; a code --retry-on does not name is not; the dry run shows the retry settings."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from containerjob import cli
from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from test_vertex_backend import created, vertex  # noqa: F401 - the fixture

VERTEX = ["--backend", "vertex", "--project", "my-proj"]
COUNTED = """\
import os, pathlib, sys
runs = pathlib.Path(os.environ['AIP_MODEL_DIR'].replace('gs://', '/gcs/')) / 'runs'
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.parent.mkdir(parents=True, exist_ok=True)
runs.write_text(str(n))
print('attempt', n, flush=True)
sys.exit({code} if n < 3 else 0)
"""


def _record(cj_home):
    (record,) = Store(cj_home / "jobs.db").list()
    return record


def test_a_job_vertex_ends_failed_with_137_is_submitted_again_until_it_succeeds(vertex, gcs, tmp_path, cj_home):  # noqa: F811
    script = tmp_path / "job.py"
    script.write_text(COUNTED.format(code=137))
    assert cli.main(["run", str(script), *VERTEX, "--retries", "2", "--output-dir", f"gs://{gcs.name}/retry"]) == 0
    record = _record(cj_home)
    assert record.status is JobStatus.SUCCEEDED and record.exit_code == 0
    bodies = created(vertex)
    assert len(bodies) == 3 and all(b["jobSpec"] == bodies[0]["jobSpec"] for b in bodies)
    attempts = json.loads((Path(record.job_dir) / "resubmits.json").read_text())
    assert [a["exit_code"] for a in attempts] == [137, 137]
    assert "non-zero status of 137" in attempts[0]["error"]
    assert len({a["name"] for a in attempts} | {record.backend_ref}) == 3  # three CustomJobs, the last one followed
    assert "attempt 3 of 3: the last one exited with code 137 (--retry-on)" in record.message
    logs = [(Path(record.job_dir) / "attempts" / f"{n}.log").read_text() for n in (1, 2, 3)]
    assert logs == [f"attempt {n}\n" for n in (1, 2, 3)]
    whole = (Path(record.job_dir) / "logs.txt").read_text()
    assert whole.index("attempt 1\n") < whole.index("[containerjob] attempt 2 of 3") < whole.index("attempt 3\n")


def test_an_exit_code_retry_on_does_not_name_is_not_submitted_again(vertex, gcs, tmp_path, cj_home):  # noqa: F811
    script = tmp_path / "job.py"
    script.write_text(COUNTED.format(code=3))
    assert cli.main(["run", str(script), *VERTEX, "--retries", "2", "--output-dir", f"gs://{gcs.name}/once"]) == 3
    record = _record(cj_home)
    assert record.status is JobStatus.FAILED and record.exit_code == 3 and "attempt" not in record.message
    assert len(created(vertex)) == 1


def test_the_dry_run_shows_the_retry_settings(cj_home, tmp_path, capsys):
    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    flags = [*VERTEX, "--staging-bucket", "gs://stage-b", "--dry-run", "--retries", "2"]
    assert cli.main(["run", str(script), *flags, "--retry-on", "137,3"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["retries"] == {"retries": 2, "retryOn": [3, 137]}
    assert described["customJob"]["jobSpec"]["scheduling"]["restartJobOnWorkerRestart"] is False  # one replica
    assert cli.main(["run", str(script), *flags, "--replicas", "2"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["retries"]["retryOn"] == [6, 11, 134, 137, 139]
    assert described["customJob"]["jobSpec"]["scheduling"]["restartJobOnWorkerRestart"] is True


def test_which_vertex_failures_are_retried(cj_home, tmp_path):
    """The cause as Vertex AI words a job's error: the replica's exit code and termination reason; a Spot VM
    reclaimed (wording Google documents for prediction only) counts as killed for a --spot job."""
    from google.cloud.aiplatform_v1 import CustomJob, JobState

    from containerjob.backends.resubmit import cause
    from containerjob.core.models import JobRecord, StoredSpec, WorkerPool

    def ended(message: str, state=JobState.JOB_STATE_FAILED) -> CustomJob:
        job = CustomJob(state=state)
        job.error.code, job.error.message = 3, message
        return job

    def record(spot: bool = False) -> JobRecord:
        spec = StoredSpec(worker_pools=[WorkerPool(image="x")], retries=2, retry_on=[137, 139], spot=spot)
        return JobRecord(id="cj-00000000", name="x", backend="vertex", status=JobStatus.RUNNING, spec=spec)

    replica = "The replica workerpool0-0 exited with a non-zero status of {}. Termination reason: {}."
    assert cause(record(), ended(replica.format(137, "Error"))) == (137, "exited with code 137")
    assert cause(record(), ended(replica.format(1, "OOMKilled"))) == (1, "was killed (out of memory)")
    assert cause(record(), ended(replica.format(1, "Error"))) is None
    assert cause(record(), ended("", JobState.JOB_STATE_CANCELLED)) is None
    assert cause(record(spot=True), ended("The job failed with a STOCKOUT error.")) == (137, "was preempted (Spot VM reclaimed)")
    assert cause(record(), ended("The job failed with a STOCKOUT error.")) is None


def test_a_cancel_during_a_retry_on_vertex_stops_the_retries(vertex, gcs, tmp_path, cj_home):  # noqa: F811
    script = tmp_path / "job.py"
    script.write_text("import sys, time\nprint('run', flush=True)\ntime.sleep(3)\nsys.exit(137)\n")
    follower = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script), *VERTEX, "--retries",
                                 "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            records = Store(cj_home / "jobs.db").list()
            if records and "attempt 2 of 6" in records[0].message:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"never resubmitted: {[r.message for r in Store(cj_home / 'jobs.db').list()]}")
        assert cli.main(["cancel", records[0].id]) == 0
        follower.wait(120)
    finally:
        follower.kill()
    record = _record(cj_home)
    assert record.status is JobStatus.CANCELLED, record
    time.sleep(5)  # a resubmission the cancel did not stop would be there by now
    assert len(created(vertex)) == 2 and len(json.loads((Path(record.job_dir) / "resubmits.json").read_text())) == 1
