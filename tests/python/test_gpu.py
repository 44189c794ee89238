"""GPU preflight without a GPU: a stand-in `nvidia-smi` on PATH prints a real driver header."""
from __future__ import annotations

import os

import pytest
from IPython.core.error import UsageError

from cjtest import IMAGE
from containerjob.backends.gpu import driver_warning, host_cuda_version, image_cuda_version

HEADER = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
"""


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    exe = tmp_path / "bin" / "nvidia-smi"
    exe.parent.mkdir()
    exe.write_text(f"#!/bin/sh\ncat <<'EOF'\n{HEADER}EOF\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    return exe


def test_driver_cuda_version_from_nvidia_smi(fake_nvidia_smi):
    assert host_cuda_version() == (12, 4)
    assert host_cuda_version(str(fake_nvidia_smi.parent / "absent")) is None


def test_image_needing_newer_cuda_is_predicted():
    env = ["PATH=/usr/bin", "CUDA_VERSION=12.8.1"]
    assert image_cuda_version(env) == (12, 8)
    message = driver_warning("nvcr.io/nvidia/pytorch:25.01", env, (12, 4))
    assert "CUDA 12.8" in message and "CUDA 12.4" in message and "driver version is insufficient" in message
    assert driver_warning("img", ["CUDA_VERSION=12.2.0"], (12, 4)) is None
    assert driver_warning("img", [], (12, 4)) is None


def test_gpu_job_warns_then_fails_cleanly(ip, engine, fake_nvidia_smi, capsys, labelled):
    container = engine.containers.create(IMAGE, ["true"])
    container.commit(repository="containerjob-test/cuda", tag="13", changes=["ENV CUDA_VERSION=13.0.0"])
    container.remove()
    with pytest.raises(UsageError, match="no NVIDIA GPU is available to Docker"):
        ip.run_cell_magic("containerjob", "--gpus 1 --image containerjob-test/cuda:13", "x = 1")
    assert "built for CUDA 13.0 but this machine's NVIDIA driver supports CUDA 12.4" in capsys.readouterr().out
    assert labelled() == []
