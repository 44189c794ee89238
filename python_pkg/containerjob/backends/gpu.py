"""GPU preflight for local jobs: NVIDIA driver's CUDA version vs the image's CUDA_VERSION."""
from __future__ import annotations

import re
import shutil
import subprocess

from ..core.errors import SpecError

NO_GPU_MESSAGE = (
    "no NVIDIA GPU is available to Docker on this machine (the engine has no NVIDIA Container Toolkit "
    "or no GPU): install the toolkit and run `nvidia-ctk runtime configure --runtime=docker`, "
    "or run without GPUs (leave out --gpus, or a CustomJob file's acceleratorType and acceleratorCount; "
    "`--backend vertex --dry-run` shows the request for Vertex AI)"
)
_GPU_ERRORS = ("could not select device driver", "nvidia-container-cli", "unknown or invalid runtime name: nvidia")


def is_gpu_unavailable_error(text: str) -> bool:
    return any(marker in text for marker in _GPU_ERRORS)


def parse_version(text: str | None) -> tuple[int, ...] | None:
    match = re.match(r"^\s*(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def host_cuda_version(nvidia_smi: str | None = None) -> tuple[int, ...] | None:
    """The highest CUDA version the host driver supports, from `nvidia-smi`'s header; None without one."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CUDA Version:\s*(\d+\.\d+)", out)
    return parse_version(match.group(1)) if match else None


def host_gpu_ids(nvidia_smi: str | None = None) -> list[str]:
    """The host's GPU indices as the driver lists them (what Docker's device_ids take); [] without a driver."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip().isdigit()] if out.returncode == 0 else []


def split_gpus(wanted: list[tuple[str, int]], host_ids: list[str]) -> dict[str, list[str]]:
    """Give each replica (name, GPUs it asks for) its own GPUs of the host, in order; one clear error when
    the host has too few (two containers asking for "count 1" would otherwise share GPU 0)."""
    if any(count < 0 for _, count in wanted):
        raise SpecError("--gpus all gives every GPU to one container: with several replicas give each pool a number "
                        "(machineSpec.acceleratorCount)")
    total = sum(count for _, count in wanted)
    if total > len(host_ids):
        asks = ", ".join(f"{name}: {count}" for name, count in wanted if count)
        raise SpecError(f"the job's replicas ask for {total} GPUs ({asks}) but this machine has {len(host_ids)}: "
                        "lower acceleratorCount or the replica counts, or run it on Vertex AI (--backend vertex)")
    split, start = {}, 0
    for name, count in wanted:
        split[name], start = host_ids[start:start + count], start + count
    return split


def image_cuda_version(image_env: list[str]) -> tuple[int, ...] | None:
    for item in image_env or []:
        name, _, value = item.partition("=")
        if name == "CUDA_VERSION":
            return parse_version(value)
    return None


def driver_warning(image: str, image_env: list[str], host: tuple[int, ...] | None) -> str | None:
    """The 'CUDA driver version is insufficient' failure, predicted before the run."""
    needed = image_cuda_version(image_env)
    if needed and host and needed > host:
        return (
            f"image {image} is built for CUDA {needed[0]}.{needed[1]} but this machine's NVIDIA driver supports "
            f"CUDA {host[0]}.{host[1]} at most: the job will fail with 'CUDA driver version is insufficient'; "
            f"upgrade the driver or use an image built for CUDA {host[0]}.{host[1]} or older"
        )
    return None
