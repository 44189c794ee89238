"""Notebook schedules: create, list, edit, pause, resume, run now, delete (containerjob.scheduling), and
the preview of a cron as typed (containerjob.schedule_preview)."""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import tornado.web

from ..core.errors import JobNotFound, SpecError
from ..core.options import changed
from ..schedule_preview import describe, preview
from ..scheduling import Schedule, Schedules, validate_cron, validate_timezone
from .base import ContainerJobHandler
from .bodies import checked_options, mapping, string, under_root
from .jobs import job_json
from .validation import SCHEDULE_FIELDS as FIELDS, Checked, check_schedule, checked_body, refuse

_SCHEDULE_ID_RE = re.compile(r"^cs-[0-9a-f]{8,32}$")


class ScheduleBase(ContainerJobHandler):
    @property
    def schedules(self) -> Schedules:
        return Schedules(self.service, refresh=False)

    @staticmethod
    def schedule_id(value: str) -> str:
        if not _SCHEDULE_ID_RE.match(value):
            raise JobNotFound(f"{value!r} is not a schedule ID (they look like cs-1a2b3c4d); list them with GET schedules")
        return value

    def view(self, schedule: Schedule) -> dict[str, Any]:
        """The record as every reply gives it, with its cron in words and its notebook's path relative to
        the root (what the sidebar's edit form asks parameters of; null when outside it)."""
        notebook, root = Path(schedule.notebook), self.ctx.root_dir
        path = notebook.relative_to(root).as_posix() if notebook.is_absolute() and notebook.is_relative_to(root) \
            else None
        return {**schedule.shown(), "description": describe(schedule.cron), "path": path}

    async def checked_edit(self, schedule_id: str) -> bool:
        """Whether the body is a valid edit of the schedule; if not, the 400 naming every problem was sent."""
        schedule = await self.blocking(self.schedules.get, schedule_id)
        return await checked_body(self, functools.partial(check_schedule, schedule=schedule), FIELDS) is not None

    def fields(self, *, required: tuple[str, ...] = ()) -> dict[str, Any]:
        """The body's schedule fields, type-checked; the notebook path becomes absolute under the root dir."""
        body = self.json_body(FIELDS)
        changes: dict[str, Any] = {}
        for name in ("name", "notebook", "cron", "timezone", "missed"):
            value = string(body, name, required=name in required)
            if value is not None:
                changes[name] = value
        for name in ("parameters", "options"):
            value = mapping(body, name)
            if value is not None:
                changes[name] = value
        if "options" in changes:
            options, problems = checked_options(changes["options"], "options", "notebook", self.ctx.root_dir,
                                                self.service.settings.home_path)
            if problems:
                raise SpecError(problems[0][1])
            changes["options"] = changed(options)  # typed as the table says (90 -> "90"), defaults left out
        if body.get("max_concurrent") is not None:
            value = body["max_concurrent"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecError(f"field 'max_concurrent' must be a whole number, not {value!r}")
            changes["max_concurrent"] = value
        if "notebook" in changes:
            changes["notebook"] = str(under_root(self.ctx.root_dir, changes["notebook"], "notebook"))
        return changes


class SchedulesHandler(ScheduleBase):
    @tornado.web.authenticated
    async def get(self) -> None:
        views = await self.blocking(lambda: [self.view(s) for s in self.schedules.list()])  # describe(): CPU
        self.reply({"schedules": views})

    @tornado.web.authenticated
    async def post(self) -> None:
        if await checked_body(self, check_schedule, FIELDS) is None:
            return
        fields = self.fields(required=("notebook", "cron"))
        schedule = await self.blocking(lambda: self.schedules.create(**fields))
        self.reply(self.view(schedule), 201)


class ValidateScheduleHandler(ScheduleBase):
    """`POST schedules/validate`: the checks of `POST schedules` alone, every problem at once; nothing is made."""

    @tornado.web.authenticated
    async def post(self) -> None:
        if await checked_body(self, check_schedule, FIELDS) is not None:
            self.reply({"errors": []})


class PreviewScheduleHandler(ScheduleBase):
    """`GET schedules/preview?cron=&timezone=&count=`: the cron in words and its next run times, as the
    scheduler will fire them; a bad cron or time zone is a 400 naming its field, as in `schedules/validate`."""

    @tornado.web.authenticated
    async def get(self) -> None:
        cron, timezone = self.get_query_argument("cron", ""), self.get_query_argument("timezone", "") or "UTC"
        count = self.int_argument("count", 3, 1, 10)
        found, answer = await self.blocking(self._preview, cron, timezone, count)  # croniter's work: off the loop
        if found.problems:
            refuse(self, found.problems)
            return
        self.reply(answer)

    @staticmethod
    def _preview(cron: str, timezone: str, count: int) -> tuple[Checked, dict[str, Any] | None]:
        """Every problem of the cron and the time zone, or nothing and the preview."""
        found = Checked()
        found.run("cron", validate_cron, cron)
        found.run("timezone", validate_timezone, timezone)
        return found, None if found.problems else preview(cron, timezone, count=count)


class ValidateEditHandler(ScheduleBase):
    """`POST schedules/{id}/validate`: the checks of `PATCH schedules/{id}` alone; nothing changes."""

    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        if await self.checked_edit(self.schedule_id(schedule_id)):
            self.reply({"errors": []})


class ScheduleHandler(ScheduleBase):
    @tornado.web.authenticated
    async def get(self, schedule_id: str) -> None:
        schedule = await self.blocking(self.schedules.get, self.schedule_id(schedule_id))
        self.reply(self.view(schedule))

    @tornado.web.authenticated
    async def patch(self, schedule_id: str) -> None:
        schedule_id = self.schedule_id(schedule_id)
        if not await self.checked_edit(schedule_id):
            return
        fields = self.fields()
        schedule = await self.blocking(lambda: self.schedules.update(schedule_id, **fields))
        self.reply(self.view(schedule))

    @tornado.web.authenticated
    async def delete(self, schedule_id: str) -> None:
        await self.blocking(self.schedules.delete, self.schedule_id(schedule_id))
        self.set_status(204)
        self.finish()


class PauseHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        await self.blocking(self.json_body, ())
        self.reply(self.view(await self.blocking(self.schedules.pause, self.schedule_id(schedule_id))))


class ResumeHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        await self.blocking(self.json_body, ())
        self.reply(self.view(await self.blocking(self.schedules.resume, self.schedule_id(schedule_id))))


class RunNowHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        await self.blocking(self.json_body, ())
        record = await self.blocking(self.schedules.run_now, self.schedule_id(schedule_id))
        self.ctx.watcher.watch(record)
        self.reply(job_json(record), 201)
