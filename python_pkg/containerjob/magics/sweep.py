"""`%%containerjob --sweep NAME=V1,V2 ...`: the cell once per combination, each job seeing the swept names as
variables; the kernel gets one row per combination (`--sweep-into`, default sweep_results)."""
from __future__ import annotations

import ast
import json
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..cli_sweep import gpus_for, sweep_for
from ..core.errors import SpecError
from ..core.names import analyse, parse_cell, runner_provides
from ..core.options import options_from_args
from ..core.sweep import combination_text, without_sweep
from ..core.sweep_run import ROW_FACTS, SweepRow, dry_run, first_failure, new_rows, prepare_all, run_sweep, summary
from .ipython_lines import ipython_lines
from .quiet_errors import Interrupted
from .sweep_table import SweepTable

if TYPE_CHECKING:
    from ..service import Prepared
    from .cell import ContainerJob

FILENAME = "<containerjob cell>"


def run_cell_sweep(magics: ContainerJob, args: Any, cell: str, inputs: list[str] | None,
                   outputs: list[str] | None) -> None:
    """Run the sweep of a cell; `inputs`/`outputs`: the cell's --in/--out, None when not given."""
    __tracebackhide__ = True
    service, shell = magics.service, magics.shell
    if args.detach or args.on_interrupt == "detach":
        flag = "--detach" if args.detach else "--on-interrupt detach"
        raise SpecError(f"{flag} and --sweep: the cell starts a sweep's jobs N at a time as earlier ones end, so it "
                        "follows them to the end, and Kernel > Interrupt cancels them all: leave out " + flag,
                        field="sweep")
    options = options_from_args(args)
    sweep = sweep_for(service, options)
    job_options = without_sweep(options)
    source = ipython_lines(cell)
    tree = parse_cell(source, FILENAME)
    names = analyse(source, tree, FILENAME)
    unread = [n for n in sweep.names if n not in names.reads and n not in (inputs or [])]
    if unread:
        raise SpecError(f"--sweep {unread[0]}: the cell never reads {unread[0]}, so every job would run the same: "
                        f"use {unread[0]} in the cell, or sweep a name it reads", field="sweep")
    outputs = [n for n in (outputs if outputs is not None else names.assigns)
               if n not in sweep.names and not n.startswith("_") and n not in _imported(tree)]
    clash = next((n for n in outputs if n in ROW_FACTS), None)
    if clash:
        raise SpecError(f"the cell assigns {clash}, a column {sweep.into} keeps for each run's own {clash}: rename it "
                        "in the cell, or leave it out with --out", field="sweep")
    user_ns, hidden = shell.user_ns, getattr(shell, "user_ns_hidden", {})

    def prepare(combination: dict[str, Any]) -> Prepared:
        namespace = {**user_ns, **combination}
        sent = list(dict.fromkeys([*inputs, *combination])) if inputs is not None else [
            n for n in names.reads if n in combination or (
                n in user_ns and n not in hidden and not n.startswith("_") and not runner_provides(n, user_ns[n]))]
        return service.prepare(job_options, source, kind="cell", filename=FILENAME, namespace=namespace,
                               inputs=sent, outputs=outputs)

    prepared = prepare_all(sweep, prepare)
    gpus = gpus_for(sweep, prepared)
    if args.dry_run:
        print(json.dumps(dry_run(service, sweep, prepared, magics._origin(), gpus), indent=2, default=repr))
        return None

    def collect(row: SweepRow, record: Any) -> None:
        result = service.values(record)  # this kernel asked for them, as a single cell's
        if result.error:
            row.status, row.message = "FAILED", f"{result.error['type']}: {result.error['message']}"
        row.values = {n: result.values[n] for n in outputs if n in result.values}

    table, rows = SweepTable(sweep, magics.display_mode), new_rows(sweep)
    try:
        run_sweep(service, sweep, prepared, origin=magics._origin(), on_change=table.update, collect=collect,
                  gpus=gpus, rows=rows)
    except KeyboardInterrupt:
        table.close(rows)
        shell.user_ns[sweep.into] = results_value(rows, outputs)
        raise Interrupted(f"sweep {sweep.id} interrupted: its jobs were cancelled; {sweep.into} has every run as "
                          "it was") from None
    table.close(rows)
    shell.user_ns[sweep.into] = results_value(rows, outputs)
    print(f"{sweep.into}: {len(rows)} rows ({', '.join([*sweep.names, *outputs])}, status, job_id, duration_s, "
          f"exit_code, message); the names the cell assigns are in these rows only, not set in the kernel")
    failed = first_failure(rows)
    if failed is not None:
        raise UsageError(f"sweep {sweep.id}: {summary(rows)}; first: {combination_text(failed.parameters)} "
                         f"({failed.job_id or 'no job'}) {failed.status}: {failed.message}; every row is in "
                         f"{sweep.into}")
    return None


def results_value(rows: list[SweepRow], outputs: list[str]) -> Any:
    """A pandas DataFrame when pandas is importable here, else a list of dicts (one per combination)."""
    records = [row.as_dict(outputs) for row in rows]
    try:
        import pandas
    except ImportError:
        return records
    return pandas.DataFrame.from_records(records)


def _imported(tree: ast.Module) -> set[str]:
    """Names the cell binds by importing: a module is no result (the single cell imports it in the kernel)."""
    return {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
