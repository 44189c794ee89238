"""What a job writes never runs on the host: only the kernel that asked unpickles values, exceptions come
back through an allow-listing unpickler, and results that travel through a bucket must carry the job's
signature."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time

import pytest

from containerjob.core.errors import ResultRefused
from containerjob.core.payload import build_payload
from containerjob.core.remote_error import RemoteError, load_exception
from containerjob.core.results import load_values, read_result, signing_key
from containerjob.core.runtime import pickle_frames, result_signing
from containerjob.core.store import Store
from test_vertex_backend import vertex  # noqa: F401 - the fake Vertex API, its bucket and Cloud Logging

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


# -- signatures cover names and the list itself: files swapped, removed or added with their entries are refused --
def signed_job(tmp_path):
    """A signed cell's output folder with two pickled values, its key, and a loader that checks first."""
    key = signing_key(tmp_path / "home", "cj-0000abcd")
    payload = build_payload("a = [1]\nb = [2, 2]", home=tmp_path, kind="cell", filename="<cell>", outputs=["a", "b"])
    out = tmp_path / "out"
    out.mkdir()
    assert run_runner(payload, out, CONTAINERJOB_SIGNING_SECRET=key.hex()).returncode == 0
    signatures = out / result_signing.SIGNATURES
    return out, json.loads(signatures.read_text()), signatures, key


def load_signed(out, key):
    result = read_result(out, key=key, job_id="cj-0000abcd")
    load_values(result, out)
    return result.values


def test_values_swapped_with_their_signatures_are_refused(tmp_path):
    out, signed, signatures, key = signed_job(tmp_path)
    assert load_signed(out, key) == {"a": [1], "b": [2, 2]}
    values = out / "values"
    (values / "a.pkl").rename(values / "tmp.pkl")
    (values / "b.pkl").rename(values / "a.pkl")
    (values / "tmp.pkl").rename(values / "b.pkl")
    files = signed["files"]
    files["values/a.pkl"], files["values/b.pkl"] = files["values/b.pkl"], files["values/a.pkl"]
    signatures.write_text(json.dumps(signed))
    with pytest.raises(ResultRefused, match="signatures.json was altered"):
        load_signed(out, key)


def test_a_value_deleted_with_its_signature_is_refused(tmp_path):
    out, signed, signatures, key = signed_job(tmp_path)
    (out / "values" / "b.pkl").unlink()
    del signed["files"]["values/b.pkl"]
    signatures.write_text(json.dumps(signed))
    with pytest.raises(ResultRefused, match="signatures.json was altered"):
        load_signed(out, key)


def test_an_extra_value_is_refused_signed_or_not(tmp_path):
    out, signed, signatures, key = signed_job(tmp_path)
    (out / "values" / "c.pkl").write_bytes((out / "values" / "a.pkl").read_bytes())
    with pytest.raises(ResultRefused, match="values/c.pkl is not signed"):
        load_signed(out, key)
    signed["files"]["values/c.pkl"] = signed["files"]["values/a.pkl"]  # a's own MAC, for the same bytes
    signatures.write_text(json.dumps(signed))
    with pytest.raises(ResultRefused, match="signatures.json was altered"):
        load_signed(out, key)
    signed["manifest"] = result_signing.manifest_mac(key, signed["files"])  # even with the key, the name counts
    signatures.write_text(json.dumps(signed))
    with pytest.raises(ResultRefused, match="values/c.pkl was altered"):
        load_signed(out, key)


@pytest.mark.parametrize("signatures_text", ["[1]", "not JSON", '{"files": {"result.json": 1}, "manifest": ""}'])
def test_an_unreadable_signature_list_means_unsigned_results(tmp_path, signatures_text):
    out, _, signatures, key = signed_job(tmp_path)
    signatures.write_text(signatures_text)
    with pytest.raises(ResultRefused, match="signatures.json is unreadable .*: the results are unsigned"):
        load_signed(out, key)


# -- Vertex: the bucket's copy is checked before anything of it is parsed -----------------------------------------
FORGERIES = {  # what someone who can write the staging bucket does once the runner is done: the note it gets
    "altered": ("raise ValueError('the real error')", 1, {"type": "Forged", "message": "FORGED"}, False,
                "error.json was altered"),
    "added": ("import sys\nsys.exit(3)", 3, [1], False, "error.json is not signed"),
    "unsigned": ("raise ValueError('the real error')", 1, {"type": "Forged", "message": "FORGED"}, True,
                 "signatures.json is missing: the results are unsigned"),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_error_json_in_the_bucket_fails_the_job_unread(case, cj_home, gcs, vertex):
    """conclude checks the signatures first: an error.json the runner did not write (changed, added, or with
    the signatures removed) ends the job FAILED with its exit code and a note; its content is never read."""
    from containerjob.core.options import RunOptions
    from containerjob.service import JobService

    source, exit_code, forged, drop_signatures, note = FORGERIES[case]
    service = JobService()
    record = service.submit(service.prepare(RunOptions(backend="vertex", project="my-proj"), source, kind="cell",
                                            filename="<cell>"))
    bucket = gcs.client.bucket(gcs.name)
    signatures = bucket.blob(f"containerjob/{record.id}/output/signatures.json")
    deadline = time.monotonic() + 120
    while not signatures.exists():
        assert time.monotonic() < deadline, "the job never wrote its signatures"
        time.sleep(0.5)
    bucket.blob(f"containerjob/{record.id}/output/error.json").upload_from_string(json.dumps(forged))
    if drop_signatures:
        signatures.delete()
    (record,) = service.wait([record.id])
    assert record.status.value == "FAILED" and record.exit_code == exit_code, record
    assert note in record.message and "FORGED" not in record.message and "Forged" not in record.message, record.message
    assert "ValueError" not in record.message  # nothing of the results is read, the runner's own error neither


# -- the other files and lines a job writes for the host ------------------------------------------------------------
def test_a_display_nested_too_deeply_is_a_note_not_a_crash():
    from containerjob.core.display_lines import Displays
    from containerjob.core.runtime.rich_output import PART_FORMAT

    text = "[" * 200_000
    line = PART_FORMAT % ("ab-1", 1, 1, len(text), "text/plain", "", text)
    assert Displays().feed(line.rstrip("\n")) == ["[containerjob] a display arrived unreadable and is not shown"]


@pytest.mark.parametrize("kept", ["link", "[1]", '[{"name": "workerpool0-0"}]', "{"])
def test_replica_states_that_are_not_the_kept_list_show_none(tmp_path, kept):
    """replicas.json is read like every file in a job's folder: a link is never followed, a wrong shape is
    no states (the page shows the job's own), never an error out of the page that polls it."""
    from containerjob.core import replica_states

    host = tmp_path / "host.json"
    host.write_text(json.dumps([{"name": SECRET, "pool": 0, "index": 0, "state": "FAILED", "exit_code": 1,
                                 "message": SECRET}]))
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    if kept == "link":
        (job_dir / replica_states.STATES_FILE).symlink_to(host)
    else:
        (job_dir / replica_states.STATES_FILE).write_text(kept)
    assert replica_states.read(job_dir) is None
    (job_dir / replica_states.STATES_FILE).unlink()
    (job_dir / replica_states.STATES_FILE).write_text(host.read_text())
    assert replica_states.read(job_dir)[0]["name"] == SECRET  # the same list, kept as a file of the job's own


def test_the_runner_keeps_a_long_exception_message_readable(tmp_path):
    """The runner's own error.json stays under the host's limit: a 3 MB message comes back cut, not refused."""
    from containerjob.core.results import failure_text

    payload = build_payload("raise ValueError('x' * 3_000_000)", home=tmp_path, kind="cell", filename="<cell>")
    out = tmp_path / "out"
    out.mkdir()
    assert run_runner(payload, out).returncode == 1
    error = read_result(out).error
    assert error["type"] == "ValueError" and error["message"].endswith("x... (2934464 more characters)")
    assert len(failure_text(error)) < 2100  # what a job's record keeps of it
