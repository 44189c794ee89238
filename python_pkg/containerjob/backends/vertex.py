"""Vertex AI CustomJob backend: the same JobSpec, submitted through aiplatform_v1's JobServiceClient.

No image build per run: payload and runner are staged to gs://STAGING/containerjob/JOB_ID/ and the
container reads them through Vertex's own /gcs mount; results, errors and log chunks come back the
same way.
"""
from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path
from typing import Any, Iterator

import docker.errors

from ..core.custom_job_file import to_custom_job
from ..core.errors import BackendUnavailable, ContainerJobError, ResultRefused, SpecError
from ..core.exit_status import EXIT_TIMEOUT
from ..core.job_files import FINAL_LOG
from ..core.job_output import OutputUnreadable
from ..core.models import JobRecord, JobSpec, JobStatus
from ..core.payload import Payload
from ..core.results import JobResult, failure_text, read_result, signing_key
from ..core.runtime import result_signing
from ..core.spec import MAX_ENV, label_value
from ..core.vertex_catalog import require_sendable, unlisted, validate_machine
from ..mounts.sync import transfer_errors
from . import images, resubmit
from .base import Capabilities, Notify, Outcome, StreamStop
from .gcp import TERMINAL, GcpBackend, api_errors, parse_resource_name, seconds
from .unsaved import keep_unsaved
from .vertex_logs import JobLog, logging_client


class VertexBackend(GcpBackend):
    name = "vertex"
    label = "Vertex AI CustomJob"
    capabilities = Capabilities(kinds=["cell", "script", "container"], schedules=False, gpus=True, cancel=True, live_logs=True)
    poll_s = 1.0
    log_settle_s = 1.0  # after the end, how long Cloud Logging may still be taking the last lines
    log_poll_s = 3.0  # Cloud Logging's read quota is per project and small: a follower asks at most this often
    collection = "customJobs"
    signs_results = True  # they come back through the staging bucket, which others may write
    client_kind = "JobServiceClient"
    resource_kind = "CustomJob"

    def __init__(self, settings, store) -> None:
        super().__init__(settings, store)
        self._logging: dict[str, Any] = {}  # project -> Cloud Logging client

    # -- submission ----------------------------------------------------------------------------------
    def validate(self, spec: JobSpec, payload: Payload) -> None:
        self.require_project_and_bucket(spec, "Vertex AI",
                                        None if payload.kind == "container" else "the payload and results")
        for pool in spec.worker_pools[1:]:  # the chief's was checked with its options
            validate_machine(pool.machine_type, pool.accelerator_type, pool.accelerator_count)

    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        from ..mounts.job_mounts import bucket_locations

        require_sendable(spec)
        for line in unlisted(spec):  # well-formed values Google's tables here lack: sent, Vertex AI answers
            notify(f"warning: {line}")
        staged = payload.kind != "container" and spec.staging_bucket
        locations = bucket_locations([*([spec.staging_bucket] if staged else []), *(m.bucket for m in spec.mounts)],
                                     spec.project)
        for bucket, location in locations.items():
            region, where = (spec.region or ""), location.lower()
            if where and where != region and not region.startswith(where + "-"):
                notify(f"note: gs://{bucket} is in {location}, the job runs in {spec.region}: reads cross regions")
        self._prepare_image(spec, notify)
        runs_as = spec.service_account or "the project's default Vertex AI service agent"
        writes = f", writes to gs://{spec.staging_bucket}/containerjob/" if staged else ""
        mounts = f" (and mounts {', '.join(sorted(locations))} at /gcs)" if locations else ""
        notify(f"runs as {runs_as} in project {spec.project}, region {spec.region}{writes}{mounts}")

    def _prepare_image(self, spec: JobSpec, notify: Notify) -> None:
        """Requirements -> a content-hashed image pushed to --image-repo; a local-only image is pushed as is.
        An image this machine does not have is taken to be in a registry Vertex AI can pull from."""
        from .engine import engine_errors
        from .local import LocalBackend

        local = LocalBackend(self.settings, self.store)
        if not spec.requirements:
            try:
                with engine_errors("connect"):
                    local.client.ping()
            except BackendUnavailable:
                return  # no engine here, so no local-only image either: Vertex pulls the reference as given
        if spec.requirements and not spec.image_repo:
            raise SpecError("extra requirements on Vertex AI need an image registry to push to: pass --image-repo "
                            "REGION-docker.pkg.dev/PROJECT/REPOSITORY or set CONTAINERJOB_IMAGE_REPO")
        ready: dict[str, str] = {}  # each pool's image as given -> as pushed (every pool, not only the chief's)
        with engine_errors("prepare the image"):
            for pool in spec.worker_pools:
                if pool.image not in ready:
                    ready[pool.image] = self._pushed(local, pool.image, spec, notify)
                pool.image = ready[pool.image]

    def _pushed(self, local, reference: str, spec: JobSpec, notify: Notify) -> str:
        """The reference Vertex AI pulls for `reference`: the requirements image pushed to --image-repo, a
        local-only image pushed there as is, or the reference itself (a registry image, or one not here)."""
        if spec.requirements:
            base = images.ensure_image(local.client, reference, notify)
            tag = images.requirements_image(local.client, base, spec.requirements, repo=spec.image_repo,
                                            ca_bundle=self.settings.ca_bundle, notify=notify)
            images.push(local.client, tag, notify)
            return tag
        try:
            image = local.client.images.get(reference)
        except docker.errors.ImageNotFound:
            return reference
        return images.publish_local_image(local.client, image, spec.image_repo or "", notify) \
            if images.local_only(image) else reference

    def _custom_job(self, spec: JobSpec, job_id: str, kind: str, origin: str = "") -> dict[str, Any]:
        """The CustomJob as REST JSON (camelCase), the one object both submit and --dry-run use: the job's own
        file (core/custom_job_file.py) plus the project's variables and, for Python jobs, the staged runner."""
        env = {"PYTHONUNBUFFERED": "1", "GOOGLE_CLOUD_PROJECT": spec.project, "CLOUDSDK_CORE_PROJECT": spec.project,
               "CONTAINERJOB_JOB_ID": job_id}
        command = None
        if kind != "container":  # the payload and the runner come through Vertex's own /gcs mount
            bucket, prefix = self.staging(spec, job_id)
            base = f"/gcs/{bucket}/{prefix}"
            env.update(CONTAINERJOB_PAYLOAD=f"{base}/payload", CONTAINERJOB_OUTPUT=f"{base}/output")
            # the runner signs its results with the job's key: in the job's environment, never in the bucket
            env[result_signing.KEY_ENV] = signing_key(self.settings.home_path, job_id).hex()
            command = ["python3", "-u", f"{base}/runtime/runner.py"]
        job, _ = to_custom_job(spec, env=env, command=command)
        for index, pool in enumerate(job["jobSpec"]["workerPoolSpecs"]):
            sent = pool["containerSpec"].get("env", [])
            if len(sent) > MAX_ENV:
                raise SpecError(f"workerPoolSpecs[{index}] would send {len(sent)} environment variables; Vertex AI "
                                f"takes at most {MAX_ENV} per container and containerjob adds {len(env)} of its own "
                                f"({', '.join(env)}): give at most {MAX_ENV - len(env)} with --env")
        scheduling = job["jobSpec"].setdefault("scheduling", {})  # the file's scheduling, said in full here
        # --retries on a job of several replicas: a worker Vertex AI restarts runs the whole job again (resubmit.py)
        whole_job = spec.restart_job_on_worker_restart or bool(spec.retries and len(spec.replicas()) > 1)
        scheduling.update(restartJobOnWorkerRestart=whole_job, strategy=scheduling.get("strategy", "STANDARD"))
        job["labels"]["containerjob-id"] = job_id
        if origin:
            job["labels"]["containerjob-notebook"] = label_value(Path(origin).stem) or "notebook"
        return job

    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        """Before any image build or push: with extra requirements the imageUri becomes the built tag."""
        from ..core.redaction import redact_env

        job = self._custom_job(spec, job_id, payload.kind, origin)
        for pool in job["jobSpec"]["workerPoolSpecs"]:
            container = pool["containerSpec"]
            container["env"] = [{"name": k, "value": v} for k, v in
                                redact_env({e["name"]: e["value"] for e in container.get("env", [])}).items()]
        gcloud = ["gcloud", "ai", "custom-jobs", "create", f"--project={spec.project}", f"--region={spec.region}",
                  f"--display-name={spec.display_name}", f"--labels={','.join(f'{k}={v}' for k, v in job['labels'].items())}",
                  "--config=/dev/stdin"]
        described = {"parent": f"projects/{spec.project}/locations/{spec.region}", "customJob": job,
                     "gcloud": f"echo {shlex.quote(json.dumps(job['jobSpec']))} | {shlex.join(gcloud)}"}
        return {**described, **({"warnings": warnings} if (warnings := unlisted(spec)) else {})}

    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        from google.cloud import aiplatform_v1

        if payload.kind != "container":
            self._stage(spec, record.id, payload, notify)
        body = aiplatform_v1.CustomJob.from_json(json.dumps(self._custom_job(spec, record.id, payload.kind,
                                                                             record.origin)))
        with api_errors("create the CustomJob"):
            job = self.client(spec.region).create_custom_job(
                parent=f"projects/{spec.project}/locations/{spec.region}", custom_job=body)
        parse_resource_name(job.name, self.collection)
        notify(f"submitted {job.name}")
        return job.name

    def _stage(self, spec: JobSpec, job_id: str, payload: Payload, notify: Notify) -> None:
        bucket, prefix = self.staging(spec, job_id)
        transfer = self.transfer(spec.project)
        what = f"staging the payload to gs://{bucket}/{prefix}/"
        notify(what)
        with transfer_errors(what):
            for part, local in (("payload", payload.path), ("runtime", payload.runtime)):
                files = [p for p in sorted(local.rglob("*")) if p.is_file()]
                transfer.put(files, [f"{bucket}/{prefix}/{part}/{p.relative_to(local).as_posix()}" for p in files],
                             what)

    # -- lifecycle -----------------------------------------------------------------------------------
    def _get(self, record: JobRecord):
        with api_errors(f"read job {record.id}"):
            return self.client(self.region_of(record)).get_custom_job(name=record.backend_ref)

    @staticmethod
    def _state(job) -> str:
        return job.state.name

    @staticmethod
    def run_times(job) -> tuple[float | None, float | None]:
        """CustomJob.start_time: "Time when the CustomJob for the first time entered the JOB_STATE_RUNNING state";
        end_time: "Time when the CustomJob entered any of the following states: JOB_STATE_SUCCEEDED,
        JOB_STATE_FAILED, JOB_STATE_CANCELLED" (aiplatform_v1 CustomJob reference)."""
        return seconds(job.start_time), seconds(job.end_time)

    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        if not record.backend_ref:
            return self.stop_unsubmitted(record, status, message)
        with api_errors(f"cancel job {record.id}"):
            self.client(self.region_of(record)).cancel_custom_job(name=record.backend_ref)
        deadline = time.time() + 120
        job = self._get(record)
        while not self.is_terminal(job) and time.time() < deadline:
            time.sleep(self.poll_s)
            job = self._get(record)
        if not self.is_terminal(job):  # still cancelling on Vertex: the record says so, refresh() ends it
            self.store.transition(record.id, (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING),
                                  status=JobStatus.CANCELLING)
            return self.store.get(record.id)
        return self.finalise(record, job, status, message)

    def finalise(self, record: JobRecord, observed: Any = None, status: JobStatus | None = None,
                 message: str = "") -> JobRecord:
        """A job that ended by itself in a way --retry-on names is submitted again (resubmit.py), not finalised;
        a stop (a cancel, a timeout) always finalises."""
        if status is None and observed is not None and resubmit.again(self, record, observed):
            return self.store.get(record.id)
        return super().finalise(record, observed, status, message)

    def conclude(self, record: JobRecord, job, status: JobStatus | None, message: str) -> Outcome:
        unsaved = ""
        if record.spec.kind != "container":  # results and errors of the runner, staged beside the payload
            self.fetch_outputs(record)
            unsaved = keep_unsaved(Path(record.job_dir), [], on_vertex=True)  # the runner's copy of a gs: folder
        log = self.job_log(record)
        try:
            text = log.read()
            time.sleep(self.log_settle_s)  # Cloud Logging takes the last lines a moment after the job ends
            text += log.read()
        except ContainerJobError as exc:  # the job's end is recorded all the same; the log says what went wrong
            text = f"[containerjob] the log could not be read: {exc}\n"
        (Path(record.job_dir) / FINAL_LOG).write_text(resubmit.whole_log(Path(record.job_dir), text))
        started, ended = self.run_times(job)
        status, message, exit_code = self._verdict(record, job, status, message)
        retried = resubmit.message(Path(record.job_dir))
        return Outcome(status, "; ".join(m for m in (message, retried, unsaved) if m), exit_code,
                       started_at=None if retried else started, finished_at=ended)

    def _verdict(self, record: JobRecord, job, status: JobStatus | None,
                 message: str) -> tuple[JobStatus, str, int | None]:
        """Vertex's state, in the words and exit codes a local job ends with: a job stopped by its
        scheduling.timeout reads as one stopped by the runner's --timeout here (FAILED, exit 124)."""
        mapped, note = TERMINAL.get(job.state.name, (JobStatus.FAILED, job.state.name))
        exit_code = 0 if mapped is JobStatus.SUCCEEDED else _exit_code(job.error.message)
        if status is not None and mapped is JobStatus.CANCELLED:
            return status, message, exit_code
        status = mapped  # Vertex's word wins: a job that finished before a cancel took keeps its result
        message = note or job.error.message or "failed" if status is JobStatus.FAILED else note
        if status is JobStatus.FAILED and record.spec.timeout_s and job.error.code == DEADLINE_EXCEEDED:
            return status, f"timed out after {record.spec.timeout_s} s (--timeout); Vertex AI: {message}", EXIT_TIMEOUT
        try:
            result = self._signed_result(record) if status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None
        except (OutputUnreadable, ResultRefused) as exc:
            return JobStatus.FAILED, f"{message}; {exc}" if message else str(exc), exit_code
        if status is JobStatus.FAILED and result and result.error:
            message = failure_text(result.error)
        return status, message, exit_code

    def _signed_result(self, record: JobRecord) -> JobResult:
        """The runner's JSON, read only once its signatures say the bucket's copy is the runner's own (anyone
        who can write the bucket can write there): the list's MAC, the set of names and the JSON files' MACs
        (the values' are checked by the kernel that loads them, not paid for by every finalisation)."""
        if record.spec.kind == "container":
            return JobResult()
        return read_result(Path(record.job_dir) / "output", key=signing_key(self.settings.home_path, record.id),
                           job_id=record.id, verify=result_signing.RESULT_FILES)

    def job_log(self, record: JobRecord) -> JobLog:
        """The job's Cloud Logging entries (ml_job, its numeric ID), one reader per stream."""
        project = record.spec.project or ""
        if project not in self._logging:
            self._logging[project] = logging_client(project, self.settings.logging_endpoint,
                                                    self.settings.vertex_credentials == "anonymous",
                                                    self.settings.network_timeout_s)
        pools = record.spec.worker_pools
        return JobLog(self._logging[project], project,
                      parse_resource_name(record.backend_ref, self.collection)["id"], since=record.created_at,
                      replica_prefix=len(pools) > 1 or pools[0].replica_count > 1)

    def stream_logs(self, record: JobRecord, follow: bool, stop: StreamStop | None = None) -> Iterator[str]:
        """Cloud Logging entries as they arrive; with follow, until the job is over and its last lines are in."""
        if record.status.is_final or not record.backend_ref:
            yield from self.saved_logs(record)
            return
        log = self.job_log(record)
        delay = self.log_poll_s
        stop = stop or StreamStop()
        while not stop.is_set():
            done = self.is_terminal(self._get(record))
            text = log.read()
            if text:
                yield text
            if not follow:
                return
            if done:
                stop.wait(self.log_settle_s)
                if text := log.read():
                    yield text
                return
            delay = self.log_poll_s if text else min(delay * 1.5, 10.0)
            stop.wait(delay)


# google.rpc.Code DEADLINE_EXCEEDED, "The deadline expired before the operation could complete": the code the
# Vertex fake sets when scheduling.timeout stops a job (Google's pages document no code or wording for it)
DEADLINE_EXCEEDED = 4
_EXIT_RE = re.compile(r"exited with a non-zero status of (\d+)")


def _exit_code(error: str) -> int | None:
    """The failing replica's exit code, as Vertex words it in the job's error, so the CLI exits with the
    job's own code on Vertex as it does locally."""
    match = _EXIT_RE.search(error or "")
    return int(match.group(1)) if match else None
