"""How a cell job's endings read in a real notebook (nbclient, a real kernel, real containers): a job's
exception shows the cell's frames only, a cancel and an interrupt are one line, a missing image one sentence."""
from __future__ import annotations

import re

import nbformat
from nbclient import NotebookClient

CANCEL_SOON = """import threading, time
from containerjob.service import JobService

def cancel_running():
    time.sleep(4)
    for record in JobService().list():
        if not record.status.is_final:
            JobService().cancel(record.id)

threading.Thread(target=cancel_running).start()"""
INTERRUPT_SOON = "import os, signal, threading\nthreading.Timer(4, lambda: os.kill(os.getpid(), signal.SIGINT)).start()"
SLEEP = "%%containerjob\nimport time\nprint('started', flush=True)\ntime.sleep(60)"


def errors(cell) -> list[dict]:
    return [o for o in cell.outputs if o.output_type == "error"]


def text(output) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.traceback))


def test_endings_read_as_the_cell_not_the_magic(cj_home, labelled):
    cells = ["%load_ext containerjob", "%%containerjob\nx = 1\ny = {}\ny['missing']", CANCEL_SOON, SLEEP,
             INTERRUPT_SOON, SLEEP, "%%containerjob --image localhost:1/absent:0\nx = 1"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True).execute()
    failed, cancelled, interrupted = (errors(nb.cells[i]) for i in (1, 3, 5))

    (error,) = failed
    shown = text(error)
    assert error.ename == "KeyError" and "run_cell_magic" not in shown, shown
    assert "File <containerjob cell>:3" in shown and "y['missing']" in shown
    assert shown.count("Traceback (most recent call last)") <= 1

    (error,) = cancelled
    assert error.ename == "JobCancelled" and len(error.traceback) == 1, error.traceback
    assert re.fullmatch(r"JobCancelled: job cj-\w+ was cancelled \(cancelled by the user\); nothing came back",
                        text(error))

    (error,) = interrupted
    assert error.ename == "Interrupted" and len(error.traceback) == 1, error.traceback
    assert re.fullmatch(r"KeyboardInterrupt: job cj-\w+ cancelled and its container removed; nothing came back",
                        text(error))

    said = [line for o in nb.cells[6].outputs if o.output_type == "stream" for line in o.text.splitlines()
            if line.startswith("UsageError")]  # IPython prints a UsageError as one line, no traceback
    assert said == ["UsageError: image localhost:1/absent:0 is not on this machine and could not be pulled (no "
                    "registry is reachable from this machine): build or load it here (docker build / docker import) "
                    "or choose another with --image"]
    assert labelled() == []
