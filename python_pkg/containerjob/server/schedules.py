"""Notebook schedules: create, list, edit, pause, resume, run now, delete (containerjob.scheduling)."""
from __future__ import annotations

import re
from typing import Any

import tornado.web

from ..core.errors import JobNotFound, SpecError
from ..core.options import changed
from ..scheduling import Schedules
from .base import ContainerJobHandler
from .bodies import checked_options, mapping, string, under_root
from .validation import SCHEDULE_FIELDS as FIELDS, check_schedule, checked_body

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
            options, problems = checked_options(changes["options"], "options", "notebook", self.ctx.root_dir)
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
        schedules = await self.blocking(self.schedules.list)
        self.reply({"schedules": [s.to_dict() for s in schedules]})

    @tornado.web.authenticated
    async def post(self) -> None:
        if await checked_body(self, check_schedule, FIELDS) is None:
            return
        fields = self.fields(required=("notebook", "cron"))
        schedule = await self.blocking(lambda: self.schedules.create(**fields))
        self.reply(schedule.to_dict(), 201)


class ValidateScheduleHandler(ScheduleBase):
    """`POST schedules/validate`: the checks of `POST schedules` alone, every problem at once; nothing is made."""

    @tornado.web.authenticated
    async def post(self) -> None:
        if await checked_body(self, check_schedule, FIELDS) is not None:
            self.reply({"errors": []})


class ScheduleHandler(ScheduleBase):
    @tornado.web.authenticated
    async def get(self, schedule_id: str) -> None:
        schedule = await self.blocking(self.schedules.get, self.schedule_id(schedule_id))
        self.reply(schedule.to_dict())

    @tornado.web.authenticated
    async def patch(self, schedule_id: str) -> None:
        schedule_id = self.schedule_id(schedule_id)
        fields = self.fields()
        schedule = await self.blocking(lambda: self.schedules.update(schedule_id, **fields))
        self.reply(schedule.to_dict())

    @tornado.web.authenticated
    async def delete(self, schedule_id: str) -> None:
        await self.blocking(self.schedules.delete, self.schedule_id(schedule_id))
        self.set_status(204)
        self.finish()


class PauseHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        self.json_body(())
        self.reply((await self.blocking(self.schedules.pause, self.schedule_id(schedule_id))).to_dict())


class ResumeHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        self.json_body(())
        self.reply((await self.blocking(self.schedules.resume, self.schedule_id(schedule_id))).to_dict())


class RunNowHandler(ScheduleBase):
    @tornado.web.authenticated
    async def post(self, schedule_id: str) -> None:
        self.json_body(())
        record = await self.blocking(self.schedules.run_now, self.schedule_id(schedule_id))
        self.ctx.watcher.watch(record)
        self.reply(record.to_dict(), 201)
