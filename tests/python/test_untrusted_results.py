"""What a job writes never runs on the host: only the kernel that asked unpickles values, exceptions come
back through an allow-listing unpickler, and results that travel through a bucket must carry the job's
signature."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from containerjob.core.errors import ResultRefused
from containerjob.core.payload import build_payload
from containerjob.core.remote_error import RemoteError, load_exception
from containerjob.core.results import load_values, read_result, signing_key
from containerjob.core.runtime import pickle_frames, result_signing
from containerjob.core.store import Store

EVIL = ("import os\nclass Evil(Exception):\n    def __reduce__(self):\n"
        "        return (os.system, ({cmd!r},))\n")


def evil_cell(marker, *, then: str) -> str:
    """A cell whose exception or value, unpickled, runs `touch marker` wherever it is unpickled."""
    return EVIL.format(cmd=f"touch {marker}") + then


def run_runner(payload, out, **env):
    environ = {"CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(out),
               "PATH": os.environ["PATH"], **env}
    return subprocess.run([sys.executable, "-I", str(payload.runtime / "runner.py")], env=environ,
                          capture_output=True, text=True, timeout=60)


def test_an_exception_made_to_run_a_command_is_rebuilt_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    payload = build_payload(evil_cell(marker, then="raise Evil('boom')"), home=tmp_path, kind="cell",
                            filename="<cell>")
    out = tmp_path / "out"
    out.mkdir()
    assert run_runner(payload, out).returncode == 1
    result = read_result(out)
    assert result.error["type"] == "Evil" and result.error["pickled"]
    load_values(result, out)
    assert result.remote_exception is None and not marker.exists()
    pickle_frames.load(out / "error.pkl")  # what a plain unpickler does with the same bytes
    assert marker.exists()


@pytest.mark.parametrize("raised, expected", [
    ("raise KeyError('k')", KeyError("k")),
    ("raise OSError(2, 'gone', 'f')", OSError(2, "gone", "f")),
    ("class Local(Exception): pass\nraise Local('x')", None),  # a class pickled by value
    ("raise ValueError(open)", None),  # an argument that is not plain data
])
def test_kernel_classes_with_plain_arguments_come_back_others_do_not(tmp_path, raised, expected):
    out = tmp_path / "out"
    out.mkdir()
    payload = build_payload(raised, home=tmp_path, kind="cell", filename="<cell>")
    assert run_runner(payload, out).returncode == 1
    exc = load_exception(out / "error.pkl")
    if expected is None:
        assert exc is None
    else:
        assert type(exc) is type(expected) and exc.args == expected.args


def test_signed_results_load_only_as_the_runner_wrote_them(tmp_path):
    key = signing_key(tmp_path / "home", "cj-0000abcd")
    assert key == signing_key(tmp_path / "home", "cj-0000abcd") != signing_key(tmp_path / "home", "cj-0000abce")
    assert (tmp_path / "home" / "signing.secret").stat().st_mode & 0o777 == 0o600
    payload = build_payload("import os\nleaked = os.environ.get('CONTAINERJOB_SIGNING_SECRET')\ny = [1, 2]\ny",
                            home=tmp_path, kind="cell", filename="<cell>", outputs=["leaked", "y"])
    out = tmp_path / "out"
    out.mkdir()
    proc = run_runner(payload, out, CONTAINERJOB_SIGNING_SECRET=key.hex())
    assert proc.returncode == 0, proc.stderr

    def load(with_key=key):
        result = read_result(out, key=with_key, job_id="cj-0000abcd")
        load_values(result, out)
        return result

    result = load()
    assert result.values == {"leaked": None, "y": [1, 2]} and result.last_value == [1, 2]  # the user's code never sees it
    with pytest.raises(ResultRefused, match="signatures.json was altered"):
        load(signing_key(tmp_path / "home", "cj-0000abce"))  # another job's key
    original = (out / "values" / "y.pkl").read_bytes()
    (out / "values" / "y.pkl").write_bytes(pickle.dumps([6, 6]))
    with pytest.raises(ResultRefused, match=r"values/y.pkl was altered.*run the job again"):
        load()
    (out / "values" / "y.pkl").write_bytes(original)
    (out / "values" / "z.pkl").write_bytes(pickle.dumps(0))
    with pytest.raises(ResultRefused, match="values/z.pkl is not signed"):
        load()
    (out / "values" / "z.pkl").unlink()
    assert load().values["y"] == [1, 2]
    (out / result_signing.SIGNATURES).unlink()
    with pytest.raises(ResultRefused, match="unsigned"):
        load()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=180, env=os.environ.copy())


def test_cli_and_finalisation_never_unpickle_what_a_local_job_wrote(cj_home, engine, ip, tmp_path):
    """run, wait, status and list finalise and report a job whose exception and value are made to run a
    command when unpickled: none of them runs it; the kernel rebuilds the exception as a RemoteError."""
    marker = tmp_path / "pwned"
    script = tmp_path / "evil.py"
    script.write_text(evil_cell(marker, then="raise Evil('boom')"))
    proc = cli("run", str(script))
    assert proc.returncode == 1 and "Evil: boom" in proc.stdout, (proc.stdout, proc.stderr)
    detached = cli("run", str(script), "--detach")
    job_id = detached.stdout.strip()
    assert cli("wait", job_id).returncode == 1
    assert "Evil: boom" in cli("status", job_id).stdout and job_id in cli("list").stdout
    assert not marker.exists()
    with pytest.raises(RemoteError, match="^boom") as info:
        ip.run_cell_magic("containerjob", "", evil_cell(marker, then="raise Evil('boom')"))
    assert type(info.value).__name__ == "Evil" and info.value.remote_type == "__main__.Evil"
    assert not marker.exists()
    assert len(Store(cj_home / "jobs.db").list()) == 3


# -- a job's own files are data: whatever it leaves as its error.json, the job ends FAILED with a note ---------
SECRET = "HOST-SECRET-7f3a"
HOSTILE = {  # what the job leaves at its error.json (p), then it exits 3
    "list": "open(p, 'w').write('[1]')",
    "text": "open(p, 'w').write('this is not JSON')",
    "huge": "open(p, 'w').write('{\"type\": \"Big\", \"message\": \"' + 'x' * 50_000_000 + '\"}')",
    "link": "os.symlink({host!r}, p)",  # to a host file that is a perfectly good error.json
}
NOTES = {"list": "a list, not an object", "text": "not JSON", "huge": "MiB, over the 1.0 MiB limit", "link": "a link"}


def hostile_source(case: str, host_file) -> str:
    host_file.write_text(json.dumps({"type": "HostFile", "message": SECRET}))
    write = HOSTILE[case].replace("{host!r}", repr(str(host_file)))
    return f"import os, sys\np = os.path.join(os.environ['CONTAINERJOB_OUTPUT'], 'error.json')\n{write}\nsys.exit(3)\n"


def short(text: str) -> str:
    """An assertion's message: on today's main a 50 MB error message is what would be printed."""
    return text if len(text) < 2000 else f"{text[:1000]}... ({len(text)} characters)"


def assert_failed_with_note(job: dict, case: str) -> None:
    message = job["message"]
    assert job["status"] == "FAILED" and job["exit_code"] == 3, (job["status"], job["exit_code"], short(message))
    note = message.split("; ")[-1]
    assert note.startswith("its error.json was unreadable: it is ") and NOTES[case] in note, short(message)
    assert SECRET not in message and len(message) < 4000, short(message)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_error_json_fails_the_job_and_the_cli_keeps_working(case, cj_home, engine, labelled, tmp_path):
    """run (foreground), wait, status and list: the job ends FAILED with its exit code and one note; no command
    raises, none shows the host file a link points at, and no 50 MB message lands in jobs.db."""
    script = tmp_path / "hostile.py"
    script.write_text(hostile_source(case, tmp_path / "host-error.json"))
    foreground = cli("run", str(script))
    assert foreground.returncode == 3, short(foreground.stdout + foreground.stderr)
    assert "its error.json was unreadable" in foreground.stdout + foreground.stderr, short(foreground.stderr)
    job_id = cli("run", str(script), "--detach").stdout.strip()
    waited = cli("wait", job_id)
    status, listed_jobs = cli("status", job_id), cli("list", "--json")
    assert waited.returncode == 3 and status.returncode == 0 and listed_jobs.returncode == 0, \
        short(waited.stderr + status.stderr + listed_jobs.stderr)
    assert_failed_with_note(json.loads(status.stdout), case)
    assert [j["status"] for j in json.loads(listed_jobs.stdout)] == ["FAILED", "FAILED"]
    for proc in (foreground, waited, status, listed_jobs):
        assert SECRET not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr, short(proc.stderr)
    assert (cj_home / "jobs.db").stat().st_size < 1_000_000
    assert labelled() == []


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_error_json_is_finalised_by_the_servers_watcher(case, jp_fetch, labelled, tmp_path):
    """Over REST the watcher finalises the job (it stayed RUNNING, its container left, before): FAILED with
    its exit code and the note in `GET jobs`, its container removed."""
    from test_server_jobs import api, submit, wait_for

    job = await submit(jp_fetch, hostile_source(case, tmp_path / "host-error.json"))
    job = await wait_for(jp_fetch, job["id"], "FAILED", "SUCCEEDED", "CANCELLED", "LOST", timeout_s=60)
    assert_failed_with_note(job, case)
    (listed_job,) = (await api(jp_fetch, "jobs"))["jobs"]
    assert listed_job["status"] == "FAILED" and SECRET not in json.dumps(listed_job), short(json.dumps(listed_job))
    assert labelled(job["id"]) == []
