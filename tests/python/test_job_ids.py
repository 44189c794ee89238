"""Job IDs do not collide in a lifetime of jobs (64 random bits), and a new one that does anyway (a record or a
folder holds it) is replaced by another, never a database error; IDs of old stores (8 digits) still work."""
from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

import pytest

from cjtest import IMAGE
from containerjob.core.errors import IdTaken, SpecError
from containerjob.core.models import JobRecord, JobStatus, new_job_id
from containerjob.core.spec import RunOptions
from containerjob.core.store import Store
from containerjob.service import JobService


def test_new_ids_carry_64_random_bits():
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(re.fullmatch(r"cj-[0-9a-f]{16}", i) for i in ids)


@pytest.fixture
def first_id_collides(monkeypatch):
    """The stdlib's random source hands new_job_id a fixed value once (any length it asks for), then real
    ones: the ID that value makes, in the old and the new length, is what a test makes taken."""
    real = secrets.token_hex
    handed = []

    def token_hex(nbytes=None):
        if not handed and sys._getframe(1).f_code.co_name == "new_job_id":
            handed.append(nbytes)
            return "ab" * nbytes
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_hex", token_hex)
    return ["cj-" + "ab" * 4, "cj-" + "ab" * 8]


def submit_cell() -> JobRecord:
    """A cell job, run to its end."""
    service = JobService()
    record = service.submit(service.prepare(RunOptions(image=IMAGE), "x = 1", kind="cell", filename="<cell>"))
    return service.follow(record, lambda _text: None)


def test_a_new_id_a_record_holds_is_replaced(cj_home, first_id_collides, labelled):
    store = Store(cj_home / "jobs.db")
    for taken in first_id_collides:
        store.add(JobRecord(id=taken, name="earlier", backend="local", status=JobStatus.SUCCEEDED, spec={},
                            job_dir=str(cj_home / "jobs" / taken)))
    record = submit_cell()
    assert record.id not in first_id_collides and re.fullmatch(r"cj-[0-9a-f]{16}", record.id)
    assert sorted(r.name for r in store.list()) == ["containerjob", "earlier", "earlier"]
    assert not any((cj_home / "jobs" / taken).exists() for taken in first_id_collides)  # none left half-made
    assert record.status is JobStatus.SUCCEEDED and labelled() == []


def test_a_new_id_a_folder_holds_is_replaced_and_the_folder_kept(cj_home, first_id_collides, labelled):
    for taken in first_id_collides:
        (cj_home / "jobs" / taken / "output").mkdir(parents=True)
        (cj_home / "jobs" / taken / "output" / "result.json").write_text("{}")
    record = submit_cell()
    assert record.id not in first_id_collides and Path(record.job_dir).parent == cj_home / "jobs"
    assert all((cj_home / "jobs" / taken / "output" / "result.json").read_text() == "{}" for taken in first_id_collides)
    assert record.status is JobStatus.SUCCEEDED and labelled() == []


def test_a_given_id_that_is_taken_is_refused_by_name(cj_home, labelled):
    earlier = submit_cell()
    service = JobService()
    prepared = service.prepare(RunOptions(image=IMAGE), "x = 2", kind="cell", filename="<cell>")
    with pytest.raises(SpecError, match=f"job ID {earlier.id} is taken .*leave the ID out to get a new one"):
        service.submit(prepared, job_id=earlier.id)
    assert [r.id for r in Store(cj_home / "jobs.db").list()] == [earlier.id]
    assert labelled() == []


def test_the_store_says_an_id_is_taken_and_keeps_old_ids(tmp_path):
    store = Store(tmp_path / "jobs.db")
    store.add(JobRecord(id="cj-0000beef", name="old", backend="local", status=JobStatus.SUCCEEDED, spec={}))
    with pytest.raises(IdTaken, match="job ID cj-0000beef is taken by another job"):
        store.add(JobRecord(id="cj-0000beef", name="new", backend="local", status=JobStatus.QUEUED, spec={}))
    store.add(JobRecord(id="cj-0000beefcafe0001", name="new", backend="local", status=JobStatus.QUEUED, spec={}))
    assert store.find("0000beef").name == "old" and store.find("cj-0000beefc").name == "new"
    with pytest.raises(SpecError, match="matches several jobs"):
        store.find("cj-0000bee")
