"""`containerjob run train.py --sweep lr=0.1,0.01 -- --lr {lr}`: a script (or container) job once per
combination, `{NAME}` in its arguments (and --command) replaced by the value; the table goes to stdout and the
exit status is the first failing combination's."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from .backends import backend_traits
from .core.custom_job_file import read_job_file
from .core.errors import SpecError
from .core.exit_status import exit_status
from .core.options import RunOptions, options_from_args
from .core.sweep import (
    DEFAULT_PARALLEL,
    Sweep,
    check_placeholders,
    combination_text,
    local_parallel,
    read_sweep,
    substitute,
    without_sweep,
)
from .core.sweep_run import SweepRow, dry_run, first_failure, gpu_shares, prepare_all, run_sweep, summary, table_text
from .service import JobService, Prepared


def sweep_for(service: JobService, options: RunOptions) -> Sweep:
    """The grid and how many jobs at once: local jobs with --gpus N default to one per N of this host's GPUs."""
    backend = options.backend or service.settings.default_backend
    default = DEFAULT_PARALLEL
    if options.gpus and backend_traits(backend).runs_locally:
        from .backends.gpu import host_gpu_ids

        default = local_parallel(options.gpus, len(host_gpu_ids()))
    return read_sweep(options, default_parallel=default)


def gpus_for(sweep: Sweep, prepared: list[Prepared]) -> list[list[str]]:
    """This host's GPUs shared out among the sweep's local GPU jobs running at once (core/sweep_run.py)."""
    spec = prepared[0].spec if prepared else None
    if spec is None or not backend_traits(spec.backend).runs_locally or not spec.primary.accelerator_count:
        return []
    from .backends.gpu import host_gpu_ids

    return gpu_shares(sweep, prepared, host_gpu_ids())


def run_sweep_command(service: JobService, args: argparse.Namespace) -> int:
    if args.detach:
        raise SpecError("--detach and --sweep: the command starts a sweep's jobs N at a time as earlier ones end, so "
                        "it follows them to the end (Ctrl-C cancels them all): leave out --detach", field="sweep")
    options = options_from_args(args)
    sweep = sweep_for(service, options)
    job_options = without_sweep(options)
    check_placeholders([*args.args, options.command or ""], sweep.names)
    job_file = read_job_file(args.config) if args.config else None
    origin = os.path.abspath(args.file) if args.file else ""

    def prepare(combination: dict[str, Any]) -> Prepared:
        argv = substitute(args.args, combination)
        if args.file:
            return service.prepare_script(job_options, args.file, workdir=args.workdir, argv=argv, job_file=job_file)
        command = substitute([job_options.command], combination)[0] if job_options.command else None
        return service.prepare_container(dataclasses.replace(job_options, command=command), argv, job_file)

    prepared = prepare_all(sweep, prepare)
    gpus = gpus_for(sweep, prepared)
    if args.dry_run:
        print(json.dumps(dry_run(service, sweep, prepared, origin, gpus), indent=2, default=repr))
        return 0
    _note(sweep.describe())
    seen: dict[int, str] = {}

    def progress(rows: list[SweepRow]) -> None:
        for row in rows:
            if row.status != "WAITING" and seen.get(row.index) != row.status:
                seen[row.index] = row.status
                _note(f"[{row.index + 1}/{len(rows)}] {combination_text(row.parameters)} · {row.job_id or '-'} "
                      f"{row.status}" + (f" · {row.message.splitlines()[0]}" if row.message and row.ended else ""))

    try:
        rows = run_sweep(service, sweep, prepared, origin=origin, on_change=progress, gpus=gpus)
    except KeyboardInterrupt:
        _note(f"sweep {sweep.id} interrupted: its jobs were cancelled")
        raise
    print(table_text(rows))
    _note(f"sweep {sweep.id}: {summary(rows)}")
    failed = first_failure(rows)
    if failed is None:
        return 0
    return exit_status(failed.record) if failed.record is not None else 1


def _note(message: str) -> None:
    print(f"[containerjob] {message}", file=sys.stderr, flush=True)
