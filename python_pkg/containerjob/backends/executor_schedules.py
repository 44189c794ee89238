"""Executor schedules through Vertex AI's Schedule API (aiplatform_v1.ScheduleServiceClient).

The notebook snapshot (parameters and project injected) is staged once to
gs://STAGING/containerjob/schedules/ID/notebook/, and each run Vertex fires writes under
gs://STAGING/containerjob/schedules/ID/output/. Vertex fires the runs; `import_runs` lists them
(NotebookExecutionJobs naming the schedule) into the job store so they show with every other job.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.models import JobRecord, JobStatus
from .vertex import _api_errors

if TYPE_CHECKING:
    from ..scheduling import Schedule
    from ..service import JobService, Prepared


def _backend(service: "JobService"):
    return service.backend("executor")


def _body(service: "JobService", schedule: "Schedule", prepared: "Prepared") -> dict:
    """The Schedule as REST JSON: cron with its TZ= prefix, and the execution job every run creates."""
    spec, backend = prepared.spec, _backend(service)
    backend.preflight(spec, prepared.payload, lambda _msg: None)
    job = backend._execution_job(spec, prepared.payload, schedule.id)
    bucket = spec.staging_bucket
    job["gcsNotebookSource"]["uri"] = f"gs://{bucket}/containerjob/schedules/{schedule.id}/notebook/{prepared.payload.manifest['filename']}"
    job["gcsOutputUri"] = f"gs://{bucket}/containerjob/schedules/{schedule.id}/output"
    job["labels"] = {k: v for k, v in job["labels"].items() if k != "containerjob-id"}
    parent = f"projects/{spec.project}/locations/{spec.region}"
    backend.stage_notebook(spec, prepared.payload, job["gcsNotebookSource"]["uri"])
    return {"displayName": schedule.name or schedule.id, "cron": f"TZ={schedule.timezone} {schedule.cron}",
            "maxConcurrentRunCount": str(schedule.max_concurrent), "allowQueueing": False,
            "createNotebookExecutionJobRequest": {"parent": parent, "notebookExecutionJob": job}}


def _client(service: "JobService", name_or_region: str):
    region = name_or_region.split("/")[3] if name_or_region.startswith("projects/") else name_or_region
    return _backend(service).api_client("ScheduleServiceClient", region)


def create_vertex_schedule(service: "JobService", schedule: "Schedule", prepared: "Prepared") -> str:
    from google.cloud import aiplatform_v1

    body = _body(service, schedule, prepared)
    spec = prepared.spec
    with _api_errors("create the Schedule"):
        created = _client(service, spec.region).create_schedule(
            parent=f"projects/{spec.project}/locations/{spec.region}",
            schedule=aiplatform_v1.Schedule.from_json(json.dumps(body)))
    return created.name


def update_vertex_schedule(service: "JobService", schedule: "Schedule", prepared: "Prepared") -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import field_mask_pb2

    body = {**_body(service, schedule, prepared), "name": schedule.backend_ref}
    mask = field_mask_pb2.FieldMask(paths=["display_name", "cron", "max_concurrent_run_count",
                                           "create_notebook_execution_job_request"])
    with _api_errors("update the Schedule"):
        _client(service, schedule.backend_ref).update_schedule(
            schedule=aiplatform_v1.Schedule.from_json(json.dumps(body)), update_mask=mask)


def set_vertex_schedule_state(service: "JobService", schedule: "Schedule", state: str) -> None:
    client = _client(service, schedule.backend_ref)
    with _api_errors(f"{'pause' if state == 'PAUSED' else 'resume'} the Schedule"):
        if state == "PAUSED":
            client.pause_schedule(name=schedule.backend_ref)
        else:
            client.resume_schedule(name=schedule.backend_ref, catch_up=False)


def delete_vertex_schedule(service: "JobService", schedule: "Schedule") -> None:
    with _api_errors("delete the Schedule"):
        _client(service, schedule.backend_ref).delete_schedule(name=schedule.backend_ref).result(timeout=600)


def import_runs(service: "JobService", schedule: "Schedule") -> list[JobRecord]:
    """Runs Vertex fired for this schedule that the store does not know yet, added as executor jobs."""
    from ..core.models import new_job_id

    backend = _backend(service)
    region = schedule.backend_ref.split("/")[3]
    parent = "/".join(schedule.backend_ref.split("/")[:4])
    known = {r.backend_ref for r in service.store.list(backend="executor", limit=1_000_000)}
    added = []
    with _api_errors("list the schedule's runs"):
        runs = list(backend.client(region).list_notebook_execution_jobs(
            request={"parent": parent, "filter": f'schedule="{schedule.backend_ref}"'}))
    for run in runs:
        if run.name in known or run.schedule_resource_name != schedule.backend_ref:
            continue
        job_id = new_job_id()
        job_dir = backend.job_dir(job_id)
        (job_dir / "output").mkdir(parents=True)
        spec = {"display_name": run.display_name, "backend": "executor", "labels": {"containerjob-schedule": schedule.id},
                "staging_bucket": run.gcs_output_uri[5:].split("/")[0], "project": parent.split("/")[1],
                "output_prefix": f"{run.gcs_output_uri[5:].partition('/')[2].rstrip('/')}/{run.name.rsplit('/', 1)[-1]}"}
        record = JobRecord(id=job_id, name=run.display_name, backend="executor", status=JobStatus.RUNNING, spec=spec,
                           image="workbench-executor", created_at=run.create_time.timestamp() if run.create_time else time.time(),
                           started_at=run.create_time.timestamp() if run.create_time else time.time(),
                           backend_ref=run.name, job_dir=str(job_dir), origin=str(Path(schedule.notebook)))
        service.store.add(record)
        added.append(backend.refresh(record))
    return added
