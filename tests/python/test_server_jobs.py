"""Real jobs through the REST API: a real Jupyter server, the real Docker engine, python:3.11-slim."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
import tornado.httpclient

from cjtest import IMAGE
from containerjob.core.store import Store
from containerjob.server.logs import read_log
from test_executor import executor  # noqa: F401 - the Vertex fake as the Executor, checked for leftovers
from test_notebooks import make_notebook

WRITES_FILES = """\
import os
out = os.environ["CONTAINERJOB_OUTPUT"]
open(os.path.join(out, "report.txt"), "w").write("the report")
os.symlink("/etc/hostname", os.path.join(out, "escape"))
print("hi")
"""


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def api(fetch, *parts, **kwargs):
    response = await fetch("containerjob", *parts, **kwargs)
    return json.loads(response.body) if response.body else None


async def submit(fetch, source: str, **body) -> dict:
    body = {"kind": "cell", "source": source, "options": {"image": IMAGE}, **body}
    response = await fetch("containerjob", "jobs", method="POST", body=json.dumps(body))
    assert response.code == 201
    return json.loads(response.body)


async def wait_for(fetch, job_id: str, *statuses: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = await api(fetch, "jobs", job_id)
        if job["status"] in statuses or time.monotonic() > deadline:
            assert job["status"] in statuses, job
            return job
        await asyncio.sleep(0.2)


async def test_cell_job_runs_and_its_logs_and_files_come_back(jp_fetch, labelled):
    job = await submit(jp_fetch, WRITES_FILES, origin="work/analysis.ipynb")
    assert job["id"].startswith("cj-") and job["status"] in ("RUNNING", "SUCCEEDED")
    assert job["warnings"] == []  # nothing to say before it ran
    job = await wait_for(jp_fetch, job["id"], "SUCCEEDED")
    assert job["exit_code"] == 0 and job["origin"] == "work/analysis.ipynb"
    assert labelled(job["id"]) == []

    logs = await api(jp_fetch, "jobs", job["id"], "logs")
    assert logs == {"text": "hi\n", "next": 3, "done": True}
    assert await api(jp_fetch, "jobs", job["id"], "logs", params={"since": "1"}) == {"text": "i\n", "next": 3,
                                                                                    "done": True}
    assert (await api(jp_fetch, "jobs", job["id"], "logs", params={"since": "3"}))["text"] == ""
    streamed = await jp_fetch("containerjob", "jobs", job["id"], "logs", params={"follow": "1"})
    assert streamed.body == b"hi\n" and streamed.headers["Content-Type"].startswith("text/plain")

    files = {f["path"]: f for f in (await api(jp_fetch, "jobs", job["id"], "outputs"))["files"]}
    assert {"logs.txt", "output/report.txt", "output/result.json"} <= set(files)
    assert "output/escape" not in files  # links are not listed
    assert files["output/report.txt"]["size"] == len("the report")
    download = await jp_fetch("containerjob", "jobs", job["id"], "outputs", "output", "report.txt")
    assert download.body == b"the report"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "report.txt" in download.headers["Content-Disposition"]


async def test_output_paths_never_escape_the_job(jp_fetch):
    job = await submit(jp_fetch, WRITES_FILES)
    await wait_for(jp_fetch, job["id"], "SUCCEEDED")
    for path in ("output/escape", "../../jobs.db", "output/../../../jobs.db", "/etc/passwd", "output/missing.txt",
                 "output"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as info:
            await jp_fetch(f"containerjob/jobs/{job['id']}/outputs/{path}")
        assert info.value.code == 404, (path, info.value.response.body)
        assert json.loads(info.value.response.body)["error"] == "JobNotFound"  # the handler's answer, not a route miss


async def test_jobs_are_listed_with_filters(jp_fetch):
    first = await submit(jp_fetch, "print(1)", origin="a.ipynb")
    second = await submit(jp_fetch, "print(2)", origin="b.ipynb")
    for job in (first, second):
        await wait_for(jp_fetch, job["id"], "SUCCEEDED")
    listed = await api(jp_fetch, "jobs")
    assert [j["id"] for j in listed["jobs"]] == [second["id"], first["id"]]
    assert [j["id"] for j in (await api(jp_fetch, "jobs", params={"origin": "a.ipynb"}))["jobs"]] == [first["id"]]
    assert (await api(jp_fetch, "jobs", params={"status": "failed"}))["jobs"] == []
    assert [j["id"] for j in (await api(jp_fetch, "jobs", params={"limit": "1", "offset": "1"}))["jobs"]] == \
        [first["id"]]


async def test_follow_streams_chunks_as_they_arrive_without_blocking_the_server(jp_fetch):
    job = await submit(jp_fetch, "import time\nfor i in range(4):\n    print(f'line {i}', flush=True)\n"
                                 "    time.sleep(0.7)\n")
    arrivals: list[tuple[float, bytes]] = []
    stream = asyncio.ensure_future(jp_fetch("containerjob", "jobs", job["id"], "logs", params={"follow": "1"},
                                            streaming_callback=lambda c: arrivals.append((time.monotonic(), c))))
    while not arrivals:
        await asyncio.sleep(0.05)
    started = time.monotonic()
    version = await jp_fetch("containerjob", "version")  # the loop answers while the stream is open
    assert version.code == 200 and time.monotonic() - started < 1.0
    await stream
    text = b"".join(c for _, c in arrivals).decode()
    assert text == "".join(f"line {i}\n" for i in range(4))
    assert arrivals[-1][0] - arrivals[0][0] > 1.0  # flushed as written, not at the end
    job = await wait_for(jp_fetch, job["id"], "SUCCEEDED", timeout_s=5)
    skipped = await jp_fetch("containerjob", "jobs", job["id"], "logs", params={"follow": "1", "since": "7"})
    assert skipped.body.decode() == text[7:]


async def test_reads_serve_the_store_and_never_ask_the_engine(jp_fetch, jp_serverapp, monkeypatch):
    """List, get and logs answer from the store and the files while the backend cannot be asked at all; only
    the watcher (here failing, and retrying) would refresh and finalise."""
    job = await submit(jp_fetch, "import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    deadline = time.monotonic() + 15
    while "up" not in (await api(jp_fetch, "jobs", job["id"], "logs"))["text"]:
        assert time.monotonic() < deadline, "the live log never had the job's first line"
        await asyncio.sleep(0.2)
    service = jp_serverapp.extension_manager.extension_points["containerjob"].app.ctx.service
    backend = service.backend("local")

    def refused(*args, **kwargs):
        raise AssertionError("a read asked the engine")
    for name in ("refresh", "stream_logs", "stop"):
        monkeypatch.setattr(backend, name, refused)
    assert [j["id"] for j in (await api(jp_fetch, "jobs"))["jobs"]] == [job["id"]]
    assert (await api(jp_fetch, "jobs", job["id"]))["status"] == "RUNNING"
    assert await api(jp_fetch, "jobs", job["id"], "logs") == {"text": "up\n", "next": 3, "done": False}
    monkeypatch.undo()
    assert (await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body=""))["status"] == "CANCELLED"


def test_logs_are_read_from_a_byte_offset_on_whole_characters(tmp_path):
    live, final = tmp_path / "logs.live", tmp_path / "logs.txt"
    assert read_log(tmp_path, False, 0) == ("", 0, False)  # not started yet
    live.write_bytes("h\u00e9 \u20ac".encode() + "\u20ac".encode()[:2])  # the last character half written
    assert read_log(tmp_path, False, 0) == ("h\u00e9 \u20ac", 7, False)
    assert read_log(tmp_path, False, 3) == (" \u20ac", 7, False)
    assert read_log(tmp_path, False, 7) == ("", 7, False)
    final.write_text("h\u00e9 \u20ac\u20ac!\n", encoding="utf-8")
    assert read_log(tmp_path, True, 7) == ("\u20ac!\n", 12, True)  # final: logs.txt, which begins the same
    assert read_log(tmp_path, True, 12) == ("", 12, True)
    final.unlink()  # a final job whose backend kept no log: the live copy is all there is
    assert read_log(tmp_path, True, 0) == ("h\u00e9 \u20ac\ufffd", 9, True)


def background_threads() -> set[str]:
    """containerjob's own threads, less the pools' workers (requests, the watcher's refreshes) and the making of
    the next warm container (backends/warm.py: it comes and goes with jobs, not with log streams)."""
    return {t.name for t in threading.enumerate() if t.name.startswith("containerjob-")
            and not t.name.startswith(("containerjob-api", "containerjob-refresh", "containerjob-warm-"))}


async def test_closed_follow_stream_leaves_no_log_thread(jp_fetch, jp_http_port, jp_base_url, jp_auth_header, caplog):
    """A follow stream tails the watcher's live log: the client going away ends it, no thread is left, and the
    live log's own copy ends with the job."""
    job = await submit(jp_fetch, "import time\nprint('tick', flush=True)\ntime.sleep(60)\n")
    deadline = time.monotonic() + 15
    while "tick" not in (await api(jp_fetch, "jobs", job["id"], "logs"))["text"]:
        assert time.monotonic() < deadline, "the live log never had the job's first line"
        await asyncio.sleep(0.2)
    before = background_threads()
    assert {"containerjob-watcher", f"containerjob-live-{job['id']}"} <= before
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = f"{jp_base_url}containerjob/jobs/{job['id']}/logs?follow=1"
    headers = "".join(f"{k}: {v}\r\n" for k, v in jp_auth_header.items())
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{jp_http_port}\r\n{headers}\r\n".encode())
    received = b""
    while b"tick" not in received:
        received += await asyncio.wait_for(reader.read(4096), 10)
    assert received.startswith(b"HTTP/1.1 200") and background_threads() == before
    writer.close()
    await writer.wait_closed()
    deadline = time.monotonic() + 5
    while not any("GET" in r.getMessage() and "follow=1" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the follow stream did not end when its client went away"
        await asyncio.sleep(0.1)
    assert background_threads() == before
    await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="")
    deadline = time.monotonic() + 10
    while f"containerjob-live-{job['id']}" in background_threads():
        assert time.monotonic() < deadline, "the live log copy outlived its job"
        await asyncio.sleep(0.1)
    assert background_threads() == {"containerjob-watcher", "containerjob-scheduler"}


async def test_polling_logs_while_running_is_not_done(jp_fetch):
    job = await submit(jp_fetch, "import time\nprint('started', flush=True)\ntime.sleep(3)\nprint('end')\n")
    deadline = time.monotonic() + 15
    logs = {"text": "", "next": 0, "done": False}
    seen = ""
    while not logs["done"] and time.monotonic() < deadline:
        logs = await api(jp_fetch, "jobs", job["id"], "logs", params={"since": str(len(seen))})
        if "started" in seen + logs["text"] and "end" not in seen + logs["text"]:
            assert logs["done"] is False
        seen += logs["text"]
        assert logs["next"] == len(seen)
        await asyncio.sleep(0.3)
    assert logs["done"] and seen == "started\nend\n"


async def test_cancel_stops_the_container(jp_fetch, labelled):
    job = await submit(jp_fetch, "import time; time.sleep(60)")
    assert labelled(job["id"], settle_s=0) != []
    cancelled = await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="")
    assert cancelled["status"] == "CANCELLED"
    assert labelled(job["id"]) == []
    again = await api(jp_fetch, "jobs", job["id"], "cancel", method="POST", body="{}")
    assert again["status"] == "CANCELLED"  # idempotent


async def test_delete_cancels_and_removes_everything(jp_fetch, labelled, cj_home):
    running = await submit(jp_fetch, "import time; time.sleep(60)")
    finished = await submit(jp_fetch, "print('x')")
    await wait_for(jp_fetch, finished["id"], "SUCCEEDED")
    for job in (running, finished):
        response = await jp_fetch("containerjob", "jobs", job["id"], method="DELETE")
        assert response.code == 204
        with pytest.raises(tornado.httpclient.HTTPClientError) as info:
            await jp_fetch("containerjob", "jobs", job["id"])
        assert info.value.code == 404
        assert not Path(job["job_dir"]).exists()
        assert labelled(job["id"]) == []


async def test_submitted_jobs_finalise_with_nobody_watching(jp_fetch, cj_home, labelled):
    """No GET after the submit: the server's watcher alone takes the job to its final state."""
    job = await submit(jp_fetch, "import time; time.sleep(1); print('done')")
    store = Store(cj_home / "jobs.db")
    deadline = time.monotonic() + 15
    while not store.get(job["id"]).status.is_final and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    record = store.get(job["id"])
    assert record.status.value == "SUCCEEDED"
    assert labelled(job["id"]) == []
    assert (Path(record.job_dir) / "logs.txt").read_text() == "done\n"


async def test_failed_job_and_backend_errors(jp_fetch):
    job = await submit(jp_fetch, "raise ValueError('bad input')")
    job = await wait_for(jp_fetch, job["id"], "FAILED")
    assert "ValueError: bad input" in job["message"]
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("containerjob", "jobs", method="POST", body=json.dumps(
            {"kind": "cell", "source": "1", "options": {"image": "containerjob-test/absent:1"}}))
    assert info.value.code == 502
    error = json.loads(info.value.response.body)
    assert error["error"] == "BackendError" and "containerjob-test/absent:1" in error["message"]


async def test_submission_warnings_come_back_to_the_caller(executor, jp_fetch, jp_root_dir):
    """What the CLI and the magic print before a job is sent (here an unlisted machine type, sent as it is) is in
    the 201 body: the sidebar shows it too."""
    make_notebook(jp_root_dir / "train.ipynb")
    options = {"backend": "executor", "project": "my-proj", "machine_type": "n5-standard-8",
               "service_account": "runner@my-proj.iam.gserviceaccount.com"}
    response = await jp_fetch("containerjob", "jobs", method="POST",
                              body=json.dumps({"kind": "notebook", "path": "train.ipynb", "options": options}))
    job = json.loads(response.body)
    assert response.code == 201 and job["backend"] == "executor"
    (warning,) = job["warnings"]  # the identity reminder and the progress lines are not warnings
    assert warning.startswith("warning: machine type n5-standard-8: the n5 family is not in containerjob's copy")
    assert (await api(jp_fetch, "jobs", job["id"])).get("warnings") is None  # said once, at submission
    await wait_for(jp_fetch, job["id"], "SUCCEEDED", timeout_s=180)


async def test_restore_is_offered_only_for_a_job_with_something_to_bring_back(jp_fetch, labelled):
    """The record says it (core/results.restorable), the cell's chip only renders it: a cell job that ended
    with its results or its error written has something; a running or cancelled one has nothing."""
    done = await submit(jp_fetch, "x = 1")
    failed = await submit(jp_fetch, "raise ValueError('bad input')")
    running = await submit(jp_fetch, "import time; time.sleep(60)")
    assert running["restorable"] is False
    cancelled = await api(jp_fetch, "jobs", running["id"], "cancel", method="POST", body="")
    assert cancelled["status"] == "CANCELLED" and cancelled["restorable"] is False
    assert (await wait_for(jp_fetch, done["id"], "SUCCEEDED"))["restorable"] is True
    assert (await wait_for(jp_fetch, failed["id"], "FAILED"))["restorable"] is True
    listed = {job["id"]: job["restorable"] for job in (await api(jp_fetch, "jobs"))["jobs"]}
    assert listed == {done["id"]: True, failed["id"]: True, running["id"]: False}
    assert labelled() == []
