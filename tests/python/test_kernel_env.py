"""The kernel's own environment in a job's image: a module the image lacks but the kernel has is named with its
fix (the kernel's version, `--pip kernel`), and `--pip kernel` installs the kernel's versions of what the cell
imports and its inputs need, in one content-hashed image built once. Real engine, real python:3.11-slim."""
from __future__ import annotations

import importlib.metadata
import pickle

import cloudpickle
import docker.errors
import numpy
import pytest

from containerjob.core.kernel_env import _providers_from_files, imported_modules, missing_module_fix, pinned, resolve
from containerjob.core.kernel_env_pickle import modules_in_pickle
from test_images import env_images
from test_vertex_backend import created, vertex  # noqa: F401  (fixture)

SLIM = "python:3.11-slim"
NUMPY = importlib.metadata.version("numpy")


@pytest.mark.docker
def test_missing_input_module_names_the_kernels_version(ip, capsys):
    ip.user_ns["arr"] = numpy.arange(3)
    result = ip.run_cell(f"%%containerjob --image {SLIM}\ntotal = int(arr.sum())")
    exc = result.error_in_exec
    assert isinstance(exc, ModuleNotFoundError) and exc.name == "numpy"
    assert f"--pip numpy=={NUMPY}" in str(exc) and "--pip kernel" in str(exc)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    (line,) = [one for one in text.splitlines() if one.startswith("ModuleNotFoundError:")
               and "kernel has" in one]  # one line, the fix in it
    assert f"numpy {NUMPY}" in line and "input 'arr' needs it" in line
    assert "Traceback" not in text.split("FAILED")[-1]  # nothing after the job's own status: no frames at all
    assert "remote_error.py" not in text and "cell.py" not in text


@pytest.mark.docker
def test_module_sent_as_an_input_says_the_fix(ip, capsys):
    ip.user_ns["np"] = numpy
    result = ip.run_cell(f"%%containerjob --image {SLIM}\ntotal = int(np.arange(3).sum())")
    exc = result.error_in_exec
    assert isinstance(exc, ModuleNotFoundError) and "input 'np' is that module" in str(exc)
    assert f"--pip numpy=={NUMPY}" in str(exc)
    assert "remote_error.py" not in capsys.readouterr().out


@pytest.mark.docker
def test_import_in_the_cell_keeps_its_frame_and_says_the_fix(ip, capsys):
    result = ip.run_cell(f"%%containerjob --image {SLIM}\nimport numpy\nx = 1")
    exc = result.error_in_exec
    assert isinstance(exc, ModuleNotFoundError)
    assert any(f"--pip numpy=={NUMPY}" in note for note in exc.__notes__)
    text = capsys.readouterr().out
    assert "----> 1 import numpy" in text and f"add --pip numpy=={NUMPY} (or --pip kernel)" in text
    assert "remote_error.py" not in text


@pytest.mark.docker
def test_pip_kernel_installs_the_kernels_versions_once(ip, engine, capsys):
    for image in env_images(engine):  # whatever ran before on this engine, unless another test runs it now
        try:
            engine.images.remove(image.id, force=True)
        except docker.errors.APIError:
            pass
    ip.user_ns["arr"] = numpy.arange(4)
    cell = f"%%containerjob --image {SLIM} --pip kernel\nimport numpy as np\ntotal = int(arr.sum())\nv = np.__version__"
    assert ip.run_cell(cell).success
    assert ip.user_ns["total"] == 6 and ip.user_ns["v"] == NUMPY
    first = capsys.readouterr().out
    assert f"--pip kernel adds numpy=={NUMPY}" in first  # the preparing line says what was added
    assert "building containerjob-env:" in first or "reusing containerjob-env:" in first
    before = len(engine.images.list(all=True))
    assert ip.run_cell(cell).success
    second = capsys.readouterr().out
    assert "reusing containerjob-env:" in second and "building" not in second
    assert len(engine.images.list(all=True)) == before  # the second run adds no image


def test_pickled_inputs_name_their_modules():
    import yaml

    def by_value():  # defined here: cloudpickle sends it by value, with yaml re-imported by name
        return yaml.safe_load("1")

    by_value.__module__ = "__main__"
    data = cloudpickle.dumps({"a": numpy.arange(2), "b": numpy.ones(2), "f": by_value}, protocol=5)
    found = modules_in_pickle(data)
    assert "yaml" in found and any(m.startswith("numpy") for m in found)
    assert any(m.startswith("numpy") for m in modules_in_pickle(pickle.dumps(numpy.arange(2), protocol=2)))


def test_imports_map_to_the_kernels_distributions():
    found = imported_modules(["import os, numpy as np\nfrom google.cloud import storage\nfrom . import local",
                              "%matplotlib inline"])
    assert {"os", "numpy", "google.cloud.storage"} <= found
    assert pinned("numpy.linalg") == [f"numpy=={NUMPY}"]
    assert pinned("os") == [] and pinned("no_such_module_here") == []
    assert _providers_from_files()["numpy"] == ["numpy"]  # Python 3.9's mapping, where importlib has none
    assert pinned("google.cloud.storage") == [f"google-cloud-storage=={importlib.metadata.version('google-cloud-storage')}"]


@pytest.mark.docker
def test_pip_kernel_on_vertex_pushes_the_same_image(ip, cj_home, vertex, registry, capsys):
    repo = f"{registry}/kenv"
    ip.user_ns["arr"] = numpy.arange(4)
    cell = "total = int(arr.sum())"
    result = ip.run_cell(f"%%containerjob --backend vertex --project my-proj --image-repo {repo} --image {SLIM} "
                         f"--pip kernel\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["total"] == 6
    (body,) = created(vertex)
    image = body["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["imageUri"]
    assert image.startswith(f"{repo}/containerjob-env:")
    out = capsys.readouterr().out
    assert f"--pip kernel adds numpy=={NUMPY}" in out and f"pushing {image}" in out


@pytest.mark.docker
def test_pip_kernel_for_a_script_reads_its_folder(cj_home, engine, tmp_path):
    from test_cli import cli

    (tmp_path / "helper.py").write_text("import numpy\n\ndef total():\n    return int(numpy.arange(4).sum())\n")
    (tmp_path / "main.py").write_text("import helper\nprint('total', helper.total())\n")
    proc = cli("run", str(tmp_path / "main.py"), "--image", SLIM, "--pip", "kernel", timeout=600)
    assert f"--pip kernel adds numpy=={NUMPY}" in proc.stderr  # from helper.py: the script's folder travels
    assert "total 6" in proc.stdout and "SUCCEEDED" in proc.stderr


def test_pip_kernel_leaves_out_what_no_index_has():
    """containerjob itself is installed here from its folder (PEP 610 direct_url.json): pip in an image cannot
    fetch it by name and version, so --pip kernel says it left it out instead of failing the build."""
    requirements, pins = resolve(["kernel", "six==1.16.0"], ["import containerjob, numpy, six"], None)
    assert requirements == ["six==1.16.0", f"numpy=={NUMPY}"]  # the user's own six wins
    assert pins is not None and pins.added == [f"numpy=={NUMPY}"]
    assert [p.partition("==")[0] for p in pins.left_out] == ["containerjob"]
    assert "leaves out containerjob==" in pins.describe()
    fix = missing_module_fix(ModuleNotFoundError("No module named 'containerjob'", name="containerjob"))
    assert fix is not None and "put it in the image" in fix and "--pip" not in fix
    assert resolve(["six"], ["import numpy"], None) == (["six"], None)  # no `kernel`: nothing resolved
