"""The package's own import graph: no cycles, and no module imports one of a higher layer.

Layers, lowest first: core < mounts < backends < service < scheduling, scheduler < cli, cli_schedule,
magics, server, config_traits (the `ContainerJob` config magics and server share) and the package root,
whose hooks load magics and server. Imports inside functions count (a lazy import is still a dependency);
imports under `if TYPE_CHECKING:` do not. Third-party imports are test_layering.py's business.
"""
from __future__ import annotations

import ast
from pathlib import Path

import containerjob

PACKAGE = "containerjob"
ROOT = Path(containerjob.__file__).parent
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "core"),
    ("mounts",),
    ("backends",),
    ("service",),
    ("scheduling", "scheduler", "schedule_preview"),
    ("cli", "cli_options", "cli_schedule", "cli_sweep", "magics", "server", "config_traits", ""),  # "": the package root (its hooks)
)


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__)."""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        names[".".join((PACKAGE, *parts))] = path
    return names


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """Every Import/ImportFrom under `node`, skipping the bodies of `if TYPE_CHECKING:`."""
    children = node.orelse if _is_type_checking(node) else list(ast.iter_child_nodes(node))
    for child in children:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        else:
            yield from _import_nodes(child)


def imports_of(name: str, source: str, known: set[str], *, is_package: bool = False) -> set[str]:
    """The package's modules `name` imports; `from X import Y` counts as X.Y when Y is a module."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        found |= {t for t in targets if t in known}
    return found - {name}


def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(name, path.read_text(), set(modules), is_package=path.name == "__init__.py")
            for name, path in modules.items()}


def layer_of(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    for index, members in enumerate(LAYERS):
        if part in members:
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {Path(__file__).name}")


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_graph_resolves_relative_and_function_level_imports_and_skips_type_checking():
    known = {"p", "p.a", "p.a.x", "p.b", "p.c", "p.d", "p.e"}
    source = (
        "from typing import TYPE_CHECKING\nimport json\nfrom . import b\nfrom .a import thing\n"
        "if TYPE_CHECKING:\n    from .c import C\nelse:\n    import p.e\n"
        "def f():\n    from .d import g\n"
    )
    assert imports_of("p.m", source, known) == {"p.b", "p.a", "p.d", "p.e"}
    assert imports_of("p.a", "from . import x\nfrom .. import b\n", known, is_package=True) == {"p.a.x", "p.b"}


def test_find_cycle_reports_the_path():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_imports_a_higher_layer():
    upward = [f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
              for module, targets in sorted(graph().items()) for target in sorted(targets)
              if layer_of(target) > layer_of(module)]
    assert upward == []


PLUGIN = '''
from containerjob.backends.local import LocalBackend


class Echo(LocalBackend):
    """A third party's backend: the local engine under another name, cells only."""

    name = "echo"
    label = "Echo (a plugin)"
    capabilities = {**LocalBackend.capabilities, "kinds": ["cell"]}
'''


def test_a_third_party_backend_is_found_through_the_entry_point_group(tmp_path):
    """An installed package's `containerjob.backends` entry points add backends; a broken one is a clear
    BackendUnavailable naming it, never a traceback."""
    import subprocess
    import sys

    (tmp_path / "cjplugin.py").write_text(PLUGIN)
    info = tmp_path / "cjplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cjplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[containerjob.backends]\necho = cjplugin:Echo\n"
                                           "broken = cjplugin:Missing\n")
    script = """
from containerjob.backends import available_backends, backend_class
from containerjob.core.errors import BackendUnavailable
print(available_backends())
print(backend_class("echo").label)
try:
    backend_class("broken")
except BackendUnavailable as exc:
    print(exc)
"""
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT.parent}"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names, label, broken = done.stdout.strip().splitlines()
    assert names == "['local', 'vertex', 'executor', 'echo', 'broken']" and label == "Echo (a plugin)"
    assert broken.startswith("backend 'broken' cannot be loaded from cjplugin:Missing (AttributeError")
