"""The route table: URL patterns under <base_url>/containerjob/ and their handlers (openapi.yaml documents each)."""
from __future__ import annotations

from .customjob import CustomJobFileHandler
from .jobs import CancelHandler, JobHandler, JobsHandler, ReplicasHandler, ValidateJobHandler
from .logs import LogsHandler
from .magic import MagicLineHandler
from .notebooks import NotebookParametersHandler
from .outputs import OutputFileHandler, OutputsHandler
from .schedules import (
    PauseHandler,
    PreviewScheduleHandler,
    ResumeHandler,
    RunNowHandler,
    ScheduleHandler,
    SchedulesHandler,
    ValidateEditHandler,
    ValidateScheduleHandler,
)
from .settings import BackendsHandler, SettingsHandler, VersionHandler

PREFIX = "containerjob"
# IDs are validated in the handlers, so a malformed one gets the JSON 404 rather than tornado's page.
JOB = r"(?P<job_id>[^/]+)"
SCHEDULE = r"(?P<schedule_id>[^/]+)"

ROUTES: list[tuple[str, type]] = [
    ("version", VersionHandler),
    ("settings", SettingsHandler),
    ("backends", BackendsHandler),
    ("jobs", JobsHandler),
    ("jobs/validate", ValidateJobHandler),  # before jobs/{id}: the first matching pattern serves
    (f"jobs/{JOB}", JobHandler),
    (f"jobs/{JOB}/cancel", CancelHandler),
    (f"jobs/{JOB}/logs", LogsHandler),
    (f"jobs/{JOB}/replicas", ReplicasHandler),
    (f"jobs/{JOB}/outputs", OutputsHandler),
    (f"jobs/{JOB}/outputs/(?P<path>.+)", OutputFileHandler),
    ("magic", MagicLineHandler),
    ("notebooks/parameters", NotebookParametersHandler),
    ("customjob", CustomJobFileHandler),
    ("schedules", SchedulesHandler),
    ("schedules/validate", ValidateScheduleHandler),
    ("schedules/preview", PreviewScheduleHandler),
    (f"schedules/{SCHEDULE}", ScheduleHandler),
    (f"schedules/{SCHEDULE}/pause", PauseHandler),
    (f"schedules/{SCHEDULE}/resume", ResumeHandler),
    (f"schedules/{SCHEDULE}/run", RunNowHandler),
    (f"schedules/{SCHEDULE}/validate", ValidateEditHandler),
]
