"""Executes a whole notebook inside the job's container; stdlib only, shipped with every payload.

With a Jupyter kernel in the image (papermill, or nbclient + ipykernel) the notebook runs on it, as
on Vertex AI's Workbench Executor. Without one, code cells run in order in one Python namespace and
IPython-only lines (magics, shell escapes, `?` help) are skipped and listed. Either way the executed
notebook is saved after every cell (so it is readable while the job runs) and kept when a cell fails;
the working directory is the job's output folder, so files the notebook writes there are kept too.
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    from typing import Any, Optional, TextIO

    Failure = dict[str, Any]  # error.json's record of the failing cell
    Outcome = tuple[int, Optional[Failure]]  # (exit code, the failure when a cell failed)


_IPYTHON_LINE = re.compile(r"^\s*(%|!|\?)|^\s*\w[\w.]*\?\??\s*$|get_ipython\(\)")


def run(manifest: dict[str, Any], payload: str, output: str) -> int:
    """Execute the payload's notebook; returns the process exit code (0 when every cell ran)."""
    source = os.path.join(payload, manifest["source_file"])
    target = os.path.join(output, manifest["filename"])
    files = os.environ.get("CONTAINERJOB_OUTPUT_DIR") or os.path.join(output, "files")
    os.makedirs(files, exist_ok=True)
    os.chdir(files)
    engine = _kernel_engine()
    print("[containerjob] executing %s with %s" % (manifest["filename"], engine or "plain Python (no Jupyter kernel in this image)"),
          flush=True)
    started = time.time()
    if engine == "papermill":
        code, error = _run_papermill(source, target, files, manifest)
    elif engine == "nbclient":
        code, error = _run_nbclient(source, target, files, manifest)
    else:
        code, error = _run_plain(source, target)
    summary = {"notebook": manifest["filename"], "engine": engine or "plain", "seconds": round(time.time() - started, 3),
               "exit_code": code, "python": "%d.%d.%d" % sys.version_info[:3]}
    name = "error.json" if error else "result.json"
    with open(os.path.join(output, name), "w") as fh:
        json.dump(dict(summary, **error) if error else summary, fh)
    return code


def _kernel_engine() -> str | None:
    for module in ("papermill", "nbclient"):
        try:
            __import__(module)
            __import__("ipykernel")
            return module
        except ImportError:
            continue
    return None


def _kernel_name(manifest: dict[str, Any]) -> str:
    """The notebook's kernel when this image has it, else python3 (said in the log, not silent)."""
    from jupyter_client.kernelspec import KernelSpecManager

    wanted: str = manifest.get("kernel_name") or "python3"
    available = KernelSpecManager().find_kernel_specs()
    if wanted in available:
        return wanted
    print("[containerjob] kernel %r is not in this image (it has %s); using python3" % (wanted, ", ".join(sorted(available))),
          flush=True)
    return "python3"


def _failure(number: int, ename: str, evalue: str) -> Failure:
    """`number` counts every cell of the executed notebook from 1, the injected parameters cell included."""
    return {"type": ename, "message": "cell %d raised %s: %s" % (number, ename, evalue), "frames": [],
            "source_filename": "cell %d" % number}


def _run_papermill(source: str, target: str, cwd: str, manifest: dict[str, Any]) -> Outcome:
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    logging.getLogger("papermill").setLevel(logging.INFO)
    try:
        papermill.execute_notebook(source, target, kernel_name=_kernel_name(manifest), cwd=cwd, log_output=True,
                                   progress_bar=False, request_save_on_cell_execute=True)
    except PapermillExecutionError as exc:
        return 1, _failure(exc.cell_index + 1, exc.ename, exc.evalue)
    return 0, None


def _run_nbclient(source: str, target: str, cwd: str, manifest: dict[str, Any]) -> Outcome:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)

    def saved(cell: Any, cell_index: int, execute_reply: Any) -> None:  # nbformat's NotebookNode, a reply
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                sys.stdout.write(out.get("text", ""))
        sys.stdout.flush()
        nbformat.write(nb, target)

    client = NotebookClient(nb, kernel_name=_kernel_name(manifest), resources={"metadata": {"path": cwd}},
                            on_cell_executed=saved)
    try:
        client.execute()
    except CellExecutionError as exc:
        nbformat.write(nb, target)
        return 1, _failure(_failed_index(nb) + 1, exc.ename, exc.evalue)
    nbformat.write(nb, target)
    return 0, None


def _failed_index(nb: Any) -> int:  # an nbformat NotebookNode
    for index, cell in enumerate(nb.cells):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    return -1


class _Tee(io.TextIOBase):
    """Writes to the live log and keeps a copy for the cell's stream output."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.stream.write(text)
        self.stream.flush()
        return len(text)


def _plain_display(*values: object, **_kwargs: object) -> None:
    for value in values:
        print(repr(value))


def _run_plain(source: str, target: str) -> Outcome:
    """No kernel: run code cells in order in one namespace, skipping and listing IPython-only lines."""
    with open(source, encoding="utf-8") as fh:
        nb = json.load(fh)
    namespace: dict[str, Any] = {"__name__": "__main__", "display": _plain_display}
    skipped: list[str] = []
    count = 0
    meta = nb.setdefault("metadata", {}).setdefault("containerjob", {})
    meta.update(engine="plain Python (no Jupyter kernel in the image)", skipped=skipped)
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        count += 1
        cell["execution_count"] = count
        text = "".join(cell.get("source", ""))
        code, dropped = _strip_ipython(text, index)
        skipped.extend(dropped)
        outputs: list[dict[str, Any]] = []
        cell["outputs"] = outputs
        out, err = _Tee(sys.stdout), _Tee(sys.stderr)
        failure: BaseException | None = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                value = _exec_cell(code, namespace, "<cell %d>" % (index + 1))
            except BaseException as exc:  # noqa: BLE001 - a failing cell ends the run, like papermill
                if isinstance(exc, SystemExit) and not exc.code:
                    value = None
                elif isinstance(exc, (KeyboardInterrupt,)) or type(exc).__name__ in ("_Stopped", "_TimedOut"):
                    raise
                else:
                    failure = exc
                    value = None
        for name, tee in (("stdout", out), ("stderr", err)):
            if tee.parts:
                outputs.append({"output_type": "stream", "name": name, "text": "".join(tee.parts)})
        if failure is not None:
            frames = [f for f in traceback.extract_tb(failure.__traceback__) if f.filename != __file__]
            lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames),
                     *traceback.format_exception_only(type(failure), failure)]
            sys.stderr.write("".join(lines))
            outputs.append({"output_type": "error", "ename": type(failure).__name__, "evalue": str(failure),
                            "traceback": [line.rstrip("\n") for line in lines]})
            _save(nb, target)
            return 1, _failure(index + 1, type(failure).__name__, str(failure))
        if value is not None:
            outputs.append({"output_type": "execute_result", "execution_count": count, "metadata": {},
                            "data": {"text/plain": repr(value)}})
        _save(nb, target)
    if skipped:
        print("[containerjob] skipped IPython-only lines (no kernel in the image): " + "; ".join(skipped), flush=True)
    _save(nb, target)
    return 0, None


def _strip_ipython(text: str, index: int) -> tuple[str, list[str]]:
    """Comment out what only IPython understands; report each line skipped."""
    kept: list[str] = []
    dropped: list[str] = []
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "", ["cell %d: cell magic %s (whole cell)" % (index + 1, lines[0].strip())]
    for number, line in enumerate(lines, 1):
        if _IPYTHON_LINE.search(line):
            dropped.append("cell %d line %d: %s" % (index + 1, number, line.strip()))
            indent = line[:len(line) - len(line.lstrip())]
            kept.append("%spass  # skipped by containerjob: %s" % (indent, line.strip()))
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def _exec_cell(code: str, namespace: dict[str, Any], filename: str) -> object:
    tree = ast.parse(code, filename=filename)
    last = None
    tail = tree.body[-1] if tree.body else None
    if isinstance(tail, ast.Expr):
        tree.body.pop()
        last = ast.Expression(tail.value)
    exec(compile(tree, filename, "exec"), namespace)
    return eval(compile(last, filename, "eval"), namespace) if last is not None else None


def _save(nb: dict[str, Any], target: str) -> None:
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(nb, fh, indent=1)
    os.replace(tmp, target)
