"""`containerjob schedule ...` and `containerjob scheduler`: cron schedules from a terminal or CI."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from .cli_options import add_notebook_arguments, add_run_options, notebook_parameters
from .core.options import changed, options_from_args
from .scheduling import Schedule, Schedules, iso
from .service import JobService


def add_schedule_commands(sub) -> None:
    schedule = sub.add_parser("schedule", help="cron schedules for notebooks (create, list, pause, resume, run, edit, delete)")
    verbs = schedule.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", help="run a notebook on a cron schedule")
    add_notebook_arguments(create)
    add_schedule_options(create, required=True)
    add_run_options(create, "notebook")
    edit = verbs.add_parser("edit", help="change a schedule (only the options given)")
    edit.add_argument("schedule_id")
    edit.add_argument("--notebook", help="take a new snapshot of this notebook")
    edit.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                      help="replace the parameters (all of them) with these")
    edit.add_argument("--name")
    add_schedule_options(edit, required=False)
    lst = verbs.add_parser("list", help="schedules with their next and last runs")
    lst.add_argument("--json", action="store_true")
    for verb, text in (("show", "one schedule"), ("pause", "stop firing until resumed"),
                       ("resume", "fire again from the next cron time"), ("run", "start one run now"),
                       ("delete", "remove the schedule (its past runs stay)")):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("schedule_id")
    runner = sub.add_parser("scheduler", help="fire local schedules (for machines without a Jupyter server running)")
    runner.add_argument("--interval", type=float, default=30.0, help="seconds between passes (default 30)")
    runner.add_argument("--once", action="store_true", help="one pass, then exit (for system cron)")


def add_schedule_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--cron", required=required, help="5-field cron, e.g. '0 3 * * *'")
    parser.add_argument("--timezone", default="UTC" if required else None, help="IANA zone (default UTC)")
    parser.add_argument("--missed", choices=["skip", "run_once"], default="skip" if required else None,
                        help="runs missed while no scheduler ran: skip them (default) or run once")
    parser.add_argument("--max-concurrent", type=int, default=1 if required else None,
                        help="overlap cap: a due run is skipped while this many are active (default 1)")


def run_options_dict(args: argparse.Namespace) -> dict[str, Any]:
    """Only the options the user set, so a schedule keeps following the defaults for the rest."""
    return changed(options_from_args(args))


def describe(schedule: Schedule) -> str:
    return (f"{schedule.id}  {schedule.state:<6}  {schedule.backend:<8}  {schedule.cron!r} {schedule.timezone}  "
            f"next {iso(schedule.next_run_at)}  last {schedule.last_job_id or '-'}  {schedule.name}"
            + (f"\n    {schedule.message}" if schedule.message else ""))


def _schedule(service: JobService, args: argparse.Namespace) -> int:
    schedules = Schedules(service)
    if args.verb == "create":
        created = schedules.create(notebook=args.notebook, cron=args.cron, timezone=args.timezone, name=args.name,
                                   parameters=notebook_parameters(args), options=run_options_dict(args),
                                   missed=args.missed, max_concurrent=args.max_concurrent)
        print(describe(created))
    elif args.verb == "edit":
        from .core.notebook import parse_parameter_value

        changes = {"notebook": args.notebook, "name": args.name, "cron": args.cron, "timezone": args.timezone,
                   "missed": args.missed, "max_concurrent": args.max_concurrent}
        if args.parameter:
            changes["parameters"] = {n: parse_parameter_value(v) for n, v in args.parameter}
        print(describe(schedules.update(args.schedule_id, **{k: v for k, v in changes.items() if v is not None})))
    elif args.verb == "list":
        items = schedules.list()
        if args.json:
            print(json.dumps([s.shown() for s in items], indent=2))
        else:
            print("\n".join(describe(s) for s in items) or "no schedules")
    elif args.verb == "show":
        print(json.dumps(schedules.get(args.schedule_id).shown(), indent=2))
    elif args.verb == "run":
        print(schedules.run_now(args.schedule_id).id)
    elif args.verb == "delete":
        schedules.delete(args.schedule_id)
        print(f"deleted {args.schedule_id}")
    else:
        print(describe(getattr(schedules, args.verb)(args.schedule_id)))
    return 0


def _scheduler(service: JobService, args: argparse.Namespace) -> int:
    import logging

    from .scheduler import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    scheduler = Scheduler(service)
    if args.once:
        for record in scheduler.tick():
            print(record.id)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        scheduler.run(stop, interval_s=args.interval)
    except KeyboardInterrupt:
        pass
    return 0


COMMANDS = {"schedule": _schedule, "scheduler": _scheduler}
