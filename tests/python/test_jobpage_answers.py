"""What a job page reads from the REST API: a cancel that says it was the user's (in the record and in the log's
last line, not "SIGTERM: a cancel, or the Docker engine"), the spec as the options a user types, and a cell
job's code. A real Jupyter server, the real Docker engine."""
from __future__ import annotations

import asyncio
import json
import shlex
import time

from cjtest import IMAGE
from containerjob.core.models import JobSpec, Mount, WorkerPool
from containerjob.core.spec_words import options_text
from test_server_jobs import api, jp_server_config  # noqa: F401 - the server fixture, shared


async def submit(fetch, source: str, options: dict) -> dict:
    body = {"kind": "cell", "source": source, "options": {"image": IMAGE, **options}}
    response = await fetch("containerjob", "jobs", method="POST", body=json.dumps(body))
    assert response.code == 201
    return json.loads(response.body)


async def logs_until_done(fetch, job_id: str, timeout_s: float = 20) -> str:
    seen, deadline = "", time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = await api(fetch, "jobs", job_id, "logs", params={"since": str(len(seen.encode()))})
        seen += answer["text"]
        if answer["done"]:
            return seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"the log of {job_id} never ended: {seen!r}")


async def test_a_users_cancel_is_said_in_the_record_and_the_logs_last_line(jp_fetch, labelled):
    job = await submit(jp_fetch, "import time\nprint('working', flush=True)\ntime.sleep(60)\n", {})
    deadline = time.monotonic() + 20
    while "working" not in (await api(jp_fetch, "jobs", job["id"], "logs"))["text"]:
        assert time.monotonic() < deadline, "the job never started"
        await asyncio.sleep(0.2)  # the runner is in the user's code: SIGTERM reaches its handler
    cancelled = await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="{}")
    assert cancelled["status"] == "CANCELLED" and cancelled["message"].startswith("cancelled by the user")
    text = await logs_until_done(jp_fetch, job["id"])
    assert text.rstrip().endswith("stopped: cancelled by the user"), text
    assert "Docker engine" not in text
    outputs = await api(jp_fetch, "jobs", job["id"], "outputs")
    assert all(".stop_reason" not in f["path"] for f in outputs["files"])  # the note to the runner is no output


async def test_the_job_answer_carries_the_options_as_typed_and_the_cells_code(jp_fetch, labelled):
    code = "x = 1\nprint('hello', x)\n"
    job = await submit(jp_fetch, code, {"env": ["MODE=fast run"], "secret_env": ["TOKEN=s3cret"],
                                        "timeout": "90", "name": "nightly", "labels": ["team=ml"]})
    answer = await api(jp_fetch, "jobs", job["id"])
    text = answer["options_text"]
    assert shlex.split(text) == ["--image", IMAGE, "--env", "MODE=fast run", "--secret-env", "TOKEN=***",
                                 "--timeout", "90s", "--name", "nightly", "--backend", "local", "--label",
                                 "team=ml"], text
    assert "s3cret" not in json.dumps(answer)
    assert answer["code"] == code
    listed = await api(jp_fetch, "jobs")
    assert listed["jobs"][0]["options_text"] == text and "code" not in listed["jobs"][0]  # the list reads no files


def test_options_text_names_only_what_the_backend_takes_and_nothing_containerjob_set():
    local = JobSpec(worker_pools=[WorkerPool(image="python:3.12-slim", accelerator_type="NVIDIA_GPU",
                                             accelerator_count=-1)],
                    labels={"containerjob-job": "containerjob"}, mounts=[Mount("b", "p/", named="open('gs://b/p')")])
    assert options_text(local, "cell") == "--image python:3.12-slim --gpus all --backend local"
    vertex = JobSpec(worker_pools=[WorkerPool(image="img", command=["python3", "-c", "print('hi')"],
                                              accelerator_type="NVIDIA_TESLA_T4", accelerator_count=1)],
                     backend="vertex", region="us-central1", spot=True, mounts=[Mount("data", "in", mode="fuse")])
    assert shlex.split(options_text(vertex, "container")) == [
        "--image", "img", "--command", """python3 -c "print('hi')\"""", "--backend", "vertex", "--mount",
        "gs://data/in:fuse", "--region", "us-central1", "--machine-type", "n1-standard-4", "--accelerator",
        "NVIDIA_TESLA_T4:1", "--spot"]
    assert "--command" not in options_text(vertex, "cell")  # a cell takes no --command
