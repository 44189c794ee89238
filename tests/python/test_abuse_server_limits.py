"""The REST server's edges (issue 25, item 9), against a real `jupyter server` subprocess: bodies nested past
any real one and numbers past any real quantity are 400s naming the limit (never the parser's 500), the cron
preview refuses an over-long cron before croniter reads it and runs its checks in the extension's thread pool
(the event loop stays free), and no message carries the server's absolute paths."""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse

import pytest

from abusekit import Reply, Server, start_server, stop_server
from containerjob.server.errors import public_paths

DEAD = "http://127.0.0.1:9"
NOTEBOOK = {"cells": [], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                    "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
CUSTOM_JOB = {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": 1,
                                   "containerSpec": {"imageUri": "python:3.11-slim"}}]}
BODY_ROUTES = [("POST", "jobs"), ("POST", "jobs/validate"), ("POST", "schedules"), ("POST", "schedules/validate")]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    """One API thread (so a test can hold the pool), a dead Docker engine and dead Cloud endpoints (nothing
    starts), and CONTAINERJOB_HOME inside the root, as with a server started in the home folder."""
    base = tmp_path_factory.mktemp("limits-server")
    dead_socket = tmp_path_factory.mktemp("no-engine") / "docker.sock"
    server = start_server(base, {"DOCKER_HOST": f"unix://{dead_socket}", "CONTAINERJOB_VERTEX_ENDPOINT": DEAD,
                                 "CONTAINERJOB_VERTEX_CREDENTIALS": "anonymous", "STORAGE_EMULATOR_HOST": DEAD,
                                 "CONTAINERJOB_HOME": str(base / "root" / ".containerjob")},
                          extension={"workers": 1})
    (server.root / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    yield server
    stop_server(server)


def no_new_500(server: Server, since: int) -> None:
    log = server.log.read_bytes()[since:].decode(errors="replace")
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]


def refusal(reply: Reply) -> str:
    """The message of a JSON 400 (and of each of its field problems)."""
    assert reply.status == 400, (reply.status, reply.body[:300])
    error = reply.json()
    return " | ".join([error["message"], *(e["message"] for e in error.get("errors", []))])


# -- deep bodies and long numbers -------------------------------------------------------------------------
def nested(depth: int, leaf: str = "1") -> str:
    return '{"a": ' * depth + leaf + "}" * depth


DEEP_BODIES = {
    "unclosed arrays": "[" * 100_000,
    "closed objects": nested(100_000),
    "parameters 65 deep": '{"kind": "notebook", "path": "nb.ipynb", "parameters": ' + nested(65) + "}",
}


@pytest.mark.parametrize("method,path", BODY_ROUTES)
@pytest.mark.parametrize("name", DEEP_BODIES)
def test_deep_bodies_are_a_400_naming_the_depth_limit(server, method, path, name):
    since = server.log.stat().st_size
    message = refusal(server.request(method, f"/containerjob/{path}", DEEP_BODIES[name]))
    assert "deeper than 64 levels" in message, message
    no_new_500(server, since)


def test_a_body_within_the_depth_limit_is_read(server):
    """Notebook parameters holding nested data, 60 levels deep: past the depth check, to the parameter check."""
    body = '{"kind": "notebook", "path": "nb.ipynb", "parameters": ' + nested(60) + "}"
    message = refusal(server.request("POST", "/containerjob/jobs/validate", body))
    assert "levels" not in message and "parameters" in message, message


LONG = "9" * 5000


@pytest.mark.parametrize("options,named", [({"timeout": LONG}, "--timeout"), ({"timeout": LONG + "s"}, "--timeout"),
                                           ({"backend": "vertex", "region": "us-central1",
                                             "machine_type": f"a2-highgpu-{LONG}g"}, "--machine-type")])
@pytest.mark.parametrize("path", ["jobs", "jobs/validate"])
def test_long_numbers_in_options_are_a_400_naming_the_option(server, options, named, path):
    since = server.log.stat().st_size
    message = refusal(server.api("POST", path, {"kind": "cell", "source": "x = 1", "options": options}))
    assert named in message, message[:300]
    no_new_500(server, since)


@pytest.mark.parametrize("literal", [LONG, "-" + LONG, "1." + LONG, "1e" + LONG])
def test_long_number_literals_are_a_400_naming_the_limit(server, literal):
    since = server.log.stat().st_size
    body = '{"notebook": "nb.ipynb", "cron": "0 3 * * *", "max_concurrent": ' + literal + "}"
    message = refusal(server.request("POST", "/containerjob/schedules", body))
    assert "at most 100 characters" in message, message[:300]
    no_new_500(server, since)


# -- the cron preview -------------------------------------------------------------------------------------
def preview(server: Server, cron: str, timezone: str = "UTC", **kwargs) -> Reply:
    query = urllib.parse.urlencode({"cron": cron, "timezone": timezone})
    return server.request("GET", f"/containerjob/schedules/preview?{query}", **kwargs)


LONG_CRON = ",".join(["0"] * 15_000) + " * * * *"  # 30 KB that croniter accepts (seconds of its time)


def test_a_long_cron_is_refused_naming_the_limit(server):
    reply = preview(server, LONG_CRON)
    assert refusal(reply).count("at most 256 characters") == 2, reply.body[:300]  # message and field problem
    assert [e["field"] for e in reply.json()["errors"]] == ["cron"]
    assert preview(server, ",".join(["0"] * 120) + " * * * *").status == 200  # 247 characters: read


def test_a_long_time_zone_is_refused_naming_the_limit(server):
    reply = preview(server, "0 3 * * *", "Europe/" + "x" * 5000)
    assert "at most 64 characters" in refusal(reply) and len(reply.body) < 1000, reply.body[:300]


@pytest.mark.parametrize("path", ["schedules", "schedules/validate"])
def test_a_long_cron_in_a_schedule_is_refused_naming_the_limit(server, path):
    reply = server.api("POST", path, {"notebook": "nb.ipynb", "cron": LONG_CRON})
    assert "at most 256 characters" in refusal(reply) and len(reply.body) < 1000, reply.body[:300]


def test_the_preview_runs_in_the_thread_pool_not_on_the_loop(server):
    """The server's one API thread is held reading a gcloud config file that is a FIFO (GET settings); while
    it is held the loop answers GET version, and a preview waits for the thread: its cron check never runs
    on the loop. Once the FIFO is written, the preview answers with the check's own 400."""
    fifo = server.root.parent / "no-gcloud" / "active_config"  # abusekit's CLOUDSDK_CONFIG
    fifo.parent.mkdir(exist_ok=True)
    os.mkfifo(fifo)
    replies: dict[str, Reply] = {}

    def send(name: str, method: str, path: str) -> None:
        replies[name] = server.request(method, path, timeout=60)

    holder = threading.Thread(target=send, args=("settings", "GET", "/containerjob/settings"))
    holder.start()
    writer = None
    try:
        deadline = time.monotonic() + 30
        while writer is None:  # until the API thread has the FIFO open: it then blocks in read()
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert time.monotonic() < deadline, "GET settings never opened the gcloud config"
                time.sleep(0.05)
        waiting = threading.Thread(target=lambda: replies.setdefault("preview", preview(server, "61 * * * *")))
        waiting.start()
        assert server.api("GET", "version", timeout=10).status == 200  # the loop is free
        waiting.join(2)
        assert "preview" not in replies, replies["preview"].body  # its check waits for the pool's thread
    finally:
        if writer is not None:
            os.write(writer, b"default\n")
            os.close(writer)
        holder.join(60)
    waiting.join(60)
    fifo.unlink()
    assert replies["settings"].status == 200, replies["settings"].body
    assert "5-field cron" in refusal(replies["preview"])


# -- no absolute server paths in messages ------------------------------------------------------------------
def messages_of(server: Server) -> list[tuple[str, Reply]]:
    """Requests whose refusals name a path under the server's root."""
    root = server.root
    (root / "dir.ipynb").mkdir(exist_ok=True)
    (root / "text.yaml").write_text("x")
    (root / "out.txt").write_text("a file where a folder goes")
    cell = {"kind": "cell", "source": "x = 1"}
    return [
        ("a missing notebook", server.api("POST", "jobs", {"kind": "notebook", "path": "work/missing.ipynb"})),
        ("a missing scheduled notebook", server.api("POST", "schedules", {"notebook": "missing.ipynb",
                                                                          "cron": "0 3 * * *"})),
        ("parameters of a missing notebook", server.request(
            "GET", "/containerjob/notebooks/parameters?path=missing.ipynb")),
        ("a folder as notebook", server.api("POST", "jobs/validate", {"kind": "notebook", "path": "dir.ipynb"})),
        ("a text file as notebook", server.api("POST", "jobs", {"kind": "notebook", "path": "text.yaml"})),
        ("a file as output folder", server.api("POST", "jobs", {**cell, "options": {"output_dir": "out.txt"}})),
        ("a folder as config", server.request("GET", "/containerjob/customjob?path=dir.ipynb")),
    ]


def test_messages_name_no_absolute_server_path(server):
    for name, reply in messages_of(server):
        message = refusal(reply)
        assert str(server.root) not in message, (name, message)
        assert str(server.root.parent) not in message, (name, message)  # nor the server's cwd


def test_messages_name_paths_as_the_client_did(server):
    found = dict(messages_of(server))
    assert "notebook work/missing.ipynb does not exist" in refusal(found["a missing notebook"])
    assert "text.yaml is not a notebook" in refusal(found["a text file as notebook"])


def test_server_directories_are_written_relative_or_by_name(tmp_path):
    """The rewriting itself: under the root, relative (`.` for the root); CONTAINERJOB_HOME and `~` by name,
    the longest place first; a path that merely starts with the same letters is another path."""
    root, home = tmp_path / "work", tmp_path / "work" / ".containerjob"
    public = public_paths(root, {"$CONTAINERJOB_HOME": home, "~": tmp_path})
    assert public(f"cannot read '{root}/a b.ipynb'") == "cannot read 'a b.ipynb'"
    assert public(f"{home}/jobs/cj-1 and {root}.") == "$CONTAINERJOB_HOME/jobs/cj-1 and .."
    assert public(f"({root}) {root}space/x {tmp_path}/y /x{root}/z") == f"(.) ~/workspace/x ~/y /x{root}/z"
