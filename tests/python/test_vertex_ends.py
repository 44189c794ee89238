"""A job ends the same on Vertex AI as here: a --timeout that runs out (FAILED, exit 124, the same message), and a
file written to a `gs:` folder under the working directory (kept in the job's unsaved/ and named in its
message). Through the real aiplatform_v1 client against the Vertex fake, beside the local twin."""
from __future__ import annotations

from pathlib import Path

from containerjob import cli
from containerjob.core.store import Store
from test_vertex_backend import vertex  # noqa: F401 - the fixture

VERTEX = ["--backend", "vertex", "--project", "my-proj"]


def _submitted(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_a_timed_out_job_ends_the_same_here_and_on_vertex(vertex, tmp_path, cj_home, capsys):  # noqa: F811
    nap = tmp_path / "nap.py"
    nap.write_text("import time\nprint('napping', flush=True)\ntime.sleep(120)\n")
    ids = {}
    for where, flags in (("local", []), ("vertex", VERTEX)):
        assert cli.main(["run", str(nap), "--timeout", "2", *flags, "--detach"]) == 0
        ids[where] = _submitted(capsys)
    for where, job_id in ids.items():
        assert cli.main(["wait", job_id]) == 124, where
    store = Store(cj_home / "jobs.db")
    local, remote = store.get(ids["local"]), store.get(ids["vertex"])
    assert local.status.value == remote.status.value == "FAILED"
    assert local.exit_code == remote.exit_code == 124
    assert local.message == "timed out after 2 s (--timeout)"
    said = vertex.jobs[remote.backend_ref.rsplit("/", 1)[-1]].pb.error.message
    assert remote.message == f"timed out after 2 s (--timeout); Vertex AI: {said}" and said
    assert cli.main(["status", ids["vertex"]]) == 0 and "timed out after 2 s (--timeout)" in capsys.readouterr().out


GS_CELL = """\
import os
os.makedirs(os.environ['AIP_MODEL_DIR'], exist_ok=True)
open(os.environ['AIP_MODEL_DIR'] + 'x', 'w').write('weights')
print('saved?')
"""


def test_a_gs_folder_written_on_vertex_is_kept_and_named(ip, cj_home, gcs, vertex, capsys):  # noqa: F811
    ip.run_cell_magic("containerjob", f"{' '.join(VERTEX)} --output-dir gs://{gcs.name}/base", GS_CELL)
    out = capsys.readouterr().out
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.status.value == "SUCCEEDED", record.message
    (kept,) = (Path(record.job_dir) / "unsaved").rglob("x")
    assert kept.read_text() == "weights" and kept.relative_to(record.job_dir).parts[:3] == ("unsaved", "gs:", gcs.name)
    assert record.message.startswith(f"1 file(s) written under /gs:, where nothing keeps them, were moved to "
                                     f"{Path(record.job_dir) / 'unsaved'}")
    assert "never to a gs:// name with open()" in record.message
    assert "/gs:" in out and "where nothing keeps them" in out  # the cell says so, as it does here
    assert not list((Path(record.job_dir) / "output").rglob("x"))  # moved, not copied twice


def test_a_transient_exit_is_retried_here_as_on_vertex(vertex, tmp_path, cj_home, capsys):  # noqa: F811
    """Exit code 134 (SIGABRT) once: Vertex AI restarts the job (the fake as Google documents it), and so does
    the local engine, which says so in the log and the message (test_restarts.py)."""
    once = tmp_path / "once.py"
    once.write_text("import pathlib, sys\nruns = pathlib.Path('/tmp/runs')\nfirst = not runs.exists()\n"
                    "runs.write_text('x')\nprint('first' if first else 'again', flush=True)\nsys.exit(134 if first else 0)\n")
    for flags in ([], VERTEX):
        assert cli.main(["run", str(once), *flags]) == 0
    local, remote = sorted(Store(cj_home / "jobs.db").list(), key=lambda r: r.backend)
    assert local.status.value == remote.status.value == "SUCCEEDED"
    assert "replica workerpool0-0 restarted (attempt 2 of 4): exit code 134" in local.message
    assert [line for line in (Path(remote.job_dir) / "logs.txt").read_text().splitlines() if line in ("first", "again")] \
        == ["first", "again"]
