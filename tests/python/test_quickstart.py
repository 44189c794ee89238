"""examples/quickstart.ipynb executes headlessly (nbclient, real kernel, real containers) with text output."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs_in_containers(cj_home, labelled):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
                     if out.get("output_type") == "stream")
    results = [out["data"]["text/plain"] for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
               if out.get("output_type") == "execute_result"]
    assert "hello from container" in text
    assert "SUCCEEDED" in text  # the plain-text live view, as under papermill/nbconvert
    assert "back in the kernel: 135 [0, 1, 4, 9, 16]" in text
    assert results == ["135"]
    assert "quickstart" in text  # %containerjob list
    assert labelled() == []
