"""The examples that are the users' own workflows run as they are: penguins preprocess -> train (two images
with ENTRYPOINTs, a CustomJob file each with /gcs paths, the CSV in fake-gcs-server, train only after
preprocess succeeded) and the GPU hello (a clear refusal on this GPU-less host, the Vertex request by dry run)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from containerjob.core.store import Store
from test_cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_penguins(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / "penguins" / "run.py"), *flags], capture_output=True,
                          text=True, timeout=600, env=os.environ.copy())


@pytest.fixture
def penguins_bucket(gcs):
    from google.cloud import storage

    client = gcs.bucket.client
    bucket = client.lookup_bucket("containerjob-penguins") or client.create_bucket("containerjob-penguins")
    yield bucket
    for blob in list(client.list_blobs(bucket)):
        blob.delete()
    assert isinstance(bucket, storage.Bucket)


def test_penguins_preprocess_then_train(penguins_bucket, cj_home, labelled):
    done = run_penguins()
    assert done.returncode == 0, done.stderr
    assert "preprocess: kept 19 complete rows" in done.stdout
    assert "training accuracy 1.00, model in gs://containerjob-penguins/train/model/" in done.stdout
    model = json.loads(penguins_bucket.blob("train/model/model.json").download_as_bytes())
    assert sorted(model["centroids"]) == ["Adelie", "Chinstrap", "Gentoo"]
    jobs = Store(cj_home / "jobs.db").list()
    assert [(j.name, j.status.value, j.spec.kind, j.image) for j in reversed(jobs)] == [
        ("penguins-preprocess", "SUCCEEDED", "container", "containerjob-example/penguins-preprocess:1"),
        ("penguins-train", "SUCCEEDED", "container", "containerjob-example/penguins-train:1")]
    # No --mount: the files name their bucket under /gcs, and only the objects they name came down
    assert [sorted((m.bucket, m.key_prefix) for m in j.spec.mounts) for j in reversed(jobs)] == [
        [("containerjob-penguins", "prepared/penguins.csv"), ("containerjob-penguins", "raw/penguins.csv")],
        [("containerjob-penguins", "prepared/penguins.csv"), ("containerjob-penguins", "train/")]]
    assert labelled() == []


def test_train_never_runs_when_preprocess_fails(penguins_bucket, cj_home, labelled, tmp_path, monkeypatch):
    """A CSV without the expected columns: preprocess exits non-zero, and that is the end of it."""
    (tmp_path / "broken.csv").write_text("species,island\nAdelie,Dream\n")
    monkeypatch.setenv("PENGUINS_CSV", str(tmp_path / "broken.csv"))
    done = run_penguins()
    assert done.returncode == 1 and "KeyError: 'bill_length_mm'" in done.stdout + done.stderr
    assert "penguins: preprocess exited 1; stopping here" in done.stderr
    (job,) = Store(cj_home / "jobs.db").list()
    assert (job.name, job.status.value) == ("penguins-preprocess", "FAILED")
    assert labelled() == []


def test_gpu_hello_is_refused_here_and_dry_runs_for_vertex(cj_home, labelled):
    config = str(EXAMPLES / "gpu_hello" / "config.yaml")
    refused = cli("run", "--config", config, check_rc=4)
    assert "no NVIDIA GPU is available to Docker on this machine" in refused.stderr
    assert "acceleratorType" in refused.stderr
    dry = json.loads(cli("run", "--config", config, "--backend", "vertex", "--project", "p", "--dry-run").stdout)
    pool = dry["customJob"]["jobSpec"]["workerPoolSpecs"][0]
    assert pool["machineSpec"]["acceleratorType"] == "NVIDIA_TESLA_T4" and pool["containerSpec"]["command"][0] == "nvidia-smi"
    assert labelled() == []
