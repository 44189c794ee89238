"""A local fake of the Vertex AI REST API (v1) that really runs what it is asked to: CustomJobs (JobService),
NotebookExecutionJobs (NotebookService) and notebook Schedules (ScheduleService).

    fake = VertexFake(gcs_url=gcs_emulator["url"], kernel_image=kernel_image)
    jobs, notebooks, schedules = fake.client(), fake.notebook_client(), fake.schedule_client()
    ...                      # aiplatform_v1 clients over REST with anonymous credentials
    fake.fire_due(now)       # start the schedules' runs due at `now` (no scheduler thread: tests drive the clock)
    fake.close()

Served by http.server on 127.0.0.1 under both /v1/ and /ui/. This module only serves and routes; the services
live in vertex_fake_jobs.py (CustomJobs, and the rclone/Docker machinery every run uses),
vertex_fake_notebooks.py and vertex_fake_schedules.py, the Google API conventions they share (errors, bodies
checked against the real protos, `$alt` enum encoding, operations, paging) in vertex_fake_api.py.
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
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import docker

from vertex_fake_api import ApiError, Call, Operation
from vertex_fake_jobs import LABEL_FAKE, CustomJobs, Job
from vertex_fake_notebooks import NotebookJob, NotebookJobs
from vertex_fake_schedules import ScheduleRecord, Schedules

ROUTE = re.compile(r"^/(?:v1|ui)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
                   r"(?P<kind>customJobs|notebookExecutionJobs|schedules|operations)(?:/(?P<id>[^/:]+))?"
                   r"(?::(?P<verb>\w+))?$")


class Request(tuple):
    """(method, path, body) as received; `.params` holds the query parameters."""

    def __new__(cls, method: str, path: str, body: Any, params: dict):
        self = super().__new__(cls, (method, path, body))
        self.params = params
        return self

    method, path, body = property(lambda s: s[0]), property(lambda s: s[1]), property(lambda s: s[2])


class VertexFake:
    """The fake server, its jobs and schedules. Test hooks: requests, jobs, notebook_jobs, schedules, operations,
    pending_s, expire_next(), fire_due(now), logs(), stop_answering(), answer_again(), close()."""

    def __init__(self, gcs_url: str | None = None, *, kernel_image: str | None = None,
                 project_number: str = "123456789012", project_id: str | None = None, pending_s: float = 0.0,
                 host_network: bool = False, enum_ints: bool | None = None, stop_grace_s: float = 2.0,
                 logging=None):
        """gcs_url: the fake-gcs-server to mount at /gcs (none: no /gcs, and no notebook jobs). kernel_image: the
        image (papermill + a Jupyter kernel) notebook jobs run in; none: creating one is a 501. project_id: when
        given, paths must name it or the number (else 403). pending_s: how long new jobs stay PENDING.
        host_network: run CustomJob containers on the host network with STORAGE_EMULATOR_HOST set (notebook
        containers always are: vertex_fake_notebooks.py). enum_ints: force integer (True) or string (False)
        enums; None follows `$alt` like Google. stop_grace_s: SIGTERM→SIGKILL
        on cancel/timeout. logging: a LoggingFake (logging_fake.py) that CustomJob containers print to, line by
        line, as Vertex sends them to Cloud Logging."""
        self.gcs_url, self.kernel_image = gcs_url, kernel_image
        self.project_number, self.project_id = project_number, project_id
        self.pending_s, self.host_network, self.enum_ints, self.stop_grace_s = pending_s, host_network, enum_ints, stop_grace_s
        self.logging = logging
        self.token = f"{random.getrandbits(48):012x}"
        self.workdir = tempfile.mkdtemp(prefix="vertexfake-")
        self.requests: list[Request] = []
        self.jobs: dict[str, Job] = {}
        self.notebook_jobs: dict[str, NotebookJob] = {}
        self.schedules: dict[str, ScheduleRecord] = {}
        self.operations: dict[str, Operation] = {}
        self.lock = threading.RLock()
        self.expiring = 0
        self.answering = threading.Event()  # cleared: requests are read and then left without an answer
        self.answering.set()
        notebooks = NotebookJobs(self)
        self._services = {"customJobs": CustomJobs(self), "notebookExecutionJobs": notebooks,
                          "schedules": Schedules(self, notebooks)}
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="vertex-fake", daemon=True)
        self._thread.start()

    def _client(self, cls):
        from google.auth.credentials import AnonymousCredentials
        return cls(transport="rest", client_options={"api_endpoint": self.url}, credentials=AnonymousCredentials())

    def client(self):
        """google.cloud.aiplatform_v1.JobServiceClient on this fake: REST, anonymous credentials."""
        from google.cloud import aiplatform_v1
        return self._client(aiplatform_v1.JobServiceClient)

    def notebook_client(self):
        """google.cloud.aiplatform_v1.NotebookServiceClient on this fake: REST, anonymous credentials."""
        from google.cloud import aiplatform_v1
        return self._client(aiplatform_v1.NotebookServiceClient)

    def schedule_client(self):
        """google.cloud.aiplatform_v1.ScheduleServiceClient on this fake: REST, anonymous credentials."""
        from google.cloud import aiplatform_v1
        return self._client(aiplatform_v1.ScheduleServiceClient)

    def expire_next(self, count: int = 1) -> None:
        """The next `count` CustomJobs created end in JOB_STATE_EXPIRED after the PENDING hold; no container starts."""
        with self.lock:
            self.expiring += count

    def fire_due(self, now: datetime) -> list[str]:
        """Start the runs of every ACTIVE schedule due at `now` (naive means UTC), as Vertex's scheduler would
        have by then; the names of the NotebookExecutionJobs created. See vertex_fake_schedules.fire_due."""
        return self._services["schedules"].fire_due(now)

    def logs(self, job_id: str) -> str:
        """A job's container stdout+stderr (CustomJob or NotebookExecutionJob, by ID or name), kept when the
        container is removed (Vertex sends these to Cloud Logging)."""
        job_id = job_id.rsplit("/", 1)[-1]
        return (self.jobs.get(job_id) or self.notebook_jobs[job_id]).logs

    def stop_answering(self) -> None:
        """The API goes silent, as a stalled or unreachable service does: connections are taken, never answered
        (jobs already running go on)."""
        self.answering.clear()

    def answer_again(self) -> None:
        self.answering.set()

    def close(self) -> None:
        """Stop serving, stop every job, remove this fake's containers and unmount what is left."""
        self.answering.set()
        self._server.shutdown()
        self._server.server_close()
        running = list(self.jobs.values()) + list(self.notebook_jobs.values())
        for job in running:
            job.cancel.set()
        for job in running:
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

    def dispatch(self, method: str, path: str, params: dict, body: Any) -> dict:
        """Route one request to its service; returns the JSON answer or raises ApiError."""
        match = ROUTE.match(path)
        if not match:
            raise ApiError(404, f"The requested URL {path} was not found on this server (vertex_fake).")
        project, location, kind, rid, verb = match.group("project", "location", "kind", "id", "verb")
        if self.project_id and project not in (self.project_id, self.project_number):
            raise ApiError(403, f"Permission denied on resource project {project} (or it may not exist).")
        ints = self.enum_ints if self.enum_ints is not None else "enum-encoding=int" in params.get("$alt", "")
        call = Call(method, f"projects/{self.project_number}/locations/{location}", location, rid, verb, params,
                    body, ints, project)
        if kind != "operations":
            return self._services[kind].handle(call)
        op = self.operations.get(rid or "")
        if not rid or verb or method != "GET":
            raise ApiError(404, f"Method {method} {path} is not served by vertex_fake.")
        if op is None or not op.pb.name.startswith(call.parent + "/"):
            raise ApiError(404, f"Operation {call.name('operations')} does not exist.")
        return op.get(ints)


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
        self.fake.answering.wait()
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
