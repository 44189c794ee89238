"""The one entry point the magic, the CLI and the server share: prepare, submit, follow, inspect, clean."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from .errors import JobFailed, SpecError
from .models import JobRecord, JobSpec, JobStatus
from .payload import JobResult, Payload, build_payload, read_result
from .project import ResolvedProject, resolve_project
from .settings import Settings
from .spec import RunOptions, build_spec
from .store import Store


@dataclass
class Prepared:
    """A validated spec with its payload: everything needed to submit or to print a dry run."""

    spec: JobSpec
    payload: Payload
    project: ResolvedProject


@dataclass
class GcReport:
    containers: int = 0
    payloads: int = 0
    jobs: int = 0
    bytes: int = 0


class JobService:
    def __init__(self, settings: Settings | None = None, store: Store | None = None) -> None:
        self.settings = settings or Settings.load()
        self.store = store or Store(self.settings.home_path / "jobs.db")
        self._backends: dict[str, Any] = {}

    def backend(self, name: str):
        if name not in self._backends:
            from ..backends import get_backend

            self._backends[name] = get_backend(name, settings=self.settings, store=self.store)
        return self._backends[name]

    def prepare(self, options: RunOptions, source: str, *, kind: str, filename: str,
                namespace: Mapping[str, Any] | None = None, inputs: Iterable[str] = (),
                outputs: Iterable[str] = (), argv: Iterable[str] = ()) -> Prepared:
        project = resolve_project(options.project, self.settings.project or None)
        spec = build_spec(options, default_image=self.settings.default_image,
                          default_backend=self.settings.default_backend, project=project.project,
                          region=self.settings.region)
        self.backend(spec.backend)  # unknown backend -> SpecError before any payload is written
        payload = build_payload(source, home=self.settings.home_path, kind=kind, filename=filename,
                                namespace=namespace, inputs=inputs, outputs=outputs, argv=argv,
                                max_bytes=self.settings.max_payload_mb * 1024 * 1024)
        return Prepared(spec, payload, project)

    def dry_run(self, prepared: Prepared) -> dict[str, Any]:
        return self.backend(prepared.spec.backend).describe(prepared.spec, prepared.payload, "cj-00000000")

    def submit(self, prepared: Prepared, *, origin: str = "", notify: Callable[[str], None] | None = None,
               job_id: str | None = None) -> JobRecord:
        return self.backend(prepared.spec.backend).submit(prepared.spec, prepared.payload, origin=origin,
                                                         notify=notify, job_id=job_id)

    def follow(self, record: JobRecord, on_output: Callable[[str], None]) -> JobRecord:
        timeout = record.spec.get("timeout_s")
        return self.backend(record.backend).follow(record, on_output, timeout_s=timeout)

    def result(self, record: JobRecord) -> JobResult:
        return read_result(Path(record.job_dir) / "output")

    def raise_for_failure(self, record: JobRecord, result: JobResult) -> None:
        if record.status is not JobStatus.SUCCEEDED:
            raise JobFailed(f"job {record.id} {record.status.value.lower()}: {record.message}", job_id=record.id,
                            exit_code=record.exit_code, remote=result.error)

    # -- inspection and control, by ID ------------------------------------------------------------------
    def get(self, job_id: str, *, refresh: bool = True) -> JobRecord:
        record = self.store.find(job_id)
        return self.backend(record.backend).refresh(record) if refresh else record

    def list(self, *, refresh: bool = True, **filters: Any) -> list[JobRecord]:
        records = self.store.list(**filters)
        if refresh:
            records = [self.backend(r.backend).refresh(r) if not r.status.is_final else r for r in records]
        return records

    def logs(self, job_id: str, *, follow: bool = False) -> Iterator[str]:
        record = self.store.find(job_id)
        return self.backend(record.backend).stream_logs(record, follow=follow)

    def cancel(self, job_id: str) -> JobRecord:
        record = self.store.find(job_id)
        return self.backend(record.backend).cancel(record)

    def sync(self, job_id: str) -> str:
        """Retry the upload of a finished job's sync-mode stage (after a network failure or a fixed conflict)."""
        from ..mounts.job_mounts import JobMounts

        record = self.get(job_id)
        if not record.status.is_final:
            raise SpecError(f"job {record.id} is still {record.status.value}; its stage is uploaded when it ends")
        return JobMounts(Path(record.job_dir)).upload()

    def delete(self, job_id: str) -> None:
        record = self.store.find(job_id)
        self.backend(record.backend).delete(record)

    def gc(self, *, older_than_days: float | None = None) -> GcReport:
        """Remove leftover containers of finished jobs, unused payloads and (optionally) old finished jobs."""
        report = GcReport()
        local = self.backend("local")
        known = {r.id: r for r in self.store.list(limit=1_000_000)}
        for container in local.containers():
            job_id = container.labels.get("containerjob.job")
            record = known.get(job_id) if job_id else None
            if record is None or record.status.is_final or job_id is None:
                container.remove(force=True)
                report.containers += 1
        if older_than_days is not None:
            cutoff = time.time() - older_than_days * 86400
            for record in list(known.values()):
                if record.status.is_final and record.created_at < cutoff:
                    report.bytes += _du(Path(record.job_dir))
                    self.backend(record.backend).delete(record)
                    known.pop(record.id)
                    report.jobs += 1
        active = [r for r in known.values() if not r.status.is_final]
        in_use = {_payload_of(r) for r in active}
        payloads = self.settings.home_path / "payloads"
        if payloads.is_dir():
            for path in payloads.iterdir():
                if path.name not in in_use:
                    report.bytes += _du(path)
                    shutil.rmtree(path, ignore_errors=True)
                    report.payloads += 1
        return report


def _payload_of(record: JobRecord) -> str:
    return str(record.spec.get("payload", ""))


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
