"""Whole notebooks and schedules through the REST API (real server, real containers, plain-Python notebooks)."""
from __future__ import annotations

import asyncio
import json
import time

import nbformat
import pytest
import tornado.httpclient

from cjtest import IMAGE


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


@pytest.fixture
def notebook(jp_root_dir):
    """work/train.ipynb under the server's root, with a tagged parameters cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("epochs = 3\nrate: float = 0.1  # learning rate")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('epochs', epochs)")]
    (jp_root_dir / "work").mkdir()
    nbformat.write(nb, str(jp_root_dir / "work" / "train.ipynb"))
    return "work/train.ipynb"


async def api(fetch, *parts, **kwargs):
    response = await fetch("containerjob", *parts, **kwargs)
    return response.code, (json.loads(response.body) if response.body else None)


async def error_of(fetch, *parts, **kwargs) -> tuple[int, dict]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await fetch("containerjob", *parts, **kwargs)
    return info.value.code, json.loads(info.value.response.body)


async def wait_final(fetch, job_id: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        _, job = await api(fetch, "jobs", job_id)
        if job["status"] not in ("QUEUED", "RUNNING", "CANCELLING") or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.2)


async def test_notebook_parameters(jp_fetch, notebook):
    _, body = await api(jp_fetch, "notebooks", "parameters", params={"path": notebook})
    assert [(p["name"], p["type"], p["default"], p["help"]) for p in body["parameters"]] == [
        ("epochs", "int", "3", ""), ("rate", "float", "0.1", "learning rate")]
    code, error = await error_of(jp_fetch, "notebooks", "parameters", params={"path": "work/none.ipynb"})
    assert code == 400 and "does not exist" in error["message"]


async def test_notebook_job_runs_with_parameters(jp_fetch, notebook, labelled):
    code, job = await api(jp_fetch, "jobs", method="POST", body=json.dumps(
        {"kind": "notebook", "path": notebook, "parameters": {"epochs": 5}, "options": {"image": IMAGE}}))
    assert code == 201 and job["origin"] == notebook and job["name"] == "train"
    job = await wait_final(jp_fetch, job["id"])
    assert job["status"] == "SUCCEEDED", job["message"]
    _, outputs = await api(jp_fetch, "jobs", job["id"], "outputs")
    assert "output/train.ipynb" in {f["path"] for f in outputs["files"]}
    executed = await jp_fetch("containerjob", "jobs", job["id"], "outputs", "output", "train.ipynb")
    assert "epochs 5" in executed.body.decode()
    assert labelled(job["id"]) == []
    code, error = await error_of(jp_fetch, "jobs", method="POST", body=json.dumps(
        {"kind": "notebook", "path": notebook, "parameters": {"epochs": "many"}}))
    assert code == 400 and "epochs" in error["message"]


async def test_schedule_lifecycle(jp_fetch, notebook, jp_root_dir):
    code, schedule = await api(jp_fetch, "schedules", method="POST", body=json.dumps(
        {"notebook": notebook, "cron": "0 3 * * *", "timezone": "Europe/Paris", "parameters": {"epochs": 2},
         "options": {"image": IMAGE}}))
    assert code == 201 and schedule["id"].startswith("cs-")
    assert schedule["state"] == "ACTIVE" and schedule["next_run_at"] > time.time()
    assert schedule["notebook"] == str(jp_root_dir / notebook) and schedule["backend"] == "local"
    sid = schedule["id"]
    assert [s["id"] for s in (await api(jp_fetch, "schedules"))[1]["schedules"]] == [sid]
    assert (await api(jp_fetch, "schedules", sid))[1] == schedule

    _, edited = await api(jp_fetch, "schedules", sid, method="PATCH", body=json.dumps({"cron": "30 4 * * 1"}))
    assert edited["cron"] == "30 4 * * 1" and edited["parameters"] == {"epochs": 2}
    code, error = await error_of(jp_fetch, "schedules", sid, method="PATCH", body=json.dumps(
        {"cron": "0 5 * * *", "options": {"backend": "executor", "project": "my-proj"}}))
    assert code == 400 and error["error"] == "SpecError"
    assert f"delete it (`containerjob schedule delete {sid}`) and create it again with --backend executor" \
        in error["message"]
    assert (await api(jp_fetch, "schedules", sid))[1] == edited  # a refused edit changes nothing
    _, paused = await api(jp_fetch, "schedules", sid, "pause", method="POST", body="")
    assert paused["state"] == "PAUSED" and paused["next_run_at"] is None
    _, resumed = await api(jp_fetch, "schedules", sid, "resume", method="POST", body="{}")
    assert resumed["state"] == "ACTIVE" and resumed["next_run_at"] is not None

    code, job = await api(jp_fetch, "schedules", sid, "run", method="POST", body="")
    assert code == 201 and job["spec"]["labels"]["containerjob-schedule"] == sid
    assert (await wait_final(jp_fetch, job["id"]))["status"] == "SUCCEEDED"
    assert (await api(jp_fetch, "schedules", sid))[1]["last_job_id"] == job["id"]

    code, _ = await api(jp_fetch, "schedules", sid, method="DELETE")
    assert code == 204
    assert (await error_of(jp_fetch, "schedules", sid))[0] == 404


@pytest.mark.parametrize("body,field", [
    ({"cron": "0 3 * * *"}, "'notebook'"),
    ({"notebook": "work/train.ipynb"}, "'cron'"),
    ({"notebook": "work/train.ipynb", "cron": "every day"}, "--cron 'every day'"),
    ({"notebook": "work/train.ipynb", "cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
    ({"notebook": "work/train.ipynb", "cron": "0 3 * * *", "options": {"gpu": "1"}}, "options.gpu"),
    ({"notebook": "work/train.ipynb", "cron": "0 3 * * *", "max_concurrent": "2"}, "'max_concurrent'"),
    ({"notebook": "../train.ipynb", "cron": "0 3 * * *"}, "outside the server's root"),
    ({"notebook": "work/train.ipynb", "cron": "0 3 * * *", "every": "day"}, "'every'"),
])
async def test_bad_schedule_bodies_are_400(jp_fetch, notebook, body, field):
    code, error = await error_of(jp_fetch, "schedules", method="POST", body=json.dumps(body))
    assert code == 400 and error["error"] == "SpecError"
    assert field in error["message"]
    assert (await api(jp_fetch, "schedules"))[1]["schedules"] == []
