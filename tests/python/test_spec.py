"""Spec validation: every error names the option and the fix."""
from __future__ import annotations

import pytest

from containerjob.backends import backend_traits
from containerjob.core.errors import SpecError
from containerjob.core.models import JobSpec, redact_env
from containerjob.core.spec import RunOptions, build_spec, parse_env, parse_gpus, parse_labels, parse_timeout


def spec(**kw) -> JobSpec:
    return build_spec(RunOptions(**kw), default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits, project="p")


def test_defaults_mirror_custom_job_spec():
    s = spec()
    assert s.primary.image == "python:3.11-slim" and s.primary.replica_count == 1
    assert s.primary.accelerator_count == 0 and s.primary.accelerator_type is None
    assert s.labels == {"containerjob-job": "containerjob"} and s.project == "p"
    assert JobSpec.from_dict(s.to_dict(redact=False)) == s


@pytest.mark.parametrize("value, count", [(None, 0), ("1", 1), ("8", 8), ("all", -1), ("ALL", -1)])
def test_gpus(value, count):
    assert parse_gpus(value) == count


@pytest.mark.parametrize("value", ["-2", "x", "1.5", "65"])
def test_bad_gpus(value):
    with pytest.raises(SpecError, match="--gpus"):
        parse_gpus(value)


@pytest.mark.parametrize("value, seconds", [("90", 90), ("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400),
                                            ("8d", 8 * 86400), ("90.7s", 90.7), ("0.5m", 30), ("90.700s", 90.7)])
def test_timeouts(value, seconds):
    assert parse_timeout(value) == seconds


@pytest.mark.parametrize("value", ["0", "-5", "5x", "0.0s", "1" * 5000, "99999999999d", ""])
def test_bad_timeouts(value):
    if value == "":
        assert parse_timeout(value) is None
        return
    with pytest.raises(SpecError, match="--timeout"):
        parse_timeout(value)


def test_env_rules():
    assert parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    for bad, message in (("1A=2", "not a valid variable name"), ("A", "no '='"), ("CONTAINERJOB_HOME=x", "reserved")):
        with pytest.raises(SpecError, match=message):
            parse_env([bad])


def test_labels_follow_vertex_syntax():
    assert parse_labels(["team=ml", "run-id=a_1"]) == {"team": "ml", "run-id": "a_1"}
    for bad in ("Team=ml", "team=ML", "1x=y", "x" * 65 + "=y", "novalue"):
        with pytest.raises(SpecError, match="lowercase"):
            parse_labels([bad])


@pytest.mark.parametrize("image", ["python:3.11-slim", "ubuntu", "gcr.io/p/img:tag", "localhost:5000/a/b",
                                   "us-docker.pkg.dev/p/r/i@sha256:" + "a" * 64])
def test_images(image):
    assert spec(image=image).primary.image == image


@pytest.mark.parametrize("image", ["UPPER", "a b", "img:", ":tag", "img@sha256:short"])
def test_bad_images(image):
    with pytest.raises(SpecError, match="--image"):
        spec(image=image)


def test_output_dir(tmp_path, monkeypatch):
    assert spec(output_dir=str(tmp_path)).base_output_dir == str(tmp_path)
    assert spec(output_dir="gs://bucket/run1").base_output_dir == "gs://bucket/run1"
    for bad in ("/", "/etc", "/usr/local", "/containerjob/x"):
        with pytest.raises(SpecError, match="no folder of the host.s own"):
            spec(output_dir=bad)
    with pytest.raises(SpecError, match="not a valid bucket name"):
        spec(output_dir="gs://B")
    s = spec(output_dir="gs://bkt/runs/1/", mounts=["gs://data/in:fuse"])
    assert s.base_output_dir == "gs://bkt/runs/1"
    assert [(m.bucket, m.key_prefix, m.mode, m.named) for m in s.mounts] == [
        ("data", "in/", "fuse", ""), ("bkt", "runs/1/", "sync", "--output-dir gs://bkt/runs/1")]


def test_name_becomes_valid_label():
    assert spec(name="My Training Run #3").labels["containerjob-job"] == "my-training-run-3"
    with pytest.raises(SpecError, match="--name"):
        spec(name="x" * 129)


def test_secrets_redacted():
    env = {"API_TOKEN": "a", "DB_PASSWORD": "b", "AWS_SECRET_ACCESS_KEY": "c", "GOOGLE_APPLICATION_CREDENTIALS": "d",
           "SEED": "1", "PATH": "/bin"}
    assert redact_env(env) == {**{k: "***" for k in list(env)[:4]}, "SEED": "1", "PATH": "/bin"}
