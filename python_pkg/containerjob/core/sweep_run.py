"""Runs a sweep's jobs, at most `parallel` at once, each to its end; one row per combination.

One loop in the caller's thread submits, polls and collects, so an interrupt (Ctrl-C, Kernel > Interrupt)
lands here and cancels every job of the sweep, started or not. A job that fails, or one that cannot even
start, fails its row only: the others run on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import ContainerJobError, SpecError
from .models import JobRecord, JobStatus
from .sweep import SWEEP_LABEL, Sweep, combination_text

if TYPE_CHECKING:
    from ..service import JobService, Prepared

POLL_S = 0.5
ROW_FACTS = ("status", "job_id", "duration_s", "exit_code", "message")  # each row's columns after the values
NOT_STARTED = "not started: the sweep was interrupted"


@dataclass
class SweepRow:
    """One combination as it runs: its job, its state, and (a cell's) the values it assigned."""

    index: int
    parameters: dict[str, Any]
    status: str = "WAITING"
    job_id: str = ""
    duration_s: float | None = None
    exit_code: int | None = None
    message: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    record: JobRecord | None = None

    @property
    def ended(self) -> bool:
        return self.status not in ("WAITING", "QUEUED", "PENDING", "RUNNING", "CANCELLING")

    def seen(self, record: JobRecord) -> None:
        self.record, self.job_id, self.status = record, record.id, record.status.value
        self.duration_s, self.exit_code = record.duration_s, record.exit_code
        if record.status is not JobStatus.SUCCEEDED:
            self.message = record.message

    def as_dict(self, names: list[str]) -> dict[str, Any]:
        """The row as the kernel gets it: parameters, the job's values (by `names`), then the job's facts."""
        return {**self.parameters, **{n: self.values.get(n) for n in names},
                **{fact: getattr(self, fact) for fact in ROW_FACTS}}


Collect = Callable[[SweepRow, JobRecord], None]


def new_rows(sweep: Sweep) -> list[SweepRow]:
    return [SweepRow(i, dict(c)) for i, c in enumerate(sweep.combinations)]


def prepare_all(sweep: Sweep, prepare: Callable[[dict[str, Any]], Prepared]) -> list[Prepared]:
    """Every combination's spec and payload before any job runs: a problem of one stops the sweep unstarted."""
    prepared = []
    for combination in sweep.combinations:
        one = prepare(combination)
        one.spec.labels[SWEEP_LABEL] = sweep.id
        one.spec.display_name = f"{one.spec.display_name} {combination_text(combination)}"[:128]  # Vertex's limit
        prepared.append(one)
    return prepared


def gpu_shares(sweep: Sweep, prepared: list[Prepared], host_ids: list[str]) -> list[list[str]]:
    """Jobs on this machine side by side (the caller asks the backend's traits): `sweep.parallel` disjoint sets of
    this host's GPUs, one per running job ([]: nothing to share out: no GPUs asked for, or none here, which the
    job's start says)."""
    spec = prepared[0].spec if prepared else None
    if spec is None or not spec.primary.accelerator_count or not host_ids:
        return []
    count = spec.primary.accelerator_count
    if count < 0 or len(spec.replicas()) > 1:
        if sweep.parallel > 1:
            what = "--gpus all gives every GPU to each job" if count < 0 else "each job's replicas share out the GPUs"
            raise SpecError(f"{what}, so a local sweep of them runs one at a time: add --parallel 1, or give each "
                            "job --gpus N of this machine's GPUs", field="parallel")
        return []
    shares = [host_ids[i * count:(i + 1) * count] for i in range(len(host_ids) // count)]
    if len(shares) < sweep.parallel:
        raise SpecError(f"--parallel {sweep.parallel} jobs of {count} GPUs each need {sweep.parallel * count} GPUs; "
                        f"this machine has {len(host_ids)}: lower --parallel to {max(1, len(shares))}, or --gpus",
                        field="parallel")
    return shares[:sweep.parallel]


def run_sweep(service: JobService, sweep: Sweep, prepared: list[Prepared], *,
              origin: str = "", on_change: Callable[[list[SweepRow]], None] = lambda rows: None,
              collect: Collect | None = None, gpus: list[list[str]] | None = None,
              rows: list[SweepRow] | None = None, poll_s: float = POLL_S) -> list[SweepRow]:
    """Every combination's job (`prepared`, in grid order), `sweep.parallel` at once, each running one on a
    free share of `gpus` (gpu_shares) when given; `collect` reads an ended job's results into its row (its
    errors fail that row). An interrupt cancels the sweep's jobs and propagates; `rows` (new_rows), given,
    hold the runs as they were then."""
    rows = rows if rows is not None else new_rows(sweep)
    waiting: list[SweepRow] = list(rows)
    running: dict[str, SweepRow] = {}
    free = list(gpus or [])
    held: dict[str, list[str]] = {}
    try:
        on_change(rows)
        while waiting or running:
            while waiting and len(running) < sweep.parallel:
                row = waiting.pop(0)
                share = free.pop(0) if free else []
                _give_gpus(prepared[row.index], share)
                if _start(service, prepared[row.index], row, origin):
                    running[row.job_id] = row
                    held[row.job_id] = share
                elif share:
                    free.append(share)
                on_change(rows)
            if running:
                time.sleep(poll_s)
            for job_id, row in list(running.items()):
                record = service.get(job_id)
                row.seen(record)
                if record.status.is_final:
                    del running[job_id]
                    if held.get(job_id):
                        free.append(held.pop(job_id))
                    _collect(collect, row, record)
            on_change(rows)
    except BaseException as exc:  # an interrupt, or the backend gone: nothing of the sweep runs on unwatched
        try:
            cancel_sweep(service, sweep.id, rows)
            on_change(rows)
        except Exception as cancel_exc:  # noqa: BLE001 - the original error matters more
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(f"containerjob could not cancel sweep {sweep.id}'s jobs: {cancel_exc}; "
                             "containerjob list shows them")
        raise
    return rows


def _give_gpus(prepared: Prepared, share: list[str]) -> None:
    if share:
        prepared.spec.primary.gpu_ids = list(share)


def _start(service: JobService, prepared: Prepared, row: SweepRow, origin: str) -> bool:
    try:
        record = service.submit(prepared, origin=origin)
    except ContainerJobError as exc:  # this combination could not start (its image, its mounts): the others run
        row.status, row.message = "FAILED", str(exc)
        return False
    row.seen(record)
    return True


def _collect(collect: Collect | None, row: SweepRow, record: JobRecord) -> None:
    if collect is None:
        return
    try:
        collect(row, record)
    except Exception as exc:  # noqa: BLE001 - one job's results (unreadable, not unpicklable here) fail its row only
        why = str(exc) if isinstance(exc, ContainerJobError) else f"its values could not be read: {type(exc).__name__}: {exc}"
        row.status, row.message = "FAILED", row.message or why


def cancel_sweep(service: JobService, sweep_id: str, rows: list[SweepRow]) -> None:
    """Every job labelled with the sweep that has not ended is cancelled (found in the store, so one whose
    submit the interrupt cut short is found too); rows never started say so."""
    failed: dict[str, str] = {}
    jobs = service.store.list(limit=1_000_000, labels={SWEEP_LABEL: sweep_id})
    for record in jobs:
        if not record.status.is_final:
            try:
                service.cancel(record.id)
            except ContainerJobError as exc:
                failed[record.id] = f"could not cancel it ({exc}): containerjob cancel {record.id}"
    by_id = {r.job_id: r for r in rows if r.job_id}
    for record in service.store.list(limit=1_000_000, labels={SWEEP_LABEL: sweep_id}):
        if record.id in by_id:
            by_id[record.id].seen(record)
            by_id[record.id].message = failed.get(record.id, by_id[record.id].message)
    for row in rows:
        if not row.job_id and row.status == "WAITING":
            row.status, row.message = "CANCELLED", NOT_STARTED


def summary(rows: list[SweepRow]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))


def first_failure(rows: list[SweepRow]) -> SweepRow | None:
    """The first combination (in grid order) that did not succeed."""
    return next((r for r in rows if r.status != "SUCCEEDED"), None)


def dry_run(service: JobService, sweep: Sweep, prepared: list[Prepared], origin: str = "",
            gpus: list[list[str]] | None = None) -> dict[str, Any]:
    """Every job's exact request as it would be sent, its sweep label included; nothing runs."""
    jobs = []
    for index, (combination, one) in enumerate(zip(sweep.combinations, prepared)):
        _give_gpus(one, gpus[index % len(gpus)] if gpus else [])  # as if each waited for the one before it
        jobs.append({"parameters": combination, "request": service.dry_run(one, origin=origin)})
    return {"sweep": sweep.id, "parallel": sweep.parallel, "jobs": jobs}


def table_text(rows: list[SweepRow]) -> str:
    """The runs as aligned plain text: parameters, status, job, duration, and why a run failed."""
    lines = [(combination_text(r.parameters), r.status, r.job_id or "-", duration_text(r.duration_s),
              r.message.splitlines()[0] if r.message else "") for r in rows]
    widths = [max(len(cells[i]) for cells in lines) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells[:4], widths)) + (f"  {cells[4]}" if cells[4] else "")
                     for cells in lines).rstrip()


def duration_text(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f} s"
