"""`pip install .` built the lab extension and enabled the server extension."""
from __future__ import annotations

import re
import subprocess
import sys


def jupyter(module: str, *args: str) -> str:
    """Run the app module with this interpreter (`jupyter X` would pick whatever is first on PATH)."""
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=120)
    return re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)


def test_server_extension_enabled_on_install():
    out = jupyter("jupyter_server.extension.serverextension", "list")
    assert "containerjob enabled" in out and re.search(r"containerjob \S+ OK", out)


def test_lab_extension_installed():
    out = jupyter("jupyterlab.labextensions", "list")
    assert re.search(r"containerjob v\S+ enabled OK", out), out
