"""Jobs: list, submit (then followed in the background), inspect, cancel, delete.

Reads serve the store: listing and inspecting never ask an engine and never finalise (the server's watcher
does, for every unfinished job), so a list costs the same with many jobs running as with none."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tornado.web

from ..backends.base import WARNINGS
from ..core.models import JobRecord
from ..core.results import restorable
from ..core.spec import join_words
from ..core.spec_words import options_text
from ..scheduling import LABEL
from .base import ContainerJobHandler
from .validation import check_job, checked_body

SUBMIT_FIELDS = ("kind", "source", "path", "parameters", "options", "origin", "args", "args_text", "config")


def job_json(record: JobRecord) -> dict[str, Any]:
    """A job as the routes send it: its record, and its chief's command and args as one line each, joined
    here as the CLI's --command splits them (shlex), so that a page shows them without quoting words itself
    and a user can paste them back into the form's Command and Arguments."""
    data = record.to_dict()
    pool = record.spec.worker_pools[0] if record.spec.worker_pools else None
    data["command_text"] = join_words(pool.command) if pool else None
    data["args_text"] = join_words(pool.args) if pool else None
    data["restorable"] = restorable(record.spec.kind, record.status.value, record.job_dir)
    data["options_text"] = options_text(record.spec, record.spec.kind)
    return data


MAX_CODE_CHARS = 200_000  # a job page shows a cell's code; a longer one is cut there (the payload keeps it all)


def cell_code(home: Path, record: JobRecord) -> str | None:
    """A cell job's code as its payload keeps it (the cell without its %%containerjob line), for its page; None
    for other kinds, or when the payload is gone (`containerjob gc`)."""
    name = record.spec.payload
    if record.spec.kind != "cell" or not name or "/" in name or name.startswith("."):
        return None
    try:
        with open(home / "payloads" / name / "source.py", encoding="utf-8", errors="replace") as fh:
            return fh.read(MAX_CODE_CHARS)
    except OSError:
        return None


class JobsHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit = self.int_argument("limit", 50, 1, 1000)
        offset = self.int_argument("offset", 0, 0, 10**9)
        filters = {k: self.get_query_argument(k, "") or None for k in ("status", "backend")}
        origin = self.get_query_argument("origin", "")
        schedule = self.get_query_argument("schedule", "")  # that schedule's runs (scheduling.LABEL)
        if schedule:
            filters["labels"] = {LABEL: schedule}
        records = await self.blocking(self._list, limit, offset, origin, filters)
        self.reply({"jobs": [job_json(r) for r in records], "limit": limit, "offset": offset})

    def _list(self, limit: int, offset: int, origin: str, filters: dict[str, Any]) -> list[JobRecord]:
        return self.service.list(refresh=False, limit=limit, offset=offset, origin=origin or None, **filters)

    @tornado.web.authenticated
    async def post(self) -> None:
        found = await checked_body(self, check_job, SUBMIT_FIELDS)
        if found is None:
            return
        body, checked = found
        kind, options, origin = body["kind"], checked.options, body.get("origin") or ""
        if kind == "container":
            prepared = await self.blocking(self.service.prepare_container, options, checked.args,
                                           checked.job_file)
            origin = origin or body.get("config") or ""
        elif kind == "notebook":
            prepared = await self.blocking(self.service.prepare_notebook, options, str(checked.path),
                                           body.get("parameters"))
            origin = origin or body["path"]
        else:
            filename = "<containerjob cell>" if kind == "cell" else os.path.basename(origin) or "script.py"
            prepared = await self.blocking(self.service.prepare, options, body["source"], kind=kind,
                                           filename=filename)
        said: list[str] = []  # the backend's notes as it submits; the warnings among them go back to the caller
        record = await self.blocking(self.service.submit, prepared, origin=origin, notify=said.append)
        self.ctx.watcher.watch(record)
        self.reply({**job_json(record), "warnings": [line for line in said if line.startswith(WARNINGS)]}, 201)


class ValidateJobHandler(ContainerJobHandler):
    """`POST jobs/validate`: the checks of `POST jobs` alone, every problem at once; nothing runs."""

    @tornado.web.authenticated
    async def post(self) -> None:
        if await checked_body(self, check_job, SUBMIT_FIELDS) is not None:
            self.reply({"errors": []})


class JobHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        record = await self.blocking(self.service.get, self.job_id(job_id), refresh=False)
        code = await self.blocking(cell_code, self.service.settings.home_path, record)
        self.reply({**job_json(record), "code": code})

    @tornado.web.authenticated
    async def delete(self, job_id: str) -> None:
        await self.blocking(self.service.delete, self.job_id(job_id))  # cancels a running job first
        self.set_status(204)
        self.finish()


class CancelHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def post(self, job_id: str) -> None:
        await self.blocking(self.json_body, ())
        record = await self.blocking(self.service.cancel, self.job_id(job_id))
        self.reply(job_json(record))


class ReplicasHandler(ContainerJobHandler):
    """`GET jobs/{id}/replicas`: each replica and its state as the backend last kept it (a file, no engine)."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        states = await self.blocking(self._states, self.job_id(job_id))
        self.reply({"replicas": states})

    def _states(self, job_id: str) -> list:
        record = self.service.get(job_id, refresh=False)
        return self.service.backend(record.backend).replicas(record)
