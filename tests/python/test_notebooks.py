"""Whole notebooks as local jobs, in real containers: one image with a Jupyter kernel (papermill), one
without (plain Python fallback). Parameters and the project are asserted in the executed notebook."""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from cjtest import IMAGE
from containerjob.core.errors import SpecError
from containerjob.core.spec import RunOptions
from containerjob.service import JobService


def make_notebook(path, *, fail: bool = False, magic: str = "%env CJ_MAGIC=1"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("epochs = 3\nrate: float = 0.1  # learning rate\nproject_id = ''\ntag = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# training"),
        params,
        nbformat.v4.new_code_cell(f"{magic}\nimport os\nenv_project = os.environ.get('GOOGLE_CLOUD_PROJECT')\n"
                                  "print('epochs', epochs, 'rate', rate, 'project', project_id, env_project)"),
        nbformat.v4.new_code_cell("open('model.txt', 'w').write('m' * epochs)\nepochs * 2"),
        nbformat.v4.new_code_cell("raise ValueError('bad batch')" if fail else "print('finished')"),
        nbformat.v4.new_code_cell("print('never reached' if False else 'after')"),
    ]
    nbformat.write(nb, str(path))
    return path


def run(service: JobService, path, image: str, **parameters):
    prepared = service.prepare_notebook(RunOptions(image=image, project="nb-project"), path, parameters)
    record = service.submit(prepared, origin=str(path))
    return service.follow(record, lambda _text: None)


def executed(record, name: str):
    return nbformat.read(f"{record.job_dir}/output/{name}", as_version=4)


def cell_with(nb, source: str):
    """By content: papermill adds an error banner cell at the top of a failed notebook."""
    return next(c for c in nb.cells if source in c.source)


def text_of(cell) -> str:
    return "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


@pytest.mark.parametrize("kind", ["kernel", "plain"])
def test_notebook_runs_with_parameters_and_project(kind, cj_home, kernel_image, labelled, tmp_path):
    service = JobService()
    image = kernel_image if kind == "kernel" else IMAGE
    record = run(service, make_notebook(tmp_path / "train.ipynb"), image, epochs=5, tag="run-1")
    assert record.status.value == "SUCCEEDED", record.message
    nb = executed(record, "train.ipynb")
    injected = cell_with(nb, "# Parameters")
    assert "injected-parameters" in injected.metadata.tags
    assert "epochs = 5" in injected.source and "project_id = \"nb-project\"" in injected.source
    assert "epochs 5 rate 0.1 project nb-project nb-project" in text_of(cell_with(nb, "env_project ="))
    assert "10" in text_of(cell_with(nb, "model.txt"))  # the trailing expression's value
    files = {f["path"]: f for f in service.outputs(record.id)}
    assert files["output/files/model.txt"]["size"] == 5  # written in the working directory, kept
    assert "output/train.ipynb" in files
    logs = "".join(service.logs(record.id))
    if kind == "plain":
        assert "plain Python" in logs and "cell 4 line 1: %env CJ_MAGIC=1" in logs  # skipped, and said so
        assert "%env CJ_MAGIC=1" in nb.metadata.containerjob.skipped[0]
    else:
        assert "with papermill" in logs
    assert labelled(record.id) == []


@pytest.mark.parametrize("kind", ["kernel", "plain"])
def test_failing_cell_keeps_the_executed_notebook(kind, cj_home, kernel_image, tmp_path):
    service = JobService()
    record = run(service, make_notebook(tmp_path / "bad.ipynb", fail=True), kernel_image if kind == "kernel" else IMAGE)
    assert record.status.value == "FAILED"
    assert "cell 6 raised ValueError: bad batch" in record.message
    nb = executed(record, "bad.ipynb")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "ValueError"
    assert "epochs 3" in text_of(cell_with(nb, "env_project ="))  # the cells before the failure kept their outputs
    assert "after" not in json.dumps(cell_with(nb, "never reached").get("outputs", []))  # nothing ran after it
    kept = {f["path"] for f in service.outputs(record.id)}  # what it wrote before failing, where the Executor puts it
    assert "output/files/model.txt" in kept


def test_parameters_are_validated_before_anything_runs(cj_home, tmp_path):
    service = JobService()
    path = make_notebook(tmp_path / "p.ipynb")
    with pytest.raises(SpecError) as info:
        service.prepare_notebook(RunOptions(), path, {"epoch": 3, "rate": "fast", "tag": 1})
    message = str(info.value)
    assert "'epoch' is not a parameter of p.ipynb (it declares epochs, project_id, rate, tag)" in message
    assert "rate must be float (default 0.1), not str 'fast'" in message
    assert "tag must be str" in message
    service.prepare_notebook(RunOptions(), path, {"rate": 1})  # an int is a fine float
    assert service.notebook_parameters(path)[1] == {"name": "rate", "type": "float", "default": "0.1",
                                                    "help": "learning rate"}
    plain = tmp_path / "noparams.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, str(plain))
    with pytest.raises(SpecError, match="no cell tagged `parameters`"):
        service.prepare_notebook(RunOptions(), plain, {"x": 2})
    with pytest.raises(SpecError, match="does not exist"):
        service.prepare_notebook(RunOptions(), tmp_path / "missing.ipynb")
    assert not (cj_home / "jobs").exists()  # nothing submitted


def test_output_paths_cannot_escape(cj_home, tmp_path):
    service = JobService()
    record = run(service, make_notebook(tmp_path / "e.ipynb"), IMAGE)
    (tmp_path / "secret").write_text("no")
    import os

    os.symlink(tmp_path / "secret", f"{record.job_dir}/output/files/link")
    assert service.output_file(record.id, "output/files/model.txt").read_text() == "mmm"
    from containerjob.core.errors import JobNotFound

    for bad in ("../../secret", "/etc/passwd", "output/files/link", ".lock", "output/../../../secret"):
        with pytest.raises(JobNotFound):
            service.output_file(record.id, bad)


def test_cli_run_notebook(cj_home, tmp_path):
    path = make_notebook(tmp_path / "cli.ipynb")
    done = subprocess.run([sys.executable, "-m", "containerjob.cli", "run-notebook", str(path), "-p", "epochs", "2",
                           "-p", "tag", "'7'", "--project", "cli-project"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "epochs 2 rate 0.1 project cli-project cli-project" in done.stdout
    assert "output/cli.ipynb" in done.stderr  # the kept files are listed
    bad = subprocess.run([sys.executable, "-m", "containerjob.cli", "run-notebook", str(path), "-p", "nope", "1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "'nope' is not a parameter" in bad.stderr


def test_magic_run_notebook(ip, cj_home, tmp_path, capsys):
    path = make_notebook(tmp_path / "magic.ipynb")
    ip.run_line_magic("containerjob", f"run-notebook {path} -p epochs 1")
    out = capsys.readouterr()
    assert "epochs 1 rate 0.1" in out.out and "SUCCEEDED" in out.err
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="rate must be float"):
        ip.run_line_magic("containerjob", f"run-notebook {path} -p rate fast")


def test_example_report_notebook(cj_home):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "report.ipynb"
    service = JobService()
    record = run(service, path, IMAGE, rows=4, title="Nightly")
    assert record.status.value == "SUCCEEDED", record.message
    assert "Nightly: 4 rows written for project nb-project" in "".join(service.logs(record.id))
    csv = service.output_file(record.id, "output/files/squares.csv").read_text().split()
    assert csv == ["n,square", "0,0", "1,1", "2,4", "3,9"]


@pytest.mark.parametrize("kind", ["kernel", "plain"])
def test_executed_notebook_is_readable_while_it_runs(kind, cj_home, kernel_image, labelled, tmp_path):
    import time

    service = JobService()
    path = make_notebook(tmp_path / "long.ipynb", magic="import time; time.sleep(60)")
    prepared = service.prepare_notebook(RunOptions(image=kernel_image if kind == "kernel" else IMAGE), path)
    record = service.submit(prepared, origin=str(path))
    target = f"{record.job_dir}/output/long.ipynb"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            nb = nbformat.read(target, as_version=4)
            if cell_with(nb, "# Parameters").get("execution_count"):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    else:
        pytest.fail("no partial executed notebook appeared while the job ran")
    assert service.get(record.id).status.value == "RUNNING"
    assert service.cancel(record.id).status.value == "CANCELLED"
    assert labelled(record.id) == []
