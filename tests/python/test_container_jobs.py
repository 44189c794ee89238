"""Container jobs and CustomJob files: an image's own program (or --command) with args, no Python needed,
with Vertex's meaning of containerSpec.command/args on the local engine; `run --config` reads gcloud's
files through aiplatform_v1's types and `export` writes them back (round trip)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjtest import IMAGE, build_dockerfile, commit_without_python3
from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from test_cli import cli
from test_vertex_backend import created, vertex  # noqa: F401 - the Vertex fake fixture

SHELL_ONLY = "containerjob-test/shell-only:1"
ENTRY = "containerjob-test/entry-no-python:1"


@pytest.fixture(scope="module")
def shell_only(engine):
    """python:X.Y-slim with every python3 deleted, and an image built on it whose ENTRYPOINT echoes its
    arguments with a CMD of defaults: the programs of a container job never need Python."""
    commit_without_python3(engine, SHELL_ONLY)
    build_dockerfile(engine, f"FROM {SHELL_ONLY}\nENTRYPOINT [\"sh\", \"-c\", \"echo entry: \\\"$@\\\"; exit ${{CODE:-0}}\", "
                             "\"entry\"]\nCMD [\"the-default-cmd\"]\n", ENTRY)
    yield SHELL_ONLY
    for tag in (ENTRY, SHELL_ONLY):
        engine.images.remove(tag, force=True)


def records(cj_home):
    return Store(cj_home / "jobs.db").list()


def test_the_images_entrypoint_runs_with_its_cmd_or_the_jobs_args(shell_only, cj_home, labelled):
    done = cli("run", "--image", ENTRY)
    assert done.stdout == "entry: the-default-cmd\n"
    done = cli("run", "--image", ENTRY, "--env", "CODE=4", "--", "--dt", "2024-04-19", check_rc=4)
    assert done.stdout == "entry: --dt 2024-04-19\n"  # args replace the CMD; the job's exit code is the CLI's
    latest = records(cj_home)[0]
    assert latest.status is JobStatus.FAILED and latest.exit_code == 4 and latest.spec.kind == "container"
    assert latest.spec.worker_pools[0].args == ["--dt", "2024-04-19"]
    status = cli("status", latest.id).stdout
    assert "--dt" in status and "2024-04-19" in status
    assert labelled() == []


def test_command_replaces_the_entrypoint_and_is_never_given_to_a_shell(shell_only, cj_home, labelled):
    done = cli("run", "--image", ENTRY, "--command", "echo 'two words' $HOME;", "--", "then", "args")
    assert done.stdout == "two words $HOME; then args\n"  # split as a shell splits, not expanded by one
    dry = json.loads(cli("run", "--image", ENTRY, "--command", "echo hi", "--dry-run", "--", "x").stdout)
    assert (dry["entrypoint"], dry["command"]) == (["echo", "hi"], ["x"])
    assert "/containerjob/payload" not in json.dumps(dry)  # nothing of a Python payload
    assert labelled() == []


def test_bad_container_jobs_are_refused_before_anything_is_left(shell_only, cj_home, labelled, engine):
    missing = cli("run", "--image", shell_only, "--command", "train --epochs 3", check_rc=2)
    assert f"image {shell_only} has no program 'train'" in missing.stderr and "--command" in missing.stderr
    (failed,) = records(cj_home)
    assert failed.status is JobStatus.FAILED  # the record says what happened; the container is gone
    empty = cli("run", "--image", shell_only, "--command", "  ", check_rc=2)
    assert "--command is empty" in empty.stderr
    nothing = cli("run", check_rc=2)
    assert "give a Python file to run, or run a container" in nothing.stderr
    pip = cli("run", "--image", shell_only, "--pip", "numpy", check_rc=2)
    assert "--pip is for cells and Python files and notebooks, not container jobs" in pip.stderr
    assert labelled() == [] and engine.containers.list(all=True, filters={"ancestor": shell_only}) == []
    assert len(records(cj_home)) == 1


CONFIG = """\
# gcloud ai custom-jobs create --config: a single pool written as a mapping, as in the seed's post
workerPoolSpecs:
  machineSpec:
    machineType: n1-standard-4
    acceleratorType: NVIDIA_TESLA_T4
    acceleratorCount: 1
  replicaCount: 1
  containerSpec:
    imageUri: {image}
    args: ["--epochs", "3"]
    env:
      - name: STAGE
        value: train
scheduling:
  timeout: 600s
"""


def test_a_customjob_file_runs_here_and_exports_back(shell_only, cj_home, labelled, tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG.format(image=ENTRY).replace("    acceleratorType: NVIDIA_TESLA_T4\n"
                                                        "    acceleratorCount: 1\n", ""))
    assert cli("run", "--config", str(config)).stdout == "entry: --epochs 3\n"
    done = cli("run", "--config", str(config), "--env", "CODE=0", "--name", "again", "--", "--epochs", "5")
    assert done.stdout == "entry: --epochs 5\n"  # flags override the file
    record = records(cj_home)[0]
    assert record.name == "again" and record.spec.timeout_s == 600
    assert record.spec.worker_pools[0].env == {"STAGE": "train", "CODE": "0"}
    exported = cli("export", record.id, "--format", "job").stdout  # the whole CustomJob: its name and labels too
    (tmp_path / "exported.yaml").write_text(exported)
    again = cli("run", "--config", str(tmp_path / "exported.yaml"))
    assert again.stdout == "entry: --epochs 5\n"
    copy = records(cj_home)[0]
    assert copy.id != record.id and copy.name == "again"
    for field in ("worker_pools", "timeout_s", "labels", "base_output_dir", "service_account"):
        assert getattr(copy.spec, field) == getattr(record.spec, field), field
    assert labelled() == []


def test_a_gpu_file_asks_the_engine_for_the_gpus_it_names(shell_only, cj_home, tmp_path):
    """The same file on Vertex asks for a T4; here the accelerator count becomes a device request."""
    config = tmp_path / "gpu.yaml"
    config.write_text(CONFIG.format(image=ENTRY))
    dry = json.loads(cli("run", "--config", str(config), "--dry-run").stdout)
    assert dry["device_requests"] == [{"count": 1, "capabilities": [["gpu"]]}]
    on_vertex = json.loads(cli("run", "--config", str(config), "--dry-run", "--backend", "vertex", "--project", "p").stdout)
    machine = on_vertex["customJob"]["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]
    assert machine == {"machineType": "n1-standard-4", "acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 1}


@pytest.mark.parametrize("text, names", [
    ("workerPoolSpecs:\n  containerSpec:\n    imageUrl: x\n", "imageUrl"),
    ("workerPoolSpecs:\n  containerSpec: {imageUri: x}\nenableWebAccess: true\n", "jobSpec.enableWebAccess"),
    ("workerPoolSpecs:\n  - containerSpec: {imageUri: x}\n  - containerSpec: {imageUri: y}\n",
     "workerPoolSpecs[1].replicaCount is 0"),
    ("workerPoolSpecs:\n  - containerSpec: {imageUri: x}\n  - {containerSpec: {imageUri: 'a b'}, replicaCount: 1}\n",
     "workerPoolSpecs[1]: --image 'a b' is not a valid image reference"),
    ("workerPoolSpecs:\n  containerSpec: {imageUri: x}\n  replicaCount: 3\n", "replicaCount is 3; the first pool is the chief"),
    ("workerPoolSpecs:\n  machineSpec: {machineType: n1-standard-4}\n", "containerSpec.imageUri is missing"),
    ("- just a list\n", "must hold a mapping"),
    ("workerPoolSpecs: [\n", "not valid YAML or JSON"),
])
def test_a_bad_customjob_file_is_one_clear_error(tmp_path, cj_home, text, names):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    done = cli("run", "--config", str(config), check_rc=2)
    assert names in done.stderr and str(config) in done.stderr
    assert records(cj_home) == []


def test_export_refuses_python_jobs_and_keeps_secrets_out(shell_only, cj_home, tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print('hi')\n")
    cli("run", str(script))
    python_job = records(cj_home)[0]
    refused = cli("export", python_job.id, check_rc=2)
    assert "export takes container jobs" in refused.stderr
    cli("run", "--image", ENTRY, "--env", "API_TOKEN=s3cret", "--env", "MODE=x")
    exported = cli("export", records(cj_home)[0].id, "--json")
    env = json.loads(exported.stdout)["workerPoolSpecs"][0]["containerSpec"]["env"]
    assert env == [{"name": "MODE", "value": "x"}] and "s3cret" not in exported.stdout
    assert "env API_TOKEN is left out" in exported.stderr


def readme_env_table() -> dict[str, str]:
    """variable -> its local value as the docs' env table (docs/vertex.md) writes it (placeholders in capitals)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "vertex.md").read_text()
    table = text[text.index("<!-- env-table"):text.index("<!-- /env-table -->")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1].strip("`")
    return rows


def test_the_readme_env_table_is_what_a_local_job_sees(cj_home, gcs, tmp_path):
    table = readme_env_table()
    assert len(table) >= 11
    dump = "import json, os, sys; json.dump(dict(os.environ), sys.stdout)"
    done = cli("run", "--image", IMAGE, "--command", f"python3 -c '{dump}'", "--project", "demo-proj",
               "--output-dir", f"gs://{gcs.name}/runs/1")
    env = json.loads(done.stdout)
    job_id = records(cj_home)[0].id
    values = {"PROJECT": "demo-proj", "REGION": "us-central1", "JOB_ID": job_id, "BUCKET": gcs.name,
              "PREFIX": "runs/1"}
    for name, local in table.items():
        for placeholder, value in values.items():
            local = local.replace(placeholder, value)
        if local == "(not set)":  # TF_CONFIG: a single-replica job has none, as on Vertex
            assert name not in env, name
        elif local.startswith("{"):  # CLUSTER_SPEC: the table's keys, as the job sees them
            seen = json.loads(env[name])
            assert {k: seen[k] for k in json.loads(local)} == json.loads(local), name
            assert seen["job"]["worker_pool_specs"][0]["container_spec"]["image_uri"] == IMAGE
        else:
            assert env[name] == local, name


def test_a_last_line_without_a_newline_is_never_lost(shell_only, cj_home):
    """The engine's log stream may end with the container before that line reaches it; the kept log has it."""
    for attempt in range(4):
        done = cli("run", "--image", shell_only, "--command", f"printf 'no newline {attempt}'")
        assert done.stdout == f"no newline {attempt}", attempt


def test_containers_can_name_this_machine(shell_only, cj_home):
    """host.docker.internal resolves in every local container (how one reaches an emulator on this machine)."""
    done = cli("run", "--image", shell_only, "--command", "grep host.docker.internal /etc/hosts")
    assert done.stdout.split()[1:] == ["host.docker.internal"]


def test_a_container_job_on_vertex_means_the_same(shell_only, vertex, gcs, cj_home):
    """Through the real aiplatform_v1 client and the Vertex fake: no command (the image's ENTRYPOINT), the
    args as containerSpec.args, nothing staged, the log from Cloud Logging (the real google-cloud-logging client
    against tests/python/logging_fake.py), and the job's exit code is the CLI's, as locally."""
    done = cli("run", "--image", ENTRY, "--env", "CODE=5", "--backend", "vertex", "--project", "my-proj",
               "--", "a", "b c", check_rc=5)
    (body,) = created(vertex)
    container = body["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
    assert "command" not in container and container["args"] == ["a", "b c"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["GOOGLE_CLOUD_PROJECT"] == "my-proj" and env["CODE"] == "5"
    assert "CONTAINERJOB_PAYLOAD" not in env and not list(gcs.bucket.list_blobs(prefix="containerjob/"))
    (record,) = records(cj_home)
    assert (record.status, record.exit_code, record.spec.kind) == (JobStatus.FAILED, 5, "container")
    assert done.stdout == "entry: a b c\n"  # the container's own output, read from Cloud Logging
