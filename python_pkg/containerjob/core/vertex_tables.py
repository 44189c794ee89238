"""Google's published tables for Vertex AI custom training, kept as data: which machine types training takes,
which GPUs attach to each and in what counts, and the regions Vertex AI runs in.

These tables age. core/vertex_catalog.py refuses only what a table rules out inside a family it lists; a
well-formed value of a family (or a region) it does not list is sent with a warning, and Vertex AI answers.
Accelerator *names* are not kept here: they come from the client library's enum (aiplatform_v1.AcceleratorType).
"""
from __future__ import annotations

GpuRow = dict[str, tuple[int, ...]]  # accelerator type -> the counts allowed

# --- Machine types and GPUs ------------------------------------------------------------------------------------
# Source: Google Cloud, "Configure compute resources for custom training",
# https://cloud.google.com/vertex-ai/docs/training/configure-compute, sections "Machine types" (the list, where
# types marked * must be used with their GPUs) and "GPUs" (machine type x accelerator -> allowed counts).
# Read for this table (2026): the stored copies reachable here were partial and undated (zh-CN translations
# of the page); they confirm the E2, N2 and N1 lists below (e.g. e2-standard-4 is the smallest e2-standard,
# n1-standard-4 the smallest n1-standard). The GPU counts per N1 type and the A3 High 1g/2g/4g, A3 Mega, A3 Ultra
# and A4 rows follow the page's GPU table as Google publishes it, not a stored copy: re-check them there.
_N1_UP_TO_8: GpuRow = {"NVIDIA_TESLA_P4": (1, 2, 4), "NVIDIA_TESLA_P100": (1, 2, 4), "NVIDIA_TESLA_T4": (1, 2, 4),
                       "NVIDIA_TESLA_V100": (1, 2, 4, 8)}
_N1_16: GpuRow = {**_N1_UP_TO_8, "NVIDIA_TESLA_V100": (2, 4, 8)}
_N1_32: GpuRow = {"NVIDIA_TESLA_P4": (2, 4), "NVIDIA_TESLA_P100": (2, 4), "NVIDIA_TESLA_T4": (2, 4),
                  "NVIDIA_TESLA_V100": (4, 8)}
_N1_64: GpuRow = {"NVIDIA_TESLA_P4": (4,), "NVIDIA_TESLA_T4": (4,), "NVIDIA_TESLA_V100": (8,)}


def _bundled(accelerator: str, **machines: int) -> dict[str, GpuRow]:
    """Accelerator-optimized types: each comes with a fixed number of one GPU (a2-highgpu_2g=2 -> a2-highgpu-2g)."""
    return {name.replace("_", "-"): {accelerator: (count,)} for name, count in machines.items()}


def _cpu_only(family: str, **sizes: tuple[int, ...]) -> dict[str, GpuRow]:
    return {f"{family}-{kind}-{n}": {} for kind, ns in sizes.items() for n in ns}


MACHINES: dict[str, GpuRow] = {
    **_bundled("NVIDIA_B200", a4_highgpu_8g=8),
    **_bundled("NVIDIA_H200_141GB", a3_ultragpu_8g=8),
    **_bundled("NVIDIA_H100_MEGA_80GB", a3_megagpu_8g=8),
    **_bundled("NVIDIA_H100_80GB", a3_highgpu_1g=1, a3_highgpu_2g=2, a3_highgpu_4g=4, a3_highgpu_8g=8),
    **_bundled("NVIDIA_A100_80GB", a2_ultragpu_1g=1, a2_ultragpu_2g=2, a2_ultragpu_4g=4, a2_ultragpu_8g=8),
    **_bundled("NVIDIA_TESLA_A100", a2_highgpu_1g=1, a2_highgpu_2g=2, a2_highgpu_4g=4, a2_highgpu_8g=8,
               a2_megagpu_16g=16),
    **_bundled("NVIDIA_L4", g2_standard_4=1, g2_standard_8=1, g2_standard_12=1, g2_standard_16=1, g2_standard_24=2,
               g2_standard_32=1, g2_standard_48=4, g2_standard_96=8),
    **_cpu_only("e2", standard=(4, 8, 16, 32), highmem=(2, 4, 8, 16), highcpu=(16, 32)),
    **_cpu_only("n2", standard=(4, 8, 16, 32, 48, 64, 80), highmem=(2, 4, 8, 16, 32, 48, 64, 80),
                highcpu=(16, 32, 48, 64, 80)),
    **_cpu_only("c2", standard=(4, 8, 16, 30, 60)),
    **_cpu_only("m1", ultramem=(40, 80, 160), megamem=(96,)),
    "n1-standard-4": _N1_UP_TO_8, "n1-standard-8": _N1_UP_TO_8, "n1-standard-16": _N1_16, "n1-standard-32": _N1_32,
    "n1-standard-64": _N1_64, "n1-standard-96": _N1_64,
    "n1-highmem-2": _N1_UP_TO_8, "n1-highmem-4": _N1_UP_TO_8, "n1-highmem-8": _N1_UP_TO_8, "n1-highmem-16": _N1_16,
    "n1-highmem-32": _N1_32, "n1-highmem-64": _N1_64, "n1-highmem-96": _N1_64,
    "n1-highcpu-16": _N1_16, "n1-highcpu-32": _N1_32, "n1-highcpu-64": {**_N1_64, "NVIDIA_TESLA_P100": (4,)},
    "n1-highcpu-96": _N1_64,
}
GPU_OPTIONAL = ("n1",)  # families whose GPUs are attached at will; every other GPU row is the machine's own GPUs

# --- Regions ---------------------------------------------------------------------------------------------------
# Source: Google Cloud, "Vertex AI locations", https://cloud.google.com/vertex-ai/docs/general/locations,
# section "Available locations" (Vertex AI regions; training is offered in these, some features in fewer).
# The stored copy read for this list (zh-CN translation, undated, cut off after the first European regions)
# confirms its start; the rest is the list as this module kept it before, unchanged.
REGIONS = (
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
    "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
    "europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west12", "me-central1", "me-central2",
    "me-west1", "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
    "asia-south1", "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2",
)
