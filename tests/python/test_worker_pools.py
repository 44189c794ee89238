"""Worker pools rehearsed on this machine: one container per replica on a network of the job's own, a real
rendezvous through the addresses in CLUSTER_SPEC, TF_CONFIG's task types as Vertex sets them, the first
failure stopping the others, one merged log plus each replica's, and nothing left behind on any end."""
from __future__ import annotations

import json
import time

import pytest

from cjtest import IMAGE
from containerjob.backends.gpu import split_gpus
from containerjob.core.errors import SpecError
from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from test_cli import cli

RENDEZVOUS = """\
import json, os, socket, sys, time
spec = json.loads(os.environ["CLUSTER_SPEC"])
me = f"{spec['task']['type']}-{spec['task']['index']}"
hosts = [h for pool in sorted(spec["cluster"]) for h in spec["cluster"][pool]]
chief, port = hosts[0].split(":")
task = json.loads(os.environ["TF_CONFIG"])["task"]
if me == "workerpool0-0":
    server = socket.create_server(("", int(port)))
    server.settimeout(60)
    met = []
    while len(met) < len(hosts) - 1:
        conn, _ = server.accept()
        met.append(conn.recv(100).decode())
        conn.close()
    print("chief met", ",".join(sorted(met)), "as", task["type"])
    time.sleep(float(os.environ.get("CHIEF_LINGERS_S", "0")))  # a worker failing now fails before the chief ends
else:
    for _ in range(300):
        try:
            with socket.create_connection((chief, int(port)), timeout=2) as s:
                s.sendall(me.encode())
            break
        except OSError:
            time.sleep(0.2)
    print(me, "reached", hosts[0], "as", task["type"], task["index"])
    if me in sys.argv[1:]:
        sys.exit(7)
"""


@pytest.fixture
def rendezvous(tmp_path):
    (tmp_path / "job").mkdir()
    path = tmp_path / "job" / "rendezvous.py"
    path.write_text(RENDEZVOUS)
    return str(path)


def networks(engine, cj_home) -> list:
    from conftest import store_label

    return engine.networks.list(filters={"label": f"containerjob.store={store_label(cj_home)}"})


def test_replicas_meet_through_cluster_spec(rendezvous, cj_home, engine, labelled):
    done = cli("run", rendezvous, "--replicas", "3")
    lines = sorted(done.stdout.splitlines())
    assert lines == ["[workerpool0-0] chief met workerpool1-0,workerpool1-1 as chief",
                     "[workerpool1-0] workerpool1-0 reached workerpool0-0:2222 as worker 0",
                     "[workerpool1-1] workerpool1-1 reached workerpool0-0:2222 as worker 1"]
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.status is JobStatus.SUCCEEDED and [p.replica_count for p in record.spec.worker_pools] == [1, 2]
    kept = {item["path"] for item in json.loads(cli("outputs", record.id, "--json").stdout)}
    assert {"replicas/workerpool0-0.txt", "replicas/workerpool1-0.txt", "replicas/workerpool1-1.txt"} <= kept
    assert labelled() == [] and networks(engine, cj_home) == []


def test_the_first_failing_replica_fails_the_job_and_stops_the_rest(rendezvous, cj_home, engine, labelled):
    done = cli("run", rendezvous, "--replicas", "3", "--env", "CHIEF_LINGERS_S=5", "--", "workerpool1-1", check_rc=7)
    assert "replica workerpool1-1 exited with code 7" in done.stderr
    (record,) = Store(cj_home / "jobs.db").list()
    assert (record.status, record.exit_code) == (JobStatus.FAILED, 7)
    assert labelled() == [] and networks(engine, cj_home) == []


def test_cancel_takes_every_replica_and_the_network(cj_home, engine, labelled):
    job = cli("run", "--image", IMAGE, "--command", "sleep 60", "--replicas", "4", "--detach").stdout.strip()
    deadline = time.monotonic() + 60
    while len(labelled(job, settle_s=0)) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert len(networks(engine, cj_home)) == 1
    cli("cancel", job)
    assert cli("wait", job, check_rc=143).returncode == 143
    assert labelled() == [] and networks(engine, cj_home) == []


POOLS = """\
workerPoolSpecs:
  - machineSpec: {{machineType: n1-standard-4}}
    replicaCount: 1
    containerSpec:
      imageUri: {image}
      command: [python3, -c, "{chief}"]
  - machineSpec: {{machineType: n1-standard-4}}
    replicaCount: 2
    containerSpec:
      imageUri: {image}
      command: [python3, -c, "{worker}"]
      env: [{{name: ROLE, value: worker}}]
"""


def test_a_customjob_file_with_pools_runs_here_and_exports_back(cj_home, tmp_path, labelled):
    chief = "import json, os; print('chief sees', json.loads(os.environ['CLUSTER_SPEC'])['cluster'])"
    worker = "import os; print('I am a', os.environ['ROLE'])"
    config = tmp_path / "pools.yaml"
    config.write_text(POOLS.format(image=IMAGE, chief=chief, worker=worker))
    done = cli("run", "--config", str(config))
    assert ("[workerpool0-0] chief sees {'workerpool0': ['workerpool0-0:2222'], 'workerpool1': "
            "['workerpool1-0:2222', 'workerpool1-1:2222']}") in done.stdout
    assert done.stdout.count("] I am a worker") == 2
    record = Store(cj_home / "jobs.db").list()[0]
    exported = json.loads(cli("export", record.id, "--json").stdout)
    pools = exported["workerPoolSpecs"]
    assert [p["replicaCount"] for p in pools] == ["1", "2"] and pools[1]["containerSpec"]["env"] == [
        {"name": "ROLE", "value": "worker"}]
    dry = json.loads(cli("run", "--config", str(config), "--backend", "vertex", "--project", "p", "--dry-run").stdout)
    assert [p["replicaCount"] for p in dry["customJob"]["jobSpec"]["workerPoolSpecs"]] == ["1", "2"]
    both = cli("run", "--config", str(config), "--replicas", "2", check_rc=2)
    assert "keep one" in both.stderr
    assert labelled() == []


def test_gpus_are_split_between_replicas_or_refused():
    assert split_gpus([("workerpool0-0", 1), ("workerpool1-0", 2), ("workerpool1-1", 0)], ["0", "1", "2", "3"]) == {
        "workerpool0-0": ["0"], "workerpool1-0": ["1", "2"], "workerpool1-1": []}
    with pytest.raises(SpecError, match="ask for 4 GPUs .* this machine has 2"):
        split_gpus([("workerpool0-0", 2), ("workerpool1-0", 2)], ["0", "1"])
    with pytest.raises(SpecError, match="--gpus all gives every GPU to one container"):
        split_gpus([("workerpool0-0", -1), ("workerpool1-0", 0)], ["0"])


def test_a_pool_job_asking_for_gpus_here_is_refused_before_it_starts(cj_home, tmp_path, labelled):
    config = tmp_path / "gpus.yaml"
    config.write_text(POOLS.format(image=IMAGE, chief="print(1)", worker="print(2)").replace(
        "{machineType: n1-standard-4}", "{machineType: n1-standard-4, acceleratorType: NVIDIA_TESLA_T4, "
                                        "acceleratorCount: 1}"))
    done = cli("run", "--config", str(config), check_rc=2)
    assert "ask for 3 GPUs" in done.stderr and "this machine has 0" in done.stderr
    assert Store(cj_home / "jobs.db").list() == [] and labelled() == []


def test_the_verdict_is_vertexs_whoever_asks():
    """The chief's success ends the job even when workers end after it (stopped, or failing as their peer went
    away); a replica that failed first fails it; every process that looks gets the same answer."""
    from containerjob.backends.replicas import verdict

    def ended(code: int, at: str) -> dict:
        return {"Status": "exited", "ExitCode": code, "FinishedAt": at}

    running = {"Status": "running"}
    assert verdict({"workerpool0-0": running, "workerpool1-0": running}).status is None
    chief_first = verdict({"workerpool0-0": ended(0, "2026-12-02T10:00:01Z"),
                           "workerpool1-0": ended(143, "2026-12-02T10:00:03Z")})
    assert (chief_first.status, chief_first.exit_code) == (JobStatus.SUCCEEDED, 0)
    worker_first = verdict({"workerpool0-0": ended(143, "2026-12-02T10:00:05Z"),
                            "workerpool1-0": ended(3, "2026-12-02T10:00:02Z"),
                            "workerpool1-1": ended(9, "2026-12-02T10:00:04Z")})
    assert (worker_first.status, worker_first.exit_code, worker_first.message) == (
        JobStatus.FAILED, 3, "replica workerpool1-0 exited with code 3")


# Each replica prints what it sees of the two cluster variables, as one JSON line.
SEES = ("import json, os; c = json.loads(os.environ['CLUSTER_SPEC']); t = os.environ.get('TF_CONFIG'); "
        "t = t and json.loads(t); print(json.dumps({'spec_task': c['task'], 'spec_pools': sorted(c['cluster']), "
        "'env': c['environment'], 'tf_task': t and t['task'], 'tf_pools': t and sorted(t['cluster']), "
        "'tf_env': t and t['environment'], 'tf_job': bool(t and t['job'])}))")
FOUR_POOLS = "workerPoolSpecs:\n" + "".join(
    f"  - machineSpec: {{machineType: n1-standard-4}}\n    replicaCount: 1\n"
    f"    containerSpec: {{imageUri: {IMAGE}, command: [python3, -c, \"{SEES}\"]}}\n" for _ in range(4))


def test_tf_config_and_cluster_spec_as_vertex_documents_them(cj_home, tmp_path, labelled):
    """Google's "Distributed training" page: CLUSTER_SPEC on every replica, every pool in its cluster; TF_CONFIG
    only when there are several replicas, its cluster chief/worker/ps and "never contains evaluator", though
    the evaluator's own task says evaluator. A single-replica job has CLUSTER_SPEC and no TF_CONFIG."""
    config = tmp_path / "four.yaml"
    config.write_text(FOUR_POOLS)
    done = cli("run", "--config", str(config))
    seen = {line.split("] ", 1)[0][1:]: json.loads(line.split("] ", 1)[1]) for line in done.stdout.splitlines()}
    assert sorted(seen) == ["workerpool0-0", "workerpool1-0", "workerpool2-0", "workerpool3-0"]
    for pool, tf_type in enumerate(("chief", "worker", "ps", "evaluator")):
        assert seen[f"workerpool{pool}-0"] == {
            "spec_task": {"type": f"workerpool{pool}", "index": 0}, "env": "cloud",
            "spec_pools": ["workerpool0", "workerpool1", "workerpool2", "workerpool3"],
            "tf_task": {"type": tf_type, "index": 0}, "tf_pools": ["chief", "ps", "worker"], "tf_env": "cloud",
            "tf_job": True}
    single = json.loads(cli("run", "--image", IMAGE, "--command", f'python3 -c "{SEES}"').stdout)
    assert (single["spec_task"], single["spec_pools"], single["tf_task"]) == (
        {"type": "workerpool0", "index": 0}, ["workerpool0"], None)
    assert labelled() == []
