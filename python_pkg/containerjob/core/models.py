"""The job model. Field names mirror Vertex AI's CustomJobSpec so one spec runs on every backend."""
from __future__ import annotations

import enum
import re
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .redaction import SecretValue, redact_env

JOB_ID_RE = re.compile(r"^cj-[0-9a-f]{8,32}$")  # 8 digits: IDs written before 64-bit ones


def new_job_id() -> str:
    """Random and path-safe: `cj-` + 16 hex digits. 64 bits, so a store meets a collision after some 4 billion
    jobs, not 65,000 (32 bits met 2 in 100,000); a prefix of 4 or more digits is enough to type."""
    return f"cj-{secrets.token_hex(8)}"


class JobStatus(str, enum.Enum):
    """Lifecycle of a job; the final ones never change again."""

    QUEUED = "QUEUED"  # being started here, or waiting in the backend's queue (Vertex JOB_STATE_QUEUED)
    PENDING = "PENDING"  # the backend is getting it resources (Vertex JOB_STATE_PENDING: machines, image)
    RUNNING = "RUNNING"
    CANCELLING = "CANCELLING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST})


@dataclass
class WorkerPool:
    """One `workerPoolSpecs[]` entry: machine plus `containerSpec`."""

    image: str
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    machine_type: str = "n1-standard-4"
    accelerator_type: str | None = None
    accelerator_count: int = 0  # -1 means every GPU the host has (local only)
    replica_count: int = 1
    boot_disk_size_gb: int = 100
    secret_env: list[str] = field(default_factory=list)  # names in env given with --secret-env: always ***
    gpu_ids: list[str] = field(default_factory=list)  # local only: these host GPUs, not the first N (a sweep's share)

    def __post_init__(self) -> None:
        if self.secret_env:  # the mark travels with the values into every environment made of them
            self.env = {k: SecretValue(v) if k in self.secret_env else v for k, v in self.env.items()}


@dataclass(frozen=True)
class Replica:
    """One replica of a worker pool, named as Vertex names it: workerpool{pool}-{index}."""

    pool: int
    index: int

    @property
    def name(self) -> str:
        return f"workerpool{self.pool}-{self.index}"

    @property
    def is_chief(self) -> bool:
        return self.pool == 0 and self.index == 0


CHIEF = Replica(0, 0)


@dataclass
class Mount:
    """A Cloud Storage prefix seen at /gcs/<bucket>/<prefix> inside the job. `named`: empty for a --mount (its
    prefix is a folder); else where the job named the bucket (core/gcs_names.py), and `prefix` is then the start
    of the object names it names (`in/data.csv`, `out/`), so nothing else of the bucket is downloaded."""

    bucket: str
    prefix: str = ""
    mode: str = "sync"
    named: str = ""

    @property
    def key_prefix(self) -> str:
        """What an object's name starts with to be downloaded in sync mode."""
        if self.named:
            return self.prefix
        return f"{self.prefix}/" if self.prefix else ""


@dataclass(frozen=True)
class Traits:
    """How a backend runs jobs, as the code outside backends/ decides by it (never by a backend's name):
    each backend class declares its own (`Backend.traits`), so a plugin is treated as what it does."""

    runs_locally: bool  # on this machine: watched often, stopped (not left running) on an interrupt, local folders bind
    enforces_timeout: bool  # the backend stops a job at spec.timeout_s itself; else the follower's clock does
    mounts_buckets: bool  # every bucket is at /gcs already; else the spec mounts the buckets a job's code names
    cloud_machines: bool  # Vertex AI machines in a region: --region, the machine type and accelerator are checked


@dataclass
class JobSpec:
    """What to run and where; the same object drives every backend."""

    worker_pools: list[WorkerPool]
    display_name: str = "containerjob"
    backend: str = "local"
    base_output_dir: str | None = None
    service_account: str | None = None
    network: str | None = None
    timeout_s: int | float | None = None  # scheduling.timeout, fractions kept
    labels: dict[str, str] = field(default_factory=dict)
    project: str | None = None
    region: str | None = None
    mounts: list[Mount] = field(default_factory=list)
    staging_bucket: str | None = None  # Vertex: where payloads and results travel
    spot: bool = False  # Vertex scheduling.strategy SPOT
    restart_job_on_worker_restart: bool = False  # a CustomJob file's scheduling.restartJobOnWorkerRestart, sent as is
    requirements: list[str] = field(default_factory=list)  # pip requirements baked into a content-hashed image
    image_repo: str | None = None  # registry path that built or local-only images are pushed to (Vertex)
    upload_on_failure: bool = True  # sync mounts: upload what a failed job wrote
    mount_credentials: bool = False  # local: the host's ADC file, read-only, as GOOGLE_APPLICATION_CREDENTIALS
    runtime_template: str | None = None  # executor: NotebookRuntimeTemplate resource name (else a custom environment)
    retries: int = 0  # --retries: runs again after an end retry_on names, this many times at most (core/retries.py)
    retry_on: list[int] = field(default_factory=list)  # --retry-on: the exit codes that run it again

    @property
    def primary(self) -> WorkerPool:
        return self.worker_pools[0]

    def replicas(self) -> list["Replica"]:
        """Every replica of every pool, the chief (workerpool0-0) first."""
        return [Replica(i, r) for i, pool in enumerate(self.worker_pools) for r in range(pool.replica_count)]

    def to_dict(self, redact: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if redact:
            for pool in data["worker_pools"]:
                pool["env"] = redact_env(pool["env"], pool["secret_env"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobSpec":
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["worker_pools"] = [WorkerPool(**p) for p in data.get("worker_pools", [])]
        kwargs["mounts"] = [Mount(**m) for m in data.get("mounts", [])]
        return cls(**kwargs)


@dataclass
class StoredSpec(JobSpec):
    """The spec as a record keeps it (secret env values redacted), with where its payload and outputs are."""

    payload: str = ""  # the payload directory's name under CONTAINERJOB_HOME/payloads
    output_prefix: str = ""  # executor runs fired by a Vertex schedule: their outputs' prefix in the staging bucket
    kind: str = ""  # cell, script, notebook or container ("" in records written before container jobs)

    @classmethod
    def of(cls, spec: JobSpec, payload: str = "", kind: str = "") -> "StoredSpec":
        return cls.from_dict({**spec.to_dict(redact=True), "payload": payload, "kind": kind})  # type: ignore[return-value]  # from_dict builds cls

    def as_json(self) -> dict[str, Any]:
        """A plain dict, built shallowly (asdict deep-copies: a 1,000-job page would pay for it)."""
        data = dict(vars(self))
        data["worker_pools"] = [dict(vars(p)) for p in self.worker_pools]
        data["mounts"] = [dict(vars(m)) for m in self.mounts]
        return data


@dataclass
class JobRecord:
    """A job as stored: what was asked (spec, redacted) and what happened."""

    id: str
    name: str
    backend: str
    status: JobStatus
    spec: StoredSpec
    image: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    message: str = ""
    backend_ref: str = ""  # container ID, Vertex resource name, ...
    job_dir: str = ""
    origin: str = ""  # notebook path or CLI file that launched it

    def __post_init__(self) -> None:
        if isinstance(self.spec, dict):  # as read from the store or JSON
            self.spec = StoredSpec.from_dict(self.spec)  # type: ignore[assignment]  # from_dict builds cls

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        """Shallow (not deep-copied as by asdict: a 1,000-job page cost 110 ms)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["spec"] = self.spec.as_json()
        data["status"] = self.status.value
        data["duration_s"] = self.duration_s
        return data
