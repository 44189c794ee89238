"""The store's schema version (SQLite user_version): old stores are migrated, newer ones refused by name."""
from __future__ import annotations

import sqlite3

import pytest

from containerjob.core.errors import AlreadyRecorded, IdTaken, SpecError
from containerjob.core.models import JobRecord, JobStatus
from containerjob.core.store import SCHEMA_VERSION, Store

# The schema as first released (version 0: no user_version), written here as that code wrote it.
V0_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL,
    spec TEXT NOT NULL, image TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL,
    finished_at REAL, exit_code INTEGER, message TEXT NOT NULL, backend_ref TEXT NOT NULL,
    job_dir TEXT NOT NULL, origin TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY, data TEXT NOT NULL, next_run_at REAL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    image_id TEXT PRIMARY KEY, info TEXT NOT NULL, probed_at REAL NOT NULL
);
INSERT INTO jobs VALUES ('cj-0000beef', 'old', 'local', 'RUNNING',
    '{"worker_pools": [{"image": "python:3.11-slim", "env": {"A": "1"}}], "display_name": "old", "payload": "p1"}',
    'python:3.11-slim', 1700000000.0, 1700000001.0, NULL, NULL, '', 'abc123', '/tmp/cj-0000beef', 'nb.ipynb');
INSERT INTO schedules VALUES ('s-1', '{"id": "s-1"}', 1700000100.0, 1700000000.0);
"""
RUN = "projects/123456789012/locations/us-central1/notebookExecutionJobs/42"


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def indexes(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_fresh_store_gets_the_current_version(tmp_path):
    path = tmp_path / "jobs.db"
    Store(path)
    assert SCHEMA_VERSION >= 1 and user_version(path) == SCHEMA_VERSION
    Store(path)  # reopening changes nothing
    assert user_version(path) == SCHEMA_VERSION


def test_version_0_store_is_migrated_with_its_records_intact(tmp_path):
    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V0_SCHEMA)
    assert user_version(path) == 0 and "jobs_status" not in indexes(path)
    store = Store(path)
    assert user_version(path) == SCHEMA_VERSION and {"jobs_status", "jobs_backend_ref"} <= indexes(path)
    record = store.get("cj-0000beef")
    assert (record.name, record.status, record.origin, record.backend_ref) == \
        ("old", JobStatus.RUNNING, "nb.ipynb", "abc123")
    assert (record.spec.primary.image, record.spec.primary.env, record.spec.payload) == ("python:3.11-slim", {"A": "1"}, "p1")
    assert [r.id for r in store.list(active_only=True)] == ["cj-0000beef"]
    assert store.get_schedule("s-1") == {"id": "s-1"}
    store.add(JobRecord(id="cj-0000cafe", name="new", backend="local", status=JobStatus.SUCCEEDED, spec={}))
    assert [r.id for r in Store(path).list(active_only=True)] == ["cj-0000beef"]


def test_twin_records_of_one_resource_are_merged_then_refused(tmp_path):
    """Version 1 let two schedulers import the same Vertex run twice: migrating keeps the first record of each
    such twin, and from then on a second record of one backend resource is refused naming the first (an empty
    reference, a job not started yet, repeats freely; the same reference under another backend is another
    resource)."""
    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V0_SCHEMA + "CREATE INDEX jobs_status ON jobs (status); PRAGMA user_version = 1;")
        conn.execute("DELETE FROM jobs")
        for job_id, backend, ref in (("cj-00000001", "executor", RUN), ("cj-00000002", "executor", RUN),
                                     ("cj-00000003", "vertex", RUN), ("cj-00000004", "local", ""),
                                     ("cj-00000005", "local", "")):
            conn.execute("INSERT INTO jobs VALUES (?, 'run', ?, 'RUNNING', '{}', 'img', 1700000000.0, NULL, NULL, "
                         "NULL, '', ?, '/tmp/x', '')", (job_id, backend, ref))
    store = Store(path)
    assert user_version(path) == SCHEMA_VERSION and "jobs_backend_ref" in indexes(path)
    assert sorted(r.id for r in store.list()) == ["cj-00000001", "cj-00000003", "cj-00000004", "cj-00000005"]
    with pytest.raises(AlreadyRecorded, match=f"job cj-00000001 already records executor {RUN}; cj-00000006 "):
        store.add(JobRecord(id="cj-00000006", name="again", backend="executor", status=JobStatus.QUEUED, spec={},
                            backend_ref=RUN))
    store.add(JobRecord(id="cj-00000007", name="new", backend="local", status=JobStatus.QUEUED, spec={}))
    with pytest.raises(IdTaken):  # the same ID is no twin: the caller picks another
        store.add(JobRecord(id="cj-00000001", name="new", backend="local", status=JobStatus.QUEUED, spec={}))
    assert len(store.list()) == 5


def test_failed_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    import containerjob.core.store as store_module

    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V0_SCHEMA)
    monkeypatch.setattr(store_module, "_MIGRATIONS", (*store_module._MIGRATIONS[:-1],
                                                      (*store_module._MIGRATIONS[-1], "THIS IS NOT SQL")))
    with pytest.raises(SpecError):
        Store(path)
    assert user_version(path) == 0 and "jobs_status" not in indexes(path)


def test_newer_store_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "jobs.db"
    Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SpecError) as info:
        Store(path)
    message = str(info.value)
    assert str(path) in message and f"version {SCHEMA_VERSION + 1}" in message and str(SCHEMA_VERSION) in message
    assert "Upgrade containerjob" in message and "CONTAINERJOB_HOME" in message
    assert user_version(path) == SCHEMA_VERSION + 1  # left alone
