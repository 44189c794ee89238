"""What Vertex AI accepts, checked before anything is sent, by the published sources rather than our own reading.

Accelerator names come from the client library's enum (aiplatform_v1.AcceleratorType); machine types, the GPUs that
fit each and regions come from Google's tables (core/vertex_tables.py, cited there). A malformed value is refused;
a combination a table rules out, in a family it lists, is refused naming what is allowed; a well-formed value no
table here knows is sent as given with a one-line warning (`unlisted`), and Vertex AI itself answers.

The enum lives in google.cloud.aiplatform_v1, which takes seconds to import: it is imported only when an
accelerator is checked for a Vertex AI or Executor job, never on a local job's path.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Iterable

from .errors import SpecError
from .models import JobSpec
from .vertex_tables import GPU_OPTIONAL, MACHINES, REGIONS, GpuRow

_REGION = re.compile(r"[a-z]+(-[a-z]+)+\d{1,2}")  # us-central1, northamerica-northeast2
_MACHINE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)+")  # FAMILY-KIND-N: n1-standard-4, a3-ultragpu-8g
_ACCELERATOR = re.compile(r"[A-Z][A-Z0-9_]*")  # the enum's names: NVIDIA_TESLA_T4, TPU_V5_LITEPOD
_FAMILIES = frozenset(name.split("-")[0] for name in MACHINES)
_SENT = "sent as given, Vertex AI answers"


def validate_region(region: str) -> str:
    """A malformed region is refused; a well-formed one the locations list lacks passes (see `unlisted`)."""
    if not _REGION.fullmatch(region):
        raise SpecError(f"--region {region!r} is not a region name: give one like us-central1 or europe-west4 "
                        "(Vertex AI's regions: https://cloud.google.com/vertex-ai/docs/general/locations)", field="region")
    return region


def parse_accelerator(value: str | None) -> tuple[str | None, int]:
    """`NVIDIA_TESLA_T4:2` -> ("NVIDIA_TESLA_T4", 2); a bare type means one. Only the form is checked here (a local
    job's file passes through too); whether Vertex AI knows the name is validate_machine's question."""
    if not value:
        return None, 0
    kind, _, count = value.partition(":")
    kind = kind.strip().upper()
    if not _ACCELERATOR.fullmatch(kind):
        raise SpecError(f"--accelerator {value!r}: the type is a name like NVIDIA_TESLA_T4 (letters, digits and _), "
                        "optionally followed by :COUNT", field="accelerator")
    if kind == "ACCELERATOR_TYPE_UNSPECIFIED":
        raise SpecError("--accelerator ACCELERATOR_TYPE_UNSPECIFIED means no accelerator: leave --accelerator out",
                        field="accelerator")
    try:
        number = int(count) if count else 1
    except ValueError:
        raise SpecError(f"--accelerator {value!r}: the count after ':' must be a number, e.g. NVIDIA_TESLA_T4:2",
                        field="accelerator") from None
    if number < 1:
        raise SpecError(f"--accelerator {value!r}: the count after ':' must be 1 or more", field="accelerator")
    return kind, number


def validate_machine(machine: str, accelerator: str | None, count: int) -> None:
    """Refuses a malformed machine type and what Google's table rules out for a family it lists, naming what is
    allowed. A family the table does not list, or an accelerator the client library does not know, passes."""
    if not _MACHINE.fullmatch(machine):
        raise SpecError(f"--machine-type {machine!r} is not a machine type name: lowercase words joined by '-', "
                        "like n1-standard-4 or a3-highgpu-8g", field="machine_type")
    family = machine.split("-")[0]
    if family not in _FAMILIES:
        return
    if machine not in MACHINES:
        raise SpecError(f"--machine-type {machine} is not among the {family} machine types Vertex AI training offers: "
                        f"{_names(m for m in MACHINES if m.split('-')[0] == family)}", field="machine_type")
    if accelerator and accelerator not in accelerator_types():
        return  # newer than the library, so newer than any table here: Vertex AI answers
    row = MACHINES[machine]
    if family not in GPU_OPTIONAL and row:  # the machine's own GPUs, in its own number
        [(gpu, (need,))] = row.items()
        if (accelerator, count) != (gpu, need):
            raise SpecError(f"--machine-type {machine} comes with {need} x {gpu}: use --accelerator {gpu}:{need}",
                            field="machine_type")
    elif accelerator and accelerator not in row:
        takes = f"takes {_offer(row)}" if row else "takes no accelerator"
        raise SpecError(f"--accelerator {accelerator} does not fit --machine-type {machine}, which {takes}; "
                        f"{_machines_for(accelerator)}", field="accelerator")
    elif accelerator and count not in row[accelerator]:
        raise SpecError(f"--accelerator {accelerator}:{count}: {machine} takes {accelerator} in "
                        f"{_counts(row[accelerator])}: use --accelerator {accelerator}:{row[accelerator][0]}",
                        field="accelerator")


def unlisted(spec: JobSpec) -> list[str]:
    """One warning line per well-formed value no table here knows (region, machine types, accelerators of every
    pool), for the backend to show before it sends them unchanged."""
    lines = []
    if spec.region and spec.region not in REGIONS:
        lines.append(f"region {spec.region} is not in containerjob's copy of Google's Vertex AI locations list: "
                     f"{_SENT}")
    for pool in spec.worker_pools:
        family = pool.machine_type.split("-")[0]
        if family not in _FAMILIES:
            lines.append(f"machine type {pool.machine_type}: the {family} family is not in containerjob's copy of "
                         f"Google's training machine table: {_SENT}")
        if pool.accelerator_type and pool.accelerator_type not in accelerator_types():
            lines.append(f"accelerator {pool.accelerator_type} is not an AcceleratorType of google-cloud-aiplatform "
                         f"{library_version()}: {_SENT} (submitting it needs a library that has it)")
    return list(dict.fromkeys(lines))


def require_sendable(spec: JobSpec) -> None:
    """Before a submit pushes, stages or records anything: the installed client library cannot encode an
    accelerator its enum lacks (from_json refuses it, and ignoring it would drop the GPUs), so that is one error
    naming the fix. Dry runs still show such a job, with its gcloud command."""
    unknown = sorted({p.accelerator_type for p in spec.worker_pools
                      if p.accelerator_type and p.accelerator_type not in accelerator_types()})
    if unknown:
        raise SpecError(f"google-cloud-aiplatform {library_version()} has no AcceleratorType {', '.join(unknown)}, "
                        "so it cannot send this job: if Vertex AI offers it, upgrade the library (pip install -U "
                        "google-cloud-aiplatform) or submit the gcloud command that --dry-run prints")


@functools.cache
def accelerator_types() -> frozenset[str]:
    """The names aiplatform_v1.AcceleratorType has, less ACCELERATOR_TYPE_UNSPECIFIED (no accelerator)."""
    from google.cloud.aiplatform_v1.types import AcceleratorType

    members: Any = AcceleratorType  # a proto-plus enum: iterable, though its stubs say otherwise
    return frozenset(member.name for member in members) - {"ACCELERATOR_TYPE_UNSPECIFIED"}


def library_version() -> str:
    from importlib.metadata import version

    return version("google-cloud-aiplatform")


def _offer(row: GpuRow) -> str:
    return "; ".join(f"{gpu} in {_counts(counts)}" for gpu, counts in row.items())


def _counts(counts: tuple[int, ...]) -> str:
    words = [str(c) for c in counts]
    return f"count {words[0]}" if len(words) == 1 else f"counts {', '.join(words[:-1])} or {words[-1]}"


def _machines_for(accelerator: str) -> str:
    fits = [m for m, row in MACHINES.items() if accelerator in row]
    if not fits:
        return f"no machine type in Google's training table takes {accelerator}"
    return f"{accelerator} fits {_names(fits)}"


def _names(machines: Iterable[str]) -> str:
    """n1-standard-4, n1-standard-8, e2-highmem-2 -> 'n1-standard-{4,8}, e2-highmem-2': a family on one line."""
    groups: dict[str, list[str]] = {}
    for name in machines:
        stem, _, size = name.rpartition("-")
        groups.setdefault(stem, []).append(size)
    return ", ".join(f"{stem}-{sizes[0]}" if len(sizes) == 1 else f"{stem}-{{{','.join(sizes)}}}"
                     for stem, sizes in groups.items())
