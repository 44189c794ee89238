"""Schedules in vertex_fake (ScheduleService: create, get, list, patch, delete → operation, :pause, :resume) of
notebook runs (create_notebook_execution_job_request; pipeline requests are a 501).

There is no scheduler thread: tests drive the clock with fire_due(now), which does what Vertex's scheduler has
done by `now` (see Schedules.fire_due). The fake's clock for computing next_run_time (at create, cron update and
resume) is real time, or the latest `now` given to fire_due when that is later, so a test can move forward in
time and keep resuming and updating coherent. `cron` is a 5-field cron expression, optionally prefixed with
TZ=Area/City or CRON_TZ=Area/City (croniter, DST-aware); next_run_time is the first tick strictly after the
base (creation, or start_time when later). ScheduleRecord.queued and .skipped show what max_concurrent_run_count
held back. The fake counts a schedule's runs as concurrent while their jobs are not in a terminal state; the
proto's comment says Vertex applies the limit to starting the requests, so real Vertex may start a run the fake
holds back while an earlier notebook still executes.

Schedules.unavailable is a fault hook: the HTTP methods in it are answered 503 UNAVAILABLE, as Vertex answers
during an outage (e.g. {"DELETE"}: creating works, deleting fails).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from google.cloud.aiplatform_v1 import DeleteOperationMetadata, ResumeScheduleRequest, Schedule
from google.protobuf import empty_pb2

from vertex_fake_api import (
    ApiError,
    Call,
    check_display_name,
    new_id,
    operation,
    order,
    page,
    parse_body,
    precondition,
    render,
)
from vertex_fake_jobs import TERMINAL
from vertex_fake_notebooks import OUTPUT_ONLY as JOB_OUTPUT_ONLY, check_notebook_job

OUTPUT_ONLY = ("name", "started_run_count", "state", "create_time", "update_time", "next_run_time", "last_pause_time",
               "last_resume_time", "catch_up", "last_scheduled_run_response")
UPDATABLE = ("display_name", "cron", "max_concurrent_run_count", "max_run_count", "allow_queueing",
             "create_notebook_execution_job_request")
CRON_TZ = re.compile(r"^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$")
PARENT = re.compile(r"^projects/[^/]+/locations/(?P<location>[^/]+)$")
State = Schedule.State


def parse_cron(cron: str, where: str = "schedule") -> tuple[str, ZoneInfo]:
    """The 5-field expression and its time zone (UTC unless prefixed); ApiError(400) naming what is wrong."""
    match = CRON_TZ.match(cron.strip())
    zone_name, expr = (match.group(1), match.group(2).strip()) if match else ("UTC", cron.strip())
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(400, f"{where}.cron names an unknown time zone {zone_name!r}: use an IANA name such as "
                            "TZ=America/New_York.") from exc
    if len(expr.split()) != 5 or not croniter.is_valid(expr):
        raise ApiError(400, f"{where}.cron {cron!r} is not a valid cron schedule: use 5 fields (minute hour "
                            "day-of-month month day-of-week), optionally prefixed with TZ=Area/City.")
    return expr, zone


def next_tick(cron: str, after: datetime) -> datetime:
    """The first time strictly after `after` that `cron` names, in UTC."""
    expr, zone = parse_cron(cron)
    return croniter(expr, after.astimezone(zone)).get_next(datetime).astimezone(timezone.utc)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def when(stamp) -> datetime:
    return stamp.ToDatetime(tzinfo=timezone.utc)


def check_schedule(pb, location: str) -> None:
    """ApiError for a Schedule Vertex would refuse; clears the output-only fields of the job it creates."""
    check_display_name(pb.display_name, "schedule")
    if pb.WhichOneof("time_specification") != "cron":
        raise ApiError(400, "schedule.cron is required.")
    parse_cron(pb.cron)
    request = pb.WhichOneof("request")
    if request == "create_pipeline_job_request":
        raise ApiError(501, "vertex_fake schedules create_notebook_execution_job_request runs only.")
    if request is None:
        raise ApiError(400, "schedule.create_notebook_execution_job_request is required: the run to schedule.")
    req, where = pb.create_notebook_execution_job_request, "schedule.create_notebook_execution_job_request"
    match = PARENT.match(req.parent)
    if not match or match["location"] != location:
        raise ApiError(400, f"{where}.parent must be projects/PROJECT/locations/{location} (the schedule's "
                            f"location), not {req.parent!r}.")
    if req.notebook_execution_job_id:
        raise ApiError(400, f"{where}.notebook_execution_job_id cannot be set: every run needs its own ID.")
    for name in JOB_OUTPUT_ONLY:
        req.notebook_execution_job.ClearField(name)
    check_notebook_job(req.notebook_execution_job, f"{where}.notebook_execution_job")
    if pb.max_concurrent_run_count <= 0:
        raise ApiError(400, "schedule.max_concurrent_run_count is required and must be positive.")
    if pb.max_run_count < 0:
        raise ApiError(400, "schedule.max_run_count must not be negative.")
    if pb.max_concurrent_active_run_count:
        raise ApiError(400, "schedule.max_concurrent_active_run_count is supported for pipeline runs only.")
    if pb.HasField("start_time") and pb.HasField("end_time") and when(pb.end_time) <= when(pb.start_time):
        raise ApiError(400, "schedule.end_time must be after schedule.start_time.")


class ScheduleRecord:
    """A stored Schedule proto (guarded by the fake's lock), with the runs held back by max_concurrent_run_count:
    `queued` (allow_queueing) and `skipped` scheduled times."""

    def __init__(self, pb, schedule_id: str, location: str):
        self.pb, self.id, self.location = pb, schedule_id, location
        self.queued: list[datetime] = []
        self.skipped: list[datetime] = []


class Schedules:
    """ScheduleService on the fake; runs are created through the NotebookJobs service."""

    def __init__(self, fake, notebooks):
        self.fake, self.notebooks = fake, notebooks
        self.clock = datetime.now(timezone.utc)
        self.unavailable: set[str] = set()

    def now(self) -> datetime:
        return max(datetime.now(timezone.utc), self.clock)

    def handle(self, call: Call) -> dict:
        verb = call.verb or ""
        if call.method in self.unavailable:
            raise ApiError(503, "The service is currently unavailable.", "UNAVAILABLE")
        if not call.rid and call.method == "POST":
            return self._create(call)
        if not call.rid and call.method == "GET":
            return self._list(call)
        if call.rid and not verb and call.method in ("GET", "PATCH", "DELETE"):
            return {"GET": self._get, "PATCH": self._patch, "DELETE": self._delete}[call.method](call)
        if call.rid and verb in ("pause", "resume") and call.method == "POST":
            return self._pause(call) if verb == "pause" else self._resume(call)
        raise ApiError(404, f"Method {call.method} on schedules{':' + verb if verb else ''} is not served by vertex_fake.")

    def _schedule(self, call: Call) -> ScheduleRecord:
        record = self.fake.schedules.get(call.rid)
        if record is None or record.location != call.location:
            raise ApiError(404, f"The Schedule {call.name('schedules')} does not exist.")
        return record

    def _render(self, record: ScheduleRecord, ints: bool) -> dict:
        with self.fake.lock:
            return render(record.pb, ints)

    def _create(self, call: Call) -> dict:
        pb = parse_body(call.body, Schedule, "schedule", OUTPUT_ONLY)
        check_schedule(pb, call.location)
        with self.fake.lock:
            schedule_id = new_id()
            pb.name = f"{call.parent}/schedules/{schedule_id}"
            pb.state = State.ACTIVE
            pb.create_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.create_time)
            base = max(self.now(), when(pb.start_time)) if pb.HasField("start_time") else self.now()
            pb.next_run_time.FromDatetime(next_tick(pb.cron, base))
            record = self.fake.schedules[schedule_id] = ScheduleRecord(pb, schedule_id, call.location)
        return self._render(record, call.ints)

    def _get(self, call: Call) -> dict:
        return self._render(self._schedule(call), call.ints)

    def _list(self, call: Call) -> dict:
        with self.fake.lock:
            records = [r for r in reversed(list(self.fake.schedules.values()))
                       if r.location == call.location and matches(r.pb, call.params.get("filter", ""))]
        stamp = lambda field: lambda r: getattr(r.pb, field).ToNanoseconds()  # noqa: E731
        records = order(records, call.params.get("orderBy", ""),
                        {f: stamp(f) for f in ("create_time", "start_time", "end_time", "next_run_time")})
        records, token = page(records, call.params)
        return {"schedules": [self._render(r, call.ints) for r in records], "nextPageToken": token}

    def _patch(self, call: Call) -> dict:
        paths = [re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), p.strip())
                 for p in call.params.get("updateMask", "").split(",") if p.strip()]
        if not paths:
            raise ApiError(400, "update_mask is required: name the Schedule fields to update.")
        if [p for p in paths if p not in UPDATABLE]:
            raise ApiError(400, f"update_mask {[p for p in paths if p not in UPDATABLE]} cannot be updated; "
                                f"updatable: {', '.join(UPDATABLE)}.")
        update = parse_body(call.body, Schedule, "schedule", OUTPUT_ONLY)
        with self.fake.lock:
            record = self._schedule(call)
            pb = type(record.pb)()
            pb.CopyFrom(record.pb)
            for path in paths:
                if path == "create_notebook_execution_job_request":
                    if update.WhichOneof("request") != path:
                        raise ApiError(400, "schedule.create_notebook_execution_job_request cannot be unset or "
                                            "changed to another request type.")
                    pb.create_notebook_execution_job_request.CopyFrom(update.create_notebook_execution_job_request)
                else:
                    setattr(pb, path, getattr(update, path))
            check_schedule(pb, record.location)
            if "cron" in paths and pb.state == State.ACTIVE:
                pb.next_run_time.FromDatetime(next_tick(pb.cron, self.now()))
            if pb.state != State.COMPLETED and pb.max_run_count and pb.started_run_count >= pb.max_run_count:
                self._complete(pb)
            pb.update_time.GetCurrentTime()
            record.pb = pb
        return self._render(record, call.ints)

    def _delete(self, call: Call) -> dict:
        with self.fake.lock:
            record = self._schedule(call)
            del self.fake.schedules[record.id]
            op = operation(self.fake, call.parent, DeleteOperationMetadata, empty_pb2.Empty())
        return op.answer(call.ints)

    def _pause(self, call: Call) -> dict:
        with self.fake.lock:
            pb = self._schedule(call).pb
            if pb.state != State.ACTIVE:
                raise precondition(f"The Schedule {pb.name} is {State(pb.state).name}; only an ACTIVE schedule "
                                   "can be paused.")
            pb.state = State.PAUSED
            pb.last_pause_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.last_pause_time)
        return {}

    def _resume(self, call: Call) -> dict:
        catch_up = parse_body(call.body or {}, ResumeScheduleRequest, "resume_schedule_request").catch_up
        with self.fake.lock:
            pb = self._schedule(call).pb
            if pb.state != State.PAUSED:
                raise precondition(f"The Schedule {pb.name} is {State(pb.state).name}; only a PAUSED schedule "
                                   "can be resumed.")
            pb.state, pb.catch_up = State.ACTIVE, catch_up
            pb.last_resume_time.GetCurrentTime()
            pb.update_time.CopyFrom(pb.last_resume_time)
            if not catch_up:  # the ticks missed while paused are dropped; with catch_up fire_due backfills them
                pb.next_run_time.FromDatetime(next_tick(pb.cron, self.now()))
        return {}

    def fire_due(self, now: datetime) -> list[str]:
        """For each ACTIVE schedule, in creation order: first start queued runs while fewer than
        max_concurrent_run_count of its runs are active (not in a terminal state), then walk every tick from
        next_run_time up to `now`: start a run (a NotebookExecutionJob from the schedule's request, with
        schedule_resource_name set; started_run_count and last_scheduled_run_response updated), or, with that many
        runs active, queue the tick (allow_queueing) or skip it. A tick past end_time, or reaching max_run_count,
        makes the schedule COMPLETED. Returns the names of the jobs created."""
        now = utc(now)
        created: list[str] = []
        with self.fake.lock:
            self.clock = max(self.clock, now)
            for record in list(self.fake.schedules.values()):
                created += self._fire(record, now)
        return created

    def _fire(self, record: ScheduleRecord, now: datetime) -> list[str]:
        pb, created = record.pb, []
        if pb.state != State.ACTIVE:
            return created
        while record.queued and self._active(pb.name) < pb.max_concurrent_run_count and pb.state == State.ACTIVE:
            created.append(self._run(record, record.queued.pop(0)))
        while pb.state == State.ACTIVE and when(pb.next_run_time) <= now:
            tick = when(pb.next_run_time)
            if pb.HasField("end_time") and tick > when(pb.end_time):
                self._complete(pb)
                break
            if self._active(pb.name) < pb.max_concurrent_run_count:
                created.append(self._run(record, tick))
            else:
                (record.queued if pb.allow_queueing else record.skipped).append(tick)
            if pb.state == State.ACTIVE:
                pb.next_run_time.FromDatetime(next_tick(pb.cron, tick))
        return created

    def _active(self, schedule_name: str) -> int:
        return sum(1 for job in list(self.fake.notebook_jobs.values())
                   if job.pb.schedule_resource_name == schedule_name and job.state not in TERMINAL)

    def _run(self, record: ScheduleRecord, tick: datetime) -> str:
        pb = record.pb
        job_pb = type(pb.create_notebook_execution_job_request.notebook_execution_job)()
        job_pb.CopyFrom(pb.create_notebook_execution_job_request.notebook_execution_job)
        job_pb.schedule_resource_name = pb.name
        parent = pb.name.rsplit("/schedules/", 1)[0]
        job = self.notebooks.start(parent, record.location, job_pb)
        pb.started_run_count += 1
        pb.last_scheduled_run_response.scheduled_run_time.FromDatetime(tick)
        pb.last_scheduled_run_response.run_response = job.pb.name
        pb.update_time.GetCurrentTime()
        if pb.max_run_count and pb.started_run_count >= pb.max_run_count:
            self._complete(pb)
        return job.pb.name

    @staticmethod
    def _complete(pb) -> None:
        pb.state = State.COMPLETED
        pb.ClearField("next_run_time")
        pb.update_time.GetCurrentTime()


def matches(pb, flt: str) -> bool:
    """A subset of the documented filter: display_name (=, !=, `:` with * wildcards), state (=, !=) and
    create_notebook_execution_job_request:*, terms joined by AND, optionally negated with NOT."""
    for term in filter(None, (t.strip() for t in re.split(r"\s+AND\s+", flt.strip(), flags=re.I))):
        negate = term.upper().startswith("NOT ")
        term = term[4:].strip() if negate else term
        if term in ("create_notebook_execution_job_request:*", "createNotebookExecutionJobRequest:*"):
            hit = pb.WhichOneof("request") == "create_notebook_execution_job_request"
        else:
            m = re.fullmatch(r'(display_name|displayName|state)\s*(!=|=|:)\s*"?([^"]*)"?', term)
            if not m or (m[1] == "state" and m[2] == ":"):
                raise ApiError(400, f"Unsupported filter term {term!r}: use display_name (=, !=, :), state (=, !=) "
                                    "or create_notebook_execution_job_request:*.")
            field, op, want = m.groups()
            have = State(pb.state).name if field == "state" else pb.display_name
            hit = (re.fullmatch(".*".join(map(re.escape, want.split("*"))), have) is not None if op == ":" else
                   (have == want) == (op == "="))
        if hit == negate:
            return False
    return True
