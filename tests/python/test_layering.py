"""core/ must not import any Jupyter layer (DESIGN.md); loading the extension stays lazy."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import containerjob

FORBIDDEN = ("IPython", "ipywidgets", "tornado", "jupyter_server", "ipykernel")


def test_core_imports_no_jupyter_layer():
    core = Path(containerjob.__file__).parent / "core"
    offenders = []
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
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
    shipped = {"pickle_frames"}  # modules copied next to the runner (stdlib-only themselves, checked here)
    optional = {"runner.py": {"cloudpickle", "notebook_runner"},  # cloudpickle travels in runtime/site
                "notebook_runner.py": {"papermill", "nbclient", "nbformat", "jupyter_client"},  # the image's kernel
                "pickle_frames.py": set()}
    assert {p.stem for p in runtime.glob("*.py")} == {"__init__"} | shipped | {Path(n).stem for n in optional}
    for name, allowed in optional.items():
        tree = ast.parse((runtime / name).read_text())
        assert _imports(tree.body) - set(sys.stdlib_module_names) - shipped == set(), name
        assert _imports(ast.walk(tree)) - set(sys.stdlib_module_names) - shipped == allowed, name


def test_import_is_light():
    code = "import containerjob, sys; print(sorted(m for m in ('docker', 'IPython', 'cloudpickle') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
