"""containerjob calls its dependencies through their public APIs only (issue 27): no private name imported
from a third-party package, and Cloud Storage transfers through google-cloud-storage, not gcsfs's internals.
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


def test_cloud_storage_transfers_do_not_use_gcsfs():
    users = [name for name, path in module_names().items() if re.search(r"^\s*(import|from) gcsfs\b",
                                                                        path.read_text(), re.M)]
    assert users == []


def test_dependencies_relied_on_are_bounded_both_ways():
    text = PYPROJECT.read_text()
    for package in ("google-cloud-storage", "papermill"):
        spec = re.search(rf'"{package}(?P<spec>[^"]*)"', text)
        assert spec and ">=" in spec["spec"] and "<" in spec["spec"].replace("<=", ""), (package, spec)
