"""Notebook -> real aiplatform_v1 NotebookService/ScheduleService clients over REST -> fake Vertex API ->
papermill in a kernel image with the emulator at /gcs -> executed notebook back in the job directory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import docker
import nbformat
import pytest

from containerjob.backends.executor import not_kept
from containerjob.core import notebook
from containerjob.core.errors import BackendError, SpecError
from containerjob.core.job_output import OutputUnreadable
from containerjob.core.spec import RunOptions
from containerjob.scheduler import Scheduler
from containerjob.scheduling import Schedules
from containerjob.service import JobService
from test_notebooks import cell_with, make_notebook, text_of
from vertex_fake import VertexFake

SA = "runner@my-proj.iam.gserviceaccount.com"


@pytest.fixture
def executor(gcs_emulator, gcs, cj_home, kernel_image, monkeypatch):
    fake = VertexFake(gcs_url=gcs_emulator["url"], kernel_image=kernel_image)
    monkeypatch.setenv("CONTAINERJOB_VERTEX_ENDPOINT", fake.url)
    monkeypatch.setenv("CONTAINERJOB_VERTEX_CREDENTIALS", "anonymous")
    monkeypatch.setenv("CONTAINERJOB_STAGING_BUCKET", gcs.name)
    yield fake
    fake.close()
    assert not docker.from_env().containers.list(all=True, filters={"label": f"vertexfake.fake={fake.token}"})


def bodies(fake: VertexFake, suffix: str) -> list[dict]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path.endswith(suffix)]


def submit(path, **parameters):
    service = JobService()
    options = RunOptions(backend="executor", project="my-proj", service_account=SA, timeout="10m")
    notes: list[str] = []
    prepared = service.prepare_notebook(options, path, parameters)
    record = service.submit(prepared, origin=str(path), notify=notes.append)
    return service, service.follow(record, lambda _t: None), notes


def test_notebook_on_the_executor_gets_parameters_and_project(executor, gcs, tmp_path):
    service, record, notes = submit(make_notebook(tmp_path / "train.ipynb"), epochs=4)
    assert record.status.value == "SUCCEEDED", record.message
    assert any(f"runs as {SA}" in n and "permissions" in n for n in notes)  # the identity reminder
    (body,) = bodies(executor, "/notebookExecutionJobs")
    assert body["gcsNotebookSource"]["uri"] == f"gs://{gcs.name}/containerjob/{record.id}/notebook/train.ipynb"
    assert body["gcsOutputUri"] == f"gs://{gcs.name}/containerjob/{record.id}/output"
    assert body["serviceAccount"] == SA and body["kernelName"] == "python3" and body["executionTimeout"] == "600s"
    assert body["customEnvironmentSpec"]["machineSpec"]["machineType"] == "n1-standard-4"
    assert record.backend_ref.startswith("projects/123456789012/locations/us-central1/notebookExecutionJobs/")
    nb = nbformat.read(f"{record.job_dir}/output/train.ipynb", as_version=4)
    # The Executor sets no project; the injected cell did, so client libraries find it.
    assert "epochs 4 rate 0.1 project my-proj my-proj" in text_of(cell_with(nb, "env_project ="))
    assert "epochs 4" in "".join(service.logs(record.id))
    assert any(f["path"] == "output/train.ipynb" for f in service.outputs(record.id))


def test_failing_cell_on_the_executor(executor, tmp_path):
    service, record, _ = submit(make_notebook(tmp_path / "bad.ipynb", fail=True))
    assert record.status.value == "FAILED"
    assert "raised ValueError: bad batch" in record.message
    execution = executor.notebook_jobs[record.backend_ref.rsplit("/", 1)[-1]]  # its end: the ended execution's
    assert record.finished_at == pytest.approx(execution.pb.update_time.ToNanoseconds() / 1e9, abs=1e-3)  # last update
    nb = nbformat.read(f"{record.job_dir}/output/bad.ipynb", as_version=4)
    assert any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_executor_needs_identity_and_refuses_cells(executor, tmp_path, cj_home):
    service = JobService()
    path = make_notebook(tmp_path / "n.ipynb")
    prepared = service.prepare_notebook(RunOptions(backend="executor", project="my-proj"), path)
    with pytest.raises(SpecError, match="--service-account"):
        service.submit(prepared)
    with pytest.raises(SpecError, match="runs whole notebooks"):
        service.prepare(RunOptions(backend="executor", project="my-proj"), "x = 1", kind="cell", filename="c")
    with pytest.raises(SpecError, match="--image is for local runs"):
        service.prepare_notebook(RunOptions(backend="executor", image="python:3.11-slim"), path)
    assert service.list() == [] and bodies(executor, "/notebookExecutionJobs") == []


def test_dry_run_shows_the_request(executor, tmp_path, cj_home):
    service = JobService()
    prepared = service.prepare_notebook(RunOptions(backend="executor", project="my-proj", service_account=SA),
                                        make_notebook(tmp_path / "d.ipynb"))
    described = service.dry_run(prepared)
    assert described["notebookExecutionJob"]["serviceAccount"] == SA
    assert described["gcloud"].startswith("gcloud colab executions create --project=my-proj")
    template = "projects/my-proj/locations/us-central1/notebookRuntimeTemplates/gpu"
    for value, field in ((template, "notebookRuntimeTemplateResourceName"), ("workbench", "workbenchRuntime")):
        prepared = service.prepare_notebook(RunOptions(backend="executor", project="my-proj", service_account=SA,
                                                       runtime_template=value), tmp_path / "d.ipynb")
        body = service.dry_run(prepared)["notebookExecutionJob"]
        assert field in body and "customEnvironmentSpec" not in body
    with pytest.raises(SpecError, match="--runtime-template 'gpu' is neither"):
        service.prepare_notebook(RunOptions(backend="executor", runtime_template="gpu"), tmp_path / "d.ipynb")
    assert executor.requests == []


def test_running_execution_cannot_be_cancelled_through_v1(executor, tmp_path, cj_home):
    path = make_notebook(tmp_path / "slow.ipynb", magic="import time; time.sleep(20)")
    service = JobService()
    prepared = service.prepare_notebook(RunOptions(backend="executor", project="my-proj", service_account=SA), path)
    record = service.submit(prepared, origin=str(path))
    with pytest.raises(BackendError, match=r"refused to stop .* Workbench Executor API \(v1\) has no cancel"):
        service.cancel(record.id)
    record = service.follow(service.get(record.id), lambda _t: None)
    assert record.status.value == "SUCCEEDED"


def test_executor_schedule_through_the_schedule_api(executor, gcs, tmp_path, cj_home):
    service = JobService()
    path = make_notebook(tmp_path / "nightly.ipynb")
    schedule = Schedules(service).create(
        notebook=str(path), cron="0 3 * * *", timezone="Europe/Paris", parameters={"epochs": 6}, max_concurrent=2,
        options={"backend": "executor", "project": "my-proj", "service_account": SA})
    (body,) = bodies(executor, "/schedules")
    assert body["cron"] == "TZ=Europe/Paris 0 3 * * *" and int(body["maxConcurrentRunCount"]) == 2
    request = body["createNotebookExecutionJobRequest"]
    assert request["parent"] == "projects/my-proj/locations/us-central1"
    assert request["notebookExecutionJob"]["gcsNotebookSource"]["uri"].endswith(f"/schedules/{schedule.id}/notebook/nightly.ipynb")
    assert schedule.backend_ref.startswith("projects/123456789012/locations/us-central1/schedules/")
    Schedules(service).pause(schedule.id)
    assert executor.schedule_client().get_schedule(name=schedule.backend_ref).state.name == "PAUSED"
    Schedules(service).resume(schedule.id)
    assert executor.schedule_client().get_schedule(name=schedule.backend_ref).state.name == "ACTIVE"
    first = executor.schedule_client().get_schedule(name=schedule.backend_ref).next_run_time
    (run,) = executor.fire_due(first + timedelta(minutes=1))  # exactly one tick, whatever the time of day
    Scheduler(service).tick()  # imports the run Vertex fired as a job like any other
    (job,) = service.list()
    assert job.backend == "executor" and job.backend_ref == run
    job = service.follow(job, lambda _t: None)
    assert job.status.value == "SUCCEEDED", job.message
    nb = nbformat.read(f"{job.job_dir}/output/nightly.ipynb", as_version=4)
    assert "epochs 6 rate 0.1 project my-proj my-proj" in text_of(cell_with(nb, "env_project ="))
    Scheduler(service).tick()
    assert len(service.list()) == 1  # imported once
    Schedules(service).delete(schedule.id)
    assert list(executor.schedule_client().list_schedules(parent="projects/my-proj/locations/us-central1")) == []


def writer_notebook(path, then: str):
    """Writes result.txt and sub/inner.txt in its working directory, then runs `then`, then one more file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import os\nos.makedirs('sub', exist_ok=True)\n"
                                          "open('result.txt', 'w').write('forty-two')\n"
                                          "open('sub/inner.txt', 'wb').write(bytes(range(256)))\n"
                                          "open('.hidden', 'w').write('tool state')"),
                nbformat.v4.new_code_cell(then),
                nbformat.v4.new_code_cell("open('after.txt', 'w').write('reached')")]
    nbformat.write(nb, str(path))
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


def test_files_the_notebook_writes_come_back_with_outputs(executor, gcs, tmp_path):
    path = writer_notebook(tmp_path / "writes.ipynb", "print('between')")
    run = cli("run-notebook", str(path), "--backend", "executor", "--project", "my-proj", "--service-account", SA)
    assert run.returncode == 0, run.stderr
    (record,) = JobService().list()
    assert record.status.value == "SUCCEEDED" and record.message == ""
    listed = {f["path"]: f["size"] for f in json.loads(cli("outputs", record.id, "--json").stdout)}
    assert listed["output/files/result.txt"] == 9 and listed["output/files/sub/inner.txt"] == 256
    assert "output/files/after.txt" in listed and "output/writes.ipynb" in listed
    files = Path(record.job_dir) / "output" / "files"
    assert (files / "result.txt").read_text() == "forty-two"
    assert (files / "sub" / "inner.txt").read_bytes() == bytes(range(256))
    assert not (files / ".hidden").exists()  # tools' state and credentials stay on the runtime
    assert not list(files.rglob("*.ipynb"))  # the executed notebook is not one of its files
    nb = nbformat.read(f"{record.job_dir}/output/writes.ipynb", as_version=4)
    keepers = [c for c in nb.cells if "containerjob-keep-files" in c.metadata.get("tags", [])]
    assert [nb.cells.index(c) for c in keepers] == [0, len(nb.cells) - 1]  # first and closing, hidden
    assert all(c.metadata.jupyter.source_hidden and c.metadata.cellView == "form" for c in keepers)
    assert "kept 3 file(s)" in "".join(JobService().logs(record.id))
    (body,) = bodies(executor, "/notebookExecutionJobs")
    staged = f"containerjob/{record.id}/notebook/writes.ipynb"  # what ran: the hidden cells were staged with it
    assert "containerjob-keep-files" in gcs.bucket.blob(staged).download_as_text()
    assert body["gcsNotebookSource"]["uri"] == f"gs://{gcs.name}/{staged}"


def test_a_failing_notebook_keeps_what_it_wrote_and_names_what_it_could_not(executor, tmp_path):
    unkeepable = ("import os\nos.mkfifo('pipe')\nos.symlink('/etc/hostname', 'link')\n"
                  "with open('big.bin', 'wb') as f:\n    f.truncate(3 << 30)  # sparse: 3 GiB in no time\n"
                  "raise ValueError('bad batch')")
    service, record, _ = submit(writer_notebook(tmp_path / "fails.ipynb", unkeepable))
    assert record.status.value == "FAILED"
    # counted as a local run counts them (papermill's banner, the parameters, its anchor), the hidden cells not
    assert record.message.startswith("cell 5 raised ValueError: bad batch; not kept of what it wrote under its working")
    assert "big.bin (it is 3.0 GiB, over the 2.0 GiB limit for a file)" in record.message
    assert "link (it is a link, and links are not followed)" in record.message
    assert "pipe (it is not a regular file)" in record.message
    files = Path(record.job_dir) / "output" / "files"
    assert (files / "result.txt").read_text() == "forty-two" and (files / "sub" / "inner.txt").is_file()
    assert not (files / "after.txt").exists() and not (files / "big.bin").exists()
    assert {f["path"] for f in service.outputs(record.id)} >= {"output/files/result.txt", "output/fails.ipynb"}


def test_files_not_kept_at_all_are_said(executor, tmp_path):
    gone = "import sys\ndel sys.modules['containerjob_keep_files']  # as a kernel restart would lose it"
    service, record, _ = submit(writer_notebook(tmp_path / "lost.ipynb", gone))
    assert record.status.value == "SUCCEEDED"
    assert record.message == ("the files it wrote under its working directory were not kept: the kernel restarted "
                              "after the first cell")
    assert not (Path(record.job_dir) / "output" / "files").exists()


def test_the_keeping_cells_use_google_cloud_storage_where_the_runtime_has_it(gcs, tmp_path):
    """Colab Enterprise runtimes have google-cloud-storage (this machine's Python too): the same cells, run
    by IPython here, upload through it."""
    nb = writer_notebook(tmp_path / "w.ipynb", "print('between')")
    kept = notebook.with_kept_files(notebook.read_notebook(nb), f"gs://{gcs.name}/run/output")
    code = "\n".join(c.source for c in kept.cells)
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "old.txt").write_text("there before")  # unchanged: not uploaded
    done = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--quick", "-c", code], cwd=work,
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert "kept 3 file(s)" in done.stdout, (done.stdout, done.stderr)
    names = sorted(b.name for b in gcs.client.list_blobs(gcs.name, prefix="run/output/"))
    assert names == ["run/output/.containerjob-kept.json", "run/output/files/after.txt",
                     "run/output/files/result.txt", "run/output/files/sub/inner.txt"]
    manifest = json.loads(gcs.bucket.blob("run/output/.containerjob-kept.json").download_as_bytes())
    assert manifest["via"] == "google-cloud-storage" and manifest["not_kept"] == []


def test_the_kept_files_manifest_is_data_never_trusted(tmp_path):
    """Anyone who can write to the bucket can write the manifest: read as every job-written file is."""
    nb = {"cells": [{"metadata": {"tags": [notebook.KEEP_TAG]}, "outputs": []}]}
    manifest = tmp_path / notebook.KEPT_MANIFEST
    manifest.symlink_to("/etc/hostname")
    with pytest.raises(OutputUnreadable, match="it is a link"):
        not_kept(tmp_path, nb, "")
    manifest.unlink()
    manifest.write_text(json.dumps({"kept": 1, "not_kept": "pipe", "more_not_kept": 0}))
    with pytest.raises(OutputUnreadable, match="'not_kept' has the wrong type"):
        not_kept(tmp_path, nb, "")
    entries = [{"path": f"f{i}", "reason": "it is not a regular file"} for i in range(12)]
    manifest.write_text(json.dumps({"kept": 0, "not_kept": entries, "more_not_kept": 30}))
    assert not_kept(tmp_path, nb, "").endswith("f9 (it is not a regular file) and 32 more (see the executed notebook)")
    assert not_kept(tmp_path, {"cells": []}, "") == ""  # a run staged without the cells: nothing to say
