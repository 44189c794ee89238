#!/usr/bin/env python3
"""Write the files produced from the option table (python_pkg/containerjob/core/option_table.py):
js_src/options.generated.ts and the RunOptions schema in server/openapi.yaml. With --check, write
nothing and exit 1 naming each stale file (CI runs that)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python_pkg"))  # the source tree, whatever is installed

from containerjob.core.options import openapi_schema, replace_block, typescript_module  # noqa: E402

TS = ROOT / "js_src" / "options.generated.ts"
OPENAPI = ROOT / "python_pkg" / "containerjob" / "server" / "openapi.yaml"


def expected() -> dict[Path, str]:
    return {TS: typescript_module(), OPENAPI: replace_block(OPENAPI.read_text(), openapi_schema())}


def main(argv: list[str]) -> int:
    stale = [path for path, text in expected().items() if not path.is_file() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `python .ci/generate_options.py` and commit it",
                  file=sys.stderr)
        return 1 if stale else 0
    for path, text in expected().items():
        if path in stale:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
