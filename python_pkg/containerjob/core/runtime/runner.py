"""containerjob's in-container runner: stdlib only, shipped with every payload.

Reads the payload (source + pickled inputs), runs the source as `__main__`, and writes the
outputs and the value of a trailing expression (values_out.py), or the error (with frames in the
user's source), to the output directory. Paths come from CONTAINERJOB_PAYLOAD / CONTAINERJOB_OUTPUT.

Every job starts this interpreter, so its imports are the floor of a job's cost over a bare
`python3 -c`: modules only some jobs need (traceback, shutil, tempfile, importlib, signing, `!cmd`
support) are imported where they are used, and the trailing expression is found with the C parser's
own node types (_ast) rather than the ast module, which pulls in a dozen more (bench/overhead.py).
Nothing here imports re (json, pickle, signal, linecache and string do: ~15 ms together): JSON and
pickles go through the C modules themselves, signals through _signal, and the source reaches linecache
only if something imports it (a traceback, a warning).
"""
from __future__ import annotations

import _ast
import _signal
import os
import sys
import time
import types

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import traceback
    from typing import Any, NoReturn

    from .result_signing import Signer
    from .values_out import Mapped


RUNTIME = os.path.dirname(os.path.abspath(__file__))
if RUNTIME not in sys.path:  # python -I leaves the script's directory out
    sys.path.insert(0, RUNTIME)
import after_import  # noqa: E402 - shipped next to this file
import json_c  # noqa: E402
import pickle_frames  # noqa: E402 - the pickler itself loads only when a value needs it
import result_signing  # noqa: E402 - its hashing modules load only when a job is signed
import rich_output  # noqa: E402 - cheap until a cell displays something
import shell_lines  # noqa: E402 - subprocess only once a `!cmd` runs
import values_out  # noqa: E402

SIGNER: Signer | None = None  # a result_signing.Signer when the host gave this job a signing key


class _Stopped(BaseException):
    """Raised on SIGTERM (cancel, timeout): a stop, not an error of the user's code."""


class _TimedOut(BaseException):
    """Raised by SIGALRM when the job's --timeout is reached, even with nobody watching."""


def _on_sigterm(signum: int, frame: types.FrameType | None) -> NoReturn:
    raise _Stopped()


def _on_alarm(signum: int, frame: types.FrameType | None) -> NoReturn:
    raise _TimedOut()


EXIT_TIMEOUT = 124
MAX_MESSAGE = 64 * 1024  # characters of an exception's message error.json carries


def _load_inputs(manifest: dict[str, Any], payload: str, namespace: dict[str, Any]) -> Mapped:
    """Returns, per pickled input, the mappings of its buffers (what tells later whether the cell wrote them)."""
    mapped: Mapped = {}
    for name, entry in manifest["inputs"].items():
        if "module" in entry:
            import importlib

            try:
                namespace[name] = importlib.import_module(entry["module"])
            except ModuleNotFoundError as exc:  # the kernel adds its version and the fix (core/kernel_env.py)
                raise _missing(exc, "input %r is that module" % name) from None
            except ImportError as exc:
                raise ImportError(
                    "module %r (variable %r) is not installed in this image: %s; install it in the image "
                    "or pass --env PIP_... and pip install it in the cell" % (entry["module"], name, exc)
                ) from None
        else:
            mapped[name] = []
            try:
                namespace[name] = pickle_frames.load(os.path.join(payload, entry["pickle"]), mapped=mapped[name])
            except ModuleNotFoundError as exc:
                raise _missing(exc, "input %r needs it" % name) from None
    return mapped


def _missing(exc: ModuleNotFoundError, why: str) -> ModuleNotFoundError:
    """A module the inputs need that this image lacks, named with the input."""
    return ModuleNotFoundError("No module named %r in this image (%s)" % (exc.name, why), name=exc.name)


def _run_source(manifest: dict[str, Any], source: str, namespace: dict[str, Any]) -> object:
    """Exec the source; return the trailing expression's value (cells only) or a sentinel."""
    filename = manifest["filename"]
    _keep_for_tracebacks(filename, source)
    # what ast.parse does; typeshed types the result as any node, "exec" mode's is always a Module
    tree: _ast.Module = compile(source, filename, "exec", _ast.PyCF_ONLY_AST)  # type: ignore[assignment]
    last = None
    tail = tree.body[-1] if tree.body else None
    if manifest.get("last_expr") and isinstance(tail, _ast.Expr):
        tree.body.pop()
        last = _ast.Expression(tail.value)
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        return eval(compile(last, filename, "eval"), namespace)
    return values_out.NOTHING


def _keep_for_tracebacks(filename: str, source: str) -> None:
    """linecache's entry for the source (a cell's file exists nowhere), made when linecache is imported."""
    entry = (len(source), None, source.splitlines(True), filename)

    def keep(linecache: types.ModuleType) -> None:
        linecache.cache[filename] = entry

    after_import.install({"linecache": keep}, rich_output._note)


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback without the runtime's own frames (the runner's, a `!cmd` line's shell function)."""
    import traceback

    return [f for f in traceback.extract_tb(exc.__traceback__) if os.path.dirname(f.filename) != RUNTIME]


def _print_error(exc: BaseException) -> None:
    import traceback

    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(_user_frames(exc))
    lines += traceback.format_exception_only(type(exc), exc)
    sys.stderr.write("".join(lines))
    sys.stderr.flush()


def _error_record(exc: BaseException, filename: str) -> dict[str, Any]:
    frames = [
        {"filename": f.filename, "lineno": f.lineno, "name": f.name, "line": f.line}
        for f in _user_frames(exc)
    ]
    kind = type(exc)
    message = str(exc)
    if len(message) > MAX_MESSAGE:  # the host reads an error.json of 1 MiB at most (core/job_output.py)
        message = "%s... (%d more characters)" % (message[:MAX_MESSAGE], len(message) - MAX_MESSAGE)
    return {
        "type": kind.__name__,
        "module": kind.__module__,
        "message": message,
        "frames": frames,
        "source_filename": filename,
    }


def _is_chief() -> bool:
    """Only the chief (worker pool 0, or a job without CLUSTER_SPEC) writes results and errors."""
    try:
        task: dict[str, Any] = json_c.loads(os.environ.get("CLUSTER_SPEC") or "{}").get("task", {})
    except ValueError:
        return True
    pool: str = task.get("type", "workerpool0")
    return pool == "workerpool0"


def main() -> int:
    global SIGNER
    key = os.environ.pop(result_signing.KEY_ENV, "")  # not for the user's code or its subprocesses
    if not _is_chief():
        import tempfile

        os.environ["CONTAINERJOB_OUTPUT"] = tempfile.mkdtemp(prefix="containerjob-worker-")
    elif key:
        SIGNER = result_signing.Signer(bytes.fromhex(key), os.environ["CONTAINERJOB_OUTPUT"])
    try:
        return _main(bytes.fromhex(key) if key else None)
    finally:
        try:
            _keep_gs_folder(os.environ["CONTAINERJOB_OUTPUT"])
        except Exception as exc:  # noqa: BLE001 - never the job's verdict: say so and keep its exit code
            sys.stderr.write("containerjob: could not keep the gs: folder (%s: %s)\n" % (type(exc).__name__, exc))
        if SIGNER:
            SIGNER.save()


def _keep_gs_folder(output: str) -> None:
    """open("gs://b/x", "w") after makedirs writes ./gs:/b/x, which vanishes with the container (on Vertex
    too): move it to output/unsaved/<its path>, where the host reports it."""
    found = os.path.join(os.getcwd(), "gs:")
    if os.path.isdir(found) and not os.path.islink(found):
        import shutil

        target = os.path.join(output, "unsaved", os.getcwd().lstrip("/"), "gs:")
        shutil.copytree(found, target, dirs_exist_ok=True, symlinks=True, copy_function=_plain_copy)


def _plain_copy(src: str, dst: str) -> None:
    """Read and write: sendfile, which shutil would use, fails (EIO) on FUSE mounts such as /gcs."""
    import shutil

    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def _main(key: bytes | None) -> int:
    _signal.signal(_signal.SIGTERM, _on_sigterm)
    _signal.signal(_signal.SIGALRM, _on_alarm)
    _signal.setitimer(_signal.ITIMER_REAL, float(os.environ.get("CONTAINERJOB_TIMEOUT_S") or 0))  # 90.7 s too
    payload = os.environ["CONTAINERJOB_PAYLOAD"]
    output = os.environ["CONTAINERJOB_OUTPUT"]
    os.makedirs(output, exist_ok=True)  # on Vertex, a prefix under /gcs that nothing has written to yet
    sys.path.insert(0, os.path.join(RUNTIME, "site"))
    with open(os.path.join(payload, "manifest.json"), encoding="utf-8") as fh:
        manifest = json_c.loads(fh.read())
    with open(os.path.join(payload, manifest["source_file"]), encoding="utf-8") as fh:
        source = fh.read()
    started = time.time()
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = module
    namespace = module.__dict__
    if manifest["kind"] == "script":
        sys.argv = [manifest["filename"]] + sys.argv[1:]  # the job's args (containerSpec.args), as given
        if manifest.get("workdir"):
            sys.argv[0] = _enter_workdir(manifest, payload, namespace)
    exit_code = 0
    mapped: Mapped = {}
    try:
        if manifest["kind"] == "notebook":
            import notebook_runner  # next to this file, which is sys.path[0]

            code: int = notebook_runner.run(manifest, payload, output)
            return code
        _check_python(manifest)
        if manifest["kind"] == "cell":  # a script stays plain Python: no display(), no `!cmd`
            rich_output.install(key)  # every replica signs its displays, not only the chief
            if shell_lines.used_in(source):
                shell_lines.install()
        mapped = _load_inputs(manifest, payload, namespace)
        last_value = _run_source(manifest, source, namespace)
        rich_output.flush_figures()
    except SystemExit as exc:
        # sys.exit(N) is an exit code, not an error: the job's status comes from it alone.
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        last_value = values_out.NOTHING
        if exit_code:
            if not isinstance(exc.code, int):
                sys.stderr.write("%s\n" % (exc.code,))
            return exit_code
    except _Stopped:
        sys.stderr.write("stopped: %s\n" % _stop_reason(output))
        return 143
    except _TimedOut:
        sys.stderr.write("timed out after %s s (--timeout)\n" % os.environ.get("CONTAINERJOB_TIMEOUT_S"))
        return EXIT_TIMEOUT
    except BaseException as exc:  # noqa: BLE001 - everything the user's code raises is reported
        rich_output.flush_figures()  # what the cell drew before it failed, as in Jupyter
        _print_error(exc)
        _write_error(output, exc, manifest["filename"])
        return 1
    result = values_out.save_outputs(manifest, payload, mapped, namespace, output, last_value, SIGNER)
    result["python"] = "%d.%d.%d" % sys.version_info[:3]
    result["seconds"] = round(time.time() - started, 3)
    result["exit_code"] = exit_code
    values_out.atomic_write(os.path.join(output, "result.json"), json_c.dumps(result).encode(), SIGNER)
    return 0


def _stop_reason(output: str) -> str:
    """Why SIGTERM came: the host writes its reason (a cancel by the user, --timeout) to output/.stop_reason
    (runtime.STOP_REASON) before it stops the container; without one (Vertex AI, the engine itself) only the
    signal is known."""
    path = os.path.join(output, ".stop_reason")
    try:
        with open(path, encoding="utf-8") as fh:
            reason = fh.read(500).strip()
        os.remove(path)  # the host's note, not the job's output
    except OSError:
        reason = ""
    return reason or "SIGTERM (the container was stopped from outside: a cancel, or the engine stopping it)"


def _enter_workdir(manifest: dict[str, Any], payload: str, namespace: dict[str, Any]) -> str:
    """Copy the script's folder somewhere writable (the payload is read-only), run there, import from there,
    and give the script its own __file__, as `python3 train.py` in that folder would; returns the path."""
    import shutil

    work = os.environ.get("CONTAINERJOB_WORKDIR") or "/tmp/containerjob/work"
    shutil.copytree(os.path.join(payload, manifest["workdir"]), work, copy_function=_plain_copy, dirs_exist_ok=True)
    os.chdir(work)
    sys.path.insert(0, work)
    path = os.path.join(work, manifest["script"])
    namespace["__file__"] = path
    return path


def _check_python(manifest: dict[str, Any]) -> None:
    here = "%d.%d" % sys.version_info[:2]
    if manifest.get("code_by_value") and manifest.get("python") != here:
        raise RuntimeError(
            "the inputs contain code pickled by Python %s but this image runs Python %s; use an image "
            "with Python %s (e.g. python:%s-slim) or define the functions inside the cell"
            % (manifest["python"], here, manifest["python"], manifest["python"])
        )


def _write_error(output: str, exc: BaseException, filename: str) -> None:
    record = _error_record(exc, filename)
    try:
        values_out.atomic_write(os.path.join(output, "error.pkl"), values_out.dump(exc), SIGNER)
        record["pickled"] = True
    except Exception:  # noqa: BLE001 - type and message still come back in JSON
        record["pickled"] = False
    values_out.atomic_write(os.path.join(output, "error.json"), json_c.dumps(record).encode(), SIGNER)


if __name__ == "__main__":
    sys.exit(main())
