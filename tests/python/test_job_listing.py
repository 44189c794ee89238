"""What the lists show for a job: the notebook cell that launched it, even when its start failed, and a name
a person can tell apart from its reruns (a container job's image and command)."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from cjtest import IMAGE
from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from containerjob.magics.display import JOB_MIME
from test_cli import cli


def records(cj_home):
    return Store(cj_home / "jobs.db").list(limit=100)


def test_a_cell_job_that_fails_before_its_container_starts_is_announced_to_its_notebook(
        ip, cj_home, monkeypatch, labelled):
    """`--gpus 1` on a machine whose engine has no GPU: the record exists (FAILED, never started) and the cell
    names it, so the sidebar lists it under the notebook and its cell, not in "Other recent jobs"."""
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/walk.ipynb")
    with capture_output() as captured, pytest.raises(UsageError, match="no NVIDIA GPU is available to Docker"):
        ip.run_cell_magic("containerjob", f"--gpus 1 --image {IMAGE}", "x = 1")
    (record,) = records(cj_home)
    assert record.status is JobStatus.FAILED and record.started_at is None
    assert record.origin == "/home/me/walk.ipynb" and record.created_at and record.finished_at
    announced = [o.data[JOB_MIME] for o in captured.outputs if JOB_MIME in o.data]
    assert [a["id"] for a in announced] == [record.id]
    assert announced[0]["backend"] == "local"
    assert labelled() == []


def test_a_cell_job_is_announced_once(ip, cj_home):
    with capture_output() as captured:
        result = ip.run_cell(f"%%containerjob --image {IMAGE}\ny = 2")
    assert result.success, result.error_in_exec
    (record,) = records(cj_home)
    assert [o.data[JOB_MIME]["id"] for o in captured.outputs if JOB_MIME in o.data] == [record.id]
    assert record.name == "containerjob"  # the front end names a cell job by its notebook and cell


def test_container_jobs_are_named_by_image_and_command(cj_home, engine, labelled):
    cli("run", "--image", IMAGE, "--command", "echo 'a b'")
    cli("run", "--image", IMAGE, "--command", "echo", "--", "-n", "c d")
    cli("run", "--image", IMAGE, "--name", "nightly", "--command", "true")
    chosen, with_args, quoted = records(cj_home)  # newest first
    assert quoted.name == f"{IMAGE} · echo 'a b'"
    assert with_args.name == f"{IMAGE} · echo -n 'c d'"  # command and args, as a shell would read them
    assert chosen.name == "nightly"  # a chosen name wins
    listed = cli("list").stdout
    assert f"{IMAGE} · echo"[:24] in listed
    assert labelled() == []
