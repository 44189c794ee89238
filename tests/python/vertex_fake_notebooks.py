"""NotebookExecutionJobs in vertex_fake (NotebookService: create → operation, get, list, delete), really run.

A run is what Vertex's notebook executor does, on the machinery the CustomJobs use: the input notebook is read
from the Cloud Storage emulator (gcs_notebook_source, honouring `generation`) or taken from the request
(direct_notebook_source), then `papermill --kernel <kernel_name or python3> IN OUT` runs in a container of the
fake's `kernel_image`, working directory a fresh /content, the emulator rclone-mounted at /gcs. No parameters are
passed (clients inject their own parameters cell). OUT is `{gcs_output_uri}/{job ID}/{notebook file name}`
(`notebook.ipynb` for direct sources), where Vertex puts the executed notebook, written through /gcs cell by cell,
so a failing cell leaves the partial notebook there too. The container's environment is the image's own: the
fake sets no project variables (GOOGLE_CLOUD_PROJECT, CLOUD_ML_*), since Vertex's notebook runtimes are not
documented to export any (code there asks the metadata server, which the fake does not serve). Code in a
runtime reaches Cloud Storage's API ("Public internet access: Enabled" on the default runtime,
https://cloud.google.com/colab/docs/runtimes; Google Cloud APIs with the runtime's credentials,
https://cloud.google.com/colab/docs/run-code-adc): here that is the emulator, so notebook containers always
run on the host network with STORAGE_EMULATOR_HOST set, whatever host_network says.

States: JOB_STATE_PENDING (for the fake's pending_s) → RUNNING (container started) → SUCCEEDED, or FAILED with
`status` naming the failing cell's error (papermill's error), the timeout or what could not be read.
NotebookService v1 has no cancel; whether Vertex deletes a running job is not documented, so the fake refuses
that with FAILED_PRECONDITION as it does for CustomJobs. close() stops running jobs (state CANCELLED).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import docker
from google.cloud.aiplatform_v1 import (
    CreateNotebookExecutionJobOperationMetadata,
    DeleteOperationMetadata,
    JobState,
    NotebookExecutionJob,
)
from google.protobuf import empty_pb2

from vertex_fake_api import (
    GCS_URI,
    ApiError,
    Call,
    check_display_name,
    check_labels,
    new_id,
    operation,
    order,
    page,
    parse_body,
    precondition,
    render,
)
from vertex_fake_jobs import LABEL_FAKE, LABEL_JOB, TERMINAL, Finish, Mount

OUTPUT_ONLY = ("name", "job_state", "status", "create_time", "update_time")
JOB_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
TEMPLATE = re.compile(r"^projects/[^/]+/locations/[^/]+/notebookRuntimeTemplates/[^/]+$")
VIEWS = {"0": False, "1": False, "2": True, "NOTEBOOK_EXECUTION_JOB_VIEW_UNSPECIFIED": False,
         "NOTEBOOK_EXECUTION_JOB_VIEW_BASIC": False, "NOTEBOOK_EXECUTION_JOB_VIEW_FULL": True}
DEFAULT_TIMEOUT_S = 86400.0
INPUT_DIR = "/vertexfake/input"


def check_notebook_job(pb, where: str = "notebook_execution_job") -> None:
    """ApiError for a NotebookExecutionJob Vertex would refuse (the oneofs keep at most one of each group)."""
    source = pb.WhichOneof("notebook_source")
    if source is None:
        raise ApiError(400, f"{where} needs a notebook source: gcs_notebook_source or direct_notebook_source.")
    if source == "dataform_repository_source":
        raise ApiError(501, "vertex_fake does not read Dataform repositories (dataform_repository_source); use "
                            "gcs_notebook_source or direct_notebook_source.")
    if source == "gcs_notebook_source":
        match = GCS_URI.match(pb.gcs_notebook_source.uri)
        if not match or not match["path"] or match["path"].endswith("/"):
            raise ApiError(400, f"{where}.gcs_notebook_source.uri must be gs://BUCKET/PATH/NOTEBOOK.ipynb, "
                                f"not {pb.gcs_notebook_source.uri!r}.")
    if source == "direct_notebook_source" and not pb.direct_notebook_source.content:
        raise ApiError(400, f"{where}.direct_notebook_source.content is required (the .ipynb file, base64 in JSON).")
    environments = [n for n in (pb.WhichOneof("environment_spec"), pb.WhichOneof("runtime_environment")) if n]
    if len(environments) != 1:
        raise ApiError(400, f"{where} needs exactly one of notebook_runtime_template_resource_name, "
                            f"custom_environment_spec or workbench_runtime; got {environments or 'none'}.")
    template = pb.notebook_runtime_template_resource_name
    if environments == ["notebook_runtime_template_resource_name"] and not TEMPLATE.match(template):
        raise ApiError(400, f"{where}.notebook_runtime_template_resource_name must be projects/P/locations/L/"
                            f"notebookRuntimeTemplates/ID, not {template!r}.")
    if environments == ["custom_environment_spec"] and not pb.custom_environment_spec.machine_spec.machine_type:
        raise ApiError(400, f"{where}.custom_environment_spec.machine_spec.machine_type is required.")
    if not pb.gcs_output_uri or not GCS_URI.match(pb.gcs_output_uri):
        raise ApiError(400, f"{where}.gcs_output_uri is required and must be gs://BUCKET[/PATH], "
                            f"not {pb.gcs_output_uri!r}.")
    identity = pb.WhichOneof("execution_identity")
    if identity is None or not getattr(pb, identity):
        raise ApiError(400, f"{where} needs execution_user or service_account: the identity the notebook runs as.")
    if identity == "execution_user" and environments == ["workbench_runtime"]:
        raise ApiError(400, f"{where}.execution_user is supported by Colab runtimes only; use service_account "
                            "with workbench_runtime.")
    if pb.HasField("execution_timeout") and pb.execution_timeout.ToTimedelta().total_seconds() <= 0:
        raise ApiError(400, f"{where}.execution_timeout must be positive.")
    if pb.display_name:
        check_display_name(pb.display_name, where)
    check_labels(pb.labels, where)


def notebook_name(pb) -> str:
    """The executed notebook's file name: the source's, or notebook.ipynb for inline content."""
    if pb.WhichOneof("notebook_source") == "gcs_notebook_source":
        return pb.gcs_notebook_source.uri.rsplit("/", 1)[-1]
    return "notebook.ipynb"


class NotebookJob:
    """One NotebookExecutionJob: the stored proto (read and written under lock), a stop event and the logs."""

    def __init__(self, pb, job_id: str, location: str):
        self.pb, self.id, self.location = pb, job_id, location
        self.output_uri = f"{pb.gcs_output_uri.rstrip('/')}/{job_id}/{notebook_name(pb)}"
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.logs = ""
        self.thread: threading.Thread | None = None

    @property
    def state(self) -> JobState:
        return JobState(self.pb.job_state)

    def set_state(self, state: JobState, code: int = 0, message: str = "") -> None:
        """Move to `state`; terminal states are final."""
        with self.lock:
            if JobState(self.pb.job_state) in TERMINAL:
                return
            self.pb.job_state = state
            self.pb.update_time.GetCurrentTime()
            if code:
                self.pb.status.code, self.pb.status.message = code, message


class NotebookJobs:
    """NotebookService's NotebookExecutionJob methods; start() is also how schedules create their runs."""

    def __init__(self, fake):
        self.fake = fake

    def handle(self, call: Call) -> dict:
        if not call.rid and call.method == "POST":
            return self._create(call)
        if not call.rid and call.method == "GET":
            return self._list(call)
        if call.rid and not call.verb and call.method == "GET":
            return self._render(self._job(call), call.ints, self._full(call.params))
        if call.rid and not call.verb and call.method == "DELETE":
            return self._delete(call, self._job(call))
        raise ApiError(404, f"Method {call.method} on notebookExecutionJobs{':' + call.verb if call.verb else ''} "
                            "is not served by vertex_fake.")

    def start(self, parent: str, location: str, pb, job_id: str | None = None) -> NotebookJob:
        """Store a checked job as PENDING and start running it."""
        fake = self.fake
        if not fake.gcs_url or not fake.kernel_image:
            raise ApiError(501, "vertex_fake runs notebooks only when given gcs_url= and kernel_image= (an image with "
                                "papermill and a Jupyter kernel, such as the kernel_image fixture).")
        with fake.lock:
            job_id = job_id or new_id()
            if job_id in fake.notebook_jobs:
                raise ApiError(409, f"NotebookExecutionJob {parent}/notebookExecutionJobs/{job_id} already exists.")
            pb.name = f"{parent}/notebookExecutionJobs/{job_id}"
            pb.job_state = JobState.JOB_STATE_PENDING
            pb.create_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.create_time)
            job = fake.notebook_jobs[job_id] = NotebookJob(pb, job_id, location)
        job.thread = threading.Thread(target=run_notebook, args=(job, fake), name=f"vertex-nb-{job_id}", daemon=True)
        job.thread.start()
        return job

    def _job(self, call: Call) -> NotebookJob:
        job = self.fake.notebook_jobs.get(call.rid)
        if job is None or job.location != call.location:
            raise ApiError(404, f"The NotebookExecutionJob {call.name('notebookExecutionJobs')} does not exist.")
        return job

    @staticmethod
    def _full(params: dict) -> bool:
        view = params.get("view", "0")
        if view not in VIEWS:
            raise ApiError(400, f"Invalid value for view: {view!r}; use NOTEBOOK_EXECUTION_JOB_VIEW_BASIC or _FULL.")
        return VIEWS[view]

    @staticmethod
    def _snapshot(job: NotebookJob, full: bool = True):
        """A copy of the job; the BASIC view (the default) leaves out direct notebook content, as Vertex's does."""
        with job.lock:
            pb = type(job.pb)()
            pb.CopyFrom(job.pb)
        if not full and pb.WhichOneof("notebook_source") == "direct_notebook_source":
            pb.direct_notebook_source.ClearField("content")
        return pb

    def _render(self, job: NotebookJob, ints: bool, full: bool) -> dict:
        return render(self._snapshot(job, full), ints)

    def _create(self, call: Call) -> dict:
        pb = parse_body(call.body, NotebookExecutionJob, "notebook_execution_job", OUTPUT_ONLY)
        check_notebook_job(pb)
        job_id = call.params.get("notebookExecutionJobId") or None
        if job_id is not None and not JOB_ID.match(job_id):
            raise ApiError(400, f"notebook_execution_job_id {job_id!r} must be 1-128 lowercase letters, digits and "
                                "'-', starting with a letter or digit.")
        job = self.start(call.parent, call.location, pb, job_id)
        op = operation(self.fake, call.parent, CreateNotebookExecutionJobOperationMetadata, self._snapshot(job),
                       done=False)
        return op.answer(call.ints)

    def _list(self, call: Call) -> dict:
        jobs = [job for job in reversed(list(self.fake.notebook_jobs.values()))
                if job.location == call.location and matches(job, call.params.get("filter", ""))]
        jobs = order(jobs, call.params.get("orderBy", ""), {
            "display_name": lambda j: j.pb.display_name, "create_time": lambda j: j.pb.create_time.ToNanoseconds(),
            "update_time": lambda j: j.pb.update_time.ToNanoseconds()})
        full = self._full(call.params)
        jobs, token = page(jobs, call.params)
        return {"notebookExecutionJobs": [self._render(job, call.ints, full) for job in jobs], "nextPageToken": token}

    def _delete(self, call: Call, job: NotebookJob) -> dict:
        if job.state not in TERMINAL:
            raise precondition(f"The NotebookExecutionJob {job.pb.name} is in state {job.state.name} and cannot be "
                               "deleted until it ends (NotebookService v1 has no cancel).")
        with self.fake.lock:
            del self.fake.notebook_jobs[job.id]
            op = operation(self.fake, call.parent, DeleteOperationMetadata, empty_pb2.Empty())
        return op.answer(call.ints)


def matches(job: NotebookJob, flt: str) -> bool:
    """The documented filter: notebookExecutionJob (the ID), displayName, schedule; `=`, `!=`, `=~` (regex);
    terms joined by AND; snake_case names too."""
    for term in filter(None, (t.strip() for t in re.split(r"\s+AND\s+", flt.strip(), flags=re.I))):
        m = re.fullmatch(r'(notebookExecutionJob|notebook_execution_job|displayName|display_name|schedule)\s*'
                         r'(!=|=~|=)\s*"([^"]*)"', term)
        if not m:
            raise ApiError(400, f"Unsupported filter term {term!r}: use notebookExecutionJob, displayName or "
                                'schedule with =, != or =~ and a quoted value.')
        field, op, want = m.groups()
        with job.lock:
            have = {"notebookExecutionJob": job.id, "notebook_execution_job": job.id,
                    "displayName": job.pb.display_name, "display_name": job.pb.display_name,
                    "schedule": job.pb.schedule_resource_name}[field]
        hit = (re.search(want, have) is not None if op == "=~" else
               want in (have, have.rsplit("/", 1)[-1]) if field == "schedule" else want == have)
        if hit != (op != "!="):
            return False
    return True


def gcs_get(fake, path: str, what: str) -> bytes:
    """GET from the emulator's JSON API; a missing object or bucket ends the job FAILED naming `what`."""
    try:
        with urllib.request.urlopen(f"{fake.gcs_url.rstrip('/')}/storage/v1/{path}", timeout=30) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise Finish(JobState.JOB_STATE_FAILED, 5, f"{what} does not exist.") from exc
        raise


def read_notebook(job: NotebookJob, fake) -> bytes:
    """The input notebook's bytes, checked to be a notebook (JSON with a cells list)."""
    pb = job.pb
    if pb.WhichOneof("notebook_source") == "gcs_notebook_source":
        uri, generation = pb.gcs_notebook_source.uri, pb.gcs_notebook_source.generation
        match = GCS_URI.match(uri)
        query = "?alt=media" + (f"&generation={generation}" if generation else "")
        data = gcs_get(fake, f"b/{match['bucket']}/o/{urllib.parse.quote(match['path'], safe='')}{query}",
                       f"The input notebook {uri}{f' (generation {generation})' if generation else ''}")
    else:
        uri, data = "direct_notebook_source.content", pb.direct_notebook_source.content
    try:
        if not isinstance(json.loads(data).get("cells"), list):
            raise ValueError("no cells list")
    except (ValueError, AttributeError) as exc:
        raise Finish(JobState.JOB_STATE_FAILED, 3, f"The input notebook {uri} is not a valid .ipynb file: {exc}") from exc
    return data


def failure(path: str, uri: str, logs: str, code: int) -> str:
    """Why papermill failed: the executed notebook's first error output (papermill keeps it), else its log."""
    try:
        with open(path) as handle:
            cells = json.load(handle).get("cells", [])
    except (OSError, ValueError):
        cells = []
    for cell in cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return (f"The notebook failed in cell In [{cell.get('execution_count')}]: {out.get('ename')}: "
                        f"{out.get('evalue')}. The executed notebook is at {uri}.")
    last = [line.strip() for line in logs.splitlines() if line.strip()][-1:] or ["no output"]
    return f"papermill exited with status {code}: {last[0]}"


def wait_papermill(job: NotebookJob, container, grace_s: float) -> tuple:
    """Poll until papermill exits, the job is stopped or execution_timeout passes; the outcome (a message of
    None means papermill failed: the caller explains it once the notebook is uploaded)."""
    limit = job.pb.execution_timeout
    timeout_s = limit.ToTimedelta().total_seconds() if job.pb.HasField("execution_timeout") else DEFAULT_TIMEOUT_S
    deadline = time.monotonic() + timeout_s
    while True:
        if job.cancel.wait(0.2):
            container.stop(timeout=math.ceil(grace_s))
            return JobState.JOB_STATE_CANCELLED, 1, "CANCELED"
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs["State"]["ExitCode"]
            return (JobState.JOB_STATE_SUCCEEDED, 0, "") if code == 0 else (JobState.JOB_STATE_FAILED, code, None)
        if time.monotonic() > deadline:
            container.stop(timeout=math.ceil(grace_s))
            return JobState.JOB_STATE_FAILED, 4, (f"The notebook execution exceeded its execution_timeout of "
                                                  f"{timeout_s:g} s and was stopped.")


def run_notebook(job: NotebookJob, fake) -> None:
    """Worker thread for one notebook job; whatever happens it ends with the container removed, the executed
    notebook uploaded, the mount gone and a terminal state."""
    engine = mount = container = None
    scratch = tempfile.mkdtemp(prefix=f"notebook-{job.id}-", dir=fake.workdir)
    out = GCS_URI.match(job.output_uri)
    outcome, output_path = (JobState.JOB_STATE_CANCELLED, 1, "CANCELED"), ""
    try:
        if job.cancel.wait(fake.pending_s):
            return
        name = notebook_name(job.pb)
        with open(os.path.join(scratch, name), "wb") as handle:
            handle.write(read_notebook(job, fake))
        gcs_get(fake, f"b/{out['bucket']}", f"The output bucket gs://{out['bucket']} (gcs_output_uri)")
        engine = docker.from_env()
        try:
            engine.images.get(fake.kernel_image)
        except docker.errors.ImageNotFound as exc:
            raise Finish(JobState.JOB_STATE_FAILED, 13, f"vertex_fake's kernel_image {fake.kernel_image} is missing "
                                                        "locally; build it first (cjtest.build_kernel_image).") from exc
        mount = Mount(fake.gcs_url, fake.workdir)
        output_path = os.path.join(mount.path, out["bucket"], out["path"])
        os.makedirs(os.path.dirname(output_path), exist_ok=True)
        if job.cancel.is_set():
            return
        env = {"STORAGE_EMULATOR_HOST": fake.gcs_url}  # Cloud Storage's API, as code in a runtime reaches it
        container = engine.containers.create(
            fake.kernel_image, entrypoint=["papermill"], environment=env, working_dir="/content", detach=True,
            command=["--kernel", job.pb.kernel_name or "python3", "--no-progress-bar", "--log-output",
                     f"{INPUT_DIR}/{name}", f"/gcs/{out['bucket']}/{out['path']}"],
            labels={LABEL_JOB: job.id, LABEL_FAKE: fake.token},
            volumes={mount.path: {"bind": "/gcs", "mode": "rw"}, scratch: {"bind": INPUT_DIR, "mode": "ro"}},
            network_mode="host")
        container.start()
        job.set_state(JobState.JOB_STATE_RUNNING)
        outcome = wait_papermill(job, container, fake.stop_grace_s)
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
            if outcome[2] is None:
                outcome = (JobState.JOB_STATE_FAILED, 3, failure(output_path, job.output_uri, job.logs, outcome[1]))
        except Exception as exc:  # noqa: BLE001
            outcome = (JobState.JOB_STATE_FAILED, 13, f"vertex_fake could not finish the job: {exc}")
        finally:
            if mount is not None:
                mount.unmount()
            if engine is not None:
                engine.close()
            shutil.rmtree(scratch, ignore_errors=True)
            job.set_state(*outcome)
