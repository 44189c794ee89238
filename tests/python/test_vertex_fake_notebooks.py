"""The Vertex fake's NotebookService and ScheduleService, proven with Google's real clients over REST: notebooks
really run (papermill in the kernel image, the Cloud Storage emulator rclone-mounted at /gcs) and schedules fire
when the test moves the clock (fire_due)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import docker
import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import aiplatform_v1 as v
from google.protobuf import field_mask_pb2

from vertex_fake import VertexFake

PARENT = "projects/my-project/locations/us-central1"
NUMBER_PARENT = "projects/123456789012/locations/us-central1"
S, Sched = v.JobState, v.Schedule.State
TERMINAL = (S.JOB_STATE_SUCCEEDED, S.JOB_STATE_FAILED, S.JOB_STATE_CANCELLED)


@pytest.fixture
def fake(gcs_emulator, kernel_image):
    """A fresh fake per test running notebooks in the kernel image, with the session's emulator at /gcs."""
    fake = VertexFake(gcs_url=gcs_emulator["url"], kernel_image=kernel_image)
    yield fake
    fake.close()
    engine = docker.from_env()
    try:
        assert not engine.containers.list(all=True, filters={"label": f"vertexfake.fake={fake.token}"})
    finally:
        engine.close()
    assert not [line for line in open("/proc/mounts") if fake.workdir in line]


@pytest.fixture
def notebooks(fake):
    return fake.notebook_client()


@pytest.fixture
def schedules(fake):
    return fake.schedule_client()


def notebook(*sources: str) -> bytes:
    """An nbformat 4 notebook of code cells."""
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s} for s in sources]
    return json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 4, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}).encode()


def nb_job(gcs, name: str = "fake-notebook", **source) -> v.NotebookExecutionJob:
    """A job as a client sends it: a runtime template, a service account, results under gs://BUCKET/executions."""
    return v.NotebookExecutionJob(
        display_name=name, labels={"suite": "vertex-fake"}, gcs_output_uri=f"gs://{gcs.name}/executions",
        notebook_runtime_template_resource_name=f"{PARENT}/notebookRuntimeTemplates/default",
        service_account="runner@my-project.iam.gserviceaccount.com", **source)


def direct(*sources: str) -> dict:
    return {"direct_notebook_source": v.NotebookExecutionJob.DirectNotebookSource(content=notebook(*sources))}


def wait(client, name: str, until=lambda job: job.job_state in TERMINAL, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get_notebook_execution_job(name=name)
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job stuck in {job.job_state.name}"
        time.sleep(0.3)


def executed(gcs, job_name: str, file: str = "notebook.ipynb") -> dict:
    """The executed notebook where Vertex leaves it: {gcs_output_uri}/{job ID}/{file name}."""
    return json.loads(gcs.bucket.blob(f"executions/{job_name.rsplit('/', 1)[1]}/{file}").download_as_text())


def text(cell: dict) -> str:
    """A cell's stream and result text (nbformat may store either as a list of lines)."""
    values = [out.get("text") or out.get("data", {}).get("text/plain", "") for out in cell["outputs"]]
    return "".join("".join(value) for value in values)


def test_notebook_from_gcs_runs_and_the_executed_notebook_lands_in_the_output_dir(fake, notebooks, gcs):
    gcs.bucket.blob("notebooks/analysis.ipynb").upload_from_string(notebook(
        "import json, os\nprint('hello from', os.getcwd())",
        f"open('/gcs/{gcs.name}/side.txt', 'w').write('written by the notebook')\n"
        f"json.dump({{'files': os.listdir('.'), 'project': sorted(k for k in os.environ if 'PROJECT' in k)}}, "
        f"open('/gcs/{gcs.name}/env.json', 'w'))",
        "21 * 2"))
    operation = notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=nb_job(
        gcs, gcs_notebook_source=v.NotebookExecutionJob.GcsNotebookSource(uri=f"gs://{gcs.name}/notebooks/analysis.ipynb")))
    assert not operation.operation.done and operation.operation.name.startswith(f"{NUMBER_PARENT}/operations/")
    assert isinstance(operation.metadata, v.CreateNotebookExecutionJobOperationMetadata)
    created = operation.result(timeout=30)
    assert created.name.startswith(f"{NUMBER_PARENT}/notebookExecutionJobs/") and created.name.rsplit("/", 1)[1].isdigit()
    assert created.job_state == S.JOB_STATE_PENDING and created.display_name == "fake-notebook"
    assert [r.path for r in fake.requests if "/operations/" in r.path] == [f"/ui/{operation.operation.name}"]

    done = wait(notebooks, created.name)
    assert done.job_state == S.JOB_STATE_SUCCEEDED, (done.status.message, fake.logs(created.name))
    assert done.create_time <= done.update_time and not done.status.message
    cells = executed(gcs, created.name, "analysis.ipynb")["cells"]
    assert "hello from /content" in text(cells[0]) and text(cells[2]) == "42"
    assert gcs.bucket.blob("side.txt").download_as_text() == "written by the notebook"
    assert json.loads(gcs.bucket.blob("env.json").download_as_text()) == {"files": [], "project": []}
    assert requests.get(f"{fake.url}/ui/{created.name}").json()["jobState"] == "JOB_STATE_SUCCEEDED"
    assert fake.notebook_jobs[created.name.rsplit("/", 1)[1]].output_uri == (
        f"gs://{gcs.name}/executions/{created.name.rsplit('/', 1)[1]}/analysis.ipynb")

    post = next(r for r in fake.requests if r.method == "POST")
    assert post.path == f"/v1/{PARENT}/notebookExecutionJobs" and post.params["$alt"] == "json;enum-encoding=int"
    assert post.body["gcsNotebookSource"]["uri"].endswith("analysis.ipynb") and post.body["serviceAccount"]


def test_a_failing_cell_fails_the_job_and_keeps_the_partial_notebook(notebooks, gcs):
    operation = notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=nb_job(
        gcs, **direct("print('before')", "raise ValueError('boom')", "print('never')")))
    done = wait(notebooks, operation.result(timeout=30).name)
    assert done.job_state == S.JOB_STATE_FAILED
    assert "In [2]: ValueError: boom" in done.status.message and done.status.code
    assert done.status.message.endswith(f"gs://{gcs.name}/executions/{done.name.rsplit('/', 1)[1]}/notebook.ipynb.")
    cells = [c for c in executed(gcs, done.name)["cells"] if c["cell_type"] == "code"]
    assert text(cells[0]).strip() == "before"
    assert [o["ename"] for o in cells[1]["outputs"] if o["output_type"] == "error"] == ["ValueError"]
    assert not cells[2]["outputs"] and cells[2]["execution_count"] is None


def test_execution_timeout_and_an_unknown_kernel_fail_the_job(fake, notebooks, gcs):
    slow = nb_job(gcs, **direct("print('started', flush=True)", "import time; time.sleep(300)"))
    slow.execution_timeout = {"seconds": 4}
    odd = nb_job(gcs, **direct("1"))
    odd.kernel_name = "no-such-kernel"
    slow, odd = (notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=job).result(timeout=30)
                 for job in (slow, odd))
    timed_out = wait(notebooks, slow.name)
    assert timed_out.job_state == S.JOB_STATE_FAILED and "execution_timeout of 4 s" in timed_out.status.message
    assert "started" in text(executed(gcs, slow.name)["cells"][0])  # papermill saved the notebook cell by cell
    failed = wait(notebooks, odd.name)
    assert failed.job_state == S.JOB_STATE_FAILED
    assert failed.status.message == ("papermill exited with status 1: jupyter_client.kernelspec.NoSuchKernel: "
                                     "No such kernel named no-such-kernel")
    assert "papermill" in fake.logs(odd.name).lower()


def test_missing_input_notebook_or_output_bucket_fails_the_job(notebooks, gcs):
    missing = notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=nb_job(
        gcs, gcs_notebook_source=v.NotebookExecutionJob.GcsNotebookSource(uri=f"gs://{gcs.name}/nope.ipynb"))).result()
    no_bucket = nb_job(gcs, **direct("1"))
    no_bucket.gcs_output_uri = "gs://no-such-bucket-here/out"
    nowhere = notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=no_bucket).result()
    for name, why in ((missing.name, f"gs://{gcs.name}/nope.ipynb does not exist"),
                      (nowhere.name, "gs://no-such-bucket-here (gcs_output_uri) does not exist")):
        done = wait(notebooks, name, timeout_s=30)
        assert done.job_state == S.JOB_STATE_FAILED and why in done.status.message


def test_views_ids_list_and_delete(fake, notebooks, gcs):
    content = notebook("import time; time.sleep(300)")
    first = notebooks.create_notebook_execution_job(request={
        "parent": PARENT, "notebook_execution_job_id": "my-run-1", "notebook_execution_job": nb_job(
            gcs, "sleeper", direct_notebook_source={"content": content})}).result(timeout=30)
    assert first.name == f"{NUMBER_PARENT}/notebookExecutionJobs/my-run-1"
    with pytest.raises(gexc.Conflict, match="already exists"):
        notebooks.create_notebook_execution_job(request={
            "parent": PARENT, "notebook_execution_job_id": "my-run-1", "notebook_execution_job": nb_job(gcs, **direct("1"))})
    second = notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=nb_job(
        gcs, "quick", **direct("1"))).result(timeout=30)
    wait(notebooks, second.name)

    assert not notebooks.get_notebook_execution_job(name=first.name).direct_notebook_source.content  # BASIC view
    full = notebooks.get_notebook_execution_job(request={"name": first.name, "view": v.NotebookExecutionJobView.NOTEBOOK_EXECUTION_JOB_VIEW_FULL})
    assert full.direct_notebook_source.content == content
    listed = lambda **req: [j.name for j in notebooks.list_notebook_execution_jobs(request={"parent": PARENT, **req})]  # noqa: E731
    assert listed() == [second.name, first.name]
    assert listed(filter='displayName="sleeper"') == listed(filter='notebookExecutionJob="my-run-1"') == [first.name]
    assert listed(filter='displayName=~"^qu"') == [second.name] and listed(page_size=1) == [second.name, first.name]
    assert listed(order_by="create_time") == [first.name, second.name]

    wait(notebooks, first.name, until=lambda job: job.job_state == S.JOB_STATE_RUNNING)
    with pytest.raises(gexc.BadRequest, match="cannot be deleted") as refused:
        notebooks.delete_notebook_execution_job(name=first.name)
    assert refused.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    notebooks.delete_notebook_execution_job(name=second.name).result(timeout=30)
    with pytest.raises(gexc.NotFound):
        notebooks.get_notebook_execution_job(name=second.name)
    assert listed() == [first.name]


def test_invalid_notebook_jobs_are_invalid_argument(fake, notebooks, gcs):
    def refused(match: str, kind=gexc.BadRequest, **changes) -> None:
        job = nb_job(gcs, **direct("1"))
        for field, value in changes.items():
            setattr(job, field, value)
        with pytest.raises(kind, match=match) as info:
            notebooks.create_notebook_execution_job(parent=PARENT, notebook_execution_job=job)
        if kind is gexc.BadRequest:
            assert info.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"

    refused("needs a notebook source", direct_notebook_source=None)
    refused("gs://BUCKET/PATH/NOTEBOOK.ipynb", gcs_notebook_source={"uri": "/tmp/x.ipynb"})
    refused("Dataform", gexc.MethodNotImplemented, dataform_repository_source={"dataform_repository_resource_name": "x"})
    refused("exactly one of notebook_runtime_template_resource_name", workbench_runtime={})
    refused("exactly one of", notebook_runtime_template_resource_name=None)
    refused("notebookRuntimeTemplates/ID", notebook_runtime_template_resource_name="default")
    refused("machine_type is required", custom_environment_spec={"machine_spec": {}})
    refused("gcs_output_uri is required", gcs_output_uri=None)
    refused("gcs_output_uri is required and must be gs://", gcs_output_uri="/tmp/out")
    refused("execution_user or service_account", service_account=None)
    refused("Invalid notebook_execution_job.labels", labels={"Bad": "x"})
    refused("execution_timeout must be positive", execution_timeout={"seconds": -5})
    refused("at most 128 characters", display_name="x" * 129)
    with pytest.raises(gexc.BadRequest, match="notebook_execution_job_id"):
        notebooks.create_notebook_execution_job(request={"parent": PARENT, "notebook_execution_job_id": "Bad_ID",
                                                         "notebook_execution_job": nb_job(gcs, **direct("1"))})
    answer = requests.post(f"{fake.url}/v1/{PARENT}/notebookExecutionJobs", json={"displayName": "x", "notebookUri": "gs://b/n"})
    assert answer.status_code == 400 and answer.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"notebookUri\" at 'notebook_execution_job': Cannot find field.")
    assert not fake.notebook_jobs and not fake.operations


def schedule(gcs, cron: str = "TZ=America/New_York 0 9 * * 1-5", **fields) -> v.Schedule:
    fields.setdefault("max_concurrent_run_count", 1)
    return v.Schedule(display_name=fields.pop("display_name", "nightly"), cron=cron, **fields,
                      create_notebook_execution_job_request=v.CreateNotebookExecutionJobRequest(
                          parent=PARENT, notebook_execution_job=nb_job(gcs, **direct("print('scheduled')"))))


def test_schedule_crud_pause_and_resume(fake, schedules, gcs):
    before = datetime.now(timezone.utc)
    created = schedules.create_schedule(parent=PARENT, schedule=schedule(gcs))
    assert created.name.startswith(f"{NUMBER_PARENT}/schedules/") and created.state == Sched.ACTIVE
    first = created.next_run_time.astimezone(ZoneInfo("America/New_York"))
    assert first > before and (first.hour, first.minute, first.weekday() < 5) == (9, 0, True)
    assert created.started_run_count == 0 and created.create_time

    assert schedules.get_schedule(name=created.name) == created
    other = schedules.create_schedule(parent=PARENT, schedule=schedule(gcs, "0 * * * *", display_name="hourly"))
    listed = lambda flt="": [s.name for s in schedules.list_schedules(request={"parent": PARENT, "filter": flt})]  # noqa: E731
    assert listed() == [other.name, created.name] and listed('display_name="hourly"') == [other.name]
    assert listed('display_name:"night*"') == [created.name] and listed("NOT state=ACTIVE") == []

    updated = schedules.update_schedule(schedule=v.Schedule(name=created.name, display_name="weekly",
                                                            cron="TZ=Europe/Paris 30 6 * * 0", max_run_count=3),
                                        update_mask=field_mask_pb2.FieldMask(paths=["display_name", "cron"]))
    assert (updated.display_name, updated.max_run_count) == ("weekly", 0)  # max_run_count is not in the mask
    paris = updated.next_run_time.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.weekday(), paris.hour, paris.minute) == (6, 6, 30)
    patch = next(r for r in fake.requests if r.method == "PATCH")
    assert patch.params["updateMask"] == "displayName,cron"
    with pytest.raises(gexc.BadRequest, match="cannot be updated"):
        schedules.update_schedule(schedule=v.Schedule(name=created.name, catch_up=True),
                                  update_mask=field_mask_pb2.FieldMask(paths=["start_time"]))

    schedules.pause_schedule(name=created.name)
    paused = schedules.get_schedule(name=created.name)
    assert paused.state == Sched.PAUSED and paused.last_pause_time
    with pytest.raises(gexc.BadRequest, match="only an ACTIVE schedule"):
        schedules.pause_schedule(name=created.name)
    schedules.resume_schedule(name=created.name)
    resumed = schedules.get_schedule(name=created.name)
    assert resumed.state == Sched.ACTIVE and resumed.last_resume_time and not resumed.catch_up
    with pytest.raises(gexc.BadRequest, match="only a PAUSED schedule"):
        schedules.resume_schedule(name=created.name)

    operation = schedules.delete_schedule(name=created.name)
    operation.result(timeout=30)
    assert operation.operation.name.startswith(f"{NUMBER_PARENT}/operations/")
    with pytest.raises(gexc.NotFound):
        schedules.get_schedule(name=created.name)
    assert listed() == [other.name] and not fake.notebook_jobs


def test_invalid_schedules_are_400s(schedules, gcs):
    for bad, match in ((schedule(gcs, "61 * * * *"), "not a valid cron schedule"),
                       (schedule(gcs, "0 9 * *"), "not a valid cron schedule"),
                       (schedule(gcs, "TZ=Mars/Olympus 0 9 * * *"), "unknown time zone"),
                       (schedule(gcs, max_concurrent_run_count=0), "max_concurrent_run_count is required"),
                       (schedule(gcs, display_name=""), "display_name is required"),
                       (v.Schedule(display_name="x", cron="* * * * *", max_concurrent_run_count=1),
                        "create_notebook_execution_job_request is required")):
        with pytest.raises(gexc.BadRequest, match=match):
            schedules.create_schedule(parent=PARENT, schedule=bad)
    wrong_place = schedule(gcs)
    wrong_place.create_notebook_execution_job_request.parent = "projects/my-project/locations/europe-west4"
    with pytest.raises(gexc.BadRequest, match="the schedule's location"):
        schedules.create_schedule(parent=PARENT, schedule=wrong_place)
    no_identity = schedule(gcs)
    no_identity.create_notebook_execution_job_request.notebook_execution_job.service_account = ""
    with pytest.raises(gexc.BadRequest, match="notebook_execution_job needs execution_user or service_account"):
        schedules.create_schedule(parent=PARENT, schedule=no_identity)


def test_fire_due_runs_notebooks_skipping_while_max_concurrent_runs_are_active(fake, schedules, notebooks, gcs):
    created = schedules.create_schedule(parent=PARENT, schedule=schedule(gcs, "*/5 * * * *", max_run_count=2))
    t0 = created.next_run_time
    assert fake.fire_due(t0 - timedelta(seconds=1)) == []
    [first] = fake.fire_due(t0)
    job = notebooks.get_notebook_execution_job(name=first)
    assert job.schedule_resource_name == created.name and job.display_name == "fake-notebook"
    state = schedules.get_schedule(name=created.name)
    assert state.started_run_count == 1 and state.next_run_time == t0 + timedelta(minutes=5)
    assert state.last_scheduled_run_response.run_response == first
    assert state.last_scheduled_run_response.scheduled_run_time == t0

    assert fake.fire_due(t0 + timedelta(minutes=5)) == []  # the first run is still active: this tick is skipped
    assert fake.schedules[created.name.rsplit("/", 1)[1]].skipped == [t0 + timedelta(minutes=5)]
    assert wait(notebooks, first).job_state == S.JOB_STATE_SUCCEEDED
    assert "scheduled" in text(executed(gcs, first)["cells"][0])

    [second] = fake.fire_due((t0 + timedelta(minutes=10)).replace(tzinfo=None))  # naive means UTC
    done = schedules.get_schedule(name=created.name)
    assert done.state == Sched.COMPLETED and done.started_run_count == 2 and not done.next_run_time
    assert fake.fire_due(t0 + timedelta(days=1)) == []
    assert wait(notebooks, second).job_state == S.JOB_STATE_SUCCEEDED
    runs = notebooks.list_notebook_execution_jobs(request={"parent": PARENT, "filter": f'schedule="{created.name}"'})
    assert sorted(j.name for j in runs) == sorted([first, second])


def test_queueing_pause_and_catch_up(fake, schedules, notebooks, gcs):
    fake.pending_s = 300  # runs stay PENDING (active, no container) until close() stops them
    created = schedules.create_schedule(parent=PARENT, schedule=schedule(gcs, "0 * * * *", allow_queueing=True))
    record, t0, hour = fake.schedules[created.name.rsplit("/", 1)[1]], created.next_run_time, timedelta(hours=1)
    [first] = fake.fire_due(t0)
    assert fake.fire_due(t0 + 2 * hour) == [] and record.queued == [t0 + hour, t0 + 2 * hour]

    schedules.pause_schedule(name=created.name)
    assert fake.fire_due(t0 + 5 * hour) == []
    schedules.resume_schedule(request={"name": created.name, "catch_up": True})
    resumed = schedules.get_schedule(name=created.name)
    assert resumed.catch_up and resumed.next_run_time == t0 + 3 * hour  # the missed ticks are backfilled
    assert fake.fire_due(t0 + 5 * hour) == [] and record.queued == [t0 + n * hour for n in range(1, 6)]

    schedules.pause_schedule(name=created.name)
    schedules.resume_schedule(name=created.name)  # without catch_up: the next tick after the fake's clock
    assert schedules.get_schedule(name=created.name).next_run_time == t0 + 6 * hour
    assert notebooks.get_notebook_execution_job(name=first).job_state == S.JOB_STATE_PENDING
    assert schedules.get_schedule(name=created.name).started_run_count == 1


def test_start_and_end_time_and_an_updated_request(fake, schedules, notebooks, gcs):
    fake.pending_s = 300  # runs stay PENDING (no container) until close() stops them
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=2, minutes=30)
    created = schedules.create_schedule(parent=PARENT, schedule=schedule(
        gcs, "0 * * * *", start_time=start, end_time=start + timedelta(hours=2), max_concurrent_run_count=5))
    assert created.next_run_time == start + timedelta(minutes=30)  # the first tick after start_time
    request = schedule(gcs).create_notebook_execution_job_request
    request.notebook_execution_job.display_name = "renamed run"
    schedules.update_schedule(schedule=v.Schedule(name=created.name, create_notebook_execution_job_request=request),
                              update_mask=field_mask_pb2.FieldMask(paths=["create_notebook_execution_job_request"]))
    runs = fake.fire_due(start + timedelta(hours=3))
    assert [notebooks.get_notebook_execution_job(name=n).display_name for n in runs] == ["renamed run"] * 2
    done = schedules.get_schedule(name=created.name)  # the tick at start+2h30 is past end_time
    assert done.state == Sched.COMPLETED and done.started_run_count == 2 and not done.next_run_time
    with pytest.raises(gexc.BadRequest, match="only an ACTIVE schedule"):
        schedules.pause_schedule(name=created.name)
