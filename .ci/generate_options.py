#!/usr/bin/env python3
"""Write the files produced from the option table (python_pkg/containerjob/core/option_table.py) and the REST
contract: js_src/options.generated.ts, the type checker's RunOptions class in core/options.py, the RunOptions
and RunOptionName schemas in server/openapi.yaml, and js_src/apitypes.generated.ts (openapi-typescript's types
of that openapi.yaml, so the browser's REST types are the contract's, never a copy). With --check, write
nothing and exit 1 naming each stale file (CI runs that).
The TypeScript types need `jlpm install` first (openapi-typescript is a devDependency)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python_pkg"))  # the source tree, whatever is installed

from containerjob.core.option_table import OPTIONS  # noqa: E402
from containerjob.core.options import openapi_schema, replace_block, run_options_stub, typescript_module  # noqa: E402

TS = ROOT / "js_src" / "options.generated.ts"
OPTIONS_PY = ROOT / "python_pkg" / "containerjob" / "core" / "options.py"
OPENAPI = ROOT / "python_pkg" / "containerjob" / "server" / "openapi.yaml"
REST_TYPES = ROOT / "js_src" / "apitypes.generated.ts"
OPENAPI_TS = ROOT / "node_modules" / ".bin" / "openapi-typescript"
REST_HEADER = """\
// Generated from python_pkg/containerjob/server/openapi.yaml by openapi-typescript: do not edit.
// Change openapi.yaml, then run `python .ci/generate_options.py`; CI (`--check`) fails when this is stale.
/* eslint-disable */
"""


def option_names_schema(indent: str = "    ") -> str:
    """The `RunOptionName` schema of openapi.yaml: the option table's names (what GET backends lists)."""
    return "\n".join([f"{indent}RunOptionName:", f"{indent}  type: string",
                      f"{indent}  description: The name of a run option (a property of RunOptions)",
                      f"{indent}  enum: [{', '.join(o.name for o in OPTIONS)}]"])


def rest_types(openapi: str) -> str:
    """The TypeScript of the REST contract `openapi` (the text openapi.yaml will have), by openapi-typescript."""
    if not OPENAPI_TS.is_file():
        raise SystemExit(f"{OPENAPI_TS.relative_to(ROOT)} is missing: run `jlpm install` first")
    done = subprocess.run([str(OPENAPI_TS)], input=openapi, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"openapi-typescript refused {OPENAPI.relative_to(ROOT)}:\n{done.stderr.strip()}")
    return REST_HEADER + done.stdout


def expected() -> dict[Path, str]:
    openapi = replace_block(OPENAPI.read_text(), openapi_schema())
    openapi = replace_block(openapi, option_names_schema(), "RunOptionName")
    return {TS: typescript_module(), OPENAPI: openapi, REST_TYPES: rest_types(openapi),
            OPTIONS_PY: replace_block(OPTIONS_PY.read_text(), run_options_stub())}


def main(argv: list[str]) -> int:
    wanted = expected()
    stale = [path for path, text in wanted.items() if not path.is_file() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `python .ci/generate_options.py` and commit it",
                  file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
