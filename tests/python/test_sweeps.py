"""--sweep: the same cell, script or container once per combination of values, N at once, locally and on
Vertex AI (the fake), with one row per combination in the kernel and one table on the command line."""
from __future__ import annotations

import contextlib
import io
import json
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from containerjob import cli
from containerjob.core.errors import SpecError
from containerjob.core.options import RunOptions
from containerjob.core.store import Store
from containerjob.core.sweep import SWEEP_LABEL, read_sweep, substitute
from test_vertex_backend import created, vertex  # noqa: F401 - the fake Vertex API fixture

GRID_CELL = ("import time\ntime.sleep(1.5)\nscore = lr * 100 + len(opt)\ntag = f'{opt}-{lr}-{base}'\n"
             "if lr == 0.01 and opt == 'sgd' and fail:\n    raise ValueError('diverged at lr=0.01')\n")


def records(home) -> list:
    return sorted(Store(home / "jobs.db").list(limit=1000), key=lambda r: r.created_at)


def most_at_once(jobs) -> int:
    """The most jobs running at the same moment, from the records' own start and finish times."""
    events = sorted([(r.started_at, 1) for r in jobs] + [(r.finished_at, -1) for r in jobs], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def rows_of(value) -> list[dict]:
    return value.to_dict("records") if hasattr(value, "to_dict") else value


# -- the grid, engine-free ------------------------------------------------------------------------------
def test_the_grid_is_the_product_of_literals_else_text(tmp_path):
    sweep = read_sweep(RunOptions(sweep=["lr=0.1,1e-3", "opt=adam,'sgd'", "shape=(1, 2),[3,4]"]))
    assert sweep.names == ["lr", "opt", "shape"] and len(sweep.combinations) == 8 and sweep.parallel == 2
    assert sweep.combinations[0] == {"lr": 0.1, "opt": "adam", "shape": (1, 2)}
    assert sweep.combinations[-1] == {"lr": 0.001, "opt": "sgd", "shape": [3, 4]}
    assert sweep.id.startswith("sw-") and sweep.into == "sweep_results"
    grid = tmp_path / "grid.yaml"
    grid.write_text("lr: [0.1, 0.01]\nbatch: [32]\n")
    assert read_sweep(RunOptions(sweep_file=str(grid), parallel="3")).combinations == [
        {"lr": 0.1, "batch": 32}, {"lr": 0.01, "batch": 32}]
    grid.write_text("- {lr: 0.1, batch: 32}\n- {lr: 0.5, batch: 8}\n")
    assert read_sweep(RunOptions(sweep_file=str(grid))).combinations == [{"lr": 0.1, "batch": 32},
                                                                          {"lr": 0.5, "batch": 8}]
    assert substitute(["--lr", "{lr}", "{other}", "--json={\"a\": 1}"], {"lr": 0.1}) == [
        "--lr", "0.1", "{other}", "--json={\"a\": 1}"]


@pytest.mark.parametrize(("options", "message"), [
    (dict(sweep=["lr"]), "write NAME=V1,V2,... with NAME a variable name"),
    (dict(sweep=["2x=1,2"]), "write NAME=V1,V2,..."),
    (dict(sweep=["lr=1,,2"]), "has an empty value"),
    (dict(sweep=["lr=1", "lr=2"]), "--sweep lr is given twice"),
    (dict(sweep=["lr=1"], parallel="0"), "--parallel 0 is out of range"),
    (dict(sweep=["lr=1"], parallel="two"), "--parallel 'two' is not a number"),
    (dict(sweep=["lr=1"], sweep_into="my results"), "--sweep-into 'my results' is not a variable name"),
    (dict(sweep=["a=" + ",".join(map(str, range(40))), "b=" + ",".join(map(str, range(40)))]),
     "1600 combinations; at most 1000"),
])
def test_a_bad_grid_is_named_with_its_fix(options, message):
    with pytest.raises(SpecError, match=message):
        read_sweep(RunOptions(**options))


def test_a_bad_sweep_file_is_named(tmp_path):
    grid = tmp_path / "grid.yaml"
    for text, message in (("lr: 0.1\n", "every name needs a non-empty list"), ("- {lr: 1}\n- {b: 2}\n", "does not set"),
                          ("just text\n", "write a mapping of lists"), ("lr: [1\n", "is not YAML")):
        grid.write_text(text)
        with pytest.raises(SpecError, match=message):
            read_sweep(RunOptions(sweep_file=str(grid)))
    for unreadable in (str(tmp_path / "missing.yaml"), str(tmp_path), "grid\x00.yaml"):
        with pytest.raises(SpecError, match="cannot read it"):
            read_sweep(RunOptions(sweep_file=unreadable))
    with pytest.raises(SpecError, match="--sweep and --sweep-file both give the grid"):
        read_sweep(RunOptions(sweep=["a=1"], sweep_file=str(grid)))


def test_a_sweep_option_on_one_job_is_refused_not_dropped(isolated_home):
    """REST bodies and schedules describe one job: a sweep there would silently run once."""
    from containerjob.service import JobService

    with pytest.raises(SpecError, match="--parallel runs a sweep") as info:
        JobService().prepare(RunOptions(parallel="2"), "x = 1", kind="cell", filename="<cell>")
    assert info.value.problems[0].field == "parallel"


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def test_a_rest_submission_with_a_sweep_is_a_400_on_that_option_and_runs_nothing(jp_fetch):
    import tornado.httpclient

    for route in (("jobs", "validate"), ("jobs",)):
        with pytest.raises(tornado.httpclient.HTTPClientError) as info:
            await jp_fetch("containerjob", *route, method="POST", body=json.dumps(
                {"kind": "script", "source": "print(1)", "options": {"sweep": ["lr=0.1,0.01"]}}))
        answer = json.loads(info.value.response.body)
        assert info.value.code == 400 and [p["field"] for p in answer["errors"]] == ["options.sweep"]
        assert "--sweep runs a sweep, which the magic" in answer["message"]
    assert json.loads((await jp_fetch("containerjob", "jobs")).body)["jobs"] == []


def test_a_cell_that_never_reads_a_swept_name_is_refused(ipython_shell):
    with pytest.raises(UsageError, match="--sweep lr: the cell never reads lr"):
        ipython_shell.run_cell_magic("containerjob", "--sweep lr=1,2 --dry-run", "x = 1")
    for flag in ("--detach", "--on-interrupt detach"):
        with pytest.raises(UsageError, match=f"{flag} and --sweep: the cell starts a sweep's jobs N at a time"):
            ipython_shell.run_cell_magic("containerjob", f"--sweep lr=1,2 {flag}", "x = lr")
    assert cli.main(["run", "x.py", "--sweep", "lr=1", "--detach", "--", "{lr}"]) == cli.EXIT_USAGE
    with pytest.raises(UsageError, match="the cell assigns status, a column sweep_results keeps for each run's own"):
        ipython_shell.run_cell_magic("containerjob", "--sweep lr=1,2", "status = lr")


# -- local jobs on the engine ------------------------------------------------------------------------------
@pytest.mark.docker
def test_a_2x2_sweep_runs_4_jobs_2_at_once_into_sweep_results(ip, cj_home, capsys, labelled):
    ip.user_ns.update(base=7, fail=False)
    result = ip.run_cell(f"%%containerjob --sweep lr=0.1,0.01 --sweep opt=adam,sgd --parallel 2\n{GRID_CELL}")
    assert result.success, result.error_in_exec
    jobs = records(cj_home)
    assert len(jobs) == 4 and {r.status.value for r in jobs} == {"SUCCEEDED"}
    assert most_at_once(jobs) == 2
    (sweep_id,) = {r.spec.labels[SWEEP_LABEL] for r in jobs}  # the records carry the sweep
    assert [r.name for r in jobs] == ["containerjob lr=0.1 opt='adam'", "containerjob lr=0.1 opt='sgd'",
                                      "containerjob lr=0.01 opt='adam'", "containerjob lr=0.01 opt='sgd'"]
    rows = rows_of(ip.user_ns["sweep_results"])
    assert [(r["lr"], r["opt"]) for r in rows] == [(0.1, "adam"), (0.1, "sgd"), (0.01, "adam"), (0.01, "sgd")]
    assert [r["score"] for r in rows] == [14.0, 13.0, 5.0, 4.0]
    assert [r["tag"] for r in rows] == ["adam-0.1-7", "sgd-0.1-7", "adam-0.01-7", "sgd-0.01-7"]
    assert [r["job_id"] for r in rows] == [r.id for r in jobs] and all(r["duration_s"] >= 1.5 for r in rows)
    assert "score" not in ip.user_ns and "tag" not in ip.user_ns  # only the table comes back
    out = capsys.readouterr().out
    assert f"sweep {sweep_id}: 4 jobs over lr, opt, 2 at once" in out
    assert "the names the cell assigns are in these rows only, not set in the kernel" in out
    assert labelled() == []


@pytest.mark.docker
def test_a_failing_combination_fails_its_row_only(ip, cj_home, capsys):
    ip.user_ns.update(base=1, fail=True)
    with pytest.raises(UsageError, match=r"1 failed, 3 succeeded; first: lr=0.01 opt='sgd' \(cj-\w+\) FAILED: "
                                         r"ValueError: diverged at lr=0.01"):
        ip.run_cell_magic("containerjob", "--sweep lr=0.1,0.01 --sweep opt=adam,sgd --sweep-into runs", GRID_CELL)
    rows = rows_of(ip.user_ns["runs"])
    assert [r["status"] for r in rows] == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert rows[3]["message"] == "ValueError: diverged at lr=0.01" and rows[3]["exit_code"] == 1
    assert rows[2]["score"] == 5.0
    assert len(records(cj_home)) == 4
    assert "ValueError: diverged at lr=0.01" in capsys.readouterr().out  # the table's row says why


@pytest.mark.docker
def test_an_interrupt_cancels_every_job_of_the_sweep(ip, cj_home, labelled, capsys):
    """Kernel > Interrupt while two of three run: both are cancelled, the third never starts."""
    def interrupt_once_two_run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(r.status.value == "RUNNING" for r in records(cj_home)) == 2:
                break
            time.sleep(0.2)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt_once_two_run, daemon=True).start()
    with pytest.raises(KeyboardInterrupt, match="sweep sw-\\w+ interrupted: its jobs were cancelled"):
        ip.run_cell_magic("containerjob", "--sweep n=1,2,3", "import time\ntime.sleep(120 + n)")
    jobs = records(cj_home)
    assert len(jobs) == 2 and {r.status.value for r in jobs} == {"CANCELLED"}
    rows = rows_of(ip.user_ns["sweep_results"])
    assert [r["status"] for r in rows] == ["CANCELLED"] * 3
    assert rows[2]["message"] == "not started: the sweep was interrupted" and not rows[2]["job_id"]
    assert labelled() == []


@pytest.mark.docker
def test_a_script_sweep_prints_the_table_and_exits_with_the_first_failure(cj_home, tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text("import sys\nlr = float(sys.argv[2])\nprint('lr', lr)\nsys.exit(3 if lr < 0.05 else 0)\n")
    code = cli.main(["run", str(script), "--sweep", "lr=0.1,0.01,0.5", "--", "--lr", "{lr}"])
    assert code == 3
    out, err = capsys.readouterr()
    table = [line.split()[:2] for line in out.strip().splitlines()]
    assert table == [["lr=0.1", "SUCCEEDED"], ["lr=0.01", "FAILED"], ["lr=0.5", "SUCCEEDED"]]
    assert "the container exited with code 3" in out.splitlines()[1]  # its row says why
    assert ": 1 failed, 2 succeeded" in err
    assert sorted(r.spec.worker_pools[0].args[-1] for r in records(cj_home)) == ["0.01", "0.1", "0.5"]
    assert cli.main(["run", str(script), "--sweep", "lr=1,2", "--", "--rate", "1"]) == cli.EXIT_USAGE
    assert "--sweep lr: no argument says {lr}" in capsys.readouterr().err


# -- Vertex AI ------------------------------------------------------------------------------------------------
def test_the_vertex_dry_run_shows_every_job_labelled_with_the_sweep(isolated_home):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", "--image", "python:3.12-slim", "--command", "python -m train --lr {lr}",
                         "--backend", "vertex", "--project", "p", "--staging-bucket", "gs://bkt",
                         "--sweep", "lr=0.1,0.01", "--sweep", "batch=32,64", "--dry-run", "--", "--batch", "{batch}"])
    assert code == 0, err.getvalue()
    described = json.loads(out.getvalue())
    assert described["parallel"] == 2 and len(described["jobs"]) == 4
    first = described["jobs"][0]
    assert first["parameters"] == {"lr": 0.1, "batch": 32}
    job = first["request"]["customJob"]
    assert job["labels"][SWEEP_LABEL] == described["sweep"]
    container = job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
    assert container["command"] == ["python", "-m", "train", "--lr", "0.1"] and container["args"] == ["--batch", "32"]
    assert [j["request"]["customJob"]["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["args"][1]
            for j in described["jobs"]] == ["32", "64", "32", "64"]


@pytest.mark.docker
def test_a_cell_sweep_on_the_vertex_fake_is_4_custom_jobs_2_at_once(ip, cj_home, vertex):  # noqa: F811
    ip.user_ns.update(base=2, fail=False)
    result = ip.run_cell("%%containerjob --backend vertex --project my-proj --sweep lr=0.1,0.01 "
                         f"--sweep opt=adam,sgd --parallel 2\n{GRID_CELL}")
    assert result.success, result.error_in_exec
    bodies = created(vertex)
    assert len(bodies) == 4 and "hyperparameterTuningJobs" not in {r.path for r in vertex.requests}
    sweep_ids = {b["labels"][SWEEP_LABEL] for b in bodies}
    assert len(sweep_ids) == 1 and next(iter(sweep_ids)).startswith("sw-")
    jobs = records(cj_home)
    assert {r.status.value for r in jobs} == {"SUCCEEDED"} and most_at_once(jobs) <= 2
    rows = rows_of(ip.user_ns["sweep_results"])
    assert [(r["lr"], r["opt"], r["score"]) for r in rows] == [(0.1, "adam", 14.0), (0.1, "sgd", 13.0),
                                                               (0.01, "adam", 5.0), (0.01, "sgd", 4.0)]


# -- local GPUs ---------------------------------------------------------------------------------------------
FAKE_NVIDIA_SMI = """#!/bin/sh
case "$*" in
  *--query-gpu=index*) printf '0\\n1\\n2\\n3\\n' ;;
  *) echo "NVIDIA-SMI 550.00  Driver Version: 550.00  CUDA Version: 12.4" ;;
esac
"""


@pytest.fixture
def four_gpus(tmp_path, monkeypatch):
    """A host whose driver lists four GPUs: an `nvidia-smi` of our own first on PATH (the real tool's output)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    (bin_dir / "nvidia-smi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")


def _local_gpu_dry_run(*extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", "--image", "python:3.12-slim", "--command", "python -c print({a})",
                         "--sweep", "a=1,2,3", "--dry-run", *extra])
    return code, out.getvalue(), err.getvalue()


def test_local_gpu_jobs_side_by_side_each_get_gpus_of_their_own(isolated_home, four_gpus):
    code, out, err = _local_gpu_dry_run("--gpus", "2")
    assert code == 0, err
    described = json.loads(out)
    assert described["parallel"] == 2  # one job per 2 of the 4 GPUs
    assert [j["request"]["device_requests"] for j in described["jobs"]] == [
        [{"device_ids": ids, "capabilities": [["gpu"]]}] for ids in (["0", "1"], ["2", "3"], ["0", "1"])]
    code, _, err = _local_gpu_dry_run("--gpus", "2", "--parallel", "3")
    assert code == cli.EXIT_USAGE and "--parallel 3 jobs of 2 GPUs each need 6 GPUs; this machine has 4" in err
    code, _, err = _local_gpu_dry_run("--gpus", "all", "--parallel", "2")
    assert code == cli.EXIT_USAGE and "--gpus all gives every GPU to each job" in err
    code, out, err = _local_gpu_dry_run("--gpus", "all")
    assert code == 0 and json.loads(out)["parallel"] == 1, err


def test_the_live_table_is_one_widget_updated_in_place(ipython_shell, capsys):
    """In JupyterLab one HTML widget shows every run and is rewritten as they change (never a new output)."""
    from cjtest import recorded_displays
    from containerjob.core.sweep_run import SweepRow
    from containerjob.magics.sweep_table import SweepTable

    sweep = read_sweep(RunOptions(sweep=["lr=0.1,0.01"]))
    rows = [SweepRow(0, {"lr": 0.1}, status="SUCCEEDED", job_id="cj-1", duration_s=2.0),
            SweepRow(1, {"lr": 0.01}, status="RUNNING", job_id="cj-2")]
    with recorded_displays(ipython_shell) as shown:
        table = SweepTable(sweep, "widgets")
        table.update(rows)
        rows[1].status, rows[1].message = "FAILED", "ValueError: <diverged>\nmore"
        table.close(rows)
    assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" in shown[0][1]
    html = table.widget.value
    assert "<td>0.01</td>" in html and "FAILED" in html and "ValueError: &lt;diverged&gt;" in html
    assert "more" not in html and "1 failed, 1 succeeded" in html
