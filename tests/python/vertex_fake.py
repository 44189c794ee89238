"""A local fake of the Vertex AI REST API (v1) for CustomJobs that really runs each job's container.

    fake = VertexFake(gcs_url=gcs_emulator["url"])
    client = fake.client()   # aiplatform_v1.JobServiceClient over REST, anonymous credentials
    ...
    fake.close()

Served by http.server on 127.0.0.1 under both /v1/ and /ui/. Request bodies are checked against the real
CustomJob proto (google.cloud.aiplatform_v1), names, types and enums alike; answers are the stored CustomJob
as Vertex writes it (project number in names, integer enums when the client asks `$alt=json;enum-encoding=int`
as Google's clients do, string enums otherwise). The job side (Docker, rclone) is in vertex_fake_jobs.py.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import tempfile
import threading
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import docker
from google.cloud.aiplatform_v1 import CustomJob, JobState
from google.protobuf import json_format, timestamp_pb2

from vertex_fake_jobs import LABEL_FAKE, TERMINAL, Job, run_job

ROUTE = re.compile(r"^/(?:v1|ui)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
                   r"(?P<kind>customJobs|operations)(?:/(?P<id>[^/:]+))?(?P<verb>:cancel)?$")
STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 500: "INTERNAL", 501: "UNIMPLEMENTED"}
LABEL_KEY, LABEL_VALUE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$"), re.compile(r"^[a-z0-9_-]{0,63}$")


class ApiError(Exception):
    """An error answered as Google does: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, status: str | None = None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status or STATUS[code]

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


class Request(tuple):
    """(method, path, body) as received; `.params` holds the query parameters."""

    def __new__(cls, method: str, path: str, body: Any, params: dict):
        self = super().__new__(cls, (method, path, body))
        self.params = params
        return self

    method, path, body = property(lambda s: s[0]), property(lambda s: s[1]), property(lambda s: s[2])


def check_names(value: Any, desc, where: str) -> None:
    """Reject JSON names the proto does not have (proto or lowerCamel names both count, as in proto3 JSON)."""
    if not isinstance(value, dict):
        return  # wrong types are json_format's to report
    fields = {name: f for f in desc.fields for name in (f.name, f.json_name)}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field.")
        sub = field.message_type
        if sub is None or sub.GetOptions().map_entry or sub.full_name.startswith("google.protobuf."):
            continue
        if field.is_repeated and isinstance(item, list):
            for i, element in enumerate(item):
                check_names(element, sub, f"{where}.{field.name}[{i}]")
        else:
            check_names(item, sub, f"{where}.{field.name}")


def parse_custom_job(body: Any):
    """The request body as a CustomJob proto, or ApiError(400) for what Vertex would refuse."""
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected a CustomJob object.")
    check_names(body, CustomJob.pb().DESCRIPTOR, "custom_job")
    pb = CustomJob.pb()()
    try:
        json_format.ParseDict(body, pb)
    except json_format.ParseError as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}") from exc
    for name in ("name", "state", "create_time", "start_time", "end_time", "update_time", "error", "web_access_uris"):
        pb.ClearField(name)  # output only: Vertex ignores them in a request
    if not pb.display_name or len(pb.display_name) > 128:
        raise ApiError(400, "custom_job.display_name is required and must be at most 128 characters.")
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
    bad = [f"{k}={v}" for k, v in pb.labels.items() if not LABEL_KEY.match(k) or not LABEL_VALUE.match(v)]
    if bad or len(pb.labels) > 64:
        raise ApiError(400, f"Invalid labels {bad}: keys must start with a lowercase letter; keys and values may "
                            "contain only lowercase letters, digits, '_' and '-', at most 63 characters, 64 labels.")
    return pb


class VertexFake:
    """The fake server and its jobs. Test hooks: requests, expire_next(), pending_s, logs(), close()."""

    def __init__(self, gcs_url: str | None = None, *, project_number: str = "123456789012",
                 project_id: str | None = None, pending_s: float = 0.0, host_network: bool = False,
                 enum_ints: bool | None = None, stop_grace_s: float = 2.0):
        """gcs_url: the fake-gcs-server to mount at /gcs (none: no /gcs). project_id: when given, paths must
        name it or the number (else 403). pending_s: how long new jobs stay PENDING. host_network: run the
        containers on the host network with STORAGE_EMULATOR_HOST set. enum_ints: force integer (True) or
        string (False) enums; None follows `$alt` like Google. stop_grace_s: SIGTERM→SIGKILL on cancel/timeout."""
        self.gcs_url, self.project_number, self.project_id = gcs_url, project_number, project_id
        self.pending_s, self.host_network, self.enum_ints, self.stop_grace_s = pending_s, host_network, enum_ints, stop_grace_s
        self.token = f"{random.getrandbits(48):012x}"
        self.workdir = tempfile.mkdtemp(prefix="vertexfake-")
        self.requests: list[Request] = []
        self.jobs: dict[str, Job] = {}
        self.operations: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._expire = 0
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="vertex-fake", daemon=True)
        self._thread.start()

    def client(self):
        """google.cloud.aiplatform_v1.JobServiceClient on this fake: REST, anonymous credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import aiplatform_v1
        return aiplatform_v1.JobServiceClient(transport="rest", client_options={"api_endpoint": self.url},
                                              credentials=AnonymousCredentials())

    def expire_next(self, count: int = 1) -> None:
        """The next `count` jobs created end in JOB_STATE_EXPIRED after the PENDING hold; no container starts."""
        with self._lock:
            self._expire += count

    def logs(self, job_id: str) -> str:
        """The container's stdout+stderr, kept when it is removed (Vertex sends these to Cloud Logging)."""
        return self.jobs[job_id.rsplit("/", 1)[-1]].logs

    def close(self) -> None:
        """Stop serving, cancel every job, remove this fake's containers and unmount what is left."""
        self._server.shutdown()
        self._server.server_close()
        for job in list(self.jobs.values()):
            job.cancel.set()
        for job in list(self.jobs.values()):
            if job.thread:
                job.thread.join(60)
        engine = docker.from_env()
        try:
            for container in engine.containers.list(all=True, filters={"label": f"{LABEL_FAKE}={self.token}"}):
                container.remove(force=True)
        finally:
            engine.close()
        for line in open("/proc/mounts"):
            point = line.split()[1]
            if point.startswith(self.workdir):
                subprocess.run(["fusermount3", "-uz", point], capture_output=True)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "VertexFake":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the API -----------------------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, params: dict, body: Any) -> dict:
        """Route one request; returns the JSON answer or raises ApiError."""
        match = ROUTE.match(path)
        if not match:
            raise ApiError(404, f"The requested URL {path} was not found on this server (vertex_fake).")
        project, location, kind, rid, verb = match.group("project", "location", "kind", "id", "verb")
        if self.project_id and project not in (self.project_id, self.project_number):
            raise ApiError(403, f"Permission denied on resource project {project} (or it may not exist).")
        ints = self.enum_ints if self.enum_ints is not None else "enum-encoding=int" in params.get("$alt", "")
        parent = f"projects/{self.project_number}/locations/{location}"
        if kind == "operations" and rid and not verb and method == "GET":
            if rid not in self.operations or not self.operations[rid]["name"].startswith(parent + "/"):
                raise ApiError(404, f"Operation {parent}/operations/{rid} does not exist.")
            return self.operations[rid]
        if kind == "customJobs" and not rid and method == "POST":
            return self._create(parent, location, body, ints)
        if kind == "customJobs" and not rid and method == "GET":
            return self._list(location, params, ints)
        if kind == "customJobs" and rid and not verb and method == "GET":
            return self._render(self._job(parent, location, rid), ints)
        if kind == "customJobs" and rid and verb and method == "POST":
            return self._cancel(self._job(parent, location, rid))
        if kind == "customJobs" and rid and not verb and method == "DELETE":
            return self._delete(parent, self._job(parent, location, rid))
        raise ApiError(404, f"Method {method} {path} is not served by vertex_fake.")

    def _job(self, parent: str, location: str, rid: str) -> Job:
        job = self.jobs.get(rid)
        if job is None or job.location != location:
            raise ApiError(404, f"The CustomJob {parent}/customJobs/{rid} does not exist.")
        return job

    def _render(self, job: Job, ints: bool) -> dict:
        with job.lock:
            return json_format.MessageToDict(job.pb, use_integers_for_enums=ints)

    def _create(self, parent: str, location: str, body: Any, ints: bool) -> dict:
        pb = parse_custom_job(body)
        with self._lock:
            job_id = str(random.randrange(10**18, 10**19))
            expire, self._expire = self._expire > 0, max(self._expire - 1, 0)
            pb.name = f"{parent}/customJobs/{job_id}"
            pb.state = JobState.JOB_STATE_PENDING
            pb.create_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.create_time)
            job = self.jobs[job_id] = Job(pb, job_id, location, expire)
        job.thread = threading.Thread(target=run_job, args=(job, self), name=f"vertex-job-{job_id}", daemon=True)
        job.thread.start()
        return self._render(job, ints)

    def _list(self, location: str, params: dict, ints: bool) -> dict:
        jobs = [job for job in reversed(list(self.jobs.values()))
                if job.location == location and matches(job, params.get("filter", ""))]
        start = int(params.get("pageToken") or 0)
        size = int(params.get("pageSize") or 0) or len(jobs)
        page = jobs[start:start + size]
        token = str(start + size) if start + size < len(jobs) else ""
        return {"customJobs": [self._render(job, ints) for job in page], "nextPageToken": token}

    def _cancel(self, job: Job) -> dict:
        if job.state in TERMINAL:
            raise ApiError(400, f"Cannot cancel {job.pb.name}: it is already in state {job.state.name}.",
                           "FAILED_PRECONDITION")
        job.set_state(JobState.JOB_STATE_CANCELLING)
        job.cancel.set()
        return {}

    def _delete(self, parent: str, job: Job) -> dict:
        if job.state not in TERMINAL:
            raise ApiError(400, f"The CustomJob {job.pb.name} is in state {job.state.name} and cannot be deleted; "
                                "cancel it and wait for it to end first.", "FAILED_PRECONDITION")
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        op_id = str(random.randrange(10**18, 10**19))
        op = {"name": f"{parent}/operations/{op_id}", "done": True,
              "metadata": {"@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
                           "genericMetadata": {"createTime": now.ToJsonString(), "updateTime": now.ToJsonString()}},
              "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}
        with self._lock:
            del self.jobs[job.id]
            self.operations[op_id] = op
        return op


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


class _Handler(BaseHTTPRequestHandler):
    """Reads the JSON body, records the request, answers the fake's JSON (or a Google-style error)."""

    fake: VertexFake

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_PATCH(self):
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        path, params = urllib.parse.unquote(url.path), dict(urllib.parse.parse_qsl(url.query))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body, bad_json = (json.loads(raw) if raw.strip() else None), False
        except ValueError:
            body, bad_json = raw.decode(errors="replace"), True
        self.fake.requests.append(Request(method, path, body, params))
        try:
            if bad_json:
                raise ApiError(400, "Invalid JSON payload received.")
            status, answer = 200, self.fake.dispatch(method, path, params, body)
        except ApiError as exc:
            status, answer = exc.code, exc.body()
        except Exception:  # noqa: BLE001 - a fake bug must reach the test, not hang the client
            status, answer = 500, ApiError(500, f"vertex_fake: {traceback.format_exc()}").body()
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass
