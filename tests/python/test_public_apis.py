"""containerjob calls its dependencies through their public APIs only (issue 27): no private name imported
from a third-party package, and gcsfs through its public names only.
pyproject.toml bounds the packages whose behaviour this relies on."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from test_imports import module_names

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_no_private_name_is_imported_from_a_dependency():
    offenders = []
    for name, path in module_names().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__" \
                    and not (node.module or "").startswith("containerjob"):
                offenders += [f"{name}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_") or any(p.startswith("_") for p in node.module.split("."))]
    assert offenders == []


def test_gcsfs_is_used_through_its_public_names_only():
    """No `fs._call`-like attribute of a gcsfs object: only a module's own `self._x` may start with `_`."""
    offenders = []
    for name, path in module_names().items():
        tree = ast.parse(path.read_text())
        if not re.search(r"^\s*(import|from) gcsfs\b", path.read_text(), re.M):
            continue
        offenders += [f"{name}:{node.lineno}: .{node.attr}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr.startswith("_")
                      and not node.attr.startswith("__")
                      and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))]
    assert offenders == []


def test_dependencies_relied_on_are_bounded_both_ways():
    text = PYPROJECT.read_text()
    for package in ("google-cloud-storage", "gcsfs", "papermill"):
        spec = re.search(rf'"{package}(?P<spec>[^"]*)"', text)
        assert spec and ">=" in spec["spec"] and "<" in spec["spec"].replace("<=", ""), (package, spec)
