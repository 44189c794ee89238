"""The Vertex fake, proven with Google's real client: JobServiceClient over REST against vertex_fake, real
containers on the local Docker engine, real rclone FUSE mounts of the real Cloud Storage emulator at /gcs."""
from __future__ import annotations

import json
import time

import docker
import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import aiplatform_v1 as v
from google.cloud.aiplatform_v1.services.job_service.transports import rest as job_rest

from conftest import listed
from vertex_fake import VertexFake

IMAGE = "python:3.11-slim"
PARENT = "projects/my-project/locations/us-central1"
NUMBER_PARENT = "projects/123456789012/locations/us-central1"
S = v.JobState


@pytest.fixture
def vertex_fake(gcs_emulator):
    """A fresh fake per test, mounting the session's Cloud Storage emulator at /gcs in its containers."""
    engine = docker.from_env()
    try:
        engine.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"image {IMAGE} is missing locally (no registry is reachable)")
    fake = VertexFake(gcs_url=gcs_emulator["url"])
    yield fake
    fake.close()
    assert not engine.containers.list(all=True, filters={"label": f"vertexfake.fake={fake.token}"})
    assert not [line for line in open("/proc/mounts") if fake.workdir in line]
    engine.close()


@pytest.fixture
def client(vertex_fake):
    return vertex_fake.client()


def custom_job(code: str, name: str = "fake-test", **spec) -> v.CustomJob:
    """A CustomJob running `python3 -c code` in one n1-standard-4 replica."""
    return v.CustomJob(display_name=name, labels={"suite": "vertex-fake"}, job_spec=v.CustomJobSpec(
        worker_pool_specs=[v.WorkerPoolSpec(
            machine_spec=v.MachineSpec(machine_type="n1-standard-4"), replica_count=1,
            disk_spec=v.DiskSpec(boot_disk_type="pd-ssd", boot_disk_size_gb=100),
            container_spec=v.ContainerSpec(image_uri=IMAGE, command=["python3", "-c", code], args=[],
                                           env=[v.EnvVar(name="GREETING", value="hi")]))], **spec))


def wait(client, name: str, until=lambda job: job.state in (S.JOB_STATE_SUCCEEDED, S.JOB_STATE_FAILED,
                                                              S.JOB_STATE_CANCELLED, S.JOB_STATE_EXPIRED),
         timeout_s: float = 60) -> v.CustomJob:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get_custom_job(name=name)
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job stuck in {job.state.name}"
        time.sleep(0.2)


def containers_of(job_name: str):
    engine = docker.from_env()
    try:
        return listed(engine, {"label": f"vertexfake.job={job_name.rsplit('/', 1)[-1]}"})
    finally:
        engine.close()


def test_job_reads_and_writes_gcs_through_the_fuse_mount(vertex_fake, client, gcs):
    gcs.bucket.blob("in.txt").upload_from_string("hello from the emulator")
    code = (f"import json, os; text = open('/gcs/{gcs.name}/in.txt').read(); "
            f"os.makedirs('/gcs/{gcs.name}/sub', exist_ok=True); "
            f"open('/gcs/{gcs.name}/out.txt', 'w').write(text.upper()); "
            "keys = ['CLOUD_ML_PROJECT_ID', 'CLOUD_ML_JOB_ID', 'CLOUD_ML_REGION', 'AIP_MODEL_DIR', 'AIP_CHECKPOINT_DIR', "
            "'AIP_TENSORBOARD_LOG_DIR', 'GREETING']; "
            f"json.dump({{k: os.environ[k] for k in keys}}, open('/gcs/{gcs.name}/sub/env.json', 'w')); "
            "spec = json.loads(os.environ['CLUSTER_SPEC']); "  # no TF_CONFIG for a single replica, as on Vertex
            "assert spec['task'] == {'type': 'workerpool0', 'index': 0} and 'TF_CONFIG' not in os.environ; "
            "print('done')")
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job(
        code, scheduling=v.Scheduling(timeout="600s", restart_job_on_worker_restart=False),
        base_output_directory=v.GcsDestination(output_uri_prefix=f"gs://{gcs.name}/base")))
    assert created.name.startswith(f"{NUMBER_PARENT}/customJobs/") and created.name.rsplit("/", 1)[1].isdigit()
    assert created.state == S.JOB_STATE_PENDING and created.create_time

    done = wait(client, created.name)
    assert done.state == S.JOB_STATE_SUCCEEDED, (done.error.message, vertex_fake.logs(done.name))
    assert done.create_time <= done.start_time <= done.end_time and not done.error.message
    assert done.job_spec.worker_pool_specs[0].container_spec.image_uri == IMAGE
    assert gcs.bucket.blob("out.txt").download_as_text() == "HELLO FROM THE EMULATOR"
    env = json.loads(gcs.bucket.blob("sub/env.json").download_as_text())
    job_id = created.name.rsplit("/", 1)[1]
    assert env == {"CLOUD_ML_PROJECT_ID": "123456789012", "CLOUD_ML_JOB_ID": job_id, "CLOUD_ML_REGION": "us-central1",
                   "AIP_MODEL_DIR": f"gs://{gcs.name}/base/model/", "AIP_CHECKPOINT_DIR": f"gs://{gcs.name}/base/checkpoints/",
                   "AIP_TENSORBOARD_LOG_DIR": f"gs://{gcs.name}/base/logs/", "GREETING": "hi"}
    assert vertex_fake.logs(job_id).strip() == "done"
    assert not containers_of(created.name)

    posts = [r for r in vertex_fake.requests if r.method == "POST"]
    assert len(posts) == 1
    method, path, body = posts[0]
    assert path == f"/v1/{PARENT}/customJobs" and posts[0].params["$alt"] == "json;enum-encoding=int"
    pool = body["jobSpec"]["workerPoolSpecs"][0]
    assert pool["containerSpec"]["command"][:2] == ["python3", "-c"] and pool["machineSpec"]["machineType"] == "n1-standard-4"
    assert body["jobSpec"]["scheduling"]["timeout"] == "600s" and body["labels"] == {"suite": "vertex-fake"}


def test_failing_container_fails_the_job_like_vertex(client, vertex_fake):
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job("import sys; print('boom'); sys.exit(3)"))
    done = wait(client, created.name)
    assert done.state == S.JOB_STATE_FAILED
    assert done.error.message.startswith("The replica workerpool0-0 exited with a non-zero status of 3.")
    assert done.error.code == 3 and "boom" in vertex_fake.logs(created.name)
    assert not containers_of(created.name)


def test_a_transient_exit_restarts_the_job_up_to_three_times(client, vertex_fake):
    """As "Understand the Vertex AI serverless training service" documents (vertex_fake_jobs.TRANSIENT_EXIT_CODES):
    an exit with 134 (SIGABRT) or 139 (SIGSEGV) restarts the job, at most three times; exit 3 ends it at once
    (test_failing_container_fails_the_job_like_vertex)."""
    counted = ("import pathlib, sys; p = pathlib.Path('/tmp/runs'); n = int(p.read_text()) + 1 if p.exists() else 1; "
               "p.write_text(str(n)); print('run', n, flush=True); sys.exit({} if n < 3 else 0)")
    recovers = client.create_custom_job(parent=PARENT, custom_job=custom_job(counted.format(134)))
    crashes = client.create_custom_job(parent=PARENT, custom_job=custom_job(counted.format(139).replace("n < 3", "n")))
    done = wait(client, recovers.name)
    assert done.state == S.JOB_STATE_SUCCEEDED and vertex_fake.logs(recovers.name).split() == ["run", "1", "run", "2",
                                                                                                 "run", "3"]
    done = wait(client, crashes.name)
    assert done.state == S.JOB_STATE_FAILED and "non-zero status of 139" in done.error.message
    assert vertex_fake.logs(crashes.name).count("run ") == 4  # the first attempt and three restarts
    assert not containers_of(recovers.name) and not containers_of(crashes.name)


def test_cancel_stops_the_container(client):
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job("import time; time.sleep(300)"))
    wait(client, created.name, until=lambda job: job.state == S.JOB_STATE_RUNNING)
    assert len(containers_of(created.name)) == 1
    client.cancel_custom_job(name=created.name)
    assert client.get_custom_job(name=created.name).state in (S.JOB_STATE_CANCELLING, S.JOB_STATE_CANCELLED)
    done = wait(client, created.name)
    assert done.state == S.JOB_STATE_CANCELLED and done.error.message == "CANCELED"
    assert done.create_time <= done.start_time <= done.end_time  # ran, then entered JOB_STATE_CANCELLED
    assert not containers_of(created.name)
    with pytest.raises(gexc.BadRequest, match="FAILED_PRECONDITION|already in state"):
        client.cancel_custom_job(name=created.name)


def test_cancel_while_pending_never_starts_a_container(client, vertex_fake):
    vertex_fake.pending_s = 30
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job("pass"))
    client.cancel_custom_job(name=created.name)
    assert wait(client, created.name, timeout_s=10).state == S.JOB_STATE_CANCELLED
    assert not containers_of(created.name) and not client.get_custom_job(name=created.name).start_time


def test_pending_hold_then_run(client, vertex_fake):
    vertex_fake.pending_s = 1.5
    started = time.monotonic()
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job("pass"))
    time.sleep(0.5)
    assert client.get_custom_job(name=created.name).state == S.JOB_STATE_PENDING
    assert wait(client, created.name).state == S.JOB_STATE_SUCCEEDED
    assert time.monotonic() - started >= 1.5


def test_expire_hook(client, vertex_fake):
    vertex_fake.expire_next()
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job("import time; time.sleep(300)"))
    done = wait(client, created.name, timeout_s=10)
    assert done.state == S.JOB_STATE_EXPIRED and done.error.message
    assert not done.start_time and not done.end_time  # end_time is for SUCCEEDED, FAILED and CANCELLED only
    assert not containers_of(created.name)
    nxt = client.create_custom_job(parent=PARENT, custom_job=custom_job("pass"))
    assert wait(client, nxt.name).state == S.JOB_STATE_SUCCEEDED


def test_scheduling_timeout_stops_the_container(client):
    created = client.create_custom_job(parent=PARENT, custom_job=custom_job(
        "import time; time.sleep(300)", scheduling=v.Scheduling(timeout="1s")))
    done = wait(client, created.name, timeout_s=30)
    assert done.state == S.JOB_STATE_FAILED and "scheduling.timeout" in done.error.message
    assert not containers_of(created.name)


def test_invalid_bodies_are_400s(client, vertex_fake, monkeypatch):
    bad = custom_job("pass")
    bad.job_spec.worker_pool_specs[0].container_spec.image_uri = ""
    with pytest.raises(gexc.BadRequest, match="image_uri is required"):
        client.create_custom_job(parent=PARENT, custom_job=bad)
    with pytest.raises(gexc.BadRequest, match="worker_pool_specs"):
        client.create_custom_job(parent=PARENT, custom_job=v.CustomJob(display_name="x", job_spec=v.CustomJobSpec()))

    # A field the v1 proto lacks (say, from a newer API) can only come from JSON: add one to what the real client sends.
    send = job_rest.JobServiceRestTransport._CreateCustomJob._get_response

    def with_unknown_field(host, metadata, query_params, session, timeout, transcoded_request, body=None):
        doc = json.loads(body)
        doc["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["imageUrl"] = IMAGE
        return send(host, metadata, query_params, session, timeout, transcoded_request, json.dumps(doc))

    monkeypatch.setattr(job_rest.JobServiceRestTransport._CreateCustomJob, "_get_response",
                        staticmethod(with_unknown_field))
    with pytest.raises(gexc.BadRequest, match='Unknown name "imageUrl"'):
        client.create_custom_job(parent=PARENT, custom_job=custom_job("pass"))
    monkeypatch.undo()

    answer = requests.post(f"{vertex_fake.url}/v1/{PARENT}/customJobs", json={"displayName": "x", "bogus": 1})
    assert answer.status_code == 400 and answer.json()["error"] == {
        "code": 400, "status": "INVALID_ARGUMENT",
        "message": "Invalid JSON payload received. Unknown name \"bogus\" at 'custom_job': Cannot find field."}
    assert not vertex_fake.jobs


def test_enums_as_strings_or_integers_and_the_ui_prefix(vertex_fake):
    vertex_fake.expire_next(2)  # no container needed
    body = json.loads(v.CustomJob.to_json(custom_job("pass")))
    machine = body["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]
    machine.update(acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=1)
    as_strings = requests.post(f"{vertex_fake.url}/ui/{PARENT}/customJobs", json=body).json()
    machine["acceleratorType"] = 5  # NVIDIA_TESLA_T4
    as_ints = requests.post(f"{vertex_fake.url}/v1/{PARENT}/customJobs", json=body,
                            params={"$alt": "json;enum-encoding=int"}).json()
    assert as_strings["state"] == "JOB_STATE_PENDING" and as_ints["state"] == 2
    assert as_ints["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorType"] == 5
    got = requests.get(f"{vertex_fake.url}/ui/{as_strings['name']}").json()
    assert got["name"] == as_strings["name"]
    machine["acceleratorType"] = "NVIDIA_NO_SUCH_GPU"
    assert requests.post(f"{vertex_fake.url}/v1/{PARENT}/customJobs", json=body).status_code == 400


def test_list_and_delete(client, vertex_fake):
    first = client.create_custom_job(parent=PARENT, custom_job=custom_job("pass", name="first"))
    second = client.create_custom_job(parent=PARENT, custom_job=custom_job("import time; time.sleep(300)", name="second"))
    wait(client, first.name)
    wait(client, second.name, until=lambda job: job.state == S.JOB_STATE_RUNNING)
    assert {job.name for job in client.list_custom_jobs(parent=PARENT)} == {first.name, second.name}
    assert [j.name for j in client.list_custom_jobs(request={"parent": PARENT, "filter": 'display_name="first"'})] == [first.name]
    assert [j.name for j in client.list_custom_jobs(request={"parent": PARENT, "page_size": 1})] == [second.name, first.name]

    with pytest.raises(gexc.BadRequest, match="cannot be deleted"):
        client.delete_custom_job(name=second.name)
    operation = client.delete_custom_job(name=first.name)
    operation.result(timeout=30)
    assert operation.done() and operation.operation.name.startswith(f"{NUMBER_PARENT}/operations/")
    assert client.get_operation(request={"name": operation.operation.name}).done
    with pytest.raises(gexc.NotFound):
        client.get_custom_job(name=first.name)
    assert [job.name for job in client.list_custom_jobs(parent=PARENT)] == [second.name]
    client.cancel_custom_job(name=second.name)
    assert wait(client, second.name).state == S.JOB_STATE_CANCELLED
