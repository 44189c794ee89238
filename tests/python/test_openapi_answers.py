"""Real answers of the server's handlers (a Jupyter server, jp_fetch) validated against openapi.yaml by
openapi-core: each answer's status must be one the operation documents and its body must match that
response's schema. The browser's REST types are generated from openapi.yaml (js_src/apitypes.generated.ts),
so a handler that answers other than the contract says breaks the sidebar: this is where that shows."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import nbformat
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from cjtest import IMAGE

OPENAPI = Path(__file__).resolve().parents[2] / "python_pkg" / "containerjob" / "server" / "openapi.yaml"


@pytest.fixture
def jp_server_config(isolated_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


@pytest.fixture
def notebook(jp_root_dir) -> str:
    """work/report.ipynb under the server's root, with a tagged parameters cell."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("epochs = 3\nrate: float = 0.1  # learning rate")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(epochs)")]
    (jp_root_dir / "work").mkdir()
    nbformat.write(nb, str(jp_root_dir / "work" / "report.ipynb"))
    return "work/report.ipynb"


class Contract:
    """The server's answers, each checked against openapi.yaml as it arrives."""

    def __init__(self, fetch, base_url: str) -> None:
        self.fetch, self.base_url, self.api = fetch, base_url, None

    async def call(self, method: str, *parts: str, params: dict[str, str] | None = None,
                   body: Any = None) -> tuple[int, Any]:
        """The status and JSON body of one request, after openapi-core found both documented."""
        response = await self.fetch("containerjob", *parts, method=method, params=params, raise_error=False,
                                    body=None if body is None else json.dumps(body),
                                    allow_nonstandard_methods=True)
        url = urlsplit(response.effective_url)
        if self.api is None:  # the spec's server is this Jupyter server's containerjob/ under its base URL
            spec = yaml.safe_load(OPENAPI.read_text())
            spec["servers"] = [{"url": f"{url.scheme}://{url.netloc}{self.base_url}containerjob"}]
            self.api = OpenAPI.from_dict(spec)
        request = MockRequest(f"{url.scheme}://{url.netloc}", method.lower(), url.path,
                              args=dict(parse_qsl(url.query)))
        content_type = (response.headers.get("Content-Type") or "application/json").split(";")[0]
        self.api.validate_response(request, MockResponse(response.body or b"", status_code=response.code,
                                                         content_type=content_type))
        return response.code, json.loads(response.body) if response.body else None


@pytest.fixture
def contract(jp_fetch, jp_base_url) -> Contract:
    return Contract(jp_fetch, jp_base_url)


async def test_reads_and_settings_match_the_contract(contract):
    assert (await contract.call("GET", "version"))[0] == 200
    code, settings = await contract.call("GET", "settings")
    assert code == 200 and settings["project"] is None  # nullable, and no ambient project here
    code, answer = await contract.call("GET", "backends")
    assert code == 200 and {b["name"] for b in answer["backends"]} >= {"local", "vertex", "executor"}
    code, page = await contract.call("GET", "jobs", params={"limit": "5", "status": "RUNNING"})
    assert (code, page) == (200, {"jobs": [], "limit": 5, "offset": 0})
    assert (await contract.call("GET", "schedules"))[0] == 200


async def test_errors_match_the_contract(contract):
    """400 and 404 answers are the documented Error, `errors` listing each field where the route says so."""
    code, error = await contract.call("GET", "jobs", params={"limit": "0"})
    assert (code, error["error"]) == (400, "SpecError")
    for job_id in ("cj-0123abcd", "not-a-job"):
        code, error = await contract.call("GET", "jobs", job_id)
        assert (code, error["error"]) == (404, "JobNotFound")
    code, error = await contract.call("GET", "jobs", "cj-0123abcd", "replicas")
    assert code == 404
    code, error = await contract.call("GET", "schedules", "cs-0123abcd")
    assert (code, error["error"]) == (404, "JobNotFound")
    code, error = await contract.call("POST", "jobs", body={"kind": "cell", "source": "1", "options": {"gpus": "x"}})
    assert code == 400 and [p["field"] for p in error["errors"]] == ["options.gpus"]
    code, error = await contract.call("POST", "jobs", body=[1])
    assert code == 400 and "errors" not in error
    code, error = await contract.call("GET", "customjob", params={"path": "jobs/none.yaml"})
    assert code == 400 and error["errors"][0]["field"] == "config"


async def test_validation_and_notebooks_match_the_contract(contract, notebook):
    assert await contract.call("POST", "jobs", "validate", body={"kind": "cell", "source": "print(1)"}) == (
        200, {"errors": []})
    code, error = await contract.call("POST", "jobs", "validate",
                                      body={"kind": "notebook", "path": notebook, "parameters": {"nope": 1}})
    assert code == 400 and error["errors"]
    code, answer = await contract.call("GET", "notebooks", "parameters", params={"path": notebook})
    assert code == 200 and [p["name"] for p in answer["parameters"]] == ["epochs", "rate"]
    assert (await contract.call("GET", "schedules", "preview", params={"cron": "0 9 * * 1-5"}))[0] == 200
    code, error = await contract.call("GET", "schedules", "preview", params={"cron": "61 * * * *"})
    assert code == 400 and error["errors"][0]["field"] == "cron"
    code, error = await contract.call("POST", "schedules", "validate", body={"notebook": notebook, "cron": "x"})
    assert code == 400 and [p["field"] for p in error["errors"]] == ["cron"]


async def test_schedule_answers_match_the_contract(contract, notebook):
    """A local schedule is a record (nothing runs until it fires): its whole lifecycle needs no engine."""
    code, schedule = await contract.call("POST", "schedules", body={
        "notebook": notebook, "cron": "0 3 * * *", "parameters": {"epochs": 5},
        "options": {"secret_env": ["TOKEN=s3cret"], "timeout": "10m"}, "max_concurrent": 2})
    assert code == 201 and schedule["options"]["secret_env"] == ["TOKEN=***"]
    sid = schedule["id"]
    assert (await contract.call("GET", "schedules", sid))[1]["path"] == notebook
    code, edited = await contract.call("PATCH", "schedules", sid, body={"cron": "0 4 * * *"})
    assert (code, edited["cron"]) == (200, "0 4 * * *")
    code, error = await contract.call("PATCH", "schedules", sid, body={"max_concurrent": "two"})
    assert (code, error["error"]) == (400, "SpecError")
    assert (await contract.call("POST", "schedules", sid, "validate", body={"cron": "0 5 * * *"}))[0] == 200
    assert (await contract.call("POST", "schedules", sid, "pause"))[1]["state"] == "PAUSED"
    assert (await contract.call("POST", "schedules", sid, "resume"))[1]["state"] == "ACTIVE"
    code, listed = await contract.call("GET", "schedules")
    assert [s["id"] for s in listed["schedules"]] == [sid]
    assert (await contract.call("DELETE", "schedules", sid)) == (204, None)


@pytest.mark.docker
async def test_job_answers_match_the_contract(contract, engine, cj_home):
    """A real cell job on the engine: its submission, record, page, logs, replicas, files and cancel."""
    code, job = await contract.call("POST", "jobs", body={"kind": "cell", "source": "print('hi')",
                                                          "options": {"image": IMAGE}})
    assert code == 201 and isinstance(job["warnings"], list)
    job_id = job["id"]
    final = await wait_final(contract, job_id)
    assert final["status"] == "SUCCEEDED", final["message"]
    code, page = await contract.call("GET", "jobs")
    assert code == 200 and [j["id"] for j in page["jobs"]] == [job_id]
    code, logs = await contract.call("GET", "jobs", job_id, "logs")
    assert code == 200 and "hi" in logs["text"] and logs["done"]
    code, replicas = await contract.call("GET", "jobs", job_id, "replicas")
    assert code == 200 and replicas["replicas"][0]["name"] == "workerpool0-0"
    code, files = await contract.call("GET", "jobs", job_id, "outputs")
    assert code == 200 and files["files"]
    assert (await contract.call("POST", "jobs", job_id, "cancel"))[1]["status"] == "SUCCEEDED"  # final: unchanged
    assert (await contract.call("DELETE", "jobs", job_id)) == (204, None)


async def wait_final(contract: Contract, job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        _, job = await contract.call("GET", "jobs", job_id)
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED", "LOST") or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.2)

