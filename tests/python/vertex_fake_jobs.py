"""CustomJobs in vertex_fake: the API side (create, get, list, cancel, delete) and the running side, where each
job gets its own rclone mount of the Cloud Storage emulator at /gcs and its own Docker container, the way a
Vertex worker VM gets Cloud Storage FUSE and its image.

A Job keeps the stored CustomJob proto (guarded by its lock); run_job() is its worker thread:
PENDING hold → (EXPIRED) → mount → container RUNNING → exit, timeout or cancel → container removed →
uploads drained → unmounted → terminal state. The terminal state is set last, so a client that sees it
finds the container gone and every file the job wrote in the emulator.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import docker
from google.cloud.aiplatform_v1 import CustomJob, DeleteOperationMetadata, JobState
from google.protobuf import empty_pb2, json_format

from vertex_fake_api import (
    ApiError,
    Call,
    check_display_name,
    check_labels,
    new_id,
    operation,
    page,
    parse_body,
    precondition,
    render,
)

TERMINAL = {JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED,
            JobState.JOB_STATE_EXPIRED, JobState.JOB_STATE_PARTIALLY_SUCCEEDED}
ENDED = {JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED}  # end_time's states
LABEL_JOB, LABEL_FAKE = "vertexfake.job", "vertexfake.fake"
CUSTOM_JOB_OUTPUT_ONLY = ("name", "state", "create_time", "start_time", "end_time", "update_time", "error",
                          "web_access_uris")


def parse_custom_job(body) -> CustomJob:
    """The request body as a CustomJob proto, or ApiError(400) for what Vertex would refuse."""
    pb = parse_body(body, CustomJob, "custom_job", CUSTOM_JOB_OUTPUT_ONLY)
    check_display_name(pb.display_name, "custom_job")
    pools = pb.job_spec.worker_pool_specs
    if not pools:
        raise ApiError(400, "custom_job.job_spec.worker_pool_specs must specify at least one worker pool.")
    if len(pools) > 1 or pools[0].replica_count > 1:
        raise ApiError(501, "vertex_fake runs a single replica of a single worker pool.")
    pool, where = pools[0], "custom_job.job_spec.worker_pool_specs[0]"
    if pool.HasField("python_package_spec"):
        raise ApiError(501, "vertex_fake runs container_spec worker pools only.")
    if not pool.container_spec.image_uri:
        raise ApiError(400, f"{where}.container_spec.image_uri is required.")
    if not pool.machine_spec.machine_type:
        raise ApiError(400, f"{where}.machine_spec.machine_type is required.")
    if pool.replica_count < 1:
        raise ApiError(400, f"{where}.replica_count must be 1 for the first worker pool.")
    prefix = pb.job_spec.base_output_directory.output_uri_prefix
    if prefix and not prefix.startswith("gs://"):
        raise ApiError(400, f"custom_job.job_spec.base_output_directory.output_uri_prefix must be a gs:// URI: {prefix}")
    check_labels(pb.labels, "custom_job")
    return pb


class Job:
    """One CustomJob: the stored proto (read and written under lock), a cancel event and the captured logs."""

    def __init__(self, pb, job_id: str, location: str, expire: bool, project: str = ""):
        self.pb, self.id, self.location, self.expire, self.project = pb, job_id, location, expire, project
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.logs = ""
        self.thread: threading.Thread | None = None

    @property
    def state(self) -> JobState:
        return JobState(self.pb.state)

    def set_state(self, state: JobState, code: int = 0, message: str = "") -> None:
        """Move to `state` and stamp the times as the CustomJob reference defines them: start_time "Time when the
        CustomJob for the first time entered the JOB_STATE_RUNNING state", end_time "Time when the CustomJob
        entered any of the following states: JOB_STATE_SUCCEEDED, JOB_STATE_FAILED, JOB_STATE_CANCELLED" (so
        none for EXPIRED). Terminal states are final and CANCELLING only ends in one."""
        with self.lock:
            current = JobState(self.pb.state)
            if current in TERMINAL or (current == JobState.JOB_STATE_CANCELLING and state not in TERMINAL):
                return
            self.pb.state = state
            self.pb.update_time.GetCurrentTime()
            if state == JobState.JOB_STATE_RUNNING and not self.pb.HasField("start_time"):
                self.pb.start_time.CopyFrom(self.pb.update_time)
            if state in ENDED:
                self.pb.end_time.CopyFrom(self.pb.update_time)
            if code:
                self.pb.error.code, self.pb.error.message = code, message


class Finish(Exception):
    """Ends a job's run early with this terminal state and error."""

    def __init__(self, state: JobState, code: int = 0, message: str = ""):
        super().__init__(message)
        self.outcome = (state, code, message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mount:
    """`rclone mount` of the emulator's root (every bucket a directory), with rclone's control API for draining:
    Vertex AI mounts every bucket the job can read ("Custom training jobs can access your Cloud Storage buckets as
    subdirectories of the root /gcs directory", cloud.google.com/vertex-ai/docs/training/cloud-storage-file-system)."""

    def __init__(self, gcs_url: str, workdir: str, timeout_s: float = 20):
        self.dir = tempfile.mkdtemp(prefix="mount-", dir=workdir)
        self.path = os.path.join(self.dir, "gcs")
        os.mkdir(self.path)
        self.rc_port = free_port()
        env = dict(os.environ, RCLONE_CONFIG_FAKEGCS_TYPE="google cloud storage", RCLONE_CONFIG_FAKEGCS_ANONYMOUS="true",
                   RCLONE_CONFIG_FAKEGCS_ENDPOINT=f"{gcs_url.rstrip('/')}/storage/v1/",
                   RCLONE_CONFIG_FAKEGCS_BUCKET_POLICY_ONLY="true",
                   RCLONE_CONFIG_FAKEGCS_PROJECT_NUMBER="0")  # rclone lists buckets (the root) only with one
        cmd = ["rclone", "mount", "fakegcs:", self.path, "--vfs-cache-mode", "writes", "--vfs-write-back", "1s",
               "--dir-cache-time", "1s", "--allow-other", "--cache-dir", os.path.join(self.dir, "cache"),
               "--rc", "--rc-no-auth", "--rc-addr", f"127.0.0.1:{self.rc_port}", "--log-level", "INFO"]
        self.log_path = os.path.join(self.dir, "rclone.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not os.path.ismount(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = open(self.log_path, errors="replace").read()[-600:].strip()
                self.unmount()
                raise RuntimeError(f"rclone could not mount the emulator: {tail or 'timed out'}")
            time.sleep(0.05)

    def drain(self, timeout_s: float = 120, settle: int = 3) -> None:
        """Wait until rclone has no upload queued or in progress (`settle` polls in a row, so a FUSE release
        still in flight when the container died is counted too); errored uploads raise."""
        deadline, quiet = time.monotonic() + timeout_s, 0
        while quiet < settle:
            req = urllib.request.Request(f"http://127.0.0.1:{self.rc_port}/vfs/stats", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                cache = json.load(resp)["diskCache"]
            if cache.get("erroredFiles"):
                raise RuntimeError(f"rclone failed to upload {cache['erroredFiles']} file(s); see {self.log_path}")
            quiet = quiet + 1 if not cache["uploadsInProgress"] and not cache["uploadsQueued"] else 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"rclone uploads did not finish within {timeout_s:.0f} s")
            time.sleep(0.1)

    def unmount(self) -> None:
        """fusermount3 -u (lazily if busy), wait for rclone to exit, remove the mount's directory."""
        if os.path.ismount(self.path) and subprocess.run(["fusermount3", "-u", self.path], capture_output=True).returncode:
            subprocess.run(["fusermount3", "-uz", self.path], capture_output=True)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def vertex_env(job: Job, project_number: str) -> dict[str, str]:
    """The variables Vertex sets in a custom-container worker (single replica of worker pool 0). CLUSTER_SPEC is
    set on every replica; TF_CONFIG is not: "Vertex AI does not set TF_CONFIG for single-replica training jobs"
    (https://cloud.google.com/vertex-ai/docs/training/distributed-training, "Environment variables for
    distributed training"), and this fake runs single-replica jobs only."""
    spec = job.pb.job_spec
    env = {"CLOUD_ML_PROJECT_ID": project_number, "CLOUD_ML_JOB_ID": job.id, "CLOUD_ML_REGION": job.location}
    prefix = spec.base_output_directory.output_uri_prefix.rstrip("/")
    if prefix:
        env.update(AIP_MODEL_DIR=f"{prefix}/model/", AIP_CHECKPOINT_DIR=f"{prefix}/checkpoints/",
                   AIP_TENSORBOARD_LOG_DIR=f"{prefix}/logs/")
    job_json = json_format.MessageToDict(spec, preserving_proto_field_name=True)
    env["CLUSTER_SPEC"] = json.dumps({"cluster": {"workerpool0": ["workerpool0-0:2222"]}, "environment": "cloud",
                                      "task": {"type": "workerpool0", "index": 0}, "job": job_json})
    return env


def start_container(engine, job: Job, fake, mount: Mount | None):
    """Create and start the worker-pool-0 container: command → entrypoint, args → cmd, like Kubernetes."""
    spec = job.pb.job_spec.worker_pool_specs[0].container_spec
    try:
        engine.images.get(spec.image_uri)
    except docker.errors.ImageNotFound:
        try:
            engine.images.pull(spec.image_uri)
        except docker.errors.DockerException as exc:
            raise Finish(JobState.JOB_STATE_FAILED, 3, f"The replica workerpool0-0 could not pull image "
                                                       f"{spec.image_uri}: {exc}") from exc
    env = {e.name: e.value for e in spec.env}
    env.update(vertex_env(job, fake.project_number))
    if fake.host_network and fake.gcs_url:
        env["STORAGE_EMULATOR_HOST"] = fake.gcs_url
    container = engine.containers.create(
        spec.image_uri, entrypoint=list(spec.command) or None, command=list(spec.args) or None, environment=env,
        labels={LABEL_JOB: job.id, LABEL_FAKE: fake.token}, detach=True,
        volumes={mount.path: {"bind": "/gcs", "mode": "rw"}} if mount else None,
        network_mode="host" if fake.host_network else None)
    try:
        container.start()
    except Exception:
        container.remove(force=True)
        raise
    return container


# "Understand the Vertex AI serverless training service", Handle common errors
# (https://cloud.google.com/vertex-ai/docs/training/understanding-training-service, stored copy read 2026-12-07): a
# replica's non-zero exit is a permanent user code exception, except "exit codes that could be transient", where
# Vertex AI "tries to restart the job up to three times": SIGABRT (6; 134 in custom containers) and SIGSEGV (11;
# 139). Out-of-memory exits are permanent. This fake restarts the job's one container in place.
TRANSIENT_EXIT_CODES = {6, 11, 134, 139}
MAX_JOB_RESTARTS = 3


def wait_container(job: Job, container, grace_s: float, project_number: str,
                   on_restart=lambda since: None) -> tuple:
    """Poll until the container exits for good, the job is cancelled or scheduling.timeout passes; the outcome.
    A transient exit restarts the job (see above); `on_restart(since)` follows the new attempt's log.
    Google documents no error code or wording for a job its scheduling.timeout stopped: this fake answers
    DEADLINE_EXCEEDED (google.rpc.Code 4) in words of its own."""
    restarts = 0
    sched = job.pb.job_spec.scheduling
    timeout_s = sched.timeout.ToTimedelta().total_seconds() if sched.HasField("timeout") else math.inf
    deadline = time.monotonic() + timeout_s
    while True:
        if job.cancel.wait(0.2):
            container.stop(timeout=math.ceil(grace_s))
            return JobState.JOB_STATE_CANCELLED, 1, "CANCELED"
        container.reload()
        if container.status in ("exited", "dead"):
            code, oom = container.attrs["State"]["ExitCode"], container.attrs["State"].get("OOMKilled")
            if code == 0:
                return JobState.JOB_STATE_SUCCEEDED, 0, ""
            if code in TRANSIENT_EXIT_CODES and not oom and restarts < MAX_JOB_RESTARTS:
                restarts += 1
                since = time.time()
                container.start()
                on_restart(since)
                continue
            logs = (f"https://console.cloud.google.com/logs/viewer?project={project_number}&resource=ml_job%2Fjob_id%2F"
                    f"{job.id}&advancedFilter=resource.type%3D%22ml_job%22%0Aresource.labels.job_id%3D%22{job.id}%22")
            return JobState.JOB_STATE_FAILED, 3, (
                f"The replica workerpool0-0 exited with a non-zero status of {code}. Termination reason: "
                f"{'OOMKilled' if oom else 'Error'}. To find out more about why your job exited please check the "
                f"logs: {logs}")
        if time.monotonic() > deadline:
            container.stop(timeout=math.ceil(grace_s))
            return JobState.JOB_STATE_FAILED, 4, (f"The job exceeded its maximum running time of {timeout_s:g} s "
                                                  f"(job_spec.scheduling.timeout) and was stopped.")


def send_to_logging(job: Job, container, logging, since: float | None = None) -> None:
    """Each line the replica prints (from `since`: a restarted job's new attempt), as an ml_job entry of its task
    (stderr as ERROR, as Vertex marks it)."""
    labels = {"job_id": job.id, "project_id": job.project, "task_name": "workerpool0-0"}

    def pump(stream: str, severity: str) -> None:
        pending = b""
        for chunk in container.logs(stream=True, follow=True, stdout=stream == "stdout", stderr=stream == "stderr",
                                    since=since):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                logging.write(job.project, "ml_job", labels, line.decode(errors="replace"), log_id="workerpool0-0",
                              severity=severity)
        if pending:
            logging.write(job.project, "ml_job", labels, pending.decode(errors="replace"), log_id="workerpool0-0",
                          severity=severity)

    err = threading.Thread(target=pump, args=("stderr", "ERROR"), daemon=True)
    err.start()
    pump("stdout", "INFO")
    err.join(10)


def run_job(job: Job, fake) -> None:
    """Worker thread for one job; whatever happens, it ends with the container removed, the mount gone
    and a terminal state."""
    engine = mount = container = None
    outcome = (JobState.JOB_STATE_CANCELLED, 1, "CANCELED")
    try:
        engine = docker.from_env()
        sched = job.pb.job_spec.scheduling
        max_wait = sched.max_wait_duration.ToTimedelta().total_seconds() if sched.HasField("max_wait_duration") else 0
        expire = job.expire or (max_wait and fake.pending_s > max_wait)
        if job.cancel.wait(min(fake.pending_s, max_wait) if max_wait else fake.pending_s):
            return
        if expire:
            raise Finish(JobState.JOB_STATE_EXPIRED, 4, "The job expired: it could not get resources to start "
                                                         "within job_spec.scheduling.max_wait_duration.")
        if fake.gcs_url:
            mount = Mount(fake.gcs_url, fake.workdir)
        if job.cancel.is_set():
            return
        container = start_container(engine, job, fake, mount)
        pumps: list[threading.Thread] = []

        def pump_logs(since: float | None = None) -> None:
            if fake.logging is not None:
                if pumps:  # the last attempt's lines are all in before the next attempt's
                    pumps[-1].join(10)
                pumps.append(threading.Thread(target=send_to_logging, args=(job, container, fake.logging, since),
                                              daemon=True, name=f"vertex-logs-{job.id}"))
                pumps[-1].start()

        pump_logs()
        job.set_state(JobState.JOB_STATE_RUNNING)
        outcome = wait_container(job, container, fake.stop_grace_s, fake.project_number, on_restart=pump_logs)
        for pump in pumps:
            pump.join(10)  # every line is in Cloud Logging before the job is seen to end
    except Finish as finish:
        outcome = finish.outcome
    except Exception as exc:  # noqa: BLE001 - a broken fake shows up as a FAILED job, not a hung one
        outcome = (JobState.JOB_STATE_FAILED, 13, f"vertex_fake internal error: {type(exc).__name__}: {exc}")
    finally:
        try:
            if container is not None:
                job.logs = container.logs().decode(errors="replace")
                container.remove(force=True)
            if mount is not None:
                mount.drain()
        except Exception as exc:  # noqa: BLE001
            outcome = (JobState.JOB_STATE_FAILED, 13, f"vertex_fake could not finish the job: {exc}")
        finally:
            if mount is not None:
                mount.unmount()
            if engine is not None:
                engine.close()
            job.set_state(*outcome)


class CustomJobs:
    """JobService's CustomJob methods: create, get, list, cancel, delete."""

    def __init__(self, fake):
        self.fake = fake

    def handle(self, call: Call) -> dict:
        if not call.rid and call.method == "POST":
            return self._create(call)
        if not call.rid and call.method == "GET":
            return self._list(call)
        if call.rid and not call.verb and call.method == "GET":
            return self._render(self._job(call), call.ints)
        if call.rid and call.verb == "cancel" and call.method == "POST":
            return self._cancel(self._job(call))
        if call.rid and not call.verb and call.method == "DELETE":
            return self._delete(call, self._job(call))
        raise ApiError(404, f"Method {call.method} on customJobs{':' + call.verb if call.verb else ''} is not served "
                            "by vertex_fake.")

    def _job(self, call: Call) -> Job:
        job = self.fake.jobs.get(call.rid)
        if job is None or job.location != call.location:
            raise ApiError(404, f"The CustomJob {call.name('customJobs')} does not exist.")
        return job

    @staticmethod
    def _render(job: Job, ints: bool) -> dict:
        with job.lock:
            return render(job.pb, ints)

    def _create(self, call: Call) -> dict:
        fake = self.fake
        pb = parse_custom_job(call.body)
        with fake.lock:
            job_id = new_id()
            expire, fake.expiring = fake.expiring > 0, max(fake.expiring - 1, 0)
            pb.name = f"{call.parent}/customJobs/{job_id}"
            pb.state = JobState.JOB_STATE_PENDING
            pb.create_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.create_time)
            job = fake.jobs[job_id] = Job(pb, job_id, call.location, expire, call.project)
        job.thread = threading.Thread(target=run_job, args=(job, fake), name=f"vertex-job-{job_id}", daemon=True)
        job.thread.start()
        return self._render(job, call.ints)

    def _list(self, call: Call) -> dict:
        jobs = [job for job in reversed(list(self.fake.jobs.values()))
                if job.location == call.location and matches(job, call.params.get("filter", ""))]
        jobs, token = page(jobs, call.params, default_size=len(jobs))
        return {"customJobs": [self._render(job, call.ints) for job in jobs], "nextPageToken": token}

    @staticmethod
    def _cancel(job: Job) -> dict:
        if job.state in TERMINAL:
            raise precondition(f"Cannot cancel {job.pb.name}: it is already in state {job.state.name}.")
        job.set_state(JobState.JOB_STATE_CANCELLING)
        job.cancel.set()
        return {}

    def _delete(self, call: Call, job: Job) -> dict:
        if job.state not in TERMINAL:
            raise precondition(f"The CustomJob {job.pb.name} is in state {job.state.name} and cannot be deleted; "
                               "cancel it and wait for it to end first.")
        with self.fake.lock:
            del self.fake.jobs[job.id]
            op = operation(self.fake, call.parent, DeleteOperationMetadata, empty_pb2.Empty())
        return op.answer(call.ints)


def matches(job: Job, flt: str) -> bool:
    """A minimal list filter: `field = value` / `!=` terms joined by AND, on display_name, state, labels.KEY."""
    for term in filter(None, (t.strip() for t in re.split(r"\s+AND\s+", flt.strip()))):
        m = re.fullmatch(r'(display_name|displayName|state|labels\.[\w-]+)\s*(!=|=)\s*"?([^"]*)"?', term)
        if not m:
            raise ApiError(400, f"vertex_fake does not understand the filter term {term!r}.")
        field, op, want = m.groups()
        with job.lock:
            have = (job.pb.display_name if field in ("display_name", "displayName") else
                    job.pb.labels.get(field[7:], "") if field.startswith("labels.") else
                    [JobState(job.pb.state).name, str(job.pb.state)])
        have = have if isinstance(have, list) else [have]
        if (want in have) != (op == "="):
            return False
    return True
