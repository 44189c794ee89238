"""CustomJob files from the sidebar: `POST jobs` (kind container, `config`) and `GET customjob` read a file under
the server's root with the CLI's own reader, the request's fields overriding it as flags do; a bad field inside
the file, or a path leading out of the root, is a 400 naming `config`. Real Jupyter server, real Docker engine."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
import tornado.httpclient

from cjtest import IMAGE

PRINTS = "import os, sys; print('from the file', sys.argv[1:], os.environ['WHO'])"
TRAIN = f"""\
workerPoolSpecs:
  machineSpec: {{machineType: n1-standard-8}}
  replicaCount: 1
  containerSpec:
    imageUri: {IMAGE}
    command: [python3, -c, "{PRINTS}"]
    args: [a, b]
    env: [{{name: WHO, value: file}}]
"""
MISSPELT = TRAIN.replace("    args:", "    arg:")


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


@pytest.fixture
def files(jp_root_dir):
    """jobs/train.yaml and jobs/misspelt.yaml under the server's root; outside.yaml beside the root, and a link
    inside the root that leads to it."""
    (jp_root_dir / "jobs").mkdir()
    (jp_root_dir / "jobs" / "train.yaml").write_text(TRAIN)
    (jp_root_dir / "jobs" / "misspelt.yaml").write_text(MISSPELT)
    outside = jp_root_dir.parent / "outside.yaml"
    outside.write_text(TRAIN)
    (jp_root_dir / "jobs" / "link.yaml").symlink_to(outside)
    return jp_root_dir


async def call(fetch, *parts, body=None, **kwargs) -> tuple[int, dict]:
    if body is not None:
        kwargs.update(method="POST", body=json.dumps(body))
    try:
        response = await fetch("containerjob", *parts, **kwargs)
    except tornado.httpclient.HTTPClientError as exc:
        response = exc.response
    return response.code, json.loads(response.body) if response.body else {}


async def job_ids(fetch) -> set[str]:
    return {job["id"] for job in (await call(fetch, "jobs", params={"limit": "1000"}))[1]["jobs"]}


async def test_a_customjob_file_runs_locally_with_the_forms_fields_on_top(jp_fetch, files):
    code, preview = await call(jp_fetch, "customjob", params={"path": "jobs/train.yaml"})
    assert code == 200, preview
    assert preview == {"path": "jobs/train.yaml", "options": {"image": IMAGE, "machine_type": "n1-standard-8",
                                                              "env": ["WHO=file"]},
                       "command": ["python3", "-c", PRINTS], "args": ["a", "b"],
                       "command_text": f'python3 -c "{PRINTS}"', "args_text": "a b", "pools": []}

    body = {"kind": "container", "config": "jobs/train.yaml", "options": {"backend": "local"}}
    assert await call(jp_fetch, "jobs", "validate", body=body) == (200, {"errors": []})
    code, job = await call(jp_fetch, "jobs", body=body)  # the file alone: its machine type means nothing locally
    assert code == 201, job
    assert (job["name"], job["origin"], job["spec"]["backend"]) == ("train", "jobs/train.yaml", "local")

    overridden = {**body, "args": ["c"], "options": {"backend": "local", "env": ["WHO=form"], "name": "mine"}}
    code, second = await call(jp_fetch, "jobs", body=overridden)
    assert code == 201, second

    for job_id, line in ((job["id"], "from the file ['a', 'b'] file"), (second["id"], "from the file ['c'] form")):
        done = await wait_for(jp_fetch, job_id)
        assert done["status"] == "SUCCEEDED", done
        assert (await call(jp_fetch, "jobs", job_id, "logs"))[1]["text"] == line + "\n"
    assert (await call(jp_fetch, "jobs", second["id"]))[1]["name"] == "mine"


async def test_a_misspelt_field_in_the_file_is_named_under_config(jp_fetch, files):
    before = await job_ids(jp_fetch)
    body = {"kind": "container", "config": "jobs/misspelt.yaml", "options": {"backend": "local"}}
    for reply in (await call(jp_fetch, "jobs", "validate", body=body), await call(jp_fetch, "jobs", body=body),
                  await call(jp_fetch, "customjob", params={"path": "jobs/misspelt.yaml"})):
        code, answer = reply
        assert code == 400 and [e["field"] for e in answer["errors"]] == ["config"], answer
        message = answer["errors"][0]["message"]
        assert 'no field named "arg"' in message and message.startswith("config jobs/misspelt.yaml "), message
        assert str(files) not in message  # the server's own paths stay unsaid
    assert await job_ids(jp_fetch) == before


async def test_an_option_only_the_file_sets_is_refused_under_config(jp_fetch, files):
    """A whole CustomJob whose labels the spec refuses: the form's Labels field is empty, the file is at fault."""
    spec = "".join(f"  {line}\n" for line in TRAIN.splitlines())
    (files / "jobs" / "labels.yaml").write_text(f"labels: {{Bad Key: v}}\njobSpec:\n{spec}")
    code, answer = await call(jp_fetch, "jobs", "validate", body={"kind": "container", "config": "jobs/labels.yaml"})
    assert code == 400 and [e["field"] for e in answer["errors"]] == ["config"], answer
    assert "label 'Bad Key=v' is invalid" in answer["errors"][0]["message"]


async def test_a_customjob_file_outside_the_root_is_refused(jp_fetch, files):
    before = await job_ids(jp_fetch)
    for path, words in (("../outside.yaml", "leads outside"), ("jobs/link.yaml", "leads outside"),
                        (str(files.parent / "outside.yaml"), "must be a path relative"),
                        ("/etc/passwd", "must be a path relative")):
        body = {"kind": "container", "config": path}
        for code, answer in (await call(jp_fetch, "jobs", body=body),
                             await call(jp_fetch, "customjob", params={"path": path})):
            assert code == 400 and [e["field"] for e in answer["errors"]] == ["config"], (path, answer)
            assert f"config {path!r} {words}" in answer["errors"][0]["message"], answer
    assert await job_ids(jp_fetch) == before


async def test_config_is_for_container_jobs_only(jp_fetch, files):
    code, answer = await call(jp_fetch, "jobs", "validate",
                              body={"kind": "cell", "source": "1", "config": "jobs/train.yaml"})
    assert code == 400 and [e["field"] for e in answer["errors"]] == ["config"], answer
    assert "for kind container" in answer["errors"][0]["message"]


async def wait_for(fetch, job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = (await call(fetch, "jobs", job_id))[1]
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.2)


async def test_a_file_made_to_exhaust_the_reader_is_a_plain_400(jp_fetch, files):
    """A few hundred bytes of nested YAML aliases expand to gigabytes, a self-referring alias cannot be written
    out, deep nesting overflows the parser: each is a 400 under `config`, at once, never a 500 or a busy server."""
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    (files / "jobs" / "bomb.yaml").write_text("\n".join(bomb + ["workerPoolSpecs: *a9"]) + "\n")
    (files / "jobs" / "loop.yaml").write_text("workerPoolSpecs: &a [*a]\n")
    (files / "jobs" / "deep.yaml").write_text("workerPoolSpecs: " + "[" * 20000 + "]" * 20000 + "\n")
    for name, words in (("bomb", "aliases"), ("loop", "aliases"), ("deep", "nests too deeply")):
        code, error = await call(jp_fetch, "customjob", params={"path": f"jobs/{name}.yaml"})
        assert code == 400 and [e["field"] for e in error["errors"]] == ["config"], (name, error)
        assert words in error["message"] and f"config jobs/{name}.yaml" in error["message"], error
        assert str(files) not in error["message"], error  # the server's own path stays unsaid
