"""What Vertex AI accepts: regions, machine types and which accelerators fit which machine.

Checked before anything is sent, so a bad combination is one clear line instead of a 400 minutes later.
Source: cloud.google.com/vertex-ai/docs/training/configure-compute (2026).
"""
from __future__ import annotations

import re

from .errors import SpecError

REGIONS = (
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
    "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
    "europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west12", "me-central1", "me-central2",
    "me-west1", "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
    "asia-south1", "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2",
)
N1_GPUS = {"NVIDIA_TESLA_T4": (1, 2, 4), "NVIDIA_TESLA_V100": (1, 2, 4, 8), "NVIDIA_TESLA_P100": (1, 2, 4),
           "NVIDIA_TESLA_P4": (1, 2, 4)}
_FIXED = {  # family regex -> (accelerator, count from the machine name or a table)
    r"a2-highgpu-(\d{1,2})g": "NVIDIA_TESLA_A100",
    r"a2-megagpu-(16)g": "NVIDIA_TESLA_A100",
    r"a2-ultragpu-(\d{1,2})g": "NVIDIA_A100_80GB",
    r"a3-highgpu-(\d{1,2})g": "NVIDIA_H100_80GB",
    r"a3-megagpu-(8)g": "NVIDIA_H100_MEGA_80GB",
}
_G2_L4 = {"4": 1, "8": 1, "12": 1, "16": 1, "32": 1, "24": 2, "48": 4, "96": 8}
_CPU_ONLY = re.compile(r"^(e2|n2|n2d|c2|c2d|c3|m1)-(standard|highmem|highcpu|ultramem|megamem)-\d+$")
_N1 = re.compile(r"^n1-(standard|highmem|highcpu)-(2|4|8|16|32|64|96)$")
ACCELERATORS = tuple(sorted({*N1_GPUS, *_FIXED.values(), "NVIDIA_L4"}))


def validate_region(region: str) -> str:
    if region not in REGIONS:
        raise SpecError(f"--region {region!r} is not a Vertex AI training region; use one of: {', '.join(REGIONS)}")
    return region


def parse_accelerator(value: str | None) -> tuple[str | None, int]:
    """`NVIDIA_TESLA_T4:2` -> ("NVIDIA_TESLA_T4", 2); a bare type means one."""
    if not value:
        return None, 0
    kind, _, count = value.partition(":")
    kind = kind.strip().upper()
    if kind not in ACCELERATORS:
        raise SpecError(f"--accelerator {kind!r} is not a Vertex AI accelerator; use one of: {', '.join(ACCELERATORS)}")
    try:
        number = int(count) if count else 1
    except ValueError:
        raise SpecError(f"--accelerator {value!r}: the count after ':' must be a number, e.g. NVIDIA_TESLA_T4:2") from None
    return kind, number


def validate_machine(machine: str, accelerator: str | None, count: int) -> None:
    """Each error names the field and what is allowed for it."""
    for pattern, kind in _FIXED.items():
        match = re.fullmatch(pattern, machine)
        if match:
            need = int(match.group(1))
            if accelerator != kind or count != need:
                raise SpecError(f"--machine-type {machine} comes with {need} x {kind}: use --accelerator {kind}:{need}")
            return
    g2 = re.fullmatch(r"g2-standard-(\d+)", machine)
    if g2 and g2.group(1) in _G2_L4:
        need = _G2_L4[g2.group(1)]
        if accelerator != "NVIDIA_L4" or count != need:
            raise SpecError(f"--machine-type {machine} comes with {need} x NVIDIA_L4: use --accelerator NVIDIA_L4:{need}")
        return
    if _N1.match(machine):
        if accelerator is None:
            return
        if accelerator not in N1_GPUS:
            raise SpecError(f"--accelerator {accelerator} does not attach to N1 machines; with {machine} use one of "
                            f"{', '.join(N1_GPUS)} (A100 needs a2-highgpu-*, H100 a3-highgpu-*, L4 g2-standard-*)")
        if count not in N1_GPUS[accelerator]:
            raise SpecError(f"--accelerator {accelerator}:{count}: on N1 machines the count must be one of "
                            f"{', '.join(map(str, N1_GPUS[accelerator]))}")
        return
    if _CPU_ONLY.match(machine):
        if accelerator:
            raise SpecError(f"--machine-type {machine} takes no accelerator; for GPUs use n1-standard-*, "
                            "a2-highgpu-*, a3-highgpu-* or g2-standard-*")
        return
    raise SpecError(f"--machine-type {machine!r} is not a Vertex AI training machine type; e.g. n1-standard-4, "
                    "e2-standard-8, a2-highgpu-1g, g2-standard-8")
