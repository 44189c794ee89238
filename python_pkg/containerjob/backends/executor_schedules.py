"""The executor backend's schedules, through Vertex AI's Schedule API (aiplatform_v1.ScheduleServiceClient).

The notebook snapshot (parameters and project injected) is staged once to
gs://STAGING/containerjob/schedules/ID/notebook/, and each run Vertex fires writes under
gs://STAGING/containerjob/schedules/ID/output/. Vertex fires the runs; `list_schedule_runs` lists them
(NotebookExecutionJobs naming the schedule) and `adopt_run` adds one to the job store, so they show
with every other job. Everything here takes and returns plain data: scheduling.py owns the records.
"""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Mapping

from ..core.gcs_uri import split_gs
from ..core.models import JobRecord, JobSpec, JobStatus, StoredSpec
from ..core.payload import Payload
from .base import HostedSchedules
from .gcp import api_errors, parse_resource_name

if TYPE_CHECKING:
    from .executor import ExecutorBackend

COLLECTION = "schedules"


class NotebookSchedules(HostedSchedules):
    """ExecutorBackend's schedule capability (a mixin: it uses the backend's clients and staging)."""

    def _schedule_body(self: "ExecutorBackend", schedule: Mapping[str, Any], spec: JobSpec,
                       payload: Payload) -> dict[str, Any]:
        """The Schedule as REST JSON: cron with its TZ= prefix, and the execution job every run creates."""
        self.validate(spec, payload)
        job = self.execution_job(spec, payload, schedule["id"])
        where = f"gs://{spec.staging_bucket}/containerjob/schedules/{schedule['id']}"
        job["gcsNotebookSource"]["uri"] = f"{where}/notebook/{payload.manifest['filename']}"
        job["gcsOutputUri"] = f"{where}/output"
        job["labels"] = {k: v for k, v in job["labels"].items() if k != "containerjob-id"}
        parent = f"projects/{spec.project}/locations/{spec.region}"
        self.stage_notebook(spec, payload, job["gcsNotebookSource"]["uri"])
        return {"displayName": schedule["name"] or schedule["id"],
                "cron": f"TZ={schedule['timezone']} {schedule['cron']}",
                "maxConcurrentRunCount": str(schedule["max_concurrent"]), "allowQueueing": False,
                "createNotebookExecutionJobRequest": {"parent": parent, "notebookExecutionJob": job}}

    def _schedules_client(self: "ExecutorBackend", schedule_ref: str):
        return self.api_client("ScheduleServiceClient", parse_resource_name(schedule_ref, COLLECTION)["region"])

    def create_schedule(self: "ExecutorBackend", schedule: Mapping[str, Any], spec: JobSpec, payload: Payload) -> str:
        from google.cloud import aiplatform_v1

        body = self._schedule_body(schedule, spec, payload)
        with api_errors("create the Schedule"):
            created = self.api_client("ScheduleServiceClient", spec.region).create_schedule(
                parent=f"projects/{spec.project}/locations/{spec.region}",
                schedule=aiplatform_v1.Schedule.from_json(json.dumps(body)))
        return created.name

    def update_schedule(self: "ExecutorBackend", schedule: Mapping[str, Any], spec: JobSpec,
                        payload: Payload) -> None:
        from google.cloud import aiplatform_v1
        from google.protobuf import field_mask_pb2

        body = {**self._schedule_body(schedule, spec, payload), "name": schedule["backend_ref"]}
        mask = field_mask_pb2.FieldMask(paths=["display_name", "cron", "max_concurrent_run_count",
                                               "create_notebook_execution_job_request"])
        with api_errors("update the Schedule"):
            self._schedules_client(schedule["backend_ref"]).update_schedule(
                schedule=aiplatform_v1.Schedule.from_json(json.dumps(body)), update_mask=mask)

    def set_schedule_state(self: "ExecutorBackend", schedule_ref: str, state: str) -> None:
        """One already in that state is left so (Vertex refuses to pause a paused one): a pause or resume
        retried after its record could not be written succeeds."""
        client = self._schedules_client(schedule_ref)
        with api_errors(f"{'pause' if state == 'PAUSED' else 'resume'} the Schedule"):
            if client.get_schedule(name=schedule_ref).state.name == state:
                return
            if state == "PAUSED":
                client.pause_schedule(name=schedule_ref)
            else:
                client.resume_schedule(name=schedule_ref, catch_up=False)

    def delete_schedule(self: "ExecutorBackend", schedule_ref: str) -> None:
        with api_errors("delete the Schedule"):
            self._schedules_client(schedule_ref).delete_schedule(name=schedule_ref).result(timeout=600)

    def list_schedule_runs(self: "ExecutorBackend", schedule_ref: str) -> list[dict[str, Any]]:
        where = parse_resource_name(schedule_ref, COLLECTION)
        parent = f"projects/{where['project']}/locations/{where['region']}"
        with api_errors("list the schedule's runs"):
            runs = list(self.client(where["region"]).list_notebook_execution_jobs(
                request={"parent": parent, "filter": f'schedule="{schedule_ref}"'}))
        return [{"name": run.name, "display_name": run.display_name, "output_uri": run.gcs_output_uri,
                 "created_at": run.create_time.timestamp() if run.create_time else None, "project": where["project"]}
                for run in runs if run.schedule_resource_name == schedule_ref]

    def adopt_run(self: "ExecutorBackend", run: Mapping[str, Any], *, labels: Mapping[str, str],
                  origin: str) -> JobRecord:
        """The run writes under the schedule's output prefix, in a folder named after its own ID."""
        bucket, prefix = split_gs(run["output_uri"], "the schedule run's gcsOutputUri")
        spec = StoredSpec(worker_pools=[], display_name=run["display_name"], backend=self.name, labels=dict(labels),
                          staging_bucket=bucket, project=run["project"],
                          output_prefix=f"{prefix.rstrip('/')}/{run['name'].rsplit('/', 1)[-1]}")
        started = run["created_at"] or time.time()
        return self.refresh(self.create_job(lambda job_id: JobRecord(
            id=job_id, name=run["display_name"], backend=self.name, status=JobStatus.QUEUED, spec=spec,
            image="workbench-executor", created_at=started, started_at=started, backend_ref=run["name"],
            job_dir=str(self.job_dir(job_id)), origin=origin)))
