"""`%%containerjob` runs the cell in a container; `%containerjob CMD` manages jobs."""
from __future__ import annotations

import json
import os
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split
from traitlets import CaselessStrEnum

from ..config_traits import ContainerJobConfig
from ..core.display_lines import plain_log
from ..core.errors import ContainerJobError, JobFailed, SpecError
from ..core.models import JobStatus
from ..core.names import analyse, parse_cell, runner_provides
from ..core.options import argparse_arguments, for_kind, options_from_args, parse_exact
from ..core.remote_error import raise_in_source
from ..core.report import job_details, jobs_table, outputs_line, status_line
from ..core.results import signing_key
from ..service import JobService
from .display import make_view
from .ipython_lines import ipython_lines
from .quiet_errors import Interrupted, JobCancelled, hide_cell_frame
from .sweep import run_cell_sweep

COMMANDS = ("list", "status", "logs", "cancel", "fetch", "sync", "gc", "run", "run-notebook", "wait", "export",
            "outputs", "schedule")
CLI_COMMANDS = ("run", "run-notebook", "wait", "export", "outputs", "schedule")  # the command line's, as they are


def run_option_arguments(func):
    """The run options of a cell (core/option_table.py) as `@argument`s, in table order in the help."""
    for option in reversed(for_kind("cell")):  # IPython adds them in the reverse order of decoration
        args, kwargs = argparse_arguments(option)
        func = argument(*args, **kwargs)(func)
    return func


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise UsageError(f"not variable names: {', '.join(bad)}; write --in a,b or --out x,y")
    return names


@magics_class
class ContainerJob(Magics, ContainerJobConfig):
    """The magics; the class name is the traitlets config section (`%config ContainerJob.default_image = ...`),
    the settings' traits (ContainerJobConfig) shared with the server's `c.ContainerJob`."""

    display_mode = CaselessStrEnum(["auto", "widgets", "text"], "auto",
                                   help="Live view: widgets in JupyterLab, text in papermill/nbconvert.").tag(config=True)

    def __init__(self, shell=None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._service: JobService | None = None

    @property
    def service(self) -> JobService:
        """Built per use so %config changes apply at once; the store connection is reused."""
        try:
            settings = self.load_settings()
        except ContainerJobError as exc:
            raise UsageError(str(exc)) from None
        if self._service is None or self._service.settings != settings:
            store = self._service.store if self._service and self._service.settings.home == settings.home else None
            self._service = JobService(settings, store)
        return self._service

    @magic_arguments()
    @argument("--in", dest="inputs", metavar="A,B", help="variables to send (default: names the cell reads)")
    @argument("--out", dest="outputs", metavar="X,Y", help="variables to bring back (default: names the cell assigns)")
    @run_option_arguments
    @argument("--on-interrupt", choices=["ask", "cancel", "detach"], default="ask",
              help="Vertex AI jobs: what Kernel > Interrupt does (ask; local jobs are always cancelled)")
    @argument("--detach", action="store_true", help="return at once; see %%containerjob status/logs/fetch ID")
    @argument("--dry-run", action="store_true", help="print the exact container spec and run nothing")
    @line_cell_magic
    def containerjob(self, line: str, cell: str | None = None):
        """Run this cell in a container (local Docker engine) and bring its variables back.

        Cell magic::

            %%containerjob --image python:3.11-slim --gpus all --env SEED=1
            import platform
            result = sum(data) * 2
            print(platform.node())

        Cloud Storage appears at /gcs/BUCKET/... as on Vertex AI: `--mount gs://BUCKET/PREFIX`
        downloads the prefix before the run and uploads changes after it (sync mode, the default);
        `:fuse` mounts it live with gcsfuse or rclone instead.

        Variables the cell reads (here `data`) are sent with cloudpickle; variables it assigns
        (here `result`) come back into the kernel. A trailing expression is the cell's value.
        Ctrl-C / Kernel > Interrupt stops and removes the container and marks the job cancelled.

        Line commands::

            %containerjob list [--all]    jobs on this machine, newest first
            %containerjob status ID       one job's record (refreshed from the backend)
            %containerjob logs ID         its logs (live while it runs)
            %containerjob cancel ID       stop it and remove its container
            %containerjob fetch ID        bring a finished detached job's variables back
            %containerjob sync ID         retry the upload of a job's sync-mode /gcs stage
            %containerjob gc [--older-than DAYS]   remove leftovers (containers, payloads, old jobs)
            %containerjob run --image IMG [--command 'PROG ARG...'] [-- ARGS]   a container job
            %containerjob run --config job.yaml | run train.py [-- ARGS]        a CustomJob file, a script
            %containerjob wait ID [ID...]  until the jobs end (fails when one did)
            %containerjob export ID       a container job as a CustomJob file
            %containerjob run-notebook NB.ipynb [-p NAME VALUE]... [--backend local|executor] [options]
            %containerjob outputs ID      files kept for a job (executed notebook, files it wrote)
            %containerjob schedule create NB.ipynb --cron '0 3 * * *' [--timezone Europe/Paris] ...
            %containerjob schedule list | show | pause | resume | run | edit | delete ID

        `containerjob COMMAND --help` in a terminal lists every option of these commands.
        """
        __tracebackhide__ = True
        if cell is None:
            return self._command(line)
        try:
            args = parse_exact(self.containerjob.parser, arg_split(line), "%%containerjob?")
        except ValueError as exc:  # shlex: an unbalanced quote
            raise UsageError(f"cannot read the options {line!r}: {exc}; balance the quotes") from None
        try:
            return self._run_cell(args, cell)
        except (SpecError, ContainerJobError) as exc:
            if isinstance(exc, JobFailed):
                raise
            raise UsageError(str(exc)) from None

    def _run_cell(self, args, cell: str):
        __tracebackhide__ = True
        if args.sweep or args.sweep_file:  # the cell once per combination (magics/sweep.py)
            return run_cell_sweep(self, args, cell, _names(args.inputs), _names(args.outputs))
        service = self.service
        filename = "<containerjob cell>"
        source = ipython_lines(cell)  # !cmd lines -> the runner's shell call, same line numbers; %magic refused
        tree = parse_cell(source, filename)
        names = analyse(source, tree, filename)
        user_ns = self.shell.user_ns
        hidden = getattr(self.shell, "user_ns_hidden", {})
        inputs = _names(args.inputs)
        if inputs is None:
            inputs = [n for n in names.reads if n in user_ns and n not in hidden and not n.startswith("_")
                      and not runner_provides(n, user_ns[n])]  # display: the runner's own, not the kernel's
        outputs = _names(args.outputs)
        if outputs is None:
            outputs = [n for n in names.assigns if not n.startswith("_")]
        options = options_from_args(args)
        prepared = service.prepare(options, source, kind="cell", filename=filename, namespace=user_ns,
                                   inputs=inputs, outputs=outputs)
        sending = prepared.describe(local=service.backend(prepared.spec.backend).traits.runs_locally)
        if args.dry_run:
            print(sending)
            print(json.dumps(service.dry_run(prepared, origin=self._origin()), indent=2))
            return None
        view = make_view(self.display_mode, service.settings.log_buffer_lines)
        view.status(f"preparing · {sending}")
        # announced once recorded (the one status from here on: the chip in a front end, text lines elsewhere):
        # a job whose start fails is still listed under this notebook's cell
        record = service.submit(prepared, origin=self._origin(), notify=view.status, on_created=view.announce)
        view.job = record.id
        # displays that travel through Cloud Logging are signed with the job's key, as its results are
        view.key = signing_key(service.settings.home_path, record.id) if service.backend(record.backend).signs_results \
            else None
        if args.detach:
            view.close()
            print(f"submitted {record.id}; follow it with %containerjob status/logs/fetch {record.id}")
            return None
        run = service.run(record)
        try:
            view.status(status_line(record))
            record = run.follow(view.output, on_interrupt=lambda job: job.interrupt(
                args.on_interrupt, lambda: self._cancel_remote(record.id)))  # a local job is always cancelled
        except KeyboardInterrupt:
            if run.detached:
                view.close()
                raise Interrupted(f"detached: {record.id} keeps running on {record.backend}; "
                                  f"%containerjob status/logs/fetch/cancel {record.id}") from None
            view.ended(run.record, " (stopped)")
            view.close()
            raise Interrupted(f"job {record.id} cancelled and its container removed; nothing came back") from None
        view.ended(record)
        view.close()
        return self._collect(record, cell)

    def _cancel_remote(self, job_id: str) -> bool:
        """--on-interrupt ask: a yes/no prompt where the front end has stdin; papermill has none, so cancel."""
        from IPython.core.error import StdinNotImplementedError

        try:
            answer = self.shell.ask_yes_no(f"cancel {job_id} on Vertex AI? (no = detach, it keeps running)", default="n")
        except (StdinNotImplementedError, EOFError):
            return True
        return bool(answer)

    def _collect(self, record, source: str):
        __tracebackhide__ = True
        service = self.service
        result = service.values(record)  # this kernel asked for them: the one place values are unpickled
        if result.error:
            hide_cell_frame(self.shell)
            raise_in_source(result.error, result.remote_exception, source,
                            note=f"raised in container job {record.id} ({record.image}); logs: %containerjob logs {record.id}")
        if record.status is JobStatus.CANCELLED:
            raise JobCancelled(f"job {record.id} was cancelled ({record.message}); nothing came back",
                               job_id=record.id, exit_code=record.exit_code)
        service.raise_for_failure(record, result)
        self.shell.user_ns.update(result.values)
        print(outputs_line(result))
        if result.last is not None:
            return result.last_value if result.last_value is not None else _Repr(result.last["repr"])
        return None

    def _origin(self) -> str:
        return os.environ.get("JPY_SESSION_NAME", "")

    # -- line commands -------------------------------------------------------------------------------
    def _command(self, line: str):
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot parse {line!r}: {exc}") from None
        if not words or words[0] not in COMMANDS:
            raise UsageError(f"%containerjob needs a command: {' | '.join(COMMANDS)} (or use %%containerjob on a cell)")
        command, rest = words[0], words[1:]
        try:
            if command in CLI_COMMANDS:
                return self._cli([command, *rest])
            return getattr(self, f"_cmd_{command}")(rest)
        except ContainerJobError as exc:
            raise UsageError(str(exc)) from None

    def _cli(self, argv: list[str]) -> None:
        """The command line's own commands, same options and errors; output goes to the cell."""
        from .. import cli

        try:
            args = cli.parse(argv)
        except SystemExit:  # --help was printed
            return None
        if cli.dispatch(self.service, args) != 0:
            raise UsageError(f"containerjob {' '.join(argv[:2])} did not succeed; see the output above")
        return None

    def _one_id(self, command: str, rest: list[str]) -> str:
        if len(rest) != 1:
            raise UsageError(f"usage: %containerjob {command} JOB_ID")
        return rest[0]

    def _cmd_list(self, rest: list[str]) -> None:
        if rest not in ([], ["--all"]):
            raise UsageError("usage: %containerjob list [--all]")
        print(jobs_table(self.service.list(limit=1_000_000 if rest else 20)))

    def _cmd_status(self, rest: list[str]) -> None:
        print(job_details(self.service.get(self._one_id("status", rest))))

    def _cmd_logs(self, rest: list[str]) -> None:
        for chunk in plain_log(self.service.logs(self._one_id("logs", rest), follow=False)):
            print(chunk, end="")

    def _cmd_cancel(self, rest: list[str]) -> None:
        print(status_line(self.service.cancel(self._one_id("cancel", rest))))

    def _cmd_fetch(self, rest: list[str]):
        """What the cell would have shown and set had the kernel stayed: the job's log, then its values."""
        __tracebackhide__ = True
        record = self.service.get(self._one_id("fetch", rest))
        if not record.status.is_final:
            raise UsageError(f"job {record.id} is still {record.status.value}; wait, or %containerjob logs {record.id}")
        view = make_view(self.display_mode, self.service.settings.log_buffer_lines)
        view.job = record.id  # the same view a followed cell has: its figures and tables come back as such
        view.key = signing_key(self.service.settings.home_path, record.id) \
            if self.service.backend(record.backend).signs_results else None
        for chunk in self.service.logs(record.id, follow=False):
            view.output(chunk)
        view.status(status_line(record))
        view.close()
        source_file = f"{self.service.settings.home}/payloads/{record.spec.payload}/source.py"
        try:
            source = open(source_file, encoding="utf-8").read()
        except OSError:
            source = ""
        return self._collect(record, source)

    def _cmd_sync(self, rest: list[str]) -> None:
        print(self.service.sync(self._one_id("sync", rest)) or "nothing to upload")

    def _cmd_gc(self, rest: list[str]) -> None:
        days = None
        if rest:
            if len(rest) != 2 or rest[0] != "--older-than":
                raise UsageError("usage: %containerjob gc [--older-than DAYS]")
            try:
                days = float(rest[1])
            except ValueError:
                raise UsageError(f"--older-than {rest[1]!r} is not a number of days") from None
        print(self.service.gc(older_than_days=days).describe())


class _Repr:
    """Shows a remote value that could not travel back by its repr."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
