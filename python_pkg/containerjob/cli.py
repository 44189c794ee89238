"""`containerjob` command line: the magic's features for terminals and CI, same semantics and errors."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from .cli_options import add_notebook_arguments, add_run_options, notebook_parameters
from .cli_schedule import COMMANDS as SCHEDULE_COMMANDS, add_schedule_commands
from .cli_sweep import run_sweep_command
from .core.custom_job_file import read_job_file
from .core.display_lines import plain_log
from .core.errors import BackendError, BackendUnavailable, ContainerJobError, JobNotFound, MountError, SpecError
from .core.exit_status import exit_status
from .core.options import options_from_args, parse_exact
from .core.report import job_details, jobs_table, status_line
from .core.spec import parse_timeout
from .service import JobService

EXIT_USAGE, EXIT_NOT_FOUND, EXIT_BACKEND, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 3, 4, 130, 141


class _Parser(argparse.ArgumentParser):
    """Raises SpecError instead of exiting, so the magic can reuse the commands (main() prints and exits 2)."""

    def error(self, message: str):
        raise SpecError(f"{message}\n{self.format_usage().strip()}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="containerjob", description="Run Python in containers, locally or on Vertex AI.")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run a Python file, or an image's own program, in a container and stream "
                                     "its output")
    run.add_argument("file", nargs="?", help="the Python file to run; without one, a container job runs the image's "
                                             "ENTRYPOINT or --command. Arguments for either go after --")
    add_run_options(run, "script", "container")
    run.add_argument("--workdir", metavar="DIR", help="the folder that travels with the file and that it runs in "
                                                    "(default: the file's folder; what git ignores stays home, "
                                                    "and so do secrets such as .env: see --include)")
    run.add_argument("--config", metavar="FILE", help="a CustomJob file (YAML or JSON, as `gcloud ai custom-jobs "
                                                     "create --config` takes): the job's worker pool; flags override it")
    run.add_argument("--detach", action="store_true", help="print the job ID and return at once")
    run.add_argument("--dry-run", action="store_true", help="print the exact container spec and run nothing")
    nb = sub.add_parser("run-notebook", help="run a whole notebook (papermill-style parameters) as a job")
    add_notebook_arguments(nb)
    add_run_options(nb, "notebook")
    nb.add_argument("--detach", action="store_true", help="print the job ID and return at once")
    nb.add_argument("--dry-run", action="store_true", help="print the exact request and run nothing")
    export = sub.add_parser("export", help="a job as a CustomJob file that `run --config` (and gcloud) accepts")
    export.add_argument("job_id")
    export.add_argument("--format", choices=["spec", "job"], default="spec",
                        help="spec: a CustomJobSpec, what `gcloud ai custom-jobs create --config` reads (default); "
                             "job: the whole CustomJob (displayName, jobSpec, labels), for the REST API")
    export.add_argument("--json", action="store_true", help="JSON instead of YAML")
    outputs = sub.add_parser("outputs", help="files kept for a job (executed notebook, files it wrote, logs)")
    outputs.add_argument("job_id")
    outputs.add_argument("--json", action="store_true")
    add_schedule_commands(sub)
    lst = sub.add_parser("list", help="jobs, newest first")
    lst.add_argument("--all", action="store_true", help="every job, not only the latest 20")
    lst.add_argument("--status")
    lst.add_argument("--json", action="store_true")
    for name, text in (("status", "one job's record"), ("cancel", "stop a job and remove its container"),
                       ("sync", "retry the upload of a job's sync-mode /gcs stage")):
        p = sub.add_parser(name, help=text)
        p.add_argument("job_id")
    logs = sub.add_parser("logs", help="a job's logs")
    logs.add_argument("job_id")
    logs.add_argument("-f", "--follow", action="store_true", help="keep streaming while the job runs, then exit "
                                                                    "with the job's exit status (as `wait`)")
    wait = sub.add_parser("wait", help="wait for jobs to end; exit with the first failing job's exit status "
                                       "(its own code; 143 cancelled, 69 lost, 75 expired, 124 timed out)")
    wait.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    wait.add_argument("--timeout", metavar="DURATION", help="give up after this long (90, 10m, 2h): exit 124")
    gc = sub.add_parser("gc", help="remove leftover containers, unused payloads and, optionally, old jobs")
    gc.add_argument("--older-than", type=float, metavar="DAYS")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(argv)
        return dispatch(JobService(), args)
    except KeyboardInterrupt:
        print("containerjob: interrupted; the job was cancelled and its container removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `containerjob run x.py | head`: the job was cancelled, exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except SpecError as exc:
        return _fail(exc, EXIT_USAGE)
    except JobNotFound as exc:
        return _fail(exc, EXIT_NOT_FOUND)
    except (BackendUnavailable, BackendError, MountError) as exc:
        return _fail(exc, EXIT_BACKEND)
    except ContainerJobError as exc:
        return _fail(exc, 1)


def parse(argv: list[str]) -> argparse.Namespace:
    """Arguments of one command (the magic's `%containerjob run ...` goes through here too); everything after
    `--` belongs to the job (containerSpec.args), never to us."""
    rest: list[str] = []
    if "--" in argv:
        argv, rest = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    args = parse_exact(_parser(), argv)
    args.args = rest
    return args


def dispatch(service: JobService, args: argparse.Namespace) -> int:
    return {**_COMMANDS, **SCHEDULE_COMMANDS}[args.subcommand](service, args)


def _fail(exc: Exception, code: int) -> int:
    print(f"containerjob: error: {exc}", file=sys.stderr)
    return code


def _run(service: JobService, args: argparse.Namespace) -> int:
    if args.sweep or args.sweep_file:  # once per combination (cli_sweep.py)
        return run_sweep_command(service, args)
    job_file = read_job_file(args.config) if args.config else None
    if args.file:
        prepared = service.prepare_script(options_from_args(args), args.file, workdir=args.workdir, argv=args.args,
                                          job_file=job_file)
        origin = os.path.abspath(args.file)
    else:
        if args.workdir:
            raise SpecError("--workdir is the folder a Python file runs in; a container job runs in its image's "
                            "own WORKDIR: leave it out, or give the Python file")
        if not (args.image or args.command or job_file):
            raise SpecError("give a Python file to run, or run a container: containerjob run --image IMAGE "
                            "[--command 'PROG ARG...'] [-- ARGS...], or containerjob run --config FILE")
        prepared = service.prepare_container(options_from_args(args), args.args, job_file)
        origin = ""
    if args.dry_run:
        print(json.dumps(service.dry_run(prepared, origin=origin), indent=2))
        return 0
    _note(prepared.describe())
    record = _submit_and_follow(service, prepared, origin, args.detach)
    return 0 if record is None else exit_status(record)


def _run_notebook(service: JobService, args: argparse.Namespace) -> int:
    options = options_from_args(args)
    prepared = service.prepare_notebook(options, args.notebook, notebook_parameters(args))
    if args.dry_run:
        print(json.dumps(service.dry_run(prepared, origin=os.path.abspath(args.notebook)), indent=2))
        return 0
    _note(prepared.describe())
    record = _submit_and_follow(service, prepared, os.path.abspath(args.notebook), args.detach)
    if record is None:
        return 0
    for item in service.outputs(record.id):
        _note(f"kept {Path(record.job_dir) / item['path']} ({item['size']} B)")
    return exit_status(record)


def _note(message: str) -> None:
    print(f"[containerjob] {message}", file=sys.stderr, flush=True)


def _submit_and_follow(service: JobService, prepared, origin: str, detach: bool):
    """Submit; with --detach print the ID and return None, else stream the logs to stdout until the end."""
    record = service.submit(prepared, origin=origin, notify=_note)
    if detach:
        print(record.id)
        return None
    _note(status_line(record))  # SIGINT (Ctrl-C) cancels the job, wherever it runs: JobRun.interrupt
    record = service.run(record).follow(lambda text: (sys.stdout.write(text), sys.stdout.flush()))
    _note(status_line(record))
    return record


def _export(service: JobService, args: argparse.Namespace) -> int:
    job, notes = service.export(args.job_id)
    if args.format == "spec":  # gcloud takes the name and labels as flags, not in its --config file
        labels = ",".join(f"{k}={v}" for k, v in job["labels"].items())
        notes.append(f"displayName and labels are not part of a CustomJobSpec: give them to gcloud as "
                     f"--display-name={shlex.quote(job['displayName'])}" + (f" --labels={labels}" if labels else "")
                     + " (containerjob run --config: --name, --label), or export --format job")
        job = job["jobSpec"]
    if args.json:
        print(json.dumps(job, indent=2))
    else:
        import yaml

        print(yaml.safe_dump(job, sort_keys=False), end="")
    for note in notes:
        _note(note)
    return 0


def _outputs(service: JobService, args: argparse.Namespace) -> int:
    files = service.outputs(args.job_id)
    if args.json:
        print(json.dumps(files, indent=2))
    else:
        root = service.get(args.job_id, refresh=False).job_dir
        for item in files:
            print(f"{item['size']:>12}  {root}/{item['path']}")
    return 0


def _list(service: JobService, args: argparse.Namespace) -> int:
    records = service.list(limit=1_000_000 if args.all else 20, status=args.status)
    print(json.dumps([r.to_dict() for r in records], indent=2) if args.json else jobs_table(records))
    if args.all and not args.json:
        print(service.warm_line())
    return 0


def _status(service: JobService, args: argparse.Namespace) -> int:
    print(job_details(service.get(args.job_id)))
    return 0


def _logs(service: JobService, args: argparse.Namespace) -> int:
    for chunk in plain_log(service.logs(args.job_id, follow=args.follow)):
        sys.stdout.write(chunk)
    sys.stdout.flush()
    if not args.follow:
        return 0
    (record,) = service.wait([args.job_id])  # the stream ends with the job; its record may trail it a moment
    return exit_status(record)


def _wait(service: JobService, args: argparse.Namespace) -> int:
    timeout = parse_timeout(args.timeout) if args.timeout else None
    records = service.wait(args.job_ids, timeout_s=timeout, on_end=lambda r: _note(status_line(r)))
    for record in records:
        if not record.status.is_final:
            _note(f"{status_line(record)} · still running after --timeout {args.timeout}")
    return next((code for code in map(exit_status, records) if code), 0)


def _cancel(service: JobService, args: argparse.Namespace) -> int:
    print(status_line(service.cancel(args.job_id)))
    return 0


def _sync(service: JobService, args: argparse.Namespace) -> int:
    print(service.sync(args.job_id) or "nothing to upload")
    return 0


def _gc(service: JobService, args: argparse.Namespace) -> int:
    print(service.gc(older_than_days=args.older_than).describe())
    return 0


_COMMANDS = {"run": _run, "run-notebook": _run_notebook, "export": _export, "outputs": _outputs, "list": _list, "status": _status,
             "logs": _logs, "wait": _wait, "cancel": _cancel, "sync": _sync, "gc": _gc}

if __name__ == "__main__":
    sys.exit(main())
