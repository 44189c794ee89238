"""The SQLite store: concurrent writers from several processes, and final states that never change."""
from __future__ import annotations

import multiprocessing

import pytest

from containerjob.core.errors import SpecError
from containerjob.core.models import JobRecord, JobStatus
from containerjob.core.store import Store


def _writer(path: str, worker: int, count: int) -> None:
    store = Store(path)
    for i in range(count):
        job_id = f"cj-{worker:04x}{i:04x}"
        store.add(JobRecord(id=job_id, name="n", backend="local", status=JobStatus.QUEUED, spec={}))
        store.update(job_id, status=JobStatus.RUNNING)
        store.update(job_id, status=JobStatus.SUCCEEDED, exit_code=0)


def test_concurrent_writers(tmp_path):
    path = str(tmp_path / "jobs.db")
    Store(path)
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, w, 50)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    records = Store(path).list(limit=1000)
    assert len(records) == 200 and {r.status for r in records} == {JobStatus.SUCCEEDED}


def test_final_state_is_final_and_prefix_lookup(tmp_path):
    store = Store(tmp_path / "jobs.db")
    store.add(JobRecord(id="cj-abcdef01", name="n", backend="local", status=JobStatus.RUNNING, spec={"display_name": "a"}))
    store.update("cj-abcdef01", status=JobStatus.CANCELLED)
    assert store.update("cj-abcdef01", status=JobStatus.SUCCEEDED).status is JobStatus.CANCELLED
    assert store.find("cj-abcd").id == "cj-abcdef01" and store.find("abcdef").id == "cj-abcdef01"
    assert store.list(status="cancelled")[0].spec.display_name == "a"


def test_list_by_label(tmp_path):
    """A schedule's run history is the jobs carrying its label; another label value or key is not matched."""
    store = Store(tmp_path / "jobs.db")
    for job_id, labels in [("cj-00000001", {"containerjob-schedule": "cs-aaaaaaaa"}),
                           ("cj-00000002", {"containerjob-schedule": "cs-bbbbbbbb"}),
                           ("cj-00000003", {"team": "cs-aaaaaaaa"}),
                           ("cj-00000004", {}),
                           ("cj-00000005", {"containerjob-schedule": "cs-aaaaaaaa", "team": "ml"})]:
        store.add(JobRecord(id=job_id, name="n", backend="local", status=JobStatus.QUEUED, spec={"labels": labels}))
    found = store.list(labels={"containerjob-schedule": "cs-aaaaaaaa"})
    assert sorted(r.id for r in found) == ["cj-00000001", "cj-00000005"]
    assert [r.id for r in store.list(labels={"containerjob-schedule": "cs-aaaaaaaa", "team": "ml"})] == ["cj-00000005"]
    assert store.list(labels={"containerjob-schedule": "cs-cccccccc"}) == []
    with pytest.raises(SpecError, match="cannot be searched for"):
        store.list(labels={'a"b': "x"})
