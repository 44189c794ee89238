"""What Vertex AI accepts is accepted here, and flags mean what gcloud makes them mean: labels by CustomJob.labels'
rule, YAML anchors in CustomJob files, flags given with a file of several pools, ContainerSpec.env's limit,
scheduling.timeout without a made-up maximum and with its fractions, and `export` writing the CustomJobSpec that
`gcloud ai custom-jobs create --config` reads. Dry runs print the exact request; runs use the real engine."""
from __future__ import annotations

import json

import pytest
import yaml
from google.cloud import aiplatform_v1

from cjtest import IMAGE
from containerjob.core.store import Store
from test_cli import cli

VERTEX = ("--backend", "vertex", "--project", "p", "--staging-bucket", "gs://stage-b")


def vertex_dry(*args: str, rc: int = 0):
    done = cli("run", *VERTEX, "--dry-run", *args, check_rc=rc)
    return json.loads(done.stdout)["customJob"] if rc == 0 else done


POOLS = f"""workerPoolSpecs:
- &pool
  machineSpec: {{machineType: n1-standard-4}}
  replicaCount: 1
  containerSpec:
    imageUri: {IMAGE}
    command: [python3, -c, "import os, sys; print(os.environ.get('ROLE'), os.environ.get('X'), sys.argv[1:])"]
    env: [{{name: ROLE, value: chief}}]
- <<: *pool
  replicaCount: 2
  containerSpec:
    imageUri: {IMAGE}
    command: [python3, -c, "import os, sys; print(os.environ.get('ROLE'), os.environ.get('X'), sys.argv[1:])"]
    env: [{{name: ROLE, value: worker}}]
- *pool
"""


# -- labels ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["k" * 64 + "=" + "v" * 64, "équipe=données", "チーム=ml", "team=", "a-b_c=1-2_3"])
def test_labels_vertex_accepts_are_accepted(cj_home, label):
    """CustomJob.labels: at most 64 characters (Unicode codepoints) of lowercase letters, digits, _ and -,
    international characters allowed."""
    key, _, value = label.partition("=")
    assert vertex_dry("--image", IMAGE, "--label", label)["labels"][key] == value


@pytest.mark.parametrize("label", ["k" * 65 + "=v", "k=" + "v" * 65, "Team=ml", "team=ML", "1team=x", "=x",
                                   "team.x=y", "équipe=Données"])
def test_labels_vertex_refuses_are_refused_naming_the_rule(cj_home, label):
    done = vertex_dry("--image", IMAGE, "--label", label, rc=2)
    assert "64 characters of lowercase letters (international ones too)" in done.stderr, done.stderr


def test_containerjobs_own_labels_never_overwrite_a_users(cj_home, tmp_path):
    """`notebook=` is the user's; containerjob's own keys are all containerjob-*, and a user's label with one of
    them is an error naming both, never silently replaced."""
    for key in ("containerjob-id", "containerjob-job", "containerjob-notebook", "containerjob-schedule"):
        done = vertex_dry("--image", IMAGE, "--label", f"{key}=mine", rc=2)
        assert f"label '{key}=mine' clashes with containerjob's own label {key}" in done.stderr, done.stderr
    script = tmp_path / "train.py"
    script.write_text("print(1)\n")
    labels = vertex_dry(str(script), "--label", "notebook=mine", "--label", "team=ml")["labels"]
    assert labels["notebook"] == "mine" and labels["team"] == "ml" and labels["containerjob-id"].startswith("cj-")


# -- CustomJob files -----------------------------------------------------------------------------------------------
def test_a_file_with_yaml_anchors_runs_here_and_on_vertex(cj_home, tmp_path, labelled):
    """What yaml.dump writes for a repeated pool (an anchor, aliases, a merge key) is read as Vertex reads the
    expanded document."""
    config = tmp_path / "pools.yaml"
    config.write_text(POOLS)
    pools = vertex_dry("--config", str(config))["jobSpec"]["workerPoolSpecs"]
    assert [p["replicaCount"] for p in pools] == ["1", "2", "1"]
    assert [p["containerSpec"]["env"][-1] for p in pools] == [{"name": "ROLE", "value": v}
                                                              for v in ("chief", "worker", "chief")]
    done = cli("run", "--config", str(config))
    assert done.stdout.count("worker None []") == 2 and done.stdout.count("chief None []") == 2, done.stdout
    assert labelled() == []


def test_flags_with_a_file_of_several_pools_change_every_pool(cj_home, tmp_path, labelled):
    """gcloud's --args and --command set every pool's containerSpec; --env likewise here (over each pool's own)."""
    config = tmp_path / "pools.yaml"
    config.write_text(POOLS)
    command = "python3 -c 'import os, sys; print(\"new\", os.environ[\"ROLE\"], os.environ[\"X\"], sys.argv[1:])'"
    pools = vertex_dry("--config", str(config), "--env", "X=1", "--command", command, "--", "a", "b")
    pools = pools["jobSpec"]["workerPoolSpecs"]
    for pool in pools:
        spec = pool["containerSpec"]
        assert spec["args"] == ["a", "b"] and spec["command"][:2] == ["python3", "-c"], spec
        assert {"name": "X", "value": "1"} in spec["env"], spec
    assert [p["containerSpec"]["env"][-2:] for p in pools][1] == [{"name": "ROLE", "value": "worker"},
                                                                  {"name": "X", "value": "1"}]
    done = cli("run", "--config", str(config), "--env", "X=1", "--command", command, "--", "a", "b")
    assert done.stdout.count("new worker 1 ['a', 'b']") == 2 and done.stdout.count("new chief 1 ['a', 'b']") == 2
    assert labelled() == []


def test_a_whole_customjob_with_containerjobs_labels_runs_again(cj_home, tmp_path):
    """A CustomJob a past run printed (gcloud describe, export --format job) carries containerjob's own labels:
    they are set anew for the new job, the user's are kept."""
    config = tmp_path / "job.json"
    config.write_text(json.dumps({"displayName": "again", "labels": {"containerjob-id": "cj-0123abcd", "team": "ml"},
                                  "jobSpec": {"workerPoolSpecs": [{"replicaCount": "1", "containerSpec": {
                                      "imageUri": IMAGE}, "machineSpec": {"machineType": "n1-standard-4"}}]}}))
    labels = vertex_dry("--config", str(config))["labels"]
    assert labels["team"] == "ml" and labels["containerjob-id"] != "cj-0123abcd"


# -- limits as Vertex checks them -----------------------------------------------------------------------------------
def test_at_most_100_variables_reach_a_vertex_container(cj_home):
    """ContainerSpec.env: "Maximum limit is 100" — containerjob's own variables count in: a container job adds 4."""
    env = [arg for i in range(97) for arg in ("--env", f"V{i}=x")]
    done = vertex_dry("--image", IMAGE, *env, rc=2)
    assert "would send 101 environment variables; Vertex AI takes at most 100" in done.stderr, done.stderr
    assert "give at most 96 with --env" in done.stderr
    assert len(vertex_dry("--image", IMAGE, *env[:-2])["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["env"]) == 100
    env = [arg for i in range(101) for arg in ("--env", f"V{i}=x")]
    done = cli("run", "--image", IMAGE, *env, "--dry-run", check_rc=2)
    assert "--env: 101 variables; Vertex AI takes at most 100" in done.stderr


def test_timeouts_past_7_days_and_fractions_are_sent_as_written(cj_home, tmp_path, labelled):
    """scheduling.timeout: "The default is 7 days", no maximum documented; a Duration keeps fractions."""
    assert vertex_dry("--image", IMAGE, "--timeout", "8d")["jobSpec"]["scheduling"]["timeout"] == f"{8 * 86400}s"
    config = tmp_path / "job.yaml"
    config.write_text(f"workerPoolSpecs:\n  machineSpec: {{machineType: n1-standard-4}}\n  replicaCount: 1\n"
                      f"  containerSpec: {{imageUri: {IMAGE}, command: [sleep, '30']}}\nscheduling: {{timeout: 1.5s}}\n")
    assert vertex_dry("--config", str(config))["jobSpec"]["scheduling"]["timeout"] == "1.5s"
    done = cli("run", "--config", str(config), check_rc=124)  # here too, as the file says
    assert "timed out after 1.5 s" in done.stderr + done.stdout
    record = Store(cj_home / "jobs.db").list()[0]
    assert record.spec.timeout_s == 1.5 and record.status.value == "FAILED"
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(30)\n")
    done = cli("run", str(script), "--timeout", "1.5", check_rc=124)  # the runner's own clock takes fractions
    assert "timed out after 1.5 s" in done.stderr + done.stdout
    assert labelled() == []


# -- export --------------------------------------------------------------------------------------------------------
def test_export_writes_the_customjobspec_gcloud_reads(cj_home, tmp_path, labelled):
    """`gcloud ai custom-jobs create --config` reads a CustomJobSpec: export writes one by default (the name and
    labels said as gcloud's flags), parsed here by aiplatform_v1.CustomJobSpec, and it runs back unchanged."""
    cli("run", "--image", IMAGE, "--command", "python3 -c 'import sys; print(\"ran\", sys.argv[1:])'",
        "--name", "trainer", "--label", "team=ml", "--timeout", "90.5s", "--", "x")
    record = Store(cj_home / "jobs.db").list()[0]
    exported = cli("export", record.id)
    spec = aiplatform_v1.CustomJobSpec.from_json(json.dumps(yaml.safe_load(exported.stdout)))
    assert spec.worker_pool_specs[0].container_spec.args == ["x"]
    assert spec.scheduling.timeout.total_seconds() == 90.5
    assert "--display-name=trainer --labels=team=ml" in exported.stderr, exported.stderr
    (tmp_path / "spec.yaml").write_text(exported.stdout)
    assert cli("run", "--config", str(tmp_path / "spec.yaml")).stdout == "ran ['x']\n"
    whole = json.loads(cli("export", record.id, "--format", "job", "--json").stdout)
    message = aiplatform_v1.CustomJob.from_json(json.dumps(whole))
    assert message.display_name == "trainer" and dict(message.labels) == {"team": "ml"}  # containerjob's own: not
    assert labelled() == []
