"""Cron schedules for notebooks: create, list, edit, pause, resume, run now, delete.

A schedule runs a snapshot of the notebook taken when it was created or edited (a later edit of the
file does not silently change what runs at 3 am). A backend that hosts schedules (HostedSchedules:
the executor, through Vertex AI's Schedule API) fires them itself and its runs are imported; the
others' are fired by `Scheduler` (scheduler.py) from the Jupyter server or `containerjob scheduler`.
Every run is an ordinary job labelled containerjob-schedule=ID, so it shows in the same list, logs
and cancel as any other job.

A hosted schedule lives in two places, its record here and its Vertex AI schedule: every change is made
there first and recorded second, and a record that cannot be written undoes the remote change, so the two
never disagree (when the undo fails too, the error says what is left where). A schedule keeps its backend:
moving it would stop one firing place and start another in two steps that cannot fail together.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import time
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone as dt_timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from .backends import HostedSchedules, available_backends
from .core.errors import AlreadyRecorded, BackendError, BackendUnavailable, ContainerJobError, ResourceGone, SpecError
from .core.models import JobRecord
from .core.options import options_from_mapping
from .core.redaction import kept_secrets, shown_options
from .service import JobService, Prepared

MISSED_POLICIES = ("skip", "run_once")
# Far above any real cron ("0,15,30,45 9-17 * * 1-5" is 24) or IANA name (the longest is 32): croniter's
# check costs time in proportion to the text, and a preview or create runs it on every keystroke's request.
MAX_CRON_CHARS = 256
MAX_TIMEZONE_CHARS = 64
LABEL = "containerjob-schedule"
EDITABLE = ("name", "notebook", "cron", "timezone", "parameters", "options", "missed", "max_concurrent")


@dataclass
class Schedule:
    id: str
    name: str
    notebook: str  # the path it was created from; `snapshot` is what runs
    cron: str
    timezone: str
    backend: str
    state: str = "ACTIVE"  # or PAUSED
    parameters: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    missed: str = "skip"  # runs missed while no scheduler ran: skip them, or run once
    max_concurrent: int = 1
    next_run_at: float | None = None
    last_run_at: float | None = None
    last_job_id: str | None = None
    created_at: float = field(default_factory=time.time)
    backend_ref: str = ""  # Vertex AI Schedule resource name (executor)
    message: str = ""
    snapshot: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The whole record, secret env values included (what is stored, to run it)."""
        return asdict(self)

    def shown(self) -> dict[str, Any]:
        """The record as the CLI and REST show it: secret env values *** (an edit that sends them back keeps
        the stored ones)."""
        return {**self.to_dict(), "options": shown_options(self.options)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Schedule":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def next_run(cron: str, tz: str, after: float) -> float:
    """The first cron time strictly after `after`, in the schedule's time zone (DST handled by croniter)."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    return float(croniter(cron, datetime.fromtimestamp(after, ZoneInfo(tz))).get_next(float))


def iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, dt_timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def validate_cron(cron: str) -> str:
    from croniter import CroniterBadDateError, croniter

    cron = " ".join(str(cron).split())
    if len(cron) > MAX_CRON_CHARS:
        raise SpecError(f"--cron is {len(cron)} characters long; a cron expression is at most {MAX_CRON_CHARS} "
                        "characters: 5 fields (minute hour day month weekday), e.g. '0 3 * * *'")
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise SpecError(f"--cron {cron!r} is not a 5-field cron expression (minute hour day month weekday), "
                        "e.g. '0 3 * * *' for 03:00 every day")
    try:
        croniter(cron).get_next(float)
    except CroniterBadDateError:  # valid fields that name no date: 0 0 30 2 * (February 30th)
        raise SpecError(f"--cron {cron!r} never fires (no date matches its day and month); fix the day or the "
                        "month, e.g. '0 0 28 2 *'") from None
    return cron


def validate_timezone(tz: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if len(tz) > MAX_TIMEZONE_CHARS:
        raise SpecError(f"--timezone is {len(tz)} characters long; a time zone name is at most "
                        f"{MAX_TIMEZONE_CHARS} characters: use e.g. UTC, Europe/Paris, America/New_York")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long to be a file's
        raise SpecError(f"--timezone {tz!r} is not an IANA time zone: use e.g. UTC, Europe/Paris, America/New_York") from None
    return tz


class Schedules:
    """Schedule records in the job store, kept consistent with Vertex AI for executor schedules."""

    def __init__(self, service: JobService, *, refresh: bool = True) -> None:
        self.service = service
        self.store = service.store
        self.refresh = refresh  # False in the server: its watcher keeps the store current, requests only read

    def _dir(self, schedule_id: str) -> Path:
        return self.service.settings.home_path / "schedules" / schedule_id

    def create(self, *, notebook: str, cron: str, timezone: str = "UTC", name: str | None = None,
               parameters: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
               missed: str = "skip", max_concurrent: int = 1, now: float | None = None) -> Schedule:
        schedule = Schedule(id=f"cs-{secrets.token_hex(4)}", name="", notebook="", cron="", timezone="UTC", backend="")
        schedule = self._apply(schedule, dict(notebook=notebook, cron=cron, timezone=timezone, name=name,
                                              parameters=dict(parameters or {}), options=dict(options or {}),
                                              missed=missed, max_concurrent=max_concurrent), now)
        try:
            hosted = self._hosted(schedule)
            if hosted is None:
                self.store.add_schedule(schedule.to_dict())
                return schedule
            prepared = self._prepare(schedule)
            ref = schedule.backend_ref = hosted.create_schedule(schedule.to_dict(), prepared.spec, prepared.payload)
            _record(lambda: self.store.add_schedule(schedule.to_dict()), undo=lambda: hosted.delete_schedule(ref),
                    left=f"its Vertex AI schedule {ref} could not be deleted and fires with no record here: delete "
                         f"it with `gcloud colab schedules delete {ref}`")
        except BaseException:
            shutil.rmtree(self._dir(schedule.id), ignore_errors=True)
            raise
        return schedule

    def _apply(self, schedule: Schedule, changes: Mapping[str, Any], now: float | None) -> Schedule:
        """Validate the changed fields (all problems before anything is written) and return the new record."""
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise SpecError(f"cannot change {unknown}; editable: {list(EDITABLE)}")
        if isinstance(changes.get("options"), Mapping):  # a form saved as shown: its *** are the stored values
            changes = {**changes, "options": kept_secrets(changes["options"], schedule.options)}
        new = dataclasses.replace(schedule, **{k: v for k, v in changes.items() if v is not None})
        new.cron = validate_cron(new.cron)
        new.timezone = validate_timezone(new.timezone or "UTC")
        if new.missed not in MISSED_POLICIES:
            raise SpecError(f"--missed {new.missed!r} must be one of {', '.join(MISSED_POLICIES)}")
        try:
            new.max_concurrent = int(new.max_concurrent)
        except (TypeError, ValueError):
            raise SpecError(f"--max-concurrent {new.max_concurrent!r} is not a number") from None
        if not 1 <= new.max_concurrent <= 100:
            raise SpecError(f"--max-concurrent {new.max_concurrent} must be 1..100")
        if not isinstance(new.parameters, dict) or not isinstance(new.options, dict):
            raise SpecError("parameters and options must be JSON objects")
        options = options_from_mapping(new.options)
        new.backend = self.backend_for(schedule, options.backend)
        if "notebook" in changes and changes["notebook"]:
            source = Path(changes["notebook"]).expanduser().resolve()
            new.notebook = str(source)
            snapshot = self._dir(schedule.id) / source.name
            # every check, before the copy
            self.service.prepare_notebook(dataclasses.replace(options, backend=new.backend), source, new.parameters)
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, snapshot)
            new.snapshot = str(snapshot)
        else:
            self._prepare(new)
        new.name = (new.name or Path(new.notebook).stem).strip()
        if new.state == "ACTIVE":
            new.next_run_at = next_run(new.cron, new.timezone, now if now is not None else time.time())
        return new

    def backend_for(self, schedule: Schedule, asked: str | None) -> str:
        """The backend asked for, else the schedule's own (a changed default backend does not move it); an
        edit cannot move it to another one (see the module's docstring)."""
        backend = asked or schedule.backend or self.service.settings.default_backend
        if backend not in available_backends() or not self.service.backend(backend).capabilities["schedules"]:
            raise SpecError(f"schedules run notebooks locally or on the Workbench Executor, not on {backend!r}: "
                            "use --backend local or --backend executor")
        if schedule.backend and backend != schedule.backend:
            raise SpecError(f"schedule {schedule.id} runs on {schedule.backend} and an edit cannot move it to "
                            f"{backend}: delete it (`containerjob schedule delete {schedule.id}`) and create it "
                            f"again with --backend {backend}")
        return backend

    def _hosted(self, schedule: Schedule) -> HostedSchedules | None:
        """The schedule's backend when that backend's own service fires it (else Scheduler does)."""
        backend = self.service.backend(schedule.backend)
        return backend if isinstance(backend, HostedSchedules) else None

    def _prepare(self, schedule: Schedule) -> Prepared:
        options = options_from_mapping(schedule.options)
        options = dataclasses.replace(options, backend=schedule.backend, name=options.name or schedule.name or None)
        prepared = self.service.prepare_notebook(options, schedule.snapshot, schedule.parameters)
        prepared.spec.labels[LABEL] = schedule.id  # containerjob's own key: core/spec.py refuses it in --label
        return prepared

    def list(self) -> list[Schedule]:
        return [Schedule.from_dict(d) for d in self.store.list_schedules()]

    def get(self, schedule_id: str) -> Schedule:
        return Schedule.from_dict(self.store.get_schedule(schedule_id))

    def update(self, schedule_id: str, now: float | None = None, **changes: Any) -> Schedule:
        old = self.get(schedule_id)
        hosted = self._hosted(old)  # the edited schedule's too: _apply refuses another backend
        if hosted is None or not old.backend_ref:
            new = self._apply(old, changes, now)
            self.store.save_schedule(new.to_dict())
            return new
        restore = self._restorer(hosted, old)
        new = self._apply(old, changes, now)
        prepared = self._prepare(new)
        with _found(old):
            hosted.update_schedule(new.to_dict(), prepared.spec, prepared.payload)
        _record(lambda: self.store.save_schedule(new.to_dict()), undo=restore,
                left=f"its Vertex AI schedule {old.backend_ref} has the edit and this record does not: make the "
                     "same edit again")
        return new

    def _restorer(self, hosted: HostedSchedules, schedule: Schedule) -> Callable[[], None]:
        """What puts the hosted schedule back as this record has it, prepared now: before an edit replaces the
        snapshot, and so that undoing needs no disk (if even now it cannot be prepared, undoing says why)."""
        try:
            prepared = self._prepare(schedule)
        except ContainerJobError as exc:
            error = exc

            def cannot() -> None:
                raise error
            return cannot
        return lambda: hosted.update_schedule(schedule.to_dict(), prepared.spec, prepared.payload)

    def delete(self, schedule_id: str) -> None:
        """A Vertex AI schedule already gone (deleted in the console, or by a delete whose record removal
        failed) is what deleting wants: the record goes too. Any other failure keeps the record."""
        schedule = self.get(schedule_id)
        hosted = self._hosted(schedule)
        if hosted is not None and schedule.backend_ref:
            with suppress(ResourceGone):
                hosted.delete_schedule(schedule.backend_ref)
        self.store.delete_schedule(schedule_id)
        shutil.rmtree(self._dir(schedule_id), ignore_errors=True)

    def pause(self, schedule_id: str) -> Schedule:
        return self._set_state(schedule_id, "PAUSED", None)

    def resume(self, schedule_id: str, now: float | None = None) -> Schedule:
        """Runs missed while paused are not made up: the next run is the next cron time from now."""
        return self._set_state(schedule_id, "ACTIVE", now if now is not None else time.time())

    def _set_state(self, schedule_id: str, state: str, now: float | None) -> Schedule:
        old = self.get(schedule_id)
        new = dataclasses.replace(old, state=state, message=f"{state.lower()} at {iso(time.time())}",
                                  next_run_at=next_run(old.cron, old.timezone, now) if now is not None else None)
        hosted, ref = self._hosted(old), old.backend_ref
        if hosted is None or not ref:
            self.store.save_schedule(new.to_dict())
            return new
        with _found(old):
            hosted.set_schedule_state(ref, state)
        verb = "pause" if state == "PAUSED" else "resume"
        _record(lambda: self.store.save_schedule(new.to_dict()), undo=lambda: hosted.set_schedule_state(ref, old.state),
                left=f"its Vertex AI schedule {ref} is {state} and this record says {old.state}: run "
                     f"`containerjob schedule {verb} {old.id}` again")
        return new

    def run_now(self, schedule_id: str) -> JobRecord:
        """One extra run outside the cron times (it counts against max_concurrent like any run)."""
        schedule = self.get(schedule_id)
        active = self.active_runs(schedule.id)
        if active >= schedule.max_concurrent:
            raise SpecError(f"schedule {schedule.id} already has {active} run(s) active (max_concurrent "
                            f"{schedule.max_concurrent}); cancel one or raise --max-concurrent")
        return self.fire(schedule, time.time())

    def import_runs(self, schedule: Schedule) -> list[JobRecord]:
        """Runs the hosting backend fired for this schedule that the store does not know yet, added as jobs."""
        hosted = self._hosted(schedule)
        if hosted is None or not schedule.backend_ref:
            return []
        known = {r.backend_ref for r in self.store.list(backend=schedule.backend, limit=1_000_000)}
        adopted = []
        for run in hosted.list_schedule_runs(schedule.backend_ref):
            if run["name"] not in known:
                with suppress(AlreadyRecorded):  # another scheduler imported it since `known` was read
                    adopted.append(hosted.adopt_run(run, labels={LABEL: schedule.id}, origin=schedule.notebook))
        return adopted

    def active_runs(self, schedule_id: str, active: list[JobRecord] | None = None) -> int:
        """Unfinished runs of the schedule; `active` is an already refreshed list of unfinished jobs."""
        jobs = self.service.list(active_only=True, limit=1_000_000, refresh=self.refresh) if active is None else active
        return sum(1 for j in jobs if j.spec.labels.get(LABEL) == schedule_id)

    def fire(self, schedule: Schedule, now: float) -> JobRecord:
        """Start one run and note it on the schedule (a failure to start is noted too, then re-raised)."""
        try:
            record = self.service.submit(self._prepare(schedule), origin=schedule.notebook)
        except Exception as exc:
            self._note(schedule.id, last_run_at=now, message=f"run at {iso(now)} could not start: {exc}")
            raise
        self._note(schedule.id, last_run_at=now, last_job_id=record.id, message=f"started {record.id} at {iso(now)}")
        return record

    def _note(self, schedule_id: str, **changes: Any) -> None:
        """Record run bookkeeping without touching next_run_at (a concurrent firing claim owns that)."""
        data = self.store.get_schedule(schedule_id)
        data.update(changes)
        self.store.save_schedule(data, expect_next=data.get("next_run_at"))


def _record(write: Callable[[], object], *, undo: Callable[[], None], left: str) -> None:
    """Write the record of a remote change just made; if that fails, undo the remote change so the two agree.
    If the undo fails too, the error is the write's (the thing to fix) and says what was `left` behind."""
    try:
        write()
    except BaseException as exc:
        try:
            undo()
        except Exception as failed:  # noqa: BLE001 - reported with the write's own error
            ours = type(exc) if isinstance(exc, (SpecError, BackendError, BackendUnavailable)) else BackendError
            raise ours(f"{str(exc) or type(exc).__name__}; and {left} ({failed})") from exc
        raise


@contextmanager
def _found(schedule: Schedule) -> Iterator[None]:
    """A schedule whose Vertex AI side was deleted outside containerjob can only be deleted: say so."""
    try:
        yield
    except ResourceGone as exc:
        raise ResourceGone(f"{exc}; its Vertex AI schedule was deleted outside containerjob: delete this one too "
                           f"(`containerjob schedule delete {schedule.id}`) and create it again") from None
