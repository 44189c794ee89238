"""End to end: %%containerjob through IPython against the real Docker engine."""
from __future__ import annotations

import io
import json
import os
import re
import signal
import tarfile
import threading
import time
import traceback

import pytest
from IPython.core.error import UsageError

from cjtest import IMAGE, build_image_without_python, published, run_cell
from containerjob.core.errors import JobFailed
from containerjob.core.remote_error import RemoteError
from containerjob.core.store import Store


def records(cj_home):
    return Store(cj_home / "jobs.db").list(limit=1000)


def test_variables_in_and_out_with_functions_and_last_value(ip, capsys, labelled):
    ip.run_cell("data = [1, 2, 3]\ndef helper(x):\n    return x * 10\nunused = object()")
    result = run_cell(ip, "", "import os\nprint('job', os.environ['CLOUD_ML_JOB_ID'])\n"
                              "total = sum(data) + helper(1)\nsq = lambda v: v * v\ntotal + 1")
    assert result.success, result.error_in_exec
    assert result.result == 17
    assert ip.user_ns["total"] == 16
    assert ip.user_ns["sq"](4) == 16
    out = capsys.readouterr().out
    assert "sending data (list" in out and "helper (function" in out
    assert "unused" not in out.split("back:")[0]  # only names the cell reads travel
    assert "new: total (int" in out and "os" not in out.split("new:")[1]  # a module is imported, not a value
    assert "updated:" not in out and "unchanged: data" in out  # data was read, not changed: not sent back
    assert ip.user_ns["os"].__name__ == "os"
    assert "job cj-" in out  # live log line from inside the container
    assert labelled() == []  # the container is removed after the run


JOB_MIME = "application/vnd.containerjob.job+json"


@pytest.mark.parametrize("mode", ["widgets", "text"])
def test_one_status_per_cell_and_nothing_about_google_cloud_locally(ip, capsys, labelled, mode):
    """widgets (a front end): the chip alone, its last word the job's end, no status text beside it; text
    (papermill, nbconvert): the status lines alone, the output naming the job says so. A local job's output
    says nothing about Google Cloud."""
    ip.run_line_magic("config", f"ContainerJob.display_mode = {mode!r}")
    with published(ip) as events:
        result = run_cell(ip, "", "print('from the container')\nx = 1")
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    chips = [data[JOB_MIME] for data, _, _ in events if JOB_MIME in data]
    assert {chip["view"] for chip in chips} == {mode}
    shown = out + "".join(str(data) for data, _, _ in events)
    assert not any(word in shown for word in ("GCP", "Google Cloud", "project"))
    statuses = [line for line in out.splitlines() if line.startswith("[containerjob] cj-")]
    if mode == "widgets":
        assert chips[-1]["status"] == "SUCCEEDED"  # the kernel's end reaches the chip before the last line
        assert statuses == [] and " RUNNING · " not in shown and " SUCCEEDED · " not in shown
        assert out.strip().splitlines()[-1].startswith("new: x (int")
    else:
        assert len(chips) == 1 and " SUCCEEDED · local · " in statuses[-1]
        assert "from the container" in out
    assert labelled() == []


def test_changes_in_place_come_back_and_untouched_inputs_do_not(ip, capsys):
    """Item and attribute assignment, augmented assignment on an item, method calls and a function that
    mutates its argument: the kernel ends as if the cell had run in it; inputs left alone stay unsent."""
    ip.run_cell("import types\ncfg = {'epochs': 3}\nrows = [1, 2]\nbag = types.SimpleNamespace(n=1)\n"
                "deck = [3, 1, 2]\nbig = list(range(100_000))\nname = 'run'\nsame = {'k': [1]}")
    result = run_cell(ip, "", "cfg['epochs'] += 1\nrows.append(3)\nbag.n = 5\ndeck.sort()\n"
                              "history = [i for i in range(cfg['epochs'])]\ntotal = sum(big) + len(name)\n"
                              "same['k'].append(2)\nsame['k'].pop()")
    assert result.success, result.error_in_exec
    ns = ip.user_ns
    assert ns["cfg"] == {"epochs": 4} and ns["rows"] == [1, 2, 3] and ns["bag"].n == 5 and ns["deck"] == [1, 2, 3]
    assert len(ns["history"]) == 4 and ns["same"] == {"k": [1]}
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("updated: ")]
    assert line.startswith("updated: bag (types.SimpleNamespace, ") and "cfg (dict" in line
    assert "deck (list" in line and "rows (list" in line
    assert " · new: history (list" in line and "total (int" in line
    assert line.endswith("unchanged: big, name, same")  # same bytes after the round trip: nothing sent


def test_explicit_in_and_out(ip, capsys):
    ip.user_ns.update(a=2, b=3)
    result = run_cell(ip, "--in a --out c", "c = a * 5\nd = 1")
    assert result.success, result.error_in_exec
    assert ip.user_ns["c"] == 10 and "d" not in ip.user_ns
    with pytest.raises(UsageError, match="'nope_missing' given in --in"):
        ip.run_cell_magic("containerjob", "--in nope_missing", "x = 1")


def test_mutated_class_instance_round_trip(ip):
    ip.run_cell("class Box:\n    def __init__(self):\n        self.items = []\nbox = Box()")
    result = run_cell(ip, "", "box.items.append(42)\nbox2 = box")
    assert result.success, result.error_in_exec
    assert ip.user_ns["box2"].items == [42]


def test_failure_traceback_points_at_cell_line(ip, cj_home, labelled):
    cell = "x = 1\ndef inner(v):\n    return v / 0\ny = inner(x)\n"
    with pytest.raises(ZeroDivisionError) as info:
        ip.run_cell_magic("containerjob", "", cell)
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "<containerjob cell>"]
    assert [(f.lineno, f.name, f.line) for f in frames] == [(4, "<cell>", "y = inner(x)"), (3, "inner", "return v / 0")]
    assert any("raised in container job cj-" in n for n in getattr(info.value, "__notes__", []))
    (rec,) = records(cj_home)
    assert rec.status.value == "FAILED" and rec.exit_code == 1
    assert "ZeroDivisionError" in rec.message
    assert labelled() == []


def test_custom_exception_class_from_cell(ip):
    cell = "class Boom(Exception):\n    pass\nraise Boom('bad things')"
    with pytest.raises(Exception) as info:
        ip.run_cell_magic("containerjob", "", cell)
    assert type(info.value).__name__ == "Boom" and str(info.value) == "bad things"
    assert isinstance(info.value, RemoteError) and info.value.remote_type == "__main__.Boom"  # pickled by value: not loaded


def test_exit_code_is_the_containers(ip, cj_home):
    with pytest.raises(JobFailed) as info:
        ip.run_cell_magic("containerjob", "", "import sys\nprint('bye')\nsys.exit(3)")
    assert info.value.exit_code == 3
    (rec,) = records(cj_home)
    assert rec.status.value == "FAILED" and rec.exit_code == 3


def test_environment_project_output_dirs_proxy_and_ca(ip, cj_home, tmp_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    out_dir = tmp_path / "outputs"
    cell = ("import os, json\nenv = {k: v for k, v in os.environ.items()}\n"
            "open(os.environ['AIP_MODEL_DIR'] + 'model.txt', 'w').write('weights')\n"
            "ca = open(os.environ['SSL_CERT_FILE']).read(30)")
    result = run_cell(ip, f"--project my-proj --output-dir {out_dir} --env SEED=7 --env API_TOKEN=s3cret", cell)
    assert result.success, result.error_in_exec
    env = ip.user_ns["env"]
    assert env["GOOGLE_CLOUD_PROJECT"] == env["CLOUDSDK_CORE_PROJECT"] == env["CLOUD_ML_PROJECT_ID"] == "my-proj"
    assert env["AIP_MODEL_DIR"] == f"{out_dir}/model/"
    assert env["AIP_CHECKPOINT_DIR"] == f"{out_dir}/checkpoints/"
    assert env["AIP_TENSORBOARD_LOG_DIR"] == f"{out_dir}/logs/"
    assert "TF_CONFIG" not in env  # a single replica: "Vertex AI does not set TF_CONFIG for single-replica training jobs"
    assert json.loads(env["CLUSTER_SPEC"])["task"]["type"] == "workerpool0"
    assert env["PYTHONUNBUFFERED"] == "1" and env["SEED"] == "7" and env["API_TOKEN"] == "s3cret"
    assert env["HTTPS_PROXY"] == "http://proxy.invalid:3128"
    assert ip.user_ns["ca"].startswith("-----BEGIN CERTIFICATE")
    assert (out_dir / "model" / "model.txt").read_text() == "weights"
    (rec,) = records(cj_home)
    assert rec.spec.worker_pools[0].env["API_TOKEN"] == "***"  # secrets never stored


def test_dry_run_prints_exact_spec_and_runs_nothing(ip, cj_home, capsys, labelled):
    ip.user_ns["n"] = 5
    ip.run_cell_magic("containerjob", "--dry-run --gpus 2 --env PASSWORD=x --project p1", "m = n + 1")
    out = capsys.readouterr().out
    spec = json.loads(out[out.index("{"):])
    assert spec["image"] == IMAGE
    assert spec["device_requests"] == [{"count": 2, "capabilities": [["gpu"]]}]
    assert spec["environment"]["PASSWORD"] == "***"
    assert spec["environment"]["GOOGLE_CLOUD_PROJECT"] == "p1"
    assert spec["labels"]["containerjob.job"] == "cj-00000000"
    assert {m["target"] for m in spec["mounts"]} >= {"/containerjob/payload", "/containerjob/runtime", "/containerjob/output"}
    assert "sending n (int" in out
    assert records(cj_home) == [] and labelled() == [] and "m" not in ip.user_ns


@pytest.mark.parametrize("line, message", [
    ("--gpus lots", "--gpus 'lots' is not a number"),
    ("--env NOEQUALS", "has no '='"),
    ("--env CONTAINERJOB_X=1", "reserved"),
    ("--timeout soon", "not a positive duration"),
    ("--image 'Bad Image!'", "not a valid image reference"),
    ("--backend mars", "unknown backend 'mars'"),
    ("--output-dir /usr/lib", "is inside /usr"),
    ("--in 1abc", "not variable names"),
    ("--frobnicate", "unknown option --frobnicate: %%containerjob. lists the options"),
])
def test_bad_options_are_usage_errors(ip, cj_home, line, message, labelled):
    with pytest.raises(UsageError, match=message):
        ip.run_cell_magic("containerjob", line, "x = 1")
    assert records(cj_home) == [] and labelled() == []


def test_unpicklable_variables_are_all_named(ip, cj_home):
    ip.run_cell("import threading\nlock = threading.Lock()\ngen = (i for i in range(3))")
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("containerjob", "", "print(lock, gen)")
    message = str(info.value)
    assert "lock (_thread.lock" in message and "gen (generator" in message and "--in" in message
    assert records(cj_home) == []


def test_syntax_error_is_usage_error(ip):
    with pytest.raises(UsageError, match="syntax error at line 2"):
        ip.run_cell_magic("containerjob", "", "x = 1\nx = = 2")


def test_gpu_request_on_gpu_less_host(ip, cj_home, labelled):
    with pytest.raises(UsageError, match="no NVIDIA GPU is available to Docker"):
        ip.run_cell_magic("containerjob", "--gpus all", "x = 1")
    (rec,) = records(cj_home)
    assert rec.status.value == "FAILED" and "NVIDIA" in rec.message
    assert labelled() == []  # no `created` container left behind


def test_image_without_python(ip, engine, cj_home, labelled):
    tag = build_image_without_python(engine, "containerjob-test/nopython:1")
    with pytest.raises(UsageError, match="has no python3"):
        ip.run_cell_magic("containerjob", f"--image {tag}", "x = 1")
    assert records(cj_home) == []
    assert engine.containers.list(all=True, filters={"ancestor": tag}) == []


def test_missing_image_that_cannot_be_pulled(ip, cj_home):
    with pytest.raises(UsageError, match=r"^image localhost:1/containerjob-test/absent:0 is not on this machine and "
                                          r"could not be pulled \(no registry is reachable from this machine\): build "
                                          r"or load it here \(docker build / docker import\) or choose another "
                                          r"with --image$"):  # one sentence, not the engine's URL and error chain
        ip.run_cell_magic("containerjob", "--image localhost:1/containerjob-test/absent:0", "x = 1")
    assert records(cj_home) == []


def test_python_mismatch_with_pickled_code(ip, engine, cj_home):
    """An image reporting another Python refuses functions pickled by value, and says why."""
    tag = "containerjob-test/otherpython:1"
    wrapper = ("#!/bin/sh\nif [ \"$1\" = -c ]; then echo '{\"python\": \"3.6.15\"}'; exit 0; fi\n"
               "exec /usr/bin/python3 \"$@\"\n").encode()
    container = engine.containers.create(IMAGE, ["true"])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("python3")
        info.size, info.mode = len(wrapper), 0o755
        tar.addfile(info, io.BytesIO(wrapper))
    container.put_archive("/usr/local/bin", buf.getvalue())
    container.commit(repository=tag.split(":")[0], tag="1")
    container.remove()
    ip.run_cell("def f():\n    return 1")
    with pytest.raises(UsageError, match=r"runs Python 3\.6"):
        ip.run_cell_magic("containerjob", f"--image {tag}", "y = f()")
    ip.user_ns["plain"] = 5
    assert run_cell(ip, f"--image {tag}", "z = plain + 1").success  # plain data is fine across versions
    assert ip.user_ns["z"] == 6


def test_interrupt_stops_and_removes_container(ip, cj_home, labelled, capsys):
    timer = threading.Timer(3.0, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("containerjob", "", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)")
    elapsed = time.monotonic() - started
    (rec,) = records(cj_home)
    assert "sleeping" in capsys.readouterr().out  # the interrupt landed while the job ran
    assert rec.status.value == "CANCELLED"
    assert labelled() == []
    assert elapsed < 3.0 + 5  # control returns within a few seconds of the interrupt


def test_timeout_fails_the_job(ip, cj_home, labelled):
    with pytest.raises(JobFailed, match="timed out after 2 s"):
        ip.run_cell_magic("containerjob", "--timeout 2s", "import time\ntime.sleep(60)")
    (rec,) = records(cj_home)
    assert rec.status.value == "FAILED" and labelled() == []


def test_detach_then_line_commands(ip, cj_home, capsys, labelled):
    ip.user_ns["base"] = 40
    ip.run_cell_magic("containerjob", "--detach --name bg", "import time\nprint('working')\ntime.sleep(1)\nanswer = base + 2")
    out = capsys.readouterr().out
    job_id = out.split("submitted ")[1].split(";")[0]
    assert "answer" not in ip.user_ns
    ip.run_line_magic("containerjob", "list")
    assert job_id in capsys.readouterr().out
    for _ in range(60):
        ip.run_line_magic("containerjob", f"status {job_id}")
        status = json.loads(capsys.readouterr().out)
        if status["status"] == "SUCCEEDED":
            break
        time.sleep(0.5)
    assert status["status"] == "SUCCEEDED" and status["exit_code"] == 0
    ip.run_line_magic("containerjob", f"logs {job_id}")
    assert "working" in capsys.readouterr().out
    ip.run_line_magic("containerjob", f"fetch {job_id}")  # as if the kernel had followed it: log, then values
    assert ip.user_ns["answer"] == 42
    fetched = capsys.readouterr().out
    assert fetched.index("working") < fetched.index(f"{job_id} SUCCEEDED") < fetched.index("new: answer (int")
    assert labelled(job_id) == []


def test_cancel_line_command(ip, cj_home, capsys, labelled):
    ip.run_cell_magic("containerjob", "--detach", "import time\ntime.sleep(120)")
    job_id = capsys.readouterr().out.split("submitted ")[1].split(";")[0]
    ip.run_line_magic("containerjob", f"cancel {job_id}")
    assert "CANCELLED" in capsys.readouterr().out
    assert labelled(job_id) == []
    with pytest.raises(UsageError, match="no job cj-ffffffff"):
        ip.run_line_magic("containerjob", "status cj-ffffffff")
    with pytest.raises(UsageError, match="needs a command"):
        ip.run_line_magic("containerjob", "explode")
    with pytest.raises(UsageError, match="not a job ID"):
        ip.run_line_magic("containerjob", "logs ../../etc/passwd")


def test_gc_removes_leftovers_and_spares_what_is_needed(ip, cj_home, engine, capsys, labelled):
    import hashlib

    run_cell(ip, "", "x = 1")
    (kept,) = list((cj_home / "payloads").iterdir())  # referenced by a finished job: kept for fetch
    stale = cj_home / "payloads" / ("0" * 24)
    stale.mkdir()
    os.utime(stale, (0, 0))  # unreferenced and old
    young = cj_home / "payloads" / ("1" * 24)
    young.mkdir()  # unreferenced but young: may belong to a job another process is starting
    store = hashlib.sha256(str((cj_home / "jobs.db").resolve()).encode()).hexdigest()[:12]
    engine.containers.create(IMAGE, ["true"], labels={"containerjob.job": "cj-0badc0de", "containerjob.store": store})
    ip.run_cell_magic("containerjob", "--detach", "import time\ntime.sleep(60)")
    running = capsys.readouterr().out.split("submitted ")[1].split(";")[0]
    ip.run_line_magic("containerjob", "gc")
    warm = r"( \(and [01] warm ones waiting for a job\))?"  # the next cell's container, if already made (test_warm.py)
    assert re.search(f"removed 1 containers{warm}, 1 payloads, 0 jobs", capsys.readouterr().out)
    assert sorted(p.name for p in (cj_home / "payloads").iterdir()) == sorted([kept.name, young.name, _payload(cj_home, running)])
    assert [c.labels["containerjob.job"] for c in labelled()] == [running]  # the running job is untouched
    ip.run_line_magic("containerjob", f"cancel {running}")
    ip.run_line_magic("containerjob", "gc --older-than 0")
    assert re.search(f"0 containers{warm}, 2 payloads, 2 jobs", capsys.readouterr().out)
    with pytest.raises(UsageError, match="must be 0 or more"):
        ip.run_line_magic("containerjob", "gc --older-than -1")


def _payload(cj_home, job_id: str) -> str:
    return Store(cj_home / "jobs.db").get(job_id).spec.payload


def test_config_default_image(ip, engine):
    ip.run_line_magic("config", "ContainerJob.default_image = 'containerjob-test/missing-default:0'")
    try:
        with pytest.raises(UsageError, match="containerjob-test/missing-default:0"):
            ip.run_cell_magic("containerjob", "", "x = 1")
    finally:
        ip.run_line_magic("config", "ContainerJob.default_image = None")


def test_help_lists_options_and_examples(ip):
    doc = ip.find_cell_magic("containerjob").__doc__
    for option in ("--image", "--gpus", "--in", "--out", "--env", "--project", "--output-dir", "--timeout",
                   "--name", "--detach", "--dry-run", "--backend", "%containerjob list"):
        assert option in doc
