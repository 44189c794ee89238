"""Google's published tables for Vertex AI custom training, kept as data: which machine types training takes,
which GPUs attach to each and in what counts, and the regions Vertex AI runs in.

These tables age. core/vertex_catalog.py refuses only what a table rules out inside a family it lists; a
well-formed value of a family (or a region) it does not list is sent with a warning, and Vertex AI answers.
Accelerator *names* are not kept here: they come from the client library's enum (aiplatform_v1.AcceleratorType);
tests/python/test_vertex_tables.py checks that every name below is one of its members.
"""
from __future__ import annotations

GpuRow = dict[str, tuple[int, ...]]  # accelerator type -> the counts allowed

# --- Machine types and GPUs ------------------------------------------------------------------------------------
# Source: Google Cloud, "Configure compute resources for custom training" (later titled "... for serverless
# training"), https://cloud.google.com/vertex-ai/docs/training/configure-compute, sections "Machine types" (types
# marked * come with their GPUs) and "GPUs" (machine type x accelerator -> allowed counts).
# Read 2026-12-07 through the stored copies the search tool holds. Its copies of this page are Spanish:
#   https://cloud-dot-devsite-v2-prod.appspot.com/vertex-ai/docs/training/configure-compute?hl=es
#   https://cloud.google.com/vertex-ai/docs/training/configure-compute?authuser=6&hl=es-419
# and both stop in the page's opening sections (costs and availability, where to specify compute resources);
# no English copy is stored. So NO stored copy of this page confirms any row below. What else confirmed a row
# (read the same day) is named next to it; a row marked "unconfirmed" follows the page as this module kept it
# before and must be re-checked against the page itself.
#   [CE-GPUS]   Compute Engine "GPU machine types", copy http://23.94.208.52/baike/index.php?q=oKvt6apyZqjco6es3aeep6bg5ZxmmujmZpum5umsrJyo3aabqqjgp62q
#               (of https://cloud.google.com/compute/docs/gpus), table "GPU models available": A4 -> B200,
#               A3 Ultra -> H200; and the older copy https://cloud.google.com/compute/docs/gpus/ ("NVIDIA L4 GPUs"
#               table): g2-standard-4 and g2-standard-8 have 1 L4 each.
#   [CE-A3A2G2] Compute Engine "Create an A3, A2 or G2 VM", copy
#               https://cloud-dot-devsite-v2-prod.appspot.com/compute/docs/gpus/create-gpu-vm-accelerator-optimized:
#               A3 Mega and A3 High have H100 80GB, A2 Ultra A100 80GB, A2 Standard A100 40GB, G2 L4.
#   [VX-CLUSTER] Vertex AI "Training clusters: compute resources", copy
#               https://docs.cloud.google.com/vertex-ai/docs/training/training-clusters/compute-resources:
#               a4-highgpu-8g, a3-ultragpu-8g, a3-megagpu-8g are Vertex AI machine types, "8 GPUs per node" (A3/A4).
#   [VX-SPEC]   Vertex AI REST MachineSpec, copy https://doc.deno.land/https://googleapis.deno.dev/v1/aiplatform:v1.ts/~/GoogleCloudAiplatformV1MachineSpec:
#               "a3-highgpu-8g, which has 8 H100 GPUs".
#   [HPC-1.44]  Google's cluster toolkit release notes, https://github.com/GoogleCloudPlatform/hpc-toolkit/releases/tag/v1.44.1:
#               "A3 Ultra machine type ... includes 8 NVIDIA H200 GPUs".
# Rows, one by one:
#   a4-highgpu-8g  B200 x8            [CE-GPUS] (B200), [VX-CLUSTER] (a Vertex type, 8 GPUs)
#   a3-ultragpu-8g H200_141GB x8      [CE-GPUS] (H200), [HPC-1.44] (8), [VX-CLUSTER]
#   a3-megagpu-8g  H100_MEGA_80GB x8  [CE-A3A2G2] (H100), [VX-CLUSTER] (8); the enum name (the enum's one Mega
#                                      member) unconfirmed
#   a3-highgpu-8g  H100_80GB x8       [VX-SPEC], [CE-A3A2G2]
#   a3-highgpu-1g/2g/4g               unconfirmed (that training offers them at all, and their counts)
#   a2-ultragpu-1g/2g/4g/8g           GPU model [CE-A3A2G2]; the sizes offered for training unconfirmed
#   a2-highgpu-1g/2g/4g/8g, a2-megagpu-16g  GPU model (A100 40GB = NVIDIA_TESLA_A100) [CE-A3A2G2]; sizes unconfirmed
#   g2-standard-4, g2-standard-8      1 L4 each [CE-GPUS] (Compute Engine's table, not Vertex's)
#   g2-standard-12/16/24/32/48/96     unconfirmed
#   e2, n2, c2, m1 lists              unconfirmed (an earlier reading cited undated zh-CN copies for the E2 and N2
#                                      lists; the search tool did not return them on 2026-12-07)
#   n1 list and every N1 GPU count    unconfirmed (including n1-standard-32: T4 in 2 or 4, the example)
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
# Source: Google Cloud, "Vertex AI locations", https://cloud.google.com/vertex-ai/docs/general/locations, section
# "Available locations" (Vertex AI regions; training is offered in these, some features in fewer). Read 2026-12-07
# through the stored copies the search tool holds; each stops partway through the list:
#   [LOC-JA]    https://docs.cloud.google.com/vertex-ai/docs/general/locations?hl=ja (current; stops in "Canada")
#   [LOC-ZH]    https://cloud.google.com/vertex-ai/docs/general/locations?hl=zh-cn (older; stops in "Europe")
#   [GENAI-LOC] "Generative AI on Vertex AI locations", https://cloud.google.com/vertex-ai/docs/generative-ai/learn/locations?authuser=4
#               (a different page: Vertex AI's generative AI regions, not its training list)
# Per region:
#   us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4     [LOC-JA]
#   northamerica-northeast1 northamerica-northeast2 southamerica-east1                        [LOC-ZH]
#   europe-west1 europe-west2 europe-west4                                                    [LOC-ZH]
#   europe-central2 europe-north1 europe-southwest1 europe-west3 europe-west6 europe-west8 europe-west9
#   me-central1 me-central2 me-west1 asia-east1 asia-east2 asia-northeast1 asia-northeast3 asia-south1
#   asia-southeast1 australia-southeast1            only [GENAI-LOC]: unconfirmed for training
#   southamerica-west1 europe-west12 africa-south1 asia-northeast2 asia-southeast2 australia-southeast2
#                                                   unconfirmed by any stored copy
# A region missing here is only warned about (core/vertex_catalog.unlisted), so this list never refuses one.
REGIONS = (
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
    "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
    "europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west12", "me-central1", "me-central2",
    "me-west1", "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
    "asia-south1", "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2",
)
