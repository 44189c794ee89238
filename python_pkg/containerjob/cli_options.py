"""Arguments the command line's subcommands share (run, run-notebook, schedule create), and reading
them back: the run options come from the option table (core/option_table.py)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .core.errors import SpecError
from .core.options import add_arguments


def add_run_options(parser: argparse.ArgumentParser, *kinds: str) -> None:
    """The run options of job kinds (script and container for `run`, notebook for `run-notebook` and
    `schedule create`)."""
    add_arguments(parser.add_argument, *kinds)


def add_notebook_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", help="the .ipynb to run")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter of the notebook's `parameters` cell; VALUE is read as a Python literal "
                             "(3, 0.1, True, [1, 2]) or else as text")
    parser.add_argument("--parameters", metavar="FILE.json", help="parameters as a JSON object")


def notebook_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .core.notebook import parse_parameter_value

    values: dict[str, Any] = {}
    if args.parameters:
        try:
            values.update(json.loads(Path(args.parameters).read_text()))
        except (OSError, ValueError) as exc:
            raise SpecError(f"--parameters {args.parameters}: {exc}; give a JSON object file") from None
        if not isinstance(values, dict):
            raise SpecError(f"--parameters {args.parameters} must hold a JSON object")
    values.update({name: parse_parameter_value(value) for name, value in args.parameter})
    return values
