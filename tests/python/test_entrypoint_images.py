"""Images with their own ENTRYPOINT run containerjob's payload the way Vertex AI does: the job's command
replaces the ENTRYPOINT (and the image's CMD is not appended), so a cell runs the same here and there."""
from __future__ import annotations

import json

import pytest

from cjtest import IMAGE, build_dockerfile, run_cell

ENTRYPOINT_IMAGE = "containerjob-test-entrypoint:1"


@pytest.fixture(scope="module")
def entrypoint_image(engine):
    """python:X.Y-slim whose ENTRYPOINT would print and fail, with a CMD that must not reach the runner."""
    return build_dockerfile(engine, f"FROM {IMAGE}\nENTRYPOINT [\"python3\", \"-c\", \"print('the image entrypoint "
                            "ran'); raise SystemExit(3)\"]\nCMD [\"--flag-for-the-entrypoint\"]\n", ENTRYPOINT_IMAGE)


def test_a_cell_runs_in_an_image_with_an_entrypoint(ip, entrypoint_image, capsys, labelled):
    ip.user_ns["data"] = [1, 2, 3]
    result = run_cell(ip, f"--image {entrypoint_image}", "import sys\nprint('argv', sys.argv[1:])\ntotal = sum(data)")
    assert result.success, result.error_in_exec
    assert ip.user_ns["total"] == 6
    out = capsys.readouterr().out
    assert "the image entrypoint ran" not in out and "--flag-for-the-entrypoint" not in out
    assert "no python3" not in out and labelled() == []


def test_the_dry_run_shows_vertex_semantics(ip, entrypoint_image, capsys):
    ip.run_cell_magic("containerjob", f"--image {entrypoint_image} --dry-run", "x = 1")
    out = capsys.readouterr().out
    config = json.loads(out[out.index("{"):])
    assert config["entrypoint"] == ["python3", "-u", "/containerjob/runtime/runner.py"]  # containerSpec.command
    assert config["command"] is None  # containerSpec.args: none; Docker drops the image CMD with a new entrypoint
