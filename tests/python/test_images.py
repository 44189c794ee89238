"""Extra requirements: one content-hashed image, built once (pip through the host's proxy and CA),
reused afterwards, and pushed to a real registry for Vertex AI."""
from __future__ import annotations

import json
import urllib.request

import pytest
from IPython.core.error import UsageError

from containerjob.core.store import Store
from test_vertex_backend import created, vertex  # noqa: F401  (fixture)


def env_images(engine) -> list:
    return [i for i in engine.images.list() if any(t.split("/")[-1].startswith("containerjob-env:") for t in i.tags)]


def test_requirements_build_once_then_reuse(ip, cj_home, engine, tmp_path, capsys):
    for image in env_images(engine):  # start from nothing built, whatever ran before on this engine
        engine.images.remove(image.id, force=True)
    req = tmp_path / "requirements.txt"
    req.write_text("# pinned\nsix==1.16.0\n")
    cell = "import six\nversion = six.__version__"
    assert ip.run_cell(f"%%containerjob --requirements {req}\n{cell}").success
    assert ip.user_ns["version"] == "1.16.0"
    first = capsys.readouterr().out
    assert "building containerjob-env:" in first
    before = len(engine.images.list(all=True))
    assert ip.run_cell(f"%%containerjob --pip six==1.16.0\n{cell}").success  # same requirement, other spelling
    assert "reusing containerjob-env:" in capsys.readouterr().out
    assert len(engine.images.list(all=True)) == before  # no image added by the second run
    (tag,) = {r.image for r in Store(cj_home / "jobs.db").list()}
    assert tag.startswith("containerjob-env:")


def test_bad_requirement_is_a_clear_error(ip, cj_home, tmp_path):
    with pytest.raises(UsageError, match="installing the requirements into .* failed"):
        ip.run_cell_magic("containerjob", "--pip no-such-package-containerjob-test==9.9.9", "x = 1")
    with pytest.raises(UsageError, match="--requirements .*cannot read it"):
        ip.run_cell_magic("containerjob", f"--requirements {tmp_path / 'absent.txt'}", "x = 1")
    with pytest.raises(UsageError, match="is not a requirement"):
        ip.run_cell_magic("containerjob", "--pip=--index-url=http://evil", "x = 1")
    assert Store(cj_home / "jobs.db").list() == []


def test_vertex_pushes_the_built_image(ip, cj_home, vertex, registry, capsys):
    repo = f"{registry}/team"
    cell = "import six\nversion = six.__version__"
    result = ip.run_cell(f"%%containerjob --backend vertex --project my-proj --image-repo {repo} --pip six==1.16.0\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["version"] == "1.16.0"
    (body,) = created(vertex)
    image = body["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["imageUri"]
    assert image.startswith(f"{repo}/containerjob-env:")
    tags = json.load(urllib.request.urlopen(f"http://{registry}/v2/team/containerjob-env/tags/list"))["tags"]
    assert image.rsplit(":", 1)[1] in tags
    assert f"pushing {image}" in capsys.readouterr().out
    assert ip.run_cell(f"%%containerjob --backend vertex --project my-proj --image-repo {repo} --pip six==1.16.0\n{cell}").success
    assert "is already in the registry" in capsys.readouterr().out  # reused, not rebuilt or pushed again


def test_vertex_needs_a_repo_for_requirements(ip, cj_home, vertex, monkeypatch):
    monkeypatch.delenv("CONTAINERJOB_IMAGE_REPO")
    with pytest.raises(UsageError, match="need an image registry to push to"):
        ip.run_cell_magic("containerjob", "--backend vertex --project my-proj --pip six", "x = 1")


def test_missing_image_is_pulled_with_a_progress_bar(ip, cj_home, engine, registry, capsys):
    import io
    import os
    import tarfile

    ref = f"{registry}/pulltest/python:1"
    container = engine.containers.create("python:3.11-slim", ["true"])  # a layer of its own, 8 MiB
    data = os.urandom(8 << 20)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("blob.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    container.put_archive("/", buf.getvalue())
    container.commit(repository=ref.rsplit(":", 1)[0], tag="1")
    container.remove()
    for line in engine.api.push(ref.rsplit(":", 1)[0], tag="1", stream=True, decode=True):
        assert "error" not in line, line
    engine.images.remove(ref)  # its own layer goes with it: the pull below must download it
    assert ip.run_cell(f"%%containerjob --image {ref}\nx = 40 + 2").success
    out = capsys.readouterr().out
    assert f"pulling {ref} (not on this machine yet)" in out
    bars = [line for line in out.splitlines() if f"pulling {ref} [" in line]
    assert bars and bars[-1].endswith("MB") and "100%" in bars[-1]
    assert len(bars) <= 21  # redrawn in 5% steps, not once per layer event
    assert ip.user_ns["x"] == 42
