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
    ("a2-highgpu-1g", "NVIDIA_TESLA_A100", 1), ("a2-ultragpu-8g", "NVIDIA_A100_80GB", 8),
    ("a3-highgpu-8g", "NVIDIA_H100_80GB", 8), ("g2-standard-24", "NVIDIA_L4", 2), ("e2-standard-8", None, 0),
])
def test_valid_combinations(machine, accelerator, count):
    validate_machine(machine, accelerator, count)


@pytest.mark.parametrize("machine, accelerator, count, message", [
    ("n1-standard-4", "NVIDIA_TESLA_A100", 1, "does not attach to N1 machines"),
    ("n1-standard-4", "NVIDIA_TESLA_T4", 3, "count must be one of 1, 2, 4"),
    ("a2-highgpu-2g", "NVIDIA_TESLA_A100", 1, "comes with 2 x NVIDIA_TESLA_A100"),
    ("g2-standard-8", None, 0, "comes with 1 x NVIDIA_L4"),
    ("e2-standard-4", "NVIDIA_TESLA_T4", 1, "takes no accelerator"),
    ("n1-superfast-4", None, 0, "not a Vertex AI training machine type"),
])
def test_invalid_combinations_name_field_and_allowed_values(machine, accelerator, count, message):
    with pytest.raises(SpecError, match=message):
        validate_machine(machine, accelerator, count)


def test_accelerator_and_region_parsing():
    assert parse_accelerator("nvidia_tesla_t4:2") == ("NVIDIA_TESLA_T4", 2)
    assert parse_accelerator("NVIDIA_L4") == ("NVIDIA_L4", 1)
    for bad, message in (("TPU_V9:1", "not a Vertex AI accelerator"), ("NVIDIA_L4:x", "must be a number")):
        with pytest.raises(SpecError, match=message):
            parse_accelerator(bad)
    assert validate_region("europe-west4") == "europe-west4"
    with pytest.raises(SpecError, match="not a Vertex AI training region"):
        validate_region("mars-north1")


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
    ("--backend vertex --project p --staging-bucket gs://bkt --region moon-1", "not a Vertex AI training region"),
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
