"""The kernel's own environment, for a job whose image lacks part of it: which distribution (and which version)
provides a module here. It gives a ModuleNotFoundError from a job its fix (`--pip numpy==2.1.3`, or `--pip
kernel`), and turns `--pip kernel` into the kernel's pinned versions of what the job's code imports and its
pickled inputs reference, so the image installs the same versions the kernel has."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from .kernel_env_pickle import modules_in_pickle
from .runtime import pickle_frames

if TYPE_CHECKING:
    from .payload import Payload

KERNEL = "kernel"  # `--pip kernel`: the kernel's versions of what the job needs


class MissingInImage(ModuleNotFoundError):
    """A module the job could not import although the kernel has it, raised before any line of the job's code
    ran (its pickled inputs need it): shown as one line, its message naming the fix."""


@dataclass
class KernelPins:
    """What `--pip kernel` stood for: the pins it added, and the distributions it left out because pip in the
    image cannot fetch them (installed here from a folder or a URL, not from a package index)."""

    added: list[str]
    left_out: list[str]

    def describe(self) -> str:
        """For the preparing line."""
        text = f"--pip {KERNEL} adds {' '.join(self.added) or 'nothing (no imports of installed packages)'}"
        if self.left_out:
            text += (f"; leaves out {', '.join(self.left_out)} (installed here from a folder or URL, not a package "
                     "index: put them in the image)")
        return text


def pinned(module: str, providers: Mapping[str, list[str]] | None = None) -> list[str]:
    """`dist==version` of each distribution that provides `module` in this kernel; [] for the standard library,
    a module this kernel does not have, or one of no installed distribution (the cell's folder, __main__).
    `providers`: _providers(), when the caller looks up many modules (it reads every distribution's files)."""
    top = module.partition(".")[0]
    if not top or top in getattr(sys, "stdlib_module_names", sys.builtin_module_names):  # 3.9: builtins only
        return []
    found = []
    for dist in _owners(module, (providers if providers is not None else _providers()).get(top, [])):
        try:
            found.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return sorted(set(found))


def _from_index(pin: str) -> bool:
    """Whether the distribution came from a package index: one installed from a folder or a URL has a PEP 610
    direct_url.json, and pip in the image cannot fetch the same thing by name and version."""
    try:
        return importlib.metadata.distribution(pin.partition("==")[0]).read_text("direct_url.json") is None
    except importlib.metadata.PackageNotFoundError:
        return False


def _providers() -> Mapping[str, list[str]]:
    """Top-level module -> the distributions that provide it: importlib's own mapping (Python 3.10+)."""
    if hasattr(importlib.metadata, "packages_distributions"):
        return importlib.metadata.packages_distributions()
    return _providers_from_files()


def _providers_from_files() -> Mapping[str, list[str]]:
    """The same mapping from each distribution's files, for Python 3.9."""
    found: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        for path in dist.files or []:
            part = path.parts[0] if path.parts else ""
            if part.endswith((".dist-info", ".egg-info", ".data")) or part in ("..", "__pycache__"):
                continue
            top = part if len(path.parts) > 1 else path.stem if path.suffix == ".py" else ""
            names = found.setdefault(top, []) if top else []
            if top and name not in names:
                names.append(name)
    return found


def _owners(module: str, candidates: list[str]) -> list[str]:
    """The candidates that ship `module` itself where several share its top-level name (a namespace package:
    google.cloud.storage is one of google's sixteen); all of them when none says so."""
    if len(candidates) < 2 or "." not in module:
        return candidates
    stem = module.replace(".", "/")
    owning = [dist for dist in candidates
              if any(str(f).startswith((stem + "/", stem + ".")) for f in importlib.metadata.files(dist) or [])]
    return owning or candidates


def missing_module_fix(exc: BaseException) -> str | None:
    """For a ModuleNotFoundError of a module this kernel has: the kernel's distribution and version and the
    fix, in one sentence; None otherwise."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    name = exc.name or _named(str(exc))
    pins = pinned(name) if name else []
    if not pins:
        return None
    has = ", ".join(p.replace("==", " ") for p in pins)
    if not any(_from_index(p) for p in pins):
        return f"the kernel has {has}, installed from a folder or URL (not a package index): put it in the image"
    return f"the kernel has {has}: add {' '.join(f'--pip {p}' for p in pins)} (or --pip {KERNEL})"


def _named(message: str) -> str:
    found = re.match(r"No module named '([^']+)'", message)
    return found.group(1) if found else ""


def imported_modules(sources: Iterable[str]) -> set[str]:
    """The absolute imports of the code (`import a.b`; `from a import b` as a.b); code that does not parse (a
    notebook cell with magics) adds nothing."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from google.cloud import storage`: the submodule names the distribution, where it is one
                names.update(node.module if alias.name == "*" else f"{node.module}.{alias.name}"
                             for alias in node.names)
    return names


def input_modules(payload: Payload) -> set[str]:
    """The modules the payload's inputs need: those sent as modules, and those their pickles reference."""
    names: set[str] = set()
    for entry in payload.manifest.get("inputs", {}).values():
        if "module" in entry:
            names.add(entry["module"])
        elif "pickle" in entry:
            with open(Path(payload.path) / entry["pickle"], "rb") as fh:
                found = pickle_frames.layout(fh)
                if found is None:
                    fh.seek(0)
                names |= modules_in_pickle(found[0] if found else fh.read())
    return {n for n in names if n.partition(".")[0] != "cloudpickle"}  # every payload ships cloudpickle


def kernel_requirements(sources: Iterable[str], payload: Payload | None, given: Iterable[str]) -> KernelPins:
    """`--pip kernel` resolved: the kernel's pinned distributions for the job's imports and its inputs'
    modules, less those the other requirements already name (theirs win)."""
    modules = imported_modules(sources) | (input_modules(payload) if payload is not None else set())
    named = {_dist_key(r) for r in given}
    providers = _providers()
    pins = sorted({pin for module in modules for pin in pinned(module, providers) if _dist_key(pin) not in named})
    indexed = {pin: _from_index(pin) for pin in pins}
    return KernelPins([p for p in pins if indexed[p]], [p for p in pins if not indexed[p]])


def _dist_key(requirement: str) -> str:
    """A requirement's distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[@(]", requirement.strip(), maxsplit=1)[0]).lower()


def resolve(requirements: list[str], sources: Iterable[str],
            payload: Payload | None) -> tuple[list[str], KernelPins | None]:
    """(the requirements with `kernel` replaced by what it stands for, what that was); None when `kernel` was
    not asked for."""
    if KERNEL not in requirements:
        return requirements, None
    given = [r for r in requirements if r != KERNEL]
    pins = kernel_requirements(sources, payload, given)
    return given + pins.added, pins
