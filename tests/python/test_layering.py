"""Third-party imports by layer: nothing below magics and server imports a Jupyter layer (DESIGN.md says
so for core/; mounts, backends, service and scheduling run in the CLI and the scheduler too), and loading
the extension stays lazy. Imports between the package's own modules: test_imports.py."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import containerjob
from test_imports import LAYERS, layer_of, module_names

FORBIDDEN = ("IPython", "ipywidgets", "tornado", "jupyter_server", "ipykernel")
UI_LAYER = len(LAYERS) - 1  # magics, server, cli: where Jupyter may be imported


def test_layers_below_the_ui_import_no_jupyter_layer():
    offenders = []
    for name, path in module_names().items():
        if layer_of(name) >= UI_LAYER:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def _imports(nodes) -> set[str]:
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0])
    return found


def test_runner_is_stdlib_only():
    """The runners load with nothing but python3; what they import later is optional and named here."""
    runtime = Path(containerjob.__file__).parent / "core" / "runtime"
    shipped = {"after_import", "json_c", "page_writes", "pickle_frames", "result_signing", "rich_output",
               "shell_lines", "values_out", "writeback"}  # modules copied next to the runner (stdlib-only themselves, checked here)
    optional = {"runner.py": {"notebook_runner"},
                "notebook_runner.py": {"papermill", "nbclient", "nbformat", "jupyter_client"},  # the image's kernel
                "after_import.py": set(), "json_c.py": set(), "page_writes.py": set(), "pickle_frames.py": set(),
                "result_signing.py": set(), "rich_output.py": set(), "writeback.py": set(),
                "values_out.py": {"cloudpickle"},  # cloudpickle travels in runtime/site
                "shell_lines.py": set(), "containerjob_mpl.py": {"matplotlib"},
                "keep_files.py": {"google"},  # google-cloud-storage when the Executor's runtime has it
                "waiter.py": set()}  # a warm container's command: imports nothing the job will
    assert {p.stem for p in runtime.glob("*.py")} == {"__init__"} | shipped | {Path(n).stem for n in optional}
    for name, allowed in optional.items():
        tree = ast.parse((runtime / name).read_text())
        loaded_with = {"containerjob_mpl.py": allowed}.get(name, set())  # matplotlib loads its backend itself
        assert _imports(tree.body) - set(sys.stdlib_module_names) - shipped == loaded_with, name
        assert _imports(ast.walk(tree)) - set(sys.stdlib_module_names) - shipped == allowed, name


def test_import_is_light():
    code = "import containerjob, sys; print(sorted(m for m in ('docker', 'IPython', 'cloudpickle') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _run_runner(tmp_path: Path, source: str, outputs: list[str]) -> tuple[dict, set[str]]:
    """The shipped runner on this machine's python3 over a real cell payload: (result or error, modules it
    imported)."""
    import json

    from containerjob.core.payload import build_payload

    payload = build_payload(source, home=tmp_path, kind="cell", filename="<containerjob cell>", outputs=outputs)
    output = tmp_path / "output"
    env = {"PATH": "/usr/bin:/bin", "CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(output)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-u", str(payload.runtime / "runner.py")], env=env,
                          capture_output=True, text=True)
    bare = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], env=env, capture_output=True, text=True)
    found = output / ("error.json" if done.returncode else "result.json")
    return json.loads(found.read_text()), _imported(done.stderr) - _imported(bare.stderr)


def _imported(importtime: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in importtime.splitlines() if line.startswith("import time:")}


def test_a_plain_cell_starts_without_regex_json_or_pickle(tmp_path):
    """A cell sending back plain scalars imports none of what would double the runner's start (re, json,
    pickle, enum, collections: bench/overhead.py); its values travel in result.json. A failing cell still
    shows its source lines (linecache gets them when the traceback imports it). Modules the interpreter
    loads without the runner (this venv's site hooks) do not count."""
    result, imported = _run_runner(tmp_path, "x = 21 * 2\nname = 'a' * 3\n", ["x", "name"])
    assert result["outputs"] == {"x": {"type": "int", "size": 2, "value": 42},
                                 "name": {"type": "str", "size": 5, "value": "aaa"}}
    assert imported & {"re", "json", "pickle", "_pickle", "enum", "collections", "functools", "linecache",
                       "signal", "threading", "string"} == set()

    error, imported = _run_runner(tmp_path, "x = 1\nraise ValueError(x)\n", ["x"])
    assert error["type"] == "ValueError"
    assert [(f["lineno"], f["line"]) for f in error["frames"]] == [(2, "raise ValueError(x)")]
    assert "linecache" in imported
