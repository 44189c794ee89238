"""Job and schedule records in SQLite, shared by kernel, server, CLI and scheduler; WAL mode so concurrent
writers are safe."""
from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from .errors import AlreadyRecorded, IdTaken, JobNotFound, SpecError
from .models import FINAL_STATES, JOB_ID_RE, JobRecord, JobStatus

# Version 0: the tables as first released (no user_version set). Each migration takes the store from
# version i to i + 1; SCHEMA_VERSION is what this code writes, PRAGMA user_version what a store has.
_TABLES = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL,
        spec TEXT NOT NULL, image TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL,
        finished_at REAL, exit_code INTEGER, message TEXT NOT NULL, backend_ref TEXT NOT NULL,
        job_dir TEXT NOT NULL, origin TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at)",
    "CREATE TABLE IF NOT EXISTS schedules (id TEXT PRIMARY KEY, data TEXT NOT NULL, next_run_at REAL, "
    "created_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS images (image_id TEXT PRIMARY KEY, info TEXT NOT NULL, probed_at REAL NOT NULL)",
)
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: every watcher pass lists the unfinished jobs; by status, not by scanning all of them
    ("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status)",),
    # 1 -> 2: one record per backend resource (two schedulers could import the same Vertex run twice): the
    # first record of each such twin is kept, the later ones go (their job folders stay, unlisted), and a
    # unique key keeps it that way; an empty backend_ref (not started yet) is no resource
    ("DELETE FROM jobs WHERE backend_ref != '' AND rowid NOT IN "
     "(SELECT MIN(rowid) FROM jobs WHERE backend_ref != '' GROUP BY backend, backend_ref)",
     "CREATE UNIQUE INDEX IF NOT EXISTS jobs_backend_ref ON jobs (backend, backend_ref) WHERE backend_ref != ''"),
)
SCHEMA_VERSION = len(_MIGRATIONS)
BUSY_TIMEOUT_S = 30.0
_COLUMNS = ("id", "name", "backend", "status", "spec", "image", "created_at", "started_at", "finished_at",
            "exit_code", "message", "backend_ref", "job_dir", "origin")
_FINAL = tuple(s.value for s in FINAL_STATES)
_ACTIVE = tuple(s.value for s in JobStatus if s not in FINAL_STATES)


class Store:
    """Thin, typed access to the records; every write is one short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._version() != SCHEMA_VERSION:
                self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise SpecError(f"cannot open the job store {self.path} ({exc}); set CONTAINERJOB_HOME to a "
                            "writable directory") from None

    def _version(self) -> int:
        """The store's schema version; one newer than this code knows is refused, never guessed at."""
        found: int = self._conn().execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise SpecError(f"the job store {self.path} has schema version {found}, but this containerjob "
                            f"knows versions up to {SCHEMA_VERSION}: a newer containerjob wrote it. Upgrade "
                            "containerjob, or set CONTAINERJOB_HOME to another directory for a separate store")
        return found

    def _migrate(self) -> None:
        """Create or upgrade the tables in one transaction: a failure leaves the store as it was, and of two
        processes opening an old store at once the second finds it migrated."""
        with self._tx() as db:
            version = self._version()
            if version == 0:
                for statement in _TABLES:
                    db.execute(statement)
            for step in _MIGRATIONS[version:]:
                for statement in step:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # also after a failed COMMIT, which SQLite may leave open
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):  # disk full, read-only, locked past the timeout
                raise SpecError(f"cannot write the job store {self.path} ({exc}); free space there or set "
                                "CONTAINERJOB_HOME to a writable directory with room") from None
            raise

    def add(self, record: JobRecord) -> None:
        """Insert a new record; AlreadyRecorded when another one already holds its backend_ref, IdTaken when
        one holds its ID (the caller picks another)."""
        row = _to_row(record)
        try:
            with self._tx() as db:
                db.execute(f"INSERT INTO jobs ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})", row)
        except sqlite3.IntegrityError:
            holder = self._holder(record.backend, record.backend_ref)
            if holder is not None and holder != record.id:
                raise AlreadyRecorded(f"job {holder} already records {record.backend} {record.backend_ref}; "
                                      f"{record.id} was not added") from None
            if self._conn().execute("SELECT 1 FROM jobs WHERE id = ?", (record.id,)).fetchone():
                raise IdTaken(f"job ID {record.id} is taken by another job; leave the ID out to get a new one") from None
            raise

    def _holder(self, backend: str, backend_ref: str) -> str | None:
        """The ID of the record holding that backend resource, if any."""
        if not backend_ref:
            return None
        row = self._conn().execute("SELECT id FROM jobs WHERE backend = ? AND backend_ref = ?",
                                   (backend, backend_ref)).fetchone()
        return row[0] if row else None

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Apply changes unless the job is already final; a final state never changes again."""
        if "status" in changes:
            changes["status"] = JobStatus(changes["status"]).value
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND status NOT IN ({','.join('?' * len(_FINAL))})",
                (*changes.values(), job_id, *_FINAL),
            )
        return self.get(job_id)

    def transition(self, job_id: str, expected: tuple[JobStatus, ...], *, unsubmitted: bool = False,
                   **changes: Any) -> bool:
        """Compare-and-set: apply changes only while the job is in one of the expected states (and, with
        `unsubmitted`, has no backend reference yet)."""
        if "status" in changes:
            changes["status"] = JobStatus(changes["status"]).value
        sets = ", ".join(f"{k} = ?" for k in changes)
        extra = " AND backend_ref = ''" if unsubmitted else ""
        with self._tx() as db:
            cursor = db.execute(f"UPDATE jobs SET {sets} WHERE id = ? AND status IN ({','.join('?' * len(expected))})"
                                f"{extra}", (*changes.values(), job_id, *(s.value for s in expected)))
        return cursor.rowcount == 1

    def get(self, job_id: str) -> JobRecord:
        if not JOB_ID_RE.match(job_id or ""):
            raise JobNotFound(f"{job_id!r} is not a job ID (they look like cj-1a2b3c4d5e6f7a8b); see `containerjob list`")
        row = self._conn().execute(f"SELECT {','.join(_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id}; see `containerjob list` for the jobs this machine knows")
        return _from_row(row)

    def find(self, prefix: str) -> JobRecord:
        """A job by ID or unique ID prefix (at least 4 characters after `cj-`); a whole ID is never ambiguous,
        even an old 8-digit one that begins a newer ID."""
        if not prefix or len(prefix.removeprefix("cj-")) < 4 or not all(c in "cj-0123456789abcdef" for c in prefix):
            raise JobNotFound(f"{prefix!r} is not a job ID (they look like cj-1a2b3c4d5e6f7a8b); see `containerjob list`")
        full = prefix if prefix.startswith("cj-") else f"cj-{prefix}"
        if JOB_ID_RE.match(full):
            try:
                return self.get(full)
            except JobNotFound:
                pass
        rows = self._conn().execute(
            f"SELECT {','.join(_COLUMNS)} FROM jobs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (full.replace("_", "\\_") + "%",)
        ).fetchall()
        if not rows:
            raise JobNotFound(f"no job {prefix}; see `containerjob list` for the jobs this machine knows")
        if len(rows) > 1:
            raise SpecError(f"{prefix!r} matches several jobs; give more of the ID")
        return _from_row(rows[0])

    def list(self, *, limit: int = 50, offset: int = 0, status: str | None = None,
             backend: str | None = None, active_only: bool = False, origin: str | None = None,
             labels: Mapping[str, str] | None = None) -> list[JobRecord]:
        where: list[str] = []
        args: list[Any] = []
        for key, value in (labels or {}).items():
            if not key or '"' in key or "\\" in key:
                raise SpecError(f"label key {key!r} cannot be searched for: label keys have no quotes or backslashes")
            where.append("json_extract(spec, ?) = ?")
            args.extend((f'$.labels."{key}"', value))
        if origin:
            where.append("origin = ?")
            args.append(origin)
        if status:
            try:
                args.append(JobStatus(status.upper()).value)
            except ValueError:
                raise SpecError(f"status {status!r} is not one of {', '.join(s.value for s in JobStatus)}") from None
            where.append("status = ?")
        if backend:
            where.append("backend = ?")
            args.append(backend)
        if active_only:
            where.append(f"status IN ({','.join('?' * len(_ACTIVE))})")
            args.extend(_ACTIVE)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._conn().execute(
            f"SELECT {','.join(_COLUMNS)} FROM jobs {clause} ORDER BY created_at DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [_from_row(r) for r in rows]

    def delete(self, job_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # -- schedules: the record is JSON; next_run_at is a column so firing can compare-and-set on it -------
    def add_schedule(self, data: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO schedules VALUES (?, ?, ?, ?)",
                       (data["id"], json.dumps(data), data.get("next_run_at"), data["created_at"]))

    def get_schedule(self, schedule_id: str) -> dict[str, Any]:
        row = self._conn().execute("SELECT data FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no schedule {schedule_id!r}; see `containerjob schedule list`")
        data: dict[str, Any] = json.loads(row[0])
        return data

    def list_schedules(self) -> builtins.list[dict[str, Any]]:  # `list` here is Store.list
        rows = self._conn().execute("SELECT data FROM schedules ORDER BY created_at").fetchall()
        return [json.loads(r[0]) for r in rows]

    def save_schedule(self, data: dict[str, Any], *, expect_next: float | None | bool = False) -> bool:
        """Write the record; with expect_next, only while next_run_at still has that value (the firing claim:
        of two schedulers that saw the same due run, exactly one wins)."""
        where, args = "id = ?", [data["id"]]
        if expect_next is not False:
            where += " AND next_run_at IS ?"
            args.append(expect_next)
        with self._tx() as db:
            cursor = db.execute(f"UPDATE schedules SET data = ?, next_run_at = ? WHERE {where}",
                                (json.dumps(data), data.get("next_run_at"), *args))
        return cursor.rowcount == 1

    def delete_schedule(self, schedule_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))

    def image_info(self, image_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT info FROM images WHERE image_id = ?", (image_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_image_info(self, image_id: str, info: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO images VALUES (?, ?, ?)", (image_id, json.dumps(info), time.time()))


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switching a new file to WAL needs a lock SQLite does not wait for (several processes or threads opening
    a new store at once get "database is locked"): retry until one of them has switched it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _to_row(record: JobRecord) -> tuple[Any, ...]:
    data = record.to_dict()
    data["spec"] = json.dumps(data["spec"])
    return tuple(data[c] for c in _COLUMNS)


def _from_row(row: tuple[Any, ...]) -> JobRecord:
    data = dict(zip(_COLUMNS, row))
    data["spec"] = json.loads(data["spec"])
    data["status"] = JobStatus(data["status"])
    return JobRecord(**data)
