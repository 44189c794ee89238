"""One validation path for what a client sends: every problem of a job submission or a new schedule at once,
each naming its field, found by the checks the CLI and the magic run (the option table, core/spec.py through
the service, scheduling's cron and time zone). Nothing is written and no engine or network is asked; the
submit and create routes run it first, the validate routes only it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from ..core.custom_job_file import JobFile
from ..core.errors import SpecError
from ..core.options import Problem, RunOptions, changed, spec_problems
from ..core.spec import split_words
from ..scheduling import MISSED_POLICIES, Schedule, Schedules, validate_cron, validate_timezone
from ..service import JobService
from .base import ContainerJobHandler
from .bodies import checked_options, mapping, string, strings, under_root
from .customjob_files import read_config

KINDS = ("cell", "script", "notebook", "container")
T = TypeVar("T")


@dataclass
class Checked:
    """What a body's checks found: its problems, and the values that passed (confined to the root)."""

    problems: list[Problem] = field(default_factory=list)
    options: RunOptions = field(default_factory=RunOptions)
    path: Path | None = None  # a notebook's, absolute under the root
    job_file: JobFile | None = None  # a container job's CustomJob file (`config`)
    args: list[str] = field(default_factory=list)  # a container job's arguments, `args_text` split into words

    def run(self, name: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """`check(*args, **kwargs)`, its refusal recorded against field `name`."""
        try:
            return check(*args, **kwargs)
        except SpecError as exc:
            self.problems.append((name, str(exc)))
            return None

    def add(self, name: str, message: str) -> None:
        self.problems.append((name, message))


def check_job(service: JobService, root: Path, body: Mapping[str, Any]) -> Checked:
    """Every problem of a `POST jobs` body (its fields as JobsHandler reads them)."""
    found = Checked()
    kind = found.run("kind", string, body, "kind", required=True)
    if kind is not None and kind not in KINDS:
        found.add("kind", f"kind {kind!r} is not one of {', '.join(KINDS)}")
        kind = None
    found.run("origin", string, body, "origin")
    args = found.args = _args(found, body)
    config = found.run("config", string, body, "config")
    if kind == "container":
        for name in ("source", "path", "parameters"):
            if name in body:
                found.add(name, f"field {name!r} is not for kind container: it runs the image's program "
                                "(options.image, options.command) with 'args'")
        if config:
            found.job_file = found.run("config", read_config, root, config, service.settings.home_path)
    elif kind is not None:
        for name in ("args", "args_text", "config"):
            if name in body:
                found.add(name, f"field {name!r} is for kind container; a {kind} job takes none here")
        if kind == "notebook":
            if "source" in body:
                found.add("source", "field 'source' is for kind cell or script; a notebook run takes 'path'")
            _check_notebook(found, root, body, "path")
        else:
            for name in ("path", "parameters"):
                if name in body:
                    found.add(name, f"field {name!r} is for kind notebook; a {kind} takes 'source'")
            found.run("source", string, body, "source", required=True)
    found.options, problems = checked_options(body.get("options"), "options", kind, root,
                                                 service.settings.home_path)
    found.problems += problems
    if kind is not None:
        if kind == "container" and not (found.options.image or found.options.command or config):  # as prepare_container
            found.add("options.image", "a container job runs an image's own program: name the image (--image, "
                                       "options.image), or say what to run in the default image (--command, "
                                       "options.command)")
        problems = spec_problems(found.options, _spec_check(service, kind, args, found.job_file))
        found.problems += _from_file(problems, found.options, found.job_file)
    return found


def _args(found: Checked, body: Mapping[str, Any]) -> list[str]:
    """A container job's arguments: `args` as words, or `args_text` as a form's user typed them, split as the
    CLI splits --command (core/spec.split_words), so the browser keeps no shell-word parser of its own."""
    if "args" in body and "args_text" in body:
        found.add("args_text", "send either args (a list of words) or args_text (one line split as a shell "
                               "would), not both")
        return []
    text = found.run("args_text", string, body, "args_text")
    if text is not None:
        return found.run("args_text", split_words, text, "args_text", "args_text") or []
    return found.run("args", strings, body, "args") or []


def _from_file(problems: list[Problem], typed: RunOptions, job_file: JobFile | None) -> list[Problem]:
    """A refused option that the CustomJob file set and the request did not is the file's problem: the
    form shows it under `config`, not under an empty field."""
    if job_file is None:
        return problems
    given = changed(typed)
    return [("config" if name.startswith("options.") and name[8:] in job_file.options and name[8:] not in given
             else name, message) for name, message in problems]


SCHEDULE_FIELDS = ("name", "notebook", "cron", "timezone", "parameters", "options", "missed", "max_concurrent")


def check_schedule(service: JobService, root: Path, body: Mapping[str, Any],
                   schedule: Schedule | None = None) -> Checked:
    """Every problem of a `POST schedules` body: its fields, the notebook and its parameters, and its run
    options as the notebook job each firing starts. With `schedule`, of a `PATCH` of it: every field may be
    left out, parameters without a notebook are checked against its snapshot, and its backend stays."""
    found = Checked()
    for name in ("name", "missed"):
        found.run(name, string, body, name)
    cron = found.run("cron", string, body, "cron", required=schedule is None)
    if cron is not None:
        found.run("cron", validate_cron, cron)
    timezone = found.run("timezone", string, body, "timezone")
    if schedule is None or timezone is not None:
        found.run("timezone", validate_timezone, timezone or "UTC")
    missed = body.get("missed")
    if isinstance(missed, str) and missed not in MISSED_POLICIES:
        found.add("missed", f"--missed {missed!r} must be one of {', '.join(MISSED_POLICIES)}")
    count = body.get("max_concurrent")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        found.add("max_concurrent", f"field 'max_concurrent' must be a whole number, not {count!r}")
    elif count is not None and not 1 <= count <= 100:
        found.add("max_concurrent", f"--max-concurrent {count} must be 1..100")
    snapshot = Path(schedule.snapshot) if schedule is not None and schedule.snapshot else None
    _check_notebook(found, root, body, "notebook", kept=snapshot if "notebook" not in body else None,
                    required=schedule is None)
    found.options, problems = checked_options(body.get("options"), "options", "notebook", root,
                                                 service.settings.home_path)
    found.problems += problems
    # The backend the schedule gets or keeps, refused unless it runs schedules (Schedules.backend_for's rule).
    blank = Schedule(id="", name="", notebook="", cron="", timezone="UTC", backend="")
    backend = found.run("options.backend", Schedules(service, refresh=False).backend_for, schedule or blank,
                        found.options.backend)
    if backend is not None:
        options = dataclasses.replace(found.options, backend=backend)
        found.problems += spec_problems(options, _spec_check(service, "notebook", [], None))
    return found


def _spec_check(service: JobService, kind: str, args: list[str],
                job_file: JobFile | None) -> Callable[[RunOptions], object]:
    """What every prepare_* checks before it writes a payload: the kind's options under the CustomJob file
    if any, the spec (core/spec.py) and whether the backend runs this kind (JobService.spec_for)."""
    return lambda options: service.spec_for(options, kind, job_file, args)


def _check_notebook(found: Checked, root: Path, body: Mapping[str, Any], name: str, *,
                    kept: Path | None = None, required: bool = True) -> None:
    """The notebook a body names (`path` of a job, `notebook` of a schedule) and its `parameters`; with
    `kept` (an edit that keeps a schedule's snapshot), the parameters are checked against that file."""
    from ..core import notebook

    parameters = found.run("parameters", mapping, body, "parameters")
    if kept is not None:
        path = kept if parameters is not None else None
    else:
        text = found.run(name, string, body, name, required=required)
        path = found.path = found.run(name, under_root, root, text, name) if text is not None else None
    nb = found.run(name, notebook.read_notebook, path) if path else None
    if nb is not None and path:
        found.run("parameters", notebook.validate_parameters, notebook.inspect_parameters(nb), parameters or {},
                  path.name)


async def checked_body(handler: ContainerJobHandler, check: Callable[..., Checked],
                       fields: tuple[str, ...]) -> tuple[dict[str, Any], Checked] | None:
    """The request's body and what `check` (check_job, check_schedule) found in it; None once a 400 naming
    every problem was sent (the create routes and the validate routes alike)."""
    body = await handler.blocking(handler.json_body, fields)
    checked = await handler.blocking(check, handler.service, handler.ctx.root_dir, body)
    if checked.problems:
        refuse(handler, checked.problems)
        return None
    return body, checked


def refuse(handler: ContainerJobHandler, problems: list[Problem]) -> None:
    """Answer 400 with the usual `{error, message}` (every message, on one line) and `errors`: one entry a
    problem, naming its field, so a form shows each next to its field."""
    message = "; ".join(" ".join(text.split()) for _, text in problems)
    handler.log.warning("containerjob %s: SpecError: %s", handler.request.method + " " + handler.request.path,
                        message)
    public = handler.ctx.public
    handler.reply({"error": "SpecError", "message": public(message),
                   "errors": [{"field": name, "message": public(text)} for name, text in problems]}, 400)
