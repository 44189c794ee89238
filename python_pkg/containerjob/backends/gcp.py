"""What the Vertex AI backends share: aiplatform_v1 clients, Cloud Storage transfers and staging, the
API's errors and terminal states, resource names, and the job lifecycle around them.

Resource names carry the project NUMBER: they are parsed, never built from the ID.
"""
from __future__ import annotations

import functools
import inspect
import re
import time
from abc import abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Iterator

from ..core.errors import BackendError, BackendUnavailable, MountError, ResourceGone, SpecError
from ..core.models import JobRecord, JobSpec, JobStatus, Traits
from ..core.project import resolve_project
from ..mounts.sync import transfer_errors
from .base import Backend

# Vertex's terminal job states -> ours, with the note a job that ended so gets.
TERMINAL = {
    "JOB_STATE_SUCCEEDED": (JobStatus.SUCCEEDED, ""),
    "JOB_STATE_FAILED": (JobStatus.FAILED, ""),
    "JOB_STATE_CANCELLED": (JobStatus.CANCELLED, "cancelled"),
    "JOB_STATE_EXPIRED": (JobStatus.FAILED, "expired: Vertex AI could not schedule the job in time (JOB_STATE_EXPIRED)"),
    "JOB_STATE_PARTIALLY_SUCCEEDED": (JobStatus.FAILED, "only partially succeeded (JOB_STATE_PARTIALLY_SUCCEEDED)"),
}
# Vertex's states on the way to running -> ours (shown as such, not as RUNNING).
ACTIVE = {"JOB_STATE_QUEUED": JobStatus.QUEUED, "JOB_STATE_PENDING": JobStatus.PENDING,
          "JOB_STATE_RUNNING": JobStatus.RUNNING, "JOB_STATE_UPDATING": JobStatus.RUNNING}
_BEFORE = {JobStatus.QUEUED: (), JobStatus.PENDING: (JobStatus.QUEUED,),
           JobStatus.RUNNING: (JobStatus.QUEUED, JobStatus.PENDING),
           JobStatus.CANCELLING: (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING)}
_NAME_RE = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/(?P<collection>[A-Za-z]+)/(?P<id>[^/]+)$")


def parse_resource_name(name: str, collection: str) -> dict[str, str]:
    """projects/P/locations/R/COLLECTION/ID -> {project, region, id}; anything else is the API misbehaving."""
    match = _NAME_RE.match(name or "")
    if not match or match["collection"] != collection:
        raise BackendError(f"Vertex AI returned an unexpected {collection} name {name!r}")
    return {"project": match["project"], "region": match["region"], "id": match["id"]}


def seconds(stamp) -> float | None:
    """A proto-plus timestamp field as epoch seconds; None when the API left it unset."""
    return stamp.timestamp() if stamp else None


@contextmanager
def api_errors(action: str) -> Iterator[None]:
    """google-api-core errors -> ours, once; the message keeps the API's own words."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except (gexc.InvalidArgument, gexc.BadRequest) as exc:  # over REST a 400 is BadRequest, over gRPC InvalidArgument
        raise SpecError(f"Vertex AI rejected the job ({action}): {exc.message}") from None
    except gexc.NotFound as exc:
        raise ResourceGone(f"Vertex AI could not find it ({action}): {exc.message}") from None
    except (gexc.Unauthenticated, gexc.PermissionDenied) as exc:
        raise BackendError(f"Vertex AI refused ({action}): {exc.message}; check the credentials and the "
                           "roles/aiplatform.user role") from None
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded) as exc:
        raise BackendUnavailable(f"Vertex AI is unreachable ({action}): {exc.message}") from None
    except gexc.GoogleAPIError as exc:
        raise BackendError(f"Vertex AI error ({action}): {exc}") from None
    except OSError as exc:  # connection refused and friends from the transport
        import requests

        if isinstance(exc, requests.Timeout):
            raise BackendUnavailable(f"Vertex AI did not answer in time ({action}): the job is as it was, and may "
                                     "still run there; look again later with `containerjob status` (the bound is "
                                     "CONTAINERJOB_NETWORK_TIMEOUT_S)") from None
        raise BackendUnavailable(f"Vertex AI is unreachable ({action}): {exc}") from None


class Bounded:
    """An aiplatform_v1 client whose every API call waits at most `timeout_s` for an answer: the generated
    clients' default is to wait forever, which left a job RUNNING with no word while Vertex AI was silent."""

    def __init__(self, client: Any, timeout_s: float) -> None:
        self._client, self._timeout_s = client, timeout_s

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if callable(attr) and "timeout" in inspect.signature(attr).parameters:
            return functools.partial(attr, timeout=self._timeout_s)
        return attr


class GcpBackend(Backend):
    """A backend whose jobs are Vertex AI resources, staged under gs://STAGING/containerjob/JOB_ID/."""

    collection: ClassVar[str]  # the resource collection in job names: customJobs, notebookExecutionJobs
    client_kind: ClassVar[str]  # the aiplatform_v1 client for it
    resource_kind: ClassVar[str]  # for people: "CustomJob"
    started_status = JobStatus.QUEUED  # created; refresh follows Vertex through PENDING to RUNNING
    # Vertex AI machines: a job outlives the kernel and times itself (scheduling.timeout, executionTimeout),
    # and sees every bucket at /gcs
    traits = Traits(runs_locally=False, enforces_timeout=True, mounts_buckets=True, cloud_machines=True)

    def __init__(self, settings, store) -> None:
        super().__init__(settings, store)
        self._clients: dict[tuple[str, str], Any] = {}
        self._transfer = None

    # -- configuration -------------------------------------------------------------------------------
    def health(self) -> tuple[bool, str]:
        """Configuration only (no API call). A missing project or staging bucket does not make the backend
        unavailable: a form or a flag can give them per job (and submitting without them says so)."""
        project = resolve_project(None, self.settings.project or None)
        bucket = self.settings.staging_bucket
        missing = [what for what, ok in (("a GCP project (CONTAINERJOB_PROJECT or gcloud config set project)",
                                          project.project),
                                         ("a staging bucket (CONTAINERJOB_STAGING_BUCKET)", bucket))
                   if not ok]
        if missing:
            return True, f"give each job {' and '.join(missing)}: none is configured"
        return True, f"{project.describe()}, staging bucket gs://{bucket}"

    @staticmethod
    def require_project_and_bucket(spec: JobSpec, service: str, staged: str | None) -> None:
        """`staged`: what the staging bucket holds; None when the job stages nothing (a container job)."""
        if not spec.project:
            raise SpecError(f"no GCP project for {service}: pass --project, set GOOGLE_CLOUD_PROJECT, or run "
                            "`gcloud config set project PROJECT_ID`")
        if staged and not spec.staging_bucket:
            raise SpecError(f"{service} runs need a staging bucket for {staged}: pass "
                            "--staging-bucket gs://BUCKET or set CONTAINERJOB_STAGING_BUCKET")

    # -- clients -------------------------------------------------------------------------------------
    def client(self, region: str):
        return self.api_client(self.client_kind, region)

    def api_client(self, kind: str, region: str):
        """An aiplatform_v1 client (JobServiceClient, NotebookServiceClient, ScheduleServiceClient) for the
        region's endpoint; imported here, not at load: aiplatform_v1 costs about two seconds."""
        if (kind, region) not in self._clients:
            from google.cloud import aiplatform_v1

            endpoint = self.settings.vertex_endpoint or f"{region}-aiplatform.googleapis.com"
            credentials = None
            if self.settings.vertex_credentials == "anonymous":
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()
            self._clients[(kind, region)] = Bounded(getattr(aiplatform_v1, kind)(
                client_options={"api_endpoint": endpoint}, transport=self.settings.vertex_transport,
                credentials=credentials), self.settings.network_timeout_s)
        return self._clients[(kind, region)]

    def region_of(self, record: JobRecord) -> str:
        return parse_resource_name(record.backend_ref, self.collection)["region"]

    def transfer(self, project: str | None):
        if self._transfer is None:
            from ..mounts.transfer import Transfer

            self._transfer = Transfer(project, self.settings.network_timeout_s)
        return self._transfer

    @staticmethod
    def staging(spec: JobSpec, job_id: str) -> tuple[str, str]:
        return spec.staging_bucket or "", f"containerjob/{job_id}"

    # -- lifecycle -----------------------------------------------------------------------------------
    @abstractmethod
    def _get(self, record: JobRecord):
        """The job's resource, read from the API."""

    @staticmethod
    @abstractmethod
    def _state(job) -> str:
        """The resource's JOB_STATE_* name."""

    @staticmethod
    @abstractmethod
    def run_times(job) -> tuple[float | None, float | None]:
        """When the resource started running and when it ended, as the API reports them (None: not reported)."""

    def is_terminal(self, job) -> bool:
        return self._state(job) in TERMINAL

    def refresh(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        if not record.backend_ref:  # still being submitted somewhere, or the submitter died
            return self.lose_if_stale(record, f"its submission never finished (look for a {self.resource_kind} "
                                              f"labelled containerjob-id={record.id} in the console)")
        try:
            job = self._get(record)
        except ResourceGone:  # deleted in the console or by gcloud before anyone here saw it end
            self.store.transition(record.id, (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING),
                                  status=JobStatus.LOST, finished_at=time.time(),
                                  message=f"its {self.resource_kind} {record.backend_ref} was deleted on Vertex AI "
                                          "before containerjob saw it end; what it wrote stays under "
                                          f"gs://{self.output_prefix(record)}/")
            return self.store.get(record.id)
        state = self._state(job)
        if state in TERMINAL:
            return self.finalise(record, job)
        if state == "JOB_STATE_CANCELLING":
            self.store.transition(record.id, _BEFORE[JobStatus.CANCELLING], status=JobStatus.CANCELLING)
        elif state in ACTIVE:  # forward only: QUEUED -> PENDING -> RUNNING, as Vertex reports them
            status = ACTIVE[state]
            started = {"started_at": self.run_times(job)[0] or time.time()} if status is JobStatus.RUNNING else {}
            self.store.transition(record.id, _BEFORE[status], status=status, **started)
        return self.store.get(record.id)

    def fetch_outputs(self, record: JobRecord) -> None:
        """Results, errors and files from the job's output prefix to the job directory."""
        transfer = self.transfer(record.spec.project)
        remote = self.output_prefix(record)
        local = (Path(record.job_dir) / "output").resolve()
        what = f"fetching the results from gs://{remote}/"
        with transfer_errors(what):
            names = transfer.find(remote, what)
            targets = [(local / n[len(remote) + 1:]).resolve() for n in names]
            escaping = [n for n, t in zip(names, targets) if not str(t).startswith(str(local) + "/")]
            if escaping:
                raise MountError(f"result object {escaping[0]} would land outside the job directory; refusing it")
            transfer.get(names, targets, what)

    def output_prefix(self, record: JobRecord) -> str:
        """bucket/path the job writes its outputs under (no gs://)."""
        bucket, prefix = self.staging(record.spec, record.id)
        return f"{bucket}/{prefix}/output"

    def stop_unsubmitted(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        """A job with no resource yet has nothing to stop on Vertex: the record takes the caller's verdict."""
        return self.store.update(record.id, status=status, message=message, finished_at=time.time())
