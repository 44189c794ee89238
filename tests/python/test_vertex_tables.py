"""Google's tables (core/vertex_tables.py) against the client library they are sent through.

The tables are read from Google's pages by hand and age; these checks keep them consistent with what
google-cloud-aiplatform can encode and with the shape validate_machine relies on, and pin the rows the stored
copies of Google's pages confirmed (see the comments in vertex_tables.py)."""
from __future__ import annotations

import pytest
from google.cloud.aiplatform_v1.types import AcceleratorType

from containerjob.core.errors import SpecError
from containerjob.core.vertex_catalog import validate_machine
from containerjob.core.vertex_tables import GPU_OPTIONAL, MACHINES, REGIONS


def test_every_accelerator_in_the_table_is_a_member_of_the_client_librarys_enum():
    members = {member.name for member in AcceleratorType}
    named = {gpu for row in MACHINES.values() for gpu in row}
    assert named - members == set()  # a name the library lacks could never be sent: a typo in the table


def test_bundled_machines_name_exactly_one_gpu_in_one_count():
    """validate_machine unpacks a bundled row as one (gpu, (count,)); a row of another shape would crash it."""
    for machine, row in MACHINES.items():
        if machine.split("-")[0] in GPU_OPTIONAL or not row:
            continue
        [(_, counts)] = row.items()
        assert len(counts) == 1 and counts[0] >= 1, machine


def test_table_names_are_unique_and_well_formed():
    assert len(REGIONS) == len(set(REGIONS))
    for counts in (c for row in MACHINES.values() for c in row.values()):
        assert list(counts) == sorted(set(counts)) and counts[0] >= 1


@pytest.mark.parametrize("machine, gpu, count", [  # the rows a stored copy confirmed (vertex_tables.py names each)
    ("a4-highgpu-8g", "NVIDIA_B200", 8), ("a3-ultragpu-8g", "NVIDIA_H200_141GB", 8),
    ("a3-megagpu-8g", "NVIDIA_H100_MEGA_80GB", 8), ("a3-highgpu-8g", "NVIDIA_H100_80GB", 8),
    ("g2-standard-4", "NVIDIA_L4", 1), ("g2-standard-8", "NVIDIA_L4", 1),
])
def test_confirmed_bundled_rows(machine, gpu, count):
    validate_machine(machine, gpu, count)
    with pytest.raises(SpecError, match=f"comes with {count} x {gpu}: use --accelerator {gpu}:{count}"):
        validate_machine(machine, gpu, count + 1)


def test_regions_the_stored_copies_confirm_are_listed():
    confirmed = ("us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4 "
                 "northamerica-northeast1 northamerica-northeast2 southamerica-east1 europe-west1 europe-west2 "
                 "europe-west4").split()
    assert set(confirmed) <= set(REGIONS)
