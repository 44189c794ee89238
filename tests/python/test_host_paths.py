"""One confinement rule for every host path a job is given (core/host_paths.py), wherever it comes from: the
CLI, a CustomJob file, the magic, a REST body or a CustomJob file a REST body names. Each refusal comes before
anything is made (no record, no container, no folder), names the option, the rule and the fix."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from abusekit import Server, containers_of, start_server, stop_server
from cjtest import IMAGE

RULE = "containerjob gives a job no folder of the host's own"


def cli(*args: str, rc: int) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    assert proc.returncode == rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def config_file(folder: Path, output: str, name: str = "job.yaml") -> Path:
    """A gcloud --config file (a CustomJobSpec) whose baseOutputDirectory is `output`."""
    path = folder / name
    path.write_text(f"workerPoolSpecs:\n  machineSpec: {{machineType: n1-standard-4}}\n  replicaCount: 1\n"
                    f"  containerSpec:\n    imageUri: {IMAGE}\n    command: [python3, -c, 'print(1)']\n"
                    f"baseOutputDirectory:\n  outputUriPrefix: {output}\n")
    return path


def records(home: Path) -> list:
    if not (home / "jobs.db").exists():
        return []
    return json.loads(cli("list", "--json", rc=0).stdout)


@pytest.fixture
def links(tmp_path) -> dict[str, Path]:
    """Links in a folder of the user's that lead to protected folders: the rule follows them."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "to-run").symlink_to("/run", target_is_directory=True)
    (folder / "to-etc").symlink_to("/etc", target_is_directory=True)
    return {"run": folder / "to-run", "etc": folder / "to-etc"}


def refused_output_dirs(home: Path, links: dict[str, Path]) -> list[tuple[str, str]]:
    """(--output-dir, the words of its refusal): system folders, what holds them, links to them, the user's
    home itself, and containerjob's home, inside and above it."""
    return [("/run", "is /run"), ("/var/run", "(that is /run) is /run"), ("/var/run/docker", "is inside /run"),
            ("/", "holds /run"), ("/var", "holds /var/lib/docker"), ("/proc/self", "is inside /proc"),
            ("/etc", "is /etc"), ("/usr/local", "is inside /usr"), ("/dev/shm", "is inside /dev"), ("/sys", "is /sys"),
            ("/boot", "is /boot"), (str(links["run"]), "(that is /run) is /run"),
            (str(links["etc"]) + "/x", "is inside /etc"), (str(Path.home()), "is your home folder"),
            (str(home), "is containerjob's home (CONTAINERJOB_HOME)"), (str(home / "jobs"), "is inside containerjob's"),
            (str(home.parent), "holds containerjob's home")]


def test_cli_refuses_every_protected_output_dir(cj_home, engine, tmp_path, links, labelled):
    """`--output-dir` is bound read-write into the container: `/run` would give it the Docker socket (root on
    the host), CONTAINERJOB_HOME the signing secret. Dry runs and real runs refuse alike, before anything."""
    script = tmp_path / "job.py"
    script.write_text("print('ran')\n")
    for value, words in refused_output_dirs(cj_home, links):
        for dry in (["--dry-run"], []):
            proc = cli("run", str(script), "--output-dir", value, *dry, rc=2)
            assert f"--output-dir {value}" in proc.stderr and words in proc.stderr, (value, proc.stderr)
            assert RULE in proc.stderr and "choose a folder of your own" in proc.stderr, proc.stderr
    assert records(cj_home) == [] and labelled() == []
    # the control: a folder of the user's is bound as it was
    proc = cli("run", str(script), "--output-dir", str(tmp_path / "out"), "--dry-run", rc=0)
    assert str(tmp_path / "out") in proc.stdout


def test_a_custom_job_files_output_dir_is_held_to_the_rule(cj_home, engine, tmp_path, labelled):
    """gcloud's --config files come from anywhere: their baseOutputDirectory meets the same rule as the flag."""
    for output in ("/run", "/var/run", str(cj_home), "/"):
        path = config_file(tmp_path, output)
        for dry in (["--dry-run"], []):
            proc = cli("run", "--config", str(path), *dry, rc=2)
            assert "--output-dir" in proc.stderr and RULE in proc.stderr, (output, proc.stderr)
    assert records(cj_home) == [] and labelled() == []


@pytest.mark.parametrize("uri", ["gs://bkt/../../../tmp/x", "gs://bkt/a/./b", "gs://bkt/..", "gs://bkt/a/..",
                                 "gs://bkt/a/b\nc"])
def test_gs_uris_with_dot_segments_are_refused_everywhere(cj_home, engine, tmp_path, uri):
    """A gs:// key becomes a path under the job's /gcs stage on the host: `..` would make the job's model/,
    checkpoints/ and logs/ folders outside it. One parser (core/gcs_uri.split_gs) refuses them for every option."""
    script = tmp_path / "job.py"
    script.write_text("print('ran')\n")
    for option in ("--output-dir", "--mount"):
        proc = cli("run", str(script), option, uri, rc=2)
        assert repr(uri) in proc.stderr and ("segment" in proc.stderr or "control character" in proc.stderr), \
            proc.stderr
    assert records(cj_home) == [] and not (cj_home / "jobs").exists()


def test_the_magic_refuses_protected_output_dirs(ip, cj_home, links, labelled):
    for value in ("/run", str(cj_home), str(links["run"]), "gs://bkt/../x"):
        for dry in ("--dry-run ", ""):
            with pytest.raises(UsageError, match="--output-dir"):
                ip.run_cell_magic("containerjob", f"{dry}--output-dir {value}", "x = 1\n")
    assert labelled() == []


def test_a_script_folder_that_is_a_system_folder_never_travels(cj_home, engine, tmp_path):
    """A script folder is copied into the job (and for Vertex into the staging bucket): never /etc."""
    proc = cli("run", "/etc/hostname", "--dry-run", rc=2)
    assert "hostname's folder" in proc.stderr and "is /etc" in proc.stderr and RULE in proc.stderr, proc.stderr
    script = tmp_path / "job.py"
    script.write_text("print('ran')\n")
    proc = cli("run", str(script), "--workdir", "/", "--dry-run", rc=2)
    assert "--workdir / holds" in proc.stderr, proc.stderr


# -- REST ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home_in_root(tmp_path_factory, engine) -> Server:
    """A server whose CONTAINERJOB_HOME is inside its root (a home folder served whole, as on Workbench):
    confinement to the root alone would let a body name the store."""
    base = tmp_path_factory.mktemp("home-in-root")
    server = start_server(base, {"CONTAINERJOB_HOME": str(base / "root" / ".containerjob")})
    server.home = base / "root" / ".containerjob"
    (server.root / "work").mkdir()
    (server.root / "work" / "to-run").symlink_to("/run", target_is_directory=True)
    yield server
    stop_server(server)
    for container in containers_of(engine, server.home):
        container.remove(force=True)


def test_rest_custom_job_files_are_confined_like_bodies(home_in_root):
    """`POST jobs {"kind": "container", "config": "work/x.yaml"}`: the file's outputUriPrefix is held to the root
    and the rule, as the body's own output_dir is; jobs/validate says the same, and nothing starts."""
    server = home_in_root
    cases = {"/run": "must be a path relative", "work/to-run": "leads outside", ".containerjob": "is",
             ".containerjob/jobs": "is inside", ".": "holds", "gs://bkt/../../x": "segment"}
    for output, words in cases.items():
        config_file(server.root / "work", output, "x.yaml")
        for route in ("jobs", "jobs/validate"):
            reply = server.api("POST", route, {"kind": "container", "config": "work/x.yaml"})
            assert reply.status == 400, (output, route, reply.body)
            problems = reply.json()["errors"]
            assert [p["field"] for p in problems] == ["config"], problems
            message = problems[0]["message"]
            assert "config work/x.yaml: its baseOutputDirectory.outputUriPrefix is refused" in message, message
            assert words in message, (output, message)
            assert str(server.root) not in message, message
        reply = server.api("GET", "customjob?path=work/x.yaml")
        assert reply.status == 400, reply.body
    assert server.api("GET", "jobs").json()["jobs"] == []
    assert not (server.root / "x").exists()


def test_rest_bodies_never_name_the_store_inside_the_root(home_in_root):
    """The root holds CONTAINERJOB_HOME here: a body's output_dir naming it, inside it or above it is refused
    under `options.output_dir`, for jobs, validation and schedules."""
    server = home_in_root
    notebook = server.root / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    for value in (".containerjob", ".containerjob/payloads", ".", "work/..", "gs://bkt/a/../../b"):
        options = {"image": IMAGE, "output_dir": value}
        bodies = [("jobs", {"kind": "cell", "source": "x = 1", "options": options}),
                  ("jobs/validate", {"kind": "cell", "source": "x = 1", "options": options}),
                  ("schedules", {"notebook": "nb.ipynb", "cron": "0 3 * * *", "options": options})]
        for route, body in bodies:
            reply = server.api("POST", route, body)
            assert reply.status == 400, (value, route, reply.body)
            fields = [p["field"] for p in reply.json()["errors"]]
            assert fields == ["options.output_dir"], (value, route, reply.json())
    assert server.api("GET", "jobs").json()["jobs"] == []
    assert server.api("GET", "schedules").json()["schedules"] == []
    # the control: a folder of the root's own is where the job writes
    reply = server.api("POST", "jobs/validate", {"kind": "cell", "source": "x = 1",
                                                 "options": {"image": IMAGE, "output_dir": "work/out"}})
    assert reply.json() == {"errors": []}, reply.body


def test_a_docker_socket_in_the_root_folder_refuses_the_socket_not_every_path(tmp_path, monkeypatch):
    """DOCKER_HOST=unix:///x puts the socket in `/`: refusing its folder would refuse every path."""
    from containerjob.core.errors import SpecError
    from containerjob.core.host_paths import confine

    monkeypatch.setenv("DOCKER_HOST", "unix:///docker-here.sock")
    assert confine(tmp_path, "--output-dir", store_home=None) == tmp_path.resolve()
    with pytest.raises(SpecError, match="Docker socket"):
        confine("/docker-here.sock", "--output-dir", store_home=None)
