"""A log reader that goes away takes its thread with it, even while the job prints nothing."""
from __future__ import annotations

import threading
import time

import pytest

from cjtest import IMAGE
from containerjob.backends import StreamStop
from containerjob.core.spec import RunOptions
from containerjob.service import JobService


@pytest.fixture
def quiet_job(cj_home, labelled):
    """A local job that prints one line, then nothing for a minute; cancelled (and checked gone) after."""
    service = JobService()
    prepared = service.prepare(RunOptions(image=IMAGE), "import time\nprint('hello', flush=True)\ntime.sleep(60)",
                               kind="script", filename="quiet.py")
    record = service.submit(prepared)
    yield service, record
    service.cancel(record.id)
    assert labelled(record.id) == []


def alive(name: str) -> bool:
    return any(t.name == name and t.is_alive() for t in threading.enumerate())


def test_stopping_a_stream_frees_a_thread_blocked_on_a_silent_job(quiet_job):
    service, record = quiet_job
    stop, got = StreamStop(), []
    reader = threading.Thread(target=lambda: got.extend(service.logs(record.id, follow=True, stop=stop)),
                              name="reader", daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while "hello\n" not in "".join(got) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "".join(got) == "hello\n" and reader.is_alive()  # waiting on the engine for more
    stop.set()
    reader.join(3)
    assert not reader.is_alive()
    assert service.get(record.id, refresh=True).status.value == "RUNNING"  # the job itself goes on


def test_a_detached_follow_leaves_no_log_thread(quiet_job):
    service, record = quiet_job

    def interrupt(_text: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.follow(record, interrupt, detach_on_interrupt=True)
    deadline = time.monotonic() + 3
    while alive(f"logs-{record.id}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(f"logs-{record.id}")
    assert service.get(record.id, refresh=True).status.value == "RUNNING"


def test_the_kept_log_is_the_streamed_text_byte_for_byte(cj_home, labelled):
    """Offsets into the live copy stay valid in logs.txt: both hold the same decoded text, even for bytes
    that are not UTF-8 and a character written in two pieces."""
    from pathlib import Path

    service = JobService()
    source = ("import sys, time\nout = sys.stdout.buffer\nout.write(b'bad \\xff\\xfe bytes\\n'); out.flush()\n"
              "out.write(b'euro \\xe2\\x82'); out.flush(); time.sleep(0.3)\nout.write(b'\\xac done\\n'); out.flush()\n")
    record = service.submit(service.prepare(RunOptions(image=IMAGE), source, kind="script", filename="b.py"))
    streamed: list[str] = []
    record = service.follow(record, streamed.append)
    kept = (Path(record.job_dir) / "logs.txt").read_bytes()
    assert "".join(streamed).encode() == kept
    assert kept.decode() == "bad \ufffd\ufffd bytes\neuro \u20ac done\n"
    assert labelled(record.id) == []
