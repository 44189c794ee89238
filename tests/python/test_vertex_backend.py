"""Cell -> real aiplatform_v1 client over REST -> fake Vertex API -> real container with /gcs -> kernel."""
from __future__ import annotations

import json
import pickle
import threading
import time
import traceback

import docker
import pytest

from containerjob.core.errors import JobFailed
from containerjob.core.store import Store
from logging_fake import LoggingFake
from vertex_fake import VertexFake


@pytest.fixture
def vertex(gcs_emulator, gcs, cj_home, registry, monkeypatch):
    """The fake API; the locally built default image gets pushed to a real local registry, as it must be for Vertex."""
    logging = LoggingFake()
    fake = VertexFake(gcs_url=gcs_emulator["url"], logging=logging)
    monkeypatch.setenv("CONTAINERJOB_IMAGE_REPO", f"{registry}/vertex")
    monkeypatch.setenv("CONTAINERJOB_VERTEX_ENDPOINT", fake.url)
    monkeypatch.setenv("CONTAINERJOB_LOGGING_ENDPOINT", logging.url)
    monkeypatch.setenv("CONTAINERJOB_VERTEX_CREDENTIALS", "anonymous")
    monkeypatch.setenv("CONTAINERJOB_STAGING_BUCKET", gcs.name)
    yield fake
    fake.close()
    logging.close()
    assert not docker.from_env().containers.list(all=True, filters={"label": f"vertexfake.fake={fake.token}"})


def created(fake: VertexFake) -> list[dict]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/customJobs")]


def only_record(cj_home):
    (record,) = Store(cj_home / "jobs.db").list()
    return record


def test_cell_round_trip_with_project_injection(ip, cj_home, gcs, vertex, capsys):
    ip.user_ns["data"] = [1, 2, 3]
    cell = ("import os\nprint('on vertex, project number', os.environ['CLOUD_ML_PROJECT_ID'])\n"
            "total = sum(data) * 2\nproject = os.environ['GOOGLE_CLOUD_PROJECT']\n"
            "gcloud_project = os.environ['CLOUDSDK_CORE_PROJECT']\ntotal")
    result = ip.run_cell(f"%%containerjob --backend vertex --project my-proj --name train --label team=ml\n{cell}")
    assert result.success, result.error_in_exec
    assert result.result == 12 and ip.user_ns["total"] == 12
    assert ip.user_ns["project"] == ip.user_ns["gcloud_project"] == "my-proj"  # the ID, not the number
    out = capsys.readouterr().out
    assert "on vertex, project number 123456789012" in out  # log chunks streamed into the cell
    assert "runs as the project's default Vertex AI service agent in project my-proj, region us-central1" in out
    (body,) = created(vertex)
    pool = body["jobSpec"]["workerPoolSpecs"][0]
    env = {e["name"]: e["value"] for e in pool["containerSpec"]["env"]}
    assert env["GOOGLE_CLOUD_PROJECT"] == env["CLOUDSDK_CORE_PROJECT"] == "my-proj"
    assert pool["machineSpec"]["machineType"] == "n1-standard-4" and int(pool["replicaCount"]) == 1
    assert pool["containerSpec"]["imageUri"].split("/")[-1].startswith("python:")  # pushed: it was local-only
    assert body["labels"]["team"] == "ml" and body["labels"]["containerjob-job"] == "train"
    assert body["labels"]["containerjob-id"].startswith("cj-")
    record = only_record(cj_home)
    assert record.status.value == "SUCCEEDED" and record.backend == "vertex"
    assert record.backend_ref.startswith("projects/123456789012/locations/us-central1/customJobs/")
    staged = {b.name.split("/", 2)[2] for b in gcs.client.list_blobs(gcs.name, prefix=f"containerjob/{record.id}/")}
    assert {"payload/manifest.json", "runtime/runner.py", "output/result.json"} <= staged
    ip.run_line_magic("containerjob", "list")
    assert record.id in capsys.readouterr().out


def test_remote_failure_maps_to_the_cell_line(ip, cj_home, vertex):
    with pytest.raises(KeyError) as info:
        ip.run_cell_magic("containerjob", "--backend vertex --project my-proj", "x = {}\ny = 1\nz = x['missing']")
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "<containerjob cell>"]
    assert [(f.lineno, f.line) for f in frames] == [(3, "z = x['missing']")]
    record = only_record(cj_home)
    assert record.status.value == "FAILED" and "KeyError" in record.message


def test_expired_is_terminal(ip, cj_home, vertex):
    vertex.expire_next()
    with pytest.raises(JobFailed, match="JOB_STATE_EXPIRED"):
        ip.run_cell_magic("containerjob", "--backend vertex --project my-proj", "x = 1")
    assert only_record(cj_home).status.value == "FAILED"


def test_cancel_from_the_line_command(ip, cj_home, vertex, capsys):
    ip.run_cell_magic("containerjob", "--backend vertex --project my-proj --detach",
                      "import time\nprint('working', flush=True)\ntime.sleep(120)")
    job_id = capsys.readouterr().out.split("submitted ")[-1].split(";")[0].strip()
    ip.run_line_magic("containerjob", f"cancel {job_id}")
    assert "CANCELLED" in capsys.readouterr().out
    assert any(r.path.endswith(":cancel") for r in vertex.requests)
    assert only_record(cj_home).status.value == "CANCELLED"


def test_interrupt_with_cancel_policy(ip, cj_home, vertex):
    import signal

    timer = threading.Timer(6.0, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("containerjob", "--backend vertex --project my-proj --on-interrupt cancel",
                          "import time\nprint('running', flush=True)\ntime.sleep(120)")
    assert only_record(cj_home).status.value == "CANCELLED"
    assert any(r.path.endswith(":cancel") for r in vertex.requests)  # cancelled on Vertex, not only in our record


def test_missing_staging_bucket_and_project_send_nothing(ip, cj_home, vertex, monkeypatch):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="no GCP project for Vertex AI"):
        ip.run_cell_magic("containerjob", "--backend vertex", "x = 1")
    with pytest.raises(UsageError, match="bucket gs://missing-stage-bucket does not exist"):
        ip.run_cell_magic("containerjob", "--backend vertex --project p --staging-bucket gs://missing-stage-bucket", "x = 1")
    assert created(vertex) == [] and Store(cj_home / "jobs.db").list() == []


def test_cli_exit_code_and_a_job_deleted_on_vertex(vertex, tmp_path, cj_home, capsys):
    """The CLI exits with the job's own code on Vertex as locally; a job deleted on Vertex ends LOST with a
    message and never breaks `containerjob list`."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1

    from containerjob import cli
    from vertex_fake_jobs import TERMINAL

    failing = tmp_path / "exit2.py"
    failing.write_text("import sys\nprint('bye')\nsys.exit(2)\n")
    assert cli.main(["run", str(failing), "--backend", "vertex", "--project", "my-proj"]) == 2
    fine = tmp_path / "fine.py"
    fine.write_text("print('fine')\n")
    assert cli.main(["run", str(fine), "--backend", "vertex", "--project", "my-proj", "--detach"]) == 0
    job_id = capsys.readouterr().out.strip().splitlines()[-1]
    record = Store(cj_home / "jobs.db").get(job_id)
    fake_job = vertex.jobs[record.backend_ref.rsplit("/", 1)[-1]]
    deadline = time.monotonic() + 60
    while fake_job.state not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
    client = aiplatform_v1.JobServiceClient(client_options={"api_endpoint": vertex.url}, transport="rest",
                                            credentials=AnonymousCredentials())
    client.delete_custom_job(name=record.backend_ref).result(timeout=30)
    assert cli.main(["list"]) == 0
    lost = Store(cj_home / "jobs.db").get(job_id)
    assert lost.status.value == "LOST" and "was deleted on Vertex AI" in lost.message
    assert f"gs://{record.spec.staging_bucket}/containerjob/{job_id}/output/" in lost.message


def test_pending_on_vertex_is_shown_as_pending_not_running(vertex, cj_home):
    """Vertex's JOB_STATE_PENDING (machines being found) is PENDING here; RUNNING only once Vertex says so."""
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    vertex.pending_s = 3
    service = JobService()
    prepared = service.prepare(RunOptions(backend="vertex", project="my-proj"), "print('ran')", kind="script",
                               filename="s.py")
    record = service.submit(prepared)
    assert record.status.value == "QUEUED" and record.started_at is None and record.backend_ref
    assert service.get(record.id).status.value == "PENDING"  # a refresh reads Vertex's state
    seen, deadline = set(), time.monotonic() + 60
    while not (current := service.get(record.id)).status.is_final and time.monotonic() < deadline:
        seen.add(current.status.value)
        time.sleep(0.2)
    assert current.status.value == "SUCCEEDED" and current.started_at >= record.created_at
    assert seen <= {"PENDING", "RUNNING"}


def test_a_finished_jobs_duration_is_the_one_vertex_reports(vertex, tmp_path, cj_home, capsys):
    """`list`, `status` and the sidebar (the same record) show a Vertex job's duration from the CustomJob's
    startTime and endTime, also when nothing looked while it ran (PENDING to SUCCEEDED between two looks) and the
    first look comes long after its end."""
    from containerjob import cli
    from vertex_fake_jobs import TERMINAL

    vertex.pending_s = 1
    nap = tmp_path / "nap.py"
    nap.write_text("import time\ntime.sleep(2)\n")
    assert cli.main(["run", str(nap), "--backend", "vertex", "--project", "my-proj", "--detach"]) == 0
    job_id = capsys.readouterr().out.strip().splitlines()[-1]
    fake_job = vertex.jobs[Store(cj_home / "jobs.db").get(job_id).backend_ref.rsplit("/", 1)[-1]]
    deadline = time.monotonic() + 60
    while fake_job.state not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the first look, well after the end
    with fake_job.lock:
        start, end = fake_job.pb.start_time.ToNanoseconds() / 1e9, fake_job.pb.end_time.ToNanoseconds() / 1e9
    assert end - start >= 2
    assert cli.main(["list", "--json"]) == 0
    (listed,) = [r for r in json.loads(capsys.readouterr().out) if r["id"] == job_id]
    assert listed["status"] == "SUCCEEDED"
    assert (listed["started_at"], listed["finished_at"]) == (pytest.approx(start, abs=1e-3), pytest.approx(end, abs=1e-3))
    assert listed["duration_s"] == pytest.approx(end - start, abs=1e-3)
    assert cli.main(["status", job_id]) == 0
    assert json.loads(capsys.readouterr().out)["duration_s"] == pytest.approx(end - start, abs=1e-3)
    assert cli.main(["list"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith(job_id)]
    assert row.endswith(f"{listed['duration_s']:.1f}s")


class _Touch:
    """A value whose pickle runs `touch PATH` wherever it is loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.path}",))


def test_results_come_back_signed_and_a_changed_one_is_refused(ip, cj_home, gcs, vertex, tmp_path):
    """The runner signs with a key that is in the job's environment, never in the bucket; a value changed in
    the bucket is refused by the kernel and never unpickled by the finalisation that fetched it."""
    from containerjob.core.errors import ResultRefused
    from containerjob.core.options import RunOptions
    from containerjob.service import JobService

    ip.user_ns["n"] = 2
    ip.run_cell_magic("containerjob", "--backend vertex --project my-proj", "y = [n] * 3")
    assert ip.user_ns["y"] == [2, 2, 2]
    (body,) = created(vertex)
    env = {e["name"]: e["value"] for e in body["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"]}
    key = env["CONTAINERJOB_SIGNING_SECRET"]
    staged = list(gcs.client.list_blobs(gcs.name, prefix="containerjob/"))
    assert "output/signatures.json" in {b.name.split("/", 2)[2] for b in staged}
    assert not [b.name for b in staged if key.encode() in b.download_as_bytes()]

    marker = tmp_path / "pwned"
    service = JobService()
    prepared = service.prepare(RunOptions(backend="vertex", project="my-proj"), "y = [5]", kind="cell",
                               filename="<cell>", outputs=["y"])
    record = service.submit(prepared)
    signatures = gcs.client.bucket(gcs.name).blob(f"containerjob/{record.id}/output/signatures.json")
    deadline = time.monotonic() + 120
    while not signatures.exists():
        assert time.monotonic() < deadline, "the job never wrote its signatures"
        time.sleep(0.5)
    value = gcs.client.bucket(gcs.name).blob(f"containerjob/{record.id}/output/values/y.pkl")
    value.upload_from_string(pickle.dumps(_Touch(marker)))  # someone with write access to the bucket
    (record,) = service.wait([record.id])
    assert record.status.value == "SUCCEEDED" and not marker.exists()  # finalised from the JSON alone
    with pytest.raises(ResultRefused, match=r"values/y.pkl was altered.*run the job again"):
        service.values(record)
    assert not marker.exists()


def test_a_silent_vertex_ends_the_wait_within_the_bound_and_says_so(cj_home, vertex, monkeypatch):
    """Vertex AI stops answering while a job runs: waiting ends after CONTAINERJOB_NETWORK_TIMEOUT_S with a
    message saying what was waited for (the generated clients wait forever by default); the record keeps its
    state, and once Vertex answers again the job is followed to its end."""
    from containerjob.core.errors import BackendUnavailable
    from containerjob.core.options import RunOptions
    from containerjob.service import JobService

    monkeypatch.setenv("CONTAINERJOB_NETWORK_TIMEOUT_S", "2")
    service = JobService()
    prepared = service.prepare(RunOptions(backend="vertex", project="my-proj"), "import time\ntime.sleep(6)\ny = 1",
                               kind="cell", filename="<cell>", outputs=["y"])
    record = service.submit(prepared)
    vertex.stop_answering()
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match=r"did not answer in time \(read job cj-.*NETWORK_TIMEOUT_S"):
            service.wait([record.id])
        waited = time.monotonic() - started
    finally:
        vertex.answer_again()
    assert waited < 20  # one 2 s bound (and no retries past it); unbounded, this call never returned
    assert not service.get(record.id, refresh=False).status.is_final
    (record,) = service.wait([record.id])
    assert record.status.value == "SUCCEEDED" and service.values(record).values == {"y": 1}


def test_values_no_table_knows_are_submitted_unchanged_with_a_warning(cj_home, gcs, vertex):
    """A machine family and a region Google's tables here lack reach Vertex AI as given, each with a one-line
    warning before the submit; an accelerator the installed client library cannot encode is one error naming
    the fix, before anything is pushed, staged or recorded."""
    from containerjob.core.errors import SpecError
    from containerjob.core.options import RunOptions
    from containerjob.service import JobService

    service = JobService()
    notes: list[str] = []
    options = RunOptions(backend="vertex", project="my-proj", machine_type="n5-standard-8", region="us-north9")
    record = service.submit(service.prepare(options, "y = 1", kind="cell", filename="<cell>", outputs=["y"]),
                            notify=notes.append)
    warnings = [n for n in notes if n.startswith("warning: ")]
    assert [w.split(" is not in ")[0].split(":")[1].strip() for w in warnings] == ["region us-north9",
                                                                                   "machine type n5-standard-8"]
    (body,) = created(vertex)
    assert body["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["machineType"] == "n5-standard-8"
    assert any("/locations/us-north9/customJobs" in r.path for r in vertex.requests if r.method == "POST")
    (record,) = service.wait([record.id])
    assert record.status.value == "SUCCEEDED" and service.values(record).values == {"y": 1}

    future = RunOptions(backend="vertex", project="my-proj", machine_type="n5-standard-8",
                        accelerator="NVIDIA_FUTURE_X:2")
    with pytest.raises(SpecError, match=r"google-cloud-aiplatform \S+ has no AcceleratorType NVIDIA_FUTURE_X, so it "
                                        r"cannot send this job: .*pip install -U google-cloud-aiplatform"):
        service.submit(service.prepare(future, "y = 1", kind="cell", filename="<cell>", outputs=["y"]))
    assert len(created(vertex)) == 1 and [r.id for r in service.list(refresh=False)] == [record.id]
    assert {b.name.split("/")[1] for b in gcs.client.list_blobs(gcs.name, prefix="containerjob/")} == {record.id}
