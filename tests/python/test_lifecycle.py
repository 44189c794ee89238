"""A job's interrupt, cancel and timeout have one owner (backends/lifecycle.py): whoever asks, a cancel
reaches the backend once per job, counted by what a backend registered as a plugin saw (countingbackend.py),
never by patching containerjob: an interrupted cell, a CLI getting SIGINT, a --timeout, and REST cancels
racing with each other and with the job's own end."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import containerjob
from containerjob import backends
from containerjob.cli import main
from containerjob.core.store import Store
from countingbackend import finish, stops

HERE = Path(__file__).parent


@pytest.fixture
def plugin(tmp_path, isolated_home):
    """The counting backends installed as a package would declare them (an entry-points file on sys.path)."""
    site = tmp_path / "site"
    info = site / "cjcounting-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cjcounting\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[containerjob.backends]\ncounting = countingbackend:Counting\n"
                                           "counting-remote = countingbackend:CountingRemote\n")
    sys.path.insert(0, str(site))
    backends._registered.cache_clear()  # the entry points are read once per process
    yield site
    sys.path.remove(str(site))
    backends._registered.cache_clear()


def only(home: Path):
    (record,) = Store(home / "jobs.db").list()
    return record


def interrupt_soon(after_s: float = 1.0) -> threading.Timer:
    timer = threading.Timer(after_s, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    return timer


@pytest.fixture
def shell(plugin, ipython_shell):
    """conftest's shell with the extension loaded, the counting backends installed first (no engine: the jobs
    are the plugin's)."""
    return ipython_shell


@pytest.mark.parametrize("line, status, stopped", [
    ("--backend counting", "CANCELLED", ["CANCELLED"]),  # on this machine: always cancelled
    ("--backend counting --on-interrupt detach", "CANCELLED", ["CANCELLED"]),  # --on-interrupt is for elsewhere
    ("--backend counting-remote --on-interrupt cancel", "CANCELLED", ["CANCELLED"]),
    ("--backend counting-remote --on-interrupt detach", "RUNNING", []),
])
def test_an_interrupted_cell_stops_its_job_once(shell, isolated_home, line, status, stopped):
    interrupt_soon()
    with pytest.raises(KeyboardInterrupt, match="cancelled and its container removed" if stopped else "detached"):
        shell.run_cell_magic("containerjob", line, "x = 1")
    record = only(isolated_home)
    assert (record.status.value, stops(record)) == (status, stopped)


def test_a_cli_run_getting_sigint_cancels_its_job_once(plugin, isolated_home, tmp_path):
    script = tmp_path / "job.py"
    script.write_text("pass\n")
    path = os.pathsep.join([str(plugin), str(HERE), str(Path(containerjob.__file__).parent.parent)])
    proc = subprocess.Popen([sys.executable, "-m", "containerjob.cli", "run", str(script), "--backend", "counting"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": path})
    assert proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "the job was cancelled" in err, err
    record = only(isolated_home)
    assert (record.status.value, stops(record)) == ("CANCELLED", ["CANCELLED"])


def test_a_timeout_the_backend_does_not_enforce_stops_the_job_once(plugin, isolated_home, tmp_path, capsys):
    script = tmp_path / "job.py"
    script.write_text("pass\n")
    assert main(["run", str(script), "--backend", "counting", "--timeout", "1s"]) == 124
    record = only(isolated_home)
    assert record.status.value == "FAILED" and record.message == "timed out after 1 s (--timeout)"
    assert stops(record) == ["FAILED"]
    assert "timed out after 1 s" in capsys.readouterr().err


@pytest.fixture
def jp_server_config(plugin):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def test_rest_cancels_racing_with_each_other_and_the_jobs_end_stop_a_job_once(jp_fetch, isolated_home):
    """Each job gets two cancels at once while it ends on its own: it is stopped once or not at all (it ended
    first), and both answers are the job's final record."""
    async def call(*parts, **kwargs):
        return json.loads((await jp_fetch("containerjob", *parts, **kwargs)).body)

    body = json.dumps({"kind": "cell", "source": "x = 1", "options": {"backend": "counting"}})
    jobs = [await call("jobs", method="POST", body=body) for _ in range(6)]
    store = Store(isolated_home / "jobs.db")
    records = [store.get(job["id"]) for job in jobs]
    for i, record in enumerate(records):
        ends = threading.Timer(0.02 * i, finish, (record,))  # from before the cancels to after them
        ends.start()
        answers = await asyncio.gather(*(call("jobs", record.id, "cancel", method="POST", body="{}")
                                         for _ in range(2)))
        ends.join()
        final = store.get(record.id)
        assert final.status.is_final and [a["status"] for a in answers] == [final.status.value] * 2
        # stopped once when the cancel came first (the job may still end on its own during the stop), never twice
        assert stops(final) in ([], ["CANCELLED"]) and (final.status.value != "CANCELLED" or stops(final))
