"""Whole notebooks as jobs: read, inspect the `parameters` cell, validate and inject parameters the way
papermill does (an `injected-parameters` cell after the tagged one), plus the project every job gets."""
from __future__ import annotations

import ast
import copy
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

from .errors import SpecError
from .runtime import KEEP_FILES

PROJECT_PARAMETER = "project_id"
KEEP_TAG = "containerjob-keep-files"  # the hidden cells that keep an Executor run's files (runtime/keep_files.py)
KEPT_DIR = "files"  # under the run's output prefix: what the notebook wrote in its working directory
KEPT_MANIFEST = ".containerjob-kept.json"  # what they write beside files/ (runtime/keep_files.MANIFEST)
KEEP_FAILED = "[containerjob] files not kept: "  # how the cells say in the notebook's output that they kept none
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple),
    "dict": (dict,), "tuple": (tuple, list),
}


@dataclass
class Parameter:
    """One name assigned in the `parameters` cell; `type` is the annotation or the default's type."""

    name: str
    type: str
    default: str
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_notebook(path: str | Path):
    """The notebook as an nbformat v4 node, normalised so papermill's helpers can work on it."""
    import nbformat

    path = Path(path)
    if path.suffix != ".ipynb":
        raise SpecError(f"{path} is not a notebook: give the path of an .ipynb file")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"  # the server passes absolute paths
        raise SpecError(f"notebook {path} does not exist: check the path{where}") from None
    except (OSError, ValueError, nbformat.reader.NotJSONError) as exc:  # type: ignore[attr-defined]
        raise SpecError(f"cannot read notebook {path}: {exc}; open and save it in Jupyter to repair it") from None
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb.metadata.setdefault("papermill", {})
    return nb


def kernel_name(nb) -> str:
    return (nb.metadata.get("kernelspec") or {}).get("name") or "python3"


def _language(nb) -> str:
    return (nb.metadata.get("kernelspec") or {}).get("language") or (nb.metadata.get("language_info") or {}).get("name") or "python"


def inspect_parameters(nb) -> list[Parameter]:
    """The parameters cell's names, types, defaults and help comments, by papermill's public inspection.

    `papermill.inspect_notebook` reads a path (and formats `{...}` in it with parameters), so the
    notebook goes through a private copy named plainly, its kernel set to python3 as papermill runs it."""
    import nbformat
    import papermill

    if _language(nb) != "python":
        raise SpecError(f"notebook kernel language is {_language(nb)!r}; containerjob runs Python notebooks")
    copy_nb = copy.deepcopy(nb)
    copy_nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    with tempfile.TemporaryDirectory(prefix="containerjob-inspect-") as folder:
        path = Path(folder) / "notebook.ipynb"
        nbformat.write(copy_nb, str(path))
        inspected = papermill.inspect_notebook(str(path))
    found = []
    for param in (SimpleNamespace(**fields) for fields in inspected.values()):
        kind = param.inferred_type_name
        if kind in ("None", "", None):
            try:
                value = ast.literal_eval(param.default)
                kind = "any" if value is None else type(value).__name__
            except (ValueError, SyntaxError):
                kind = "any"
        found.append(Parameter(param.name, kind.removeprefix("Optional[").rstrip("]") if kind.startswith("Optional[")
                               else kind, param.default, param.help))
    return found


def parse_parameter_value(text: str) -> Any:
    """`-p NAME VALUE` text -> a Python value: a literal when it reads as one (3, 0.1, True, [1, 2]), else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def validate_parameters(declared: list[Parameter], given: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Unknown names and wrong types are errors, listed together with what the notebook declares."""
    by_name = {p.name: p for p in declared}
    if given and not declared:
        raise SpecError(f"{path} has no cell tagged `parameters`, so it takes no parameters: tag the cell that "
                        "assigns them (View > Cell Toolbar > Tags) or drop the parameters")
    problems = []
    for name, value in given.items():
        param = by_name.get(name)
        if param is None:
            problems.append(f"{name!r} is not a parameter of {path} (it declares {', '.join(sorted(by_name)) or 'none'})")
            continue
        allowed = _TYPES.get(param.type)
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and param.type in ("int", "float"))):
            problems.append(f"{name} must be {param.type} (default {param.default}), not {type(value).__name__} {value!r}")
    if problems:
        raise SpecError("bad notebook parameters: " + "; ".join(problems))
    return dict(given)


def _project_lines(project: str | None) -> str:
    """Environment set inside the kernel: the Workbench Executor sets no project, client libraries need one."""
    if not project:
        return ""
    names = ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")
    sets = "; ".join(f"_cj_os.environ[{n!r}] = {project!r}" for n in names)
    return f"import os as _cj_os; {sets}; del _cj_os  # project injected by containerjob\n"


def parameterize(nb, parameters: Mapping[str, Any], project: str | None, declared: list[Parameter]):
    """A copy with papermill's injected cell (parameters, `project_id` when declared) and the project env."""
    from papermill.parameterize import parameterize_notebook

    values = dict(parameters)
    if project and any(p.name == PROJECT_PARAMETER for p in declared):
        values.setdefault(PROJECT_PARAMETER, project)
    out = parameterize_notebook(copy.deepcopy(nb), values, kernel_name="python3", language="python")
    injected = next(c for c in out.cells if "injected-parameters" in c.metadata.get("tags", []))
    injected.source = _project_lines(project) + injected.source
    out.metadata["containerjob"] = {"parameters": _jsonable(values), "project": project or ""}
    return out


def with_kept_files(nb, destination: str):
    """A copy that keeps what it writes under its working directory in `destination`/files/ (a gs:// URI):
    a first cell lists that folder, a closing cell uploads what was created or changed since (a failing cell
    does too). The Workbench Executor keeps only the executed notebook; both cells are hidden in
    JupyterLab (`source_hidden`) and Colab (a form title), and tagged KEEP_TAG."""
    import nbformat

    out = copy.deepcopy(nb)
    module = "containerjob_keep_files"
    first = (f"#@title containerjob: keep the files this notebook writes (uploaded to {destination}/files/)\n"
             "import sys as _cj_sys, types as _cj_types\n"
             f"_cj_keep = _cj_sys.modules[{module!r}] = _cj_types.ModuleType({module!r})\n"
             f"exec(compile({KEEP_FILES.read_text()!r}, {module!r}, 'exec'), _cj_keep.__dict__)\n"
             f"_cj_keep.begin({destination!r}, get_ipython())\n"
             "del _cj_sys, _cj_types, _cj_keep\n")
    closing = ("#@title containerjob: upload the files this notebook wrote\n"
               "import sys as _cj_sys\n"
               f"_cj_sys.modules[{module!r}].finish() if {module!r} in _cj_sys.modules else print(\n"
               f"    {KEEP_FAILED + 'the kernel restarted after the first cell'!r})\n"
               "del _cj_sys\n")
    for index, source in ((0, first), (len(out.cells) + 1, closing)):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata.update(tags=[KEEP_TAG], jupyter={"source_hidden": True}, cellView="form")
        out.cells.insert(index, cell)
    return out


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=repr))


def notebook_bytes(nb) -> bytes:
    import nbformat

    return nbformat.writes(nb).encode("utf-8")
