"""Whole notebooks and schedules through the REST API (real server, real containers, plain-Python notebooks)."""
from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import nbformat
import pytest
import tornado.httpclient

from cjtest import IMAGE
from containerjob.scheduling import next_run


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


async def test_schedule_preview_is_what_fires(jp_fetch):
    """The form's preview: the cron in words and its next runs, computed by the scheduler's own next_run."""
    before = time.time()
    _, shown = await api(jp_fetch, "schedules", "preview",
                         params={"cron": "0  9 * * 1-5", "timezone": "Europe/Paris", "count": "4"})
    assert shown["cron"] == "0 9 * * 1-5" and shown["timezone"] == "Europe/Paris"
    assert shown["description"] == "At 09:00, Monday through Friday"
    runs = shown["next_runs"]
    assert len(runs) == 4 and runs[0] > before
    assert runs[1:] == [next_run("0 9 * * 1-5", "Europe/Paris", t) for t in runs[:-1]]
    for at in runs:
        local = datetime.fromtimestamp(at, ZoneInfo("Europe/Paris"))
        assert (local.weekday() < 5, local.hour, local.minute) == (True, 9, 0)

    code, error = await error_of(jp_fetch, "schedules", "preview", params={"cron": "every day", "timezone": "Mars/X"})
    assert code == 400 and [e["field"] for e in error["errors"]] == ["cron", "timezone"]
    assert "--cron 'every day' is not a 5-field cron expression" in error["errors"][0]["message"]
    code, error = await error_of(jp_fetch, "schedules", "preview", params={"cron": ""})
    assert code == 400 and [e["field"] for e in error["errors"]] == ["cron"]
    # Fields croniter accepts that name no date, and a zone name too long to be a file: 400s, not 500s.
    code, error = await error_of(jp_fetch, "schedules", "preview", params={"cron": "0 0 30 2 *",
                                                                             "timezone": "a" * 5000})
    assert code == 400 and [e["field"] for e in error["errors"]] == ["cron", "timezone"]
    assert "never fires" in error["errors"][0]["message"]


async def test_schedule_edit_is_checked_like_a_new_one(jp_fetch, notebook):
    """An edit is validated as a whole (every problem, each named) before anything changes; its parameters are
    checked against the snapshot that runs; replies carry the cron in words and the notebook's path."""
    _, schedule = await api(jp_fetch, "schedules", method="POST", body=json.dumps(
        {"notebook": notebook, "cron": "0 3 * * *", "options": {"image": IMAGE}}))
    sid = schedule["id"]
    assert schedule["description"] == "At 03:00" and schedule["path"] == notebook
    _, ok = await api(jp_fetch, "schedules", sid, "validate", method="POST",
                      body=json.dumps({"cron": "0 9 * * 1", "parameters": {"epochs": 4}}))
    assert ok == {"errors": []}
    bad = {"cron": "0 25 * * *", "timezone": "Mars/Olympus", "parameters": {"epochs": "many"}}
    for route in (("validate",), ()):
        code, error = await error_of(jp_fetch, "schedules", sid, *route, method="POST" if route else "PATCH",
                                     body=json.dumps(bad))
        assert code == 400 and sorted(e["field"] for e in error["errors"]) == ["cron", "parameters", "timezone"]
    assert (await api(jp_fetch, "schedules", sid))[1] == schedule  # the refused edit changed nothing

    _, edited = await api(jp_fetch, "schedules", sid, method="PATCH", body=json.dumps({"cron": "30 4 * * 1"}))
    assert edited["description"] == "At 04:30, only on Monday" and edited["next_run_at"] != schedule["next_run_at"]
    assert edited["snapshot"] == schedule["snapshot"] and edited["path"] == notebook


async def test_runs_of_a_schedule(jp_fetch, notebook):
    """GET jobs?schedule=ID: the schedule's runs only (its history in the sidebar)."""
    _, schedule = await api(jp_fetch, "schedules", method="POST", body=json.dumps(
        {"notebook": notebook, "cron": "0 3 * * *", "options": {"image": IMAGE}}))
    _, other = await api(jp_fetch, "jobs", method="POST", body=json.dumps(
        {"kind": "notebook", "path": notebook, "options": {"image": IMAGE}}))
    _, run = await api(jp_fetch, "schedules", schedule["id"], "run", method="POST", body="")
    _, listed = await api(jp_fetch, "jobs", params={"schedule": schedule["id"]})
    assert [j["id"] for j in listed["jobs"]] == [run["id"]]
    _, everything = await api(jp_fetch, "jobs")
    assert {run["id"], other["id"]} <= {j["id"] for j in everything["jobs"]}
    _, none = await api(jp_fetch, "jobs", params={"schedule": "cs-00000000"})
    assert none["jobs"] == []
    for job_id in (run["id"], other["id"]):
        await wait_final(jp_fetch, job_id)
