"""Backends are plugins: what the code outside backends/ decides about a job (how often it is watched, who
times it, what an interrupt does, which buckets it mounts, which Vertex AI checks its options get) follows
the Traits its backend declares, never the backend's name."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import containerjob
from containerjob.backends import available_backends, backend_class, backend_traits
from containerjob.backends.base import Backend
from containerjob.core.errors import SpecError
from containerjob.core.models import Traits
from containerjob.core.spec import RunOptions, build_spec

PACKAGE = Path(containerjob.__file__).parent
BUILTIN_NAMES = {"local", "vertex", "executor"}


def _names_compared(node: ast.AST) -> list[str]:
    """The built-in backend names a comparison holds as literals (`x == "local"`, `x in ("vertex", ...)`)."""
    if isinstance(node, ast.Constant) and node.value in BUILTIN_NAMES:
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [name for element in node.elts for name in _names_compared(element)]
    return []


def test_no_module_outside_backends_compares_a_backend_name():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "backends":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}"
                              for side in (node.left, *node.comparators) for name in _names_compared(side)]
    assert offenders == [], "ask the backend's Traits (core/models.py) instead of its name"


def test_the_guard_sees_a_name_comparison():
    tree = ast.parse('if record.backend == "local" or backend in ("vertex", "executor"): pass')
    assert sorted(n for node in ast.walk(tree) if isinstance(node, ast.Compare)
                  for side in (node.left, *node.comparators) for n in _names_compared(side)) == \
        ["executor", "local", "vertex"]


@pytest.mark.parametrize("name", available_backends())
def test_every_backend_declares_its_traits(name):
    cls = backend_class(name)
    assert issubclass(cls, Backend) and isinstance(cls.traits, Traits)


def test_the_built_in_backends_traits():
    assert backend_traits("local") == Traits(runs_locally=True, enforces_timeout=False, mounts_buckets=False,
                                             cloud_machines=False)
    assert backend_traits("vertex") == backend_traits("executor") == Traits(
        runs_locally=False, enforces_timeout=True, mounts_buckets=True, cloud_machines=True)


def _spec(options: RunOptions, traits: Traits):
    return build_spec(options, default_image="python:3.11-slim", default_backend="local", project="p",
                      traits_of=lambda name: traits)


def test_the_spec_checks_follow_the_traits_whatever_the_name(tmp_path):
    """A local --output-dir is refused where jobs run elsewhere, and the Vertex AI machine checks run where a
    backend declares Vertex AI machines: a plugin called anything gets the checks of what it does."""
    remote = Traits(runs_locally=False, enforces_timeout=True, mounts_buckets=True, cloud_machines=False)
    here = Traits(runs_locally=True, enforces_timeout=False, mounts_buckets=False, cloud_machines=False)
    with pytest.raises(SpecError, match="is a local folder") as raised:
        _spec(RunOptions(backend="local", output_dir=str(tmp_path)), remote)
    assert raised.value.field == "output_dir"
    assert _spec(RunOptions(backend="vertex", output_dir=str(tmp_path)), here).base_output_dir == str(tmp_path)
    cloud = Traits(runs_locally=False, enforces_timeout=True, mounts_buckets=True, cloud_machines=True)
    with pytest.raises(SpecError, match="is not a region name") as raised:
        _spec(RunOptions(backend="othercloud"), cloud)  # no region anywhere
    assert raised.value.field == "region"
    assert _spec(RunOptions(backend="othercloud"), here).region is None  # not asked where no machines are picked


def test_an_unknown_backend_is_the_backend_fields_problem():
    with pytest.raises(SpecError, match="unknown backend 'nowhere'") as raised:
        build_spec(RunOptions(backend="nowhere", gpus="1"), default_image="python:3.11-slim",
                   default_backend="local", project=None, traits_of=backend_traits)
    assert [p.field for p in raised.value.problems] == ["backend"]
