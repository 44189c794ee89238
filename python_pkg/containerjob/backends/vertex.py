"""Vertex AI CustomJob backend: the same JobSpec, submitted through aiplatform_v1's JobServiceClient.

No image build per run: payload and runner are staged to gs://STAGING/containerjob/JOB_ID/ and the
container reads them through Vertex's own /gcs mount; results, errors and log chunks come back the
same way. Resource names carry the project NUMBER: they are parsed, never built from the ID.
"""
from __future__ import annotations

import json
import re
import shlex
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import docker.errors

from ..core.errors import BackendError, BackendUnavailable, MountError, SpecError
from ..core.models import JobRecord, JobSpec, JobStatus
from ..core.payload import Payload, read_result
from ..core.spec import label_value
from . import images
from ..mounts.sync import transfer_errors
from .base import STALE_QUEUED_S, Backend, Notify

_NAME_RE = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/customJobs/(?P<id>[^/]+)$")
_TERMINAL = {
    "JOB_STATE_SUCCEEDED": (JobStatus.SUCCEEDED, ""),
    "JOB_STATE_FAILED": (JobStatus.FAILED, ""),
    "JOB_STATE_CANCELLED": (JobStatus.CANCELLED, "cancelled"),
    "JOB_STATE_EXPIRED": (JobStatus.FAILED, "expired: Vertex AI could not schedule the job in time (JOB_STATE_EXPIRED)"),
    "JOB_STATE_PARTIALLY_SUCCEEDED": (JobStatus.FAILED, "only partially succeeded (JOB_STATE_PARTIALLY_SUCCEEDED)"),
}


def parse_job_name(name: str) -> dict[str, str]:
    match = _NAME_RE.match(name or "")
    if not match:
        raise BackendError(f"Vertex AI returned an unexpected job name {name!r}")
    return match.groupdict()


@contextmanager
def _api_errors(action: str) -> Iterator[None]:
    """google-api-core errors -> ours, once; the message keeps the API's own words."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except (gexc.InvalidArgument, gexc.BadRequest) as exc:  # over REST a 400 is BadRequest, over gRPC InvalidArgument
        raise SpecError(f"Vertex AI rejected the job ({action}): {exc.message}") from None
    except gexc.NotFound as exc:
        raise BackendError(f"Vertex AI could not find it ({action}): {exc.message}") from None
    except (gexc.Unauthenticated, gexc.PermissionDenied) as exc:
        raise BackendError(f"Vertex AI refused ({action}): {exc.message}; check the credentials and the "
                           "roles/aiplatform.user role") from None
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded) as exc:
        raise BackendUnavailable(f"Vertex AI is unreachable ({action}): {exc.message}") from None
    except gexc.GoogleAPIError as exc:
        raise BackendError(f"Vertex AI error ({action}): {exc}") from None
    except OSError as exc:  # connection refused and friends from the transport
        raise BackendUnavailable(f"Vertex AI is unreachable ({action}): {exc}") from None


class VertexBackend(Backend):
    name = "vertex"
    poll_s = 1.0
    resource_kind = "CustomJob"

    def __init__(self, settings, store) -> None:
        super().__init__(settings, store)
        self._clients: dict[tuple[str, str], Any] = {}
        self._transfer = None

    # -- clients -------------------------------------------------------------------------------------
    def client(self, region: str):
        return self.api_client("JobServiceClient", region)

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
            self._clients[(kind, region)] = getattr(aiplatform_v1, kind)(
                client_options={"api_endpoint": endpoint}, transport=self.settings.vertex_transport,
                credentials=credentials)
        return self._clients[(kind, region)]

    def transfer(self, project: str | None):
        if self._transfer is None:
            from ..mounts.transfer import Transfer

            self._transfer = Transfer(project)
        return self._transfer

    @staticmethod
    def staging(spec_or_record: JobSpec | dict[str, Any], job_id: str) -> tuple[str, str]:
        bucket = spec_or_record.staging_bucket if isinstance(spec_or_record, JobSpec) else spec_or_record["staging_bucket"]
        return bucket, f"containerjob/{job_id}"

    # -- submission ----------------------------------------------------------------------------------
    @staticmethod
    def require_project_and_bucket(spec: JobSpec, service: str, staged: str) -> None:
        if not spec.project:
            raise SpecError(f"no GCP project for {service}: pass --project, set GOOGLE_CLOUD_PROJECT, or run "
                            "`gcloud config set project PROJECT_ID`")
        if not spec.staging_bucket:
            raise SpecError(f"{service} runs need a staging bucket for {staged}: pass "
                            "--staging-bucket gs://BUCKET or set CONTAINERJOB_STAGING_BUCKET")

    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        self.require_project_and_bucket(spec, "Vertex AI", "the payload and results")
        from ..mounts.job_mounts import bucket_locations

        locations = bucket_locations([spec.staging_bucket, *(m.bucket for m in spec.mounts)], spec.project)
        for bucket, location in locations.items():
            region, where = (spec.region or ""), location.lower()
            if where and where != region and not region.startswith(where + "-"):
                notify(f"note: gs://{bucket} is in {location}, the job runs in {spec.region}: reads cross regions")
        self._prepare_image(spec, notify)
        runs_as = spec.service_account or "the project's default Vertex AI service agent"
        notify(f"runs as {runs_as} in project {spec.project}, region {spec.region}, writes to "
               f"gs://{spec.staging_bucket}/containerjob/ (and mounts {', '.join(sorted(locations))} at /gcs)")

    def _prepare_image(self, spec: JobSpec, notify: Notify) -> None:
        """Requirements -> a content-hashed image pushed to --image-repo; a local-only image is pushed as is.
        An image this machine does not have is taken to be in a registry Vertex AI can pull from."""
        from .local import LocalBackend, engine_errors

        pool = spec.primary
        local = LocalBackend(self.settings, self.store)
        if not spec.requirements:
            try:
                with engine_errors("connect"):
                    local.client.ping()
            except BackendUnavailable:
                return  # no engine here, so no local-only image either: Vertex pulls the reference as given
        with engine_errors("prepare the image"):
            if spec.requirements:
                if not spec.image_repo:
                    raise SpecError("extra requirements on Vertex AI need an image registry to push to: pass --image-repo "
                                    "REGION-docker.pkg.dev/PROJECT/REPOSITORY or set CONTAINERJOB_IMAGE_REPO")
                base = local.ensure_image(pool.image, notify)
                pool.image = images.requirements_image(local.client, base, spec.requirements, repo=spec.image_repo,
                                                       ca_bundle=self.settings.ca_bundle, notify=notify)
                images.push(local.client, pool.image, notify)
                return
            try:
                image = local.client.images.get(pool.image)
            except docker.errors.ImageNotFound:
                return
            if images.local_only(image):
                pool.image = images.publish_local_image(local.client, image, spec.image_repo or "", notify)

    def _custom_job(self, spec: JobSpec, job_id: str, origin: str = "") -> dict[str, Any]:
        """The CustomJob as REST JSON (camelCase), the one object both submit and --dry-run use."""
        bucket, prefix = self.staging(spec, job_id)
        base = f"/gcs/{bucket}/{prefix}"
        pool = spec.primary
        env = {"PYTHONUNBUFFERED": "1", "GOOGLE_CLOUD_PROJECT": spec.project, "CLOUDSDK_CORE_PROJECT": spec.project,
               "CONTAINERJOB_JOB_ID": job_id, "CONTAINERJOB_PAYLOAD": f"{base}/payload",
               "CONTAINERJOB_OUTPUT": f"{base}/output", "CONTAINERJOB_LOG_DIR": f"{base}/output/logs", **pool.env}
        machine: dict[str, Any] = {"machineType": pool.machine_type}
        if pool.accelerator_count:
            machine.update(acceleratorType=pool.accelerator_type, acceleratorCount=pool.accelerator_count)
        worker = {
            "machineSpec": machine,
            "replicaCount": "1",
            "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": pool.boot_disk_size_gb},
            "containerSpec": {"imageUri": pool.image,
                              "command": pool.command or ["python3", "-u", f"{base}/runtime/runner.py"],
                              "args": pool.args, "env": [{"name": k, "value": v} for k, v in env.items()]},
        }
        pools = [worker]
        if pool.replica_count > 1:  # Vertex: the first pool is the single chief; the rest are workers
            pools.append({**worker, "replicaCount": str(pool.replica_count - 1)})
        job_spec: dict[str, Any] = {
            "workerPoolSpecs": pools,
            "scheduling": {"restartJobOnWorkerRestart": False, "strategy": "SPOT" if spec.spot else "STANDARD"},
        }
        if spec.timeout_s:
            job_spec["scheduling"]["timeout"] = f"{spec.timeout_s}s"
        if spec.base_output_dir:
            job_spec["baseOutputDirectory"] = {"outputUriPrefix": spec.base_output_dir}
        if spec.service_account:
            job_spec["serviceAccount"] = spec.service_account
        if spec.network:
            job_spec["network"] = spec.network
        labels = {**spec.labels, "containerjob-id": job_id}
        if origin:
            labels["notebook"] = label_value(Path(origin).stem) or "notebook"
        return {"displayName": spec.display_name, "jobSpec": job_spec, "labels": labels}

    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        """Before any image build or push: with extra requirements the imageUri becomes the built tag."""
        from ..core.models import redact_env

        job = self._custom_job(spec, job_id, origin)
        container = job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
        container["env"] = [{"name": k, "value": v} for k, v in
                            redact_env({e["name"]: e["value"] for e in container["env"]}).items()]
        gcloud = ["gcloud", "ai", "custom-jobs", "create", f"--project={spec.project}", f"--region={spec.region}",
                  f"--display-name={spec.display_name}", f"--labels={','.join(f'{k}={v}' for k, v in job['labels'].items())}",
                  "--config=/dev/stdin"]
        return {"parent": f"projects/{spec.project}/locations/{spec.region}", "customJob": job,
                "gcloud": f"echo {shlex.quote(json.dumps(job['jobSpec']))} | {shlex.join(gcloud)}"}

    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        from google.cloud import aiplatform_v1

        bucket, prefix = self.staging(spec, record.id)
        fs = self.transfer(spec.project).fs
        notify(f"staging the payload to gs://{bucket}/{prefix}/")
        with transfer_errors(f"staging the payload to gs://{bucket}/{prefix}/"):
            for part, local in (("payload", payload.path), ("runtime", payload.runtime)):
                files = [p for p in sorted(local.rglob("*")) if p.is_file()]
                fs.put([str(p) for p in files],
                       [f"{bucket}/{prefix}/{part}/{p.relative_to(local).as_posix()}" for p in files])
        body = aiplatform_v1.CustomJob.from_json(json.dumps(self._custom_job(spec, record.id, record.origin)))
        with _api_errors("create the CustomJob"):
            job = self.client(spec.region).create_custom_job(
                parent=f"projects/{spec.project}/locations/{spec.region}", custom_job=body)
        parse_job_name(job.name)
        notify(f"submitted {job.name}")
        return job.name

    # -- lifecycle -----------------------------------------------------------------------------------
    def _get(self, record: JobRecord):
        with _api_errors(f"read job {record.id}"):
            return self.client(parse_job_name(record.backend_ref)["region"]).get_custom_job(name=record.backend_ref)

    @staticmethod
    def _state(job) -> str:
        return job.state.name

    def refresh(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        if not record.backend_ref:  # still being submitted somewhere, or the submitter died
            if time.time() - record.created_at > STALE_QUEUED_S:
                self.store.transition(record.id, (JobStatus.QUEUED,), status=JobStatus.LOST, finished_at=time.time(),
                                      message=f"its submission never finished (look for a {self.resource_kind} "
                                              f"labelled containerjob-id={record.id} in the console)")
            return self.store.get(record.id)
        job = self._get(record)
        state = self._state(job)
        if state in _TERMINAL:
            return self._finalise(record, job, None, "")
        if state == "JOB_STATE_CANCELLING" and record.status is JobStatus.RUNNING:
            self.store.transition(record.id, (JobStatus.RUNNING,), status=JobStatus.CANCELLING)
        return self.store.get(record.id)

    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        if not record.backend_ref:
            return self.store.update(record.id, status=status, message=message, finished_at=time.time())
        region = parse_job_name(record.backend_ref)["region"]
        with _api_errors(f"cancel job {record.id}"):
            self.client(region).cancel_custom_job(name=record.backend_ref)
        deadline = time.time() + 120
        job = self._get(record)
        while job.state.name not in _TERMINAL and time.time() < deadline:
            time.sleep(self.poll_s)
            job = self._get(record)
        if job.state.name not in _TERMINAL:  # still cancelling on Vertex: the record says so, refresh() ends it
            self.store.transition(record.id, (JobStatus.RUNNING,), status=JobStatus.CANCELLING)
            return self.store.get(record.id)
        return self._finalise(record, job, status, message)

    def _finalise(self, record: JobRecord, job, status: JobStatus | None, message: str) -> JobRecord:
        with self.job_lock(record) as current:
            if current.status.is_final:
                return current
            self._fetch_outputs(current)
            mapped, note = _TERMINAL.get(job.state.name, (JobStatus.FAILED, job.state.name))
            if status is None or mapped is not JobStatus.CANCELLED:
                status = mapped  # Vertex's word wins: a job that finished before a cancel took keeps its result
                result = read_result(Path(current.job_dir) / "output")
                if status is JobStatus.FAILED:
                    message = (f"{result.error['type']}: {result.error['message']}" if result.error
                               else note or job.error.message or "failed")
                else:
                    message = note
            return self.store.update(record.id, status=status, message=message, finished_at=time.time(),
                                     exit_code=0 if status is JobStatus.SUCCEEDED else None)

    def _fetch_outputs(self, record: JobRecord) -> None:
        """Results, errors and log chunks from gs://STAGING/containerjob/ID/output to the job directory."""
        fs = self.transfer(record.spec.get("project")).fs
        remote = self._output_prefix(record)
        local = (Path(record.job_dir) / "output").resolve()
        fs.invalidate_cache()  # listings cached while the job ran are stale now
        with transfer_errors(f"fetching the results from gs://{remote}/"):
            try:
                names = fs.find(remote)
            except FileNotFoundError:
                names = []
            targets = [(local / n[len(remote) + 1:]).resolve() for n in names]
            escaping = [n for n, t in zip(names, targets) if not str(t).startswith(str(local) + "/")]
            if escaping:
                raise MountError(f"result object {escaping[0]} would land outside the job directory; refusing it")
            fs.get(names, [str(t) for t in targets])
        chunks = sorted((local / "logs").glob("*.log")) if (local / "logs").is_dir() else []
        (Path(record.job_dir) / "logs.txt").write_text("".join(c.read_text(errors="replace") for c in chunks))

    def _output_prefix(self, record: JobRecord) -> str:
        bucket, prefix = self.staging(record.spec, record.id)
        return f"{bucket}/{prefix}/output"

    def stream_logs(self, record: JobRecord, follow: bool) -> Iterator[str]:
        """Log chunks as the runner closes them; with follow, until the job is over and drained."""
        if record.status.is_final or not record.backend_ref:
            path = Path(record.job_dir) / "logs.txt"
            if path.is_file():
                yield path.read_text(errors="replace")
            return
        bucket, prefix = self.staging(record.spec, record.id)
        fs = self.transfer(record.spec.get("project")).fs
        seen: set[str] = set()
        delay = self.poll_s
        while True:
            done = self._get(record).state.name in _TERMINAL
            fs.invalidate_cache(f"{bucket}/{prefix}/output")
            try:
                names = sorted(fs.find(f"{bucket}/{prefix}/output/logs"))
            except FileNotFoundError:
                names = []
            fresh = [n for n in names if n not in seen]
            for name in fresh:
                seen.add(name)
                yield fs.cat_file(name).decode("utf-8", errors="replace")
            if done or not follow:
                return
            delay = self.poll_s if fresh else min(delay * 1.5, 10.0)
            time.sleep(delay)
