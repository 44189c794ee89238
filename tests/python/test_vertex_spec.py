"""Vertex AI options: validated before anything is sent, and --dry-run shows the exact CustomJob."""
from __future__ import annotations

import json
import shlex

import pytest
from IPython.core.error import UsageError

from containerjob.core.errors import SpecError
from containerjob.core.vertex_catalog import parse_accelerator, validate_machine, validate_region


@pytest.mark.parametrize("machine, accelerator, count", [
    ("n1-standard-4", None, 0), ("n1-standard-8", "NVIDIA_TESLA_T4", 2), ("n1-highmem-16", "NVIDIA_TESLA_V100", 8),
    ("n1-standard-32", "NVIDIA_TESLA_T4", 4), ("a2-highgpu-1g", "NVIDIA_TESLA_A100", 1),
    ("a2-ultragpu-8g", "NVIDIA_A100_80GB", 8), ("a3-highgpu-8g", "NVIDIA_H100_80GB", 8),
    ("a3-ultragpu-8g", "NVIDIA_H200_141GB", 8), ("a4-highgpu-8g", "NVIDIA_B200", 8), ("g2-standard-24", "NVIDIA_L4", 2),
    ("e2-standard-8", None, 0),
])
def test_valid_combinations(machine, accelerator, count):
    validate_machine(machine, accelerator, count)


@pytest.mark.parametrize("machine, accelerator, count, message", [
    ("n1-standard-4", "NVIDIA_TESLA_A100", 1, "NVIDIA_TESLA_A100 does not fit --machine-type n1-standard-4, which "
     "takes NVIDIA_TESLA_P4 in counts 1, 2 or 4; .*NVIDIA_TESLA_A100 fits a2-highgpu-{1g,2g,4g,8g}, a2-megagpu-16g"),
    ("n1-standard-4", "NVIDIA_H200_141GB", 8, "NVIDIA_H200_141GB fits a3-ultragpu-8g"),
    ("n1-standard-4", "NVIDIA_TESLA_T4", 3, "n1-standard-4 takes NVIDIA_TESLA_T4 in counts 1, 2 or 4"),
    ("n1-standard-32", "NVIDIA_TESLA_T4", 1, "n1-standard-32 takes NVIDIA_TESLA_T4 in counts 2 or 4: use "
     "--accelerator NVIDIA_TESLA_T4:2"),
    ("a2-highgpu-2g", "NVIDIA_TESLA_A100", 1, "comes with 2 x NVIDIA_TESLA_A100"),
    ("a3-ultragpu-8g", "NVIDIA_H100_80GB", 8,
     "comes with 8 x NVIDIA_H200_141GB: use --accelerator NVIDIA_H200_141GB:8"),
    ("g2-standard-8", None, 0, "comes with 1 x NVIDIA_L4"),
    ("e2-standard-4", "NVIDIA_TESLA_T4", 1, "which takes no accelerator; NVIDIA_TESLA_T4 fits n1-standard-{4,8,16"),
    # Google's list has the n1 and e2 families, but not these sizes
    ("n1-standard-2", None, 0, "n1-standard-2 is not among the n1 machine types .*n1-standard-{4,8,16,32,64,96}, "
     "n1-highmem-{2,4,8,16,32,64,96}, n1-highcpu-{16,32,64,96}"),
    ("e2-standard-2", None, 0, "e2-standard-2 is not among the e2 .*e2-standard-{4,8,16,32}, e2-highmem-{2,4,8,16}"),
    ("n1-superfast-4", None, 0, "not among the n1 machine types Vertex AI training offers"),
    ("N1-Standard-4", None, 0, "is not a machine type name: lowercase words joined by '-'"),
    ("n1_standard_4", None, 0, "is not a machine type name"),
])
def test_invalid_combinations_name_field_and_allowed_values(machine, accelerator, count, message):
    with pytest.raises(SpecError, match=message.replace("{", r"\{").replace("}", r"\}")):
        validate_machine(machine, accelerator, count)


@pytest.mark.parametrize("machine, accelerator, count", [
    ("n4-standard-8", None, 0), ("n2d-standard-8", None, 0), ("c3-standard-8", None, 0),  # families the table lacks
    ("n5-standard-8", "NVIDIA_FUTURE_X", 2),  # and an accelerator the client library's enum lacks
    ("n1-standard-4", "NVIDIA_FUTURE_X", 3), ("a3-ultragpu-8g", "NVIDIA_FUTURE_X", 1),
])
def test_well_formed_values_no_table_knows_pass(machine, accelerator, count):
    validate_machine(machine, accelerator, count)  # sent with a warning (see the dry runs below); Vertex answers


def test_accelerator_and_region_parsing():
    assert parse_accelerator("nvidia_tesla_t4:2") == ("NVIDIA_TESLA_T4", 2)
    assert parse_accelerator("NVIDIA_L4") == ("NVIDIA_L4", 1)
    assert parse_accelerator("NVIDIA_FUTURE_X:2") == ("NVIDIA_FUTURE_X", 2)  # the enum is asked for Vertex jobs only
    for bad, message in (("NVIDIA-TESLA-T4:1", "a name like NVIDIA_TESLA_T4"), ("NVIDIA_L4:x", "must be a number"),
                         ("NVIDIA_L4:0", "1 or more"), ("ACCELERATOR_TYPE_UNSPECIFIED", "means no accelerator")):
        with pytest.raises(SpecError, match=message):
            parse_accelerator(bad)
    assert validate_region("europe-west4") == "europe-west4"
    assert validate_region("us-north9") == "us-north9"  # well-formed, unlisted: sent with a warning
    for bad in ("mars", "Europe-West4", "us central1", "moon-1"):
        with pytest.raises(SpecError, match="is not a region name: give one like us-central1"):
            validate_region(bad)


def _cli_dry_run(*extra: str) -> dict:
    import contextlib
    import io

    from containerjob import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", "--image", "python:3.12-slim", "--command", "true", "--backend", "vertex",
                         "--project", "p", "--staging-bucket", "gs://bkt", "--dry-run", *extra])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_unlisted_values_are_sent_unchanged_with_one_warning_each(cj_home):
    """The principle: a well-formed value Google's tables (or the client library) here lack reaches the CustomJob
    as given, with a one-line warning, and Vertex AI answers for it."""
    described = _cli_dry_run("--region", "us-north9", "--machine-type", "n5-standard-8",
                             "--accelerator", "NVIDIA_FUTURE_X:2")
    assert described["parent"] == "projects/p/locations/us-north9"
    pool = described["customJob"]["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"] == {"machineType": "n5-standard-8", "acceleratorType": "NVIDIA_FUTURE_X",
                                   "acceleratorCount": 2}
    region, machine, accelerator = described["warnings"]
    assert region.startswith("region us-north9 is not in containerjob's copy of Google's Vertex AI locations list")
    assert machine.startswith("machine type n5-standard-8: the n5 family is not in")
    assert accelerator.startswith("accelerator NVIDIA_FUTURE_X is not an AcceleratorType of google-cloud-aiplatform")
    assert all("sent as given, Vertex AI answers" in line and "\n" not in line for line in described["warnings"])
    for machine in ("n4-standard-8", "n2d-standard-8", "c3-standard-8"):  # families Google's list lacks
        described = _cli_dry_run("--machine-type", machine)
        assert described["customJob"]["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["machineType"] == machine
        assert [line.split(":")[0] for line in described["warnings"]] == [f"machine type {machine}"]


def test_what_the_tables_list_is_sent_without_warnings(cj_home):
    described = _cli_dry_run("--machine-type", "a3-ultragpu-8g", "--accelerator", "NVIDIA_H200_141GB:8",
                             "--region", "europe-west4")
    assert described["customJob"]["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] == {
        "machineType": "a3-ultragpu-8g", "acceleratorType": "NVIDIA_H200_141GB", "acceleratorCount": 8}
    assert "warnings" not in described


def test_a_local_job_never_imports_the_client_library(tmp_path, cj_home):
    """aiplatform_v1 takes seconds to import: the enum is read for Vertex AI jobs only."""
    import subprocess
    import sys

    code = ("import sys; from containerjob.core.spec import RunOptions, build_spec; "
            "from containerjob.backends import backend_traits as traits_of; "
            "build_spec(RunOptions(), default_image='python:3.12-slim', default_backend='local', project=None, "
            "traits_of=traits_of); "
            "build_spec(RunOptions(backend='vertex', machine_type='n1-standard-8'), default_image='python:3.12-slim', "
            "default_backend='local', project='p', region='us-central1', traits_of=traits_of); "
            "print('google.cloud.aiplatform_v1' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "False", done.stderr


def test_replicas_become_a_chief_pool_and_a_worker_pool(ip, capsys):
    ip.run_cell_magic("containerjob", "--backend vertex --dry-run --project p --staging-bucket gs://bkt --replicas 3",
                      "x = 1")
    out = capsys.readouterr().out
    pools = json.loads(out[out.index("{"):])["customJob"]["jobSpec"]["workerPoolSpecs"]
    assert [p["replicaCount"] for p in pools] == ["1", "2"]
    assert pools[0]["containerSpec"] == pools[1]["containerSpec"]
    ip.run_cell_magic("containerjob", "--replicas 2 --dry-run", "x = 1")  # the same pools, rehearsed here
    out = capsys.readouterr().out
    local = json.loads(out[out.index("{"):])
    assert [r["hostname"] for r in local["replicas"]] == ["workerpool0-0", "workerpool1-0"]
    assert local["network"].startswith("containerjob-cj-")


def test_dry_run_prints_custom_job_and_gcloud(ip, capsys):
    ip.user_ns["n"] = 2
    ip.run_cell_magic("containerjob", "--backend vertex --dry-run --project my-proj --staging-bucket gs://stage-b "
                      "--machine-type g2-standard-8 --accelerator NVIDIA_L4:1 --spot --env API_KEY=s --timeout 1h "
                      "--service-account trainer@my-proj.iam.gserviceaccount.com --output-dir gs://out-b/run1",
                      "m = n * 2")
    out = capsys.readouterr().out
    spec = json.loads(out[out.index("{"):])
    job = spec["customJob"]
    pool = job["jobSpec"]["workerPoolSpecs"][0]
    assert spec["parent"] == "projects/my-proj/locations/us-central1"
    assert pool["machineSpec"] == {"machineType": "g2-standard-8", "acceleratorType": "NVIDIA_L4", "acceleratorCount": 1}
    env = {e["name"]: e["value"] for e in pool["containerSpec"]["env"]}
    assert env["GOOGLE_CLOUD_PROJECT"] == env["CLOUDSDK_CORE_PROJECT"] == "my-proj" and env["API_KEY"] == "***"
    assert "CLOUD_ML_PROJECT_ID" not in env  # Vertex sets it (to the project number)
    assert pool["containerSpec"]["command"][-1] == "/gcs/stage-b/containerjob/cj-00000000/runtime/runner.py"
    assert job["jobSpec"]["scheduling"] == {"restartJobOnWorkerRestart": False, "strategy": "SPOT", "timeout": "3600s"}
    assert job["jobSpec"]["baseOutputDirectory"] == {"outputUriPrefix": "gs://out-b/run1"}
    assert job["jobSpec"]["serviceAccount"] == "trainer@my-proj.iam.gserviceaccount.com"
    assert job["labels"]["containerjob-id"] == "cj-00000000"
    gcloud = spec["gcloud"]
    assert "gcloud ai custom-jobs create --project=my-proj --region=us-central1" in gcloud
    assert json.loads(shlex.split(gcloud)[1]) == job["jobSpec"]


@pytest.mark.parametrize("line, message", [
    ("--backend vertex --staging-bucket gs://bkt", "no GCP project for Vertex AI"),
    ("--backend vertex --project p", "need a staging bucket"),
    ("--backend vertex --project p --staging-bucket gs://bkt --gpus 1", "name the GPU type"),
    ("--backend vertex --project p --staging-bucket gs://bkt --machine-type a2-highgpu-1g", "comes with 1 x NVIDIA_TESLA_A100"),
    ("--backend vertex --project p --staging-bucket gs://bkt --region moon-1", "is not a region name"),
    ("--backend vertex --project p --staging-bucket gs://bkt --machine-type n1-standard-32 --accelerator "
     "NVIDIA_TESLA_T4:1", "n1-standard-32 takes NVIDIA_TESLA_T4 in counts 2 or 4"),
    ("--backend vertex --project p --staging-bucket gs://bkt --machine-type e2-standard-2", "not among the e2"),
    ("--backend vertex --project p --staging-bucket gs://B", "not a valid bucket name"),
    ("--backend vertex --project p --staging-bucket gs://bkt --label Bad=x", "lowercase"),
    ("--backend vertex --project p --staging-bucket gs://bkt --service-account me", "not a service account"),
])
def test_bad_vertex_options_fail_before_anything_is_sent(ip, cj_home, line, message):
    with pytest.raises(UsageError, match=message):
        ip.run_cell_magic("containerjob", line, "x = 1")


def test_local_output_dir_is_refused_for_vertex(ip):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="local folder, which Vertex AI cannot see"):
        ip.run_cell_magic("containerjob", "--backend vertex --project p --output-dir /tmp/out --dry-run", "x = 1")


def test_a_rest_400_from_vertex_is_a_spec_error():
    """google-api-core raises BadRequest for an HTTP 400 over REST (InvalidArgument only over gRPC)."""
    from google.api_core import exceptions as gexc

    from containerjob.backends.gcp import api_errors
    from containerjob.core.errors import SpecError

    for exc in (gexc.BadRequest("bad field"), gexc.InvalidArgument("bad field")):
        with pytest.raises(SpecError, match="Vertex AI rejected the job \\(create\\): bad field"):
            with api_errors("create"):
                raise exc


def test_dry_runs_refuse_what_submits_refuse(ip, tmp_path, cj_home):
    """No project or bucket: the dry run is the same clear error as a submit, never `projects/None`."""
    import contextlib
    import io

    from containerjob import cli

    script = tmp_path / "train.py"
    script.write_text("print('x')\n")
    for extra, missing in (([], "no GCP project"), (["--project", "p"], "need a staging bucket")):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert cli.main(["run", str(script), "--backend", "vertex", "--dry-run", *extra]) == 2
        assert missing in err.getvalue() and "None" not in out.getvalue() + err.getvalue()
        with pytest.raises(UsageError, match=missing):
            ip.run_cell_magic("containerjob", f"--backend vertex --dry-run {' '.join(extra)}", "x = 1")
