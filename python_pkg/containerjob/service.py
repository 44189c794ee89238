"""The one entry point the magic, the CLI and the server share: prepare, submit, follow, inspect, clean."""
from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from .backends import Backend, StreamStop, available_backends, backend_class, backend_traits, get_backend
from .backends.lifecycle import JobRun
from .core import kernel_env
from .core.custom_job_file import JobFile, flags_to_every_pool, merged_options, to_custom_job
from .core.errors import BackendUnavailable, ContainerJobError, JobFailed, ResultRefused, SpecError
from .core.gcs_names import Named, mount_named, names_in_source
from .core.job_names import container_name
from .core.job_output import OutputUnreadable
from .core.kernel_env import KernelPins
from .core.models import JobRecord, JobSpec, JobStatus
from .core.options import changed, check_kind
from .core.payload import Payload, build_container_payload, build_payload, human_size
from .core.project import ResolvedProject, resolve_project
from .core.report import inputs_line
from .core.results import JobResult, load_values, read_result, signing_key
from .core.retries import retry_settings
from .core.settings import Settings
from .core.spec import OWN_LABELS, RunOptions, build_spec
from .core.store import Store
from .core.sweep import refuse_in_one_job
from .core.workdir import Workdir


@dataclass
class Prepared:
    """A validated spec with its payload: everything needed to submit or to print a dry run."""

    spec: JobSpec
    payload: Payload
    project: ResolvedProject
    workdir: Workdir | None = None  # a script's folder, shipped with it
    kernel_pins: KernelPins | None = None  # what `--pip kernel` stood for (None: not asked for)

    def describe(self, *, local: bool = False) -> str:
        """What is sent, for the line printed before a run (a local job's says nothing of Google Cloud)."""
        sent = inputs_line(self.payload.inputs) if self.payload.kind == "cell" else ""
        if self.workdir:
            sent = self.workdir.describe(human_size(self.workdir.size))
        added = self.kernel_pins.describe() if self.kernel_pins else ""
        return " · ".join(p for p in (self.project.describe(local=local), sent, added) if p)


@dataclass
class GcReport:
    containers: int = 0
    warm: int = 0  # warm containers waiting for a job (backends/warm.py): not leftovers, counted apart
    payloads: int = 0
    jobs: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # what could not be looked at or removed, and why: one line each

    def describe(self) -> str:
        warm = f" (and {self.warm} warm ones waiting for a job)" if self.warm else ""
        return (f"removed {self.containers} containers{warm}, {self.payloads} payloads, {self.jobs} jobs "
                f"({human_size(self.bytes)})" + "".join(f"\nskipped: {why}" for why in self.skipped))


PAYLOAD_GRACE_S = 3600  # a payload this young may belong to a job another process is still starting


class JobService:
    def __init__(self, settings: Settings | None = None, store: Store | None = None) -> None:
        self.settings = settings or Settings.load()
        self.store = store or Store(self.settings.home_path / "jobs.db")
        self._backends: dict[str, Backend] = {}

    def backend(self, name: str) -> Backend:
        """The backend called `name`, one per service (an unknown name is a SpecError naming the choices)."""
        if name not in self._backends:
            self._backends[name] = get_backend(name, settings=self.settings, store=self.store)
        return self._backends[name]

    def prepare(self, options: RunOptions, source: str, *, kind: str, filename: str,
                namespace: Mapping[str, Any] | None = None, inputs: Iterable[str] = (),
                outputs: Iterable[str] = (), argv: Iterable[str] = (), job_file: JobFile | None = None,
                workdir: Workdir | None = None) -> Prepared:
        """A cell or a Python file (with its folder: `workdir`); `job_file` (a CustomJob file) gives the worker
        pool it runs in."""
        if job_file and job_file.command:
            raise SpecError(f"--config {job_file.path} sets containerSpec.command, which would replace the Python "
                            "file: remove the command from the file, or run the file without the Python file")
        if options.include and workdir is None:
            raise SpecError("--include picks files of a script's folder, and this script travels without one: "
                            "run it as a file (`containerjob run FILE --include PATTERN`), or leave --include out",
                            field="include")
        where = "the cell" if kind == "cell" else filename
        spec, project = self.spec_for(options, kind, job_file, argv, names_in_source(source, where))
        payload = build_payload(source, home=self.settings.home_path, kind=kind, filename=filename,
                                namespace=namespace, inputs=inputs, outputs=outputs,
                                max_bytes=self.settings.max_payload_mb * 1024 * 1024, workdir=workdir)
        sources = [source] if workdir is None else itertools.chain(  # read only for --pip kernel
            [source], ((workdir.root / f).read_text("utf-8", "replace") for f in workdir.files if f.endswith(".py")))
        spec.requirements, pins = kernel_env.resolve(spec.requirements, sources, payload)
        return Prepared(spec, payload, project, workdir, pins)

    def spec_for(self, options: RunOptions, kind: str, job_file: JobFile | None, args: Iterable[str],
                 source_names: Iterable[Named] = ()) -> tuple[JobSpec, ResolvedProject]:
        """A job kind's spec: the CustomJob file under the options, checked for the kind and its backend (an
        unknown backend too) before any payload is written; `args` (else the file's) are containerSpec.args.
        `source_names`: the /gcs names in the job's code, mounted with those of the spec (local jobs)."""
        refuse_in_one_job(options)  # a sweep's jobs come here without its options (core/sweep.py)
        typed, args = changed(options), list(args)
        options, exempt = merged_options(job_file, options) if job_file else (options, frozenset())
        check_kind(options, kind)
        project = resolve_project(options.project, self.settings.project or None)
        spec = self._build_spec(options, project.project, job_file, exempt,
                                args or (job_file.args if job_file else []))
        if job_file and job_file.more_pools:
            flags_to_every_pool(spec, typed, bool(args))
        self._check_kind(spec.backend, kind)
        self._mount_named(spec, source_names)
        return spec, project

    def prepare_script(self, options: RunOptions, path: str | Path, *, workdir: str | None = None,
                       argv: Iterable[str] = (), job_file: JobFile | None = None) -> Prepared:
        """A Python file with its folder (or `workdir`): it runs there, with its own __file__ and siblings."""
        from .core.host_paths import confine
        from .core.workdir import collect

        path = Path(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read {path}: {exc}; give the path of a Python file") from None
        # The folder travels as a copy that leaves containerjob's home out (collect), so only the host's rule
        confine(workdir or path.resolve().parent, "--workdir" if workdir else f"{path.name}'s folder (it travels "
                "with the job)", store_home=None, fix="move the script and what it needs into a project folder, or "
                "give one with --workdir DIR")
        folder = collect(path, workdir, self.settings.max_payload_mb * 1024 * 1024,
                         leave_out=(self.settings.home_path.resolve(),), include=options.include)
        options = dataclasses.replace(options, name=options.name or path.name)
        return self.prepare(options, source, kind="script", filename=path.name, argv=argv, job_file=job_file,
                            workdir=folder)

    def prepare_container(self, options: RunOptions, args: Iterable[str] = (),
                          job_file: JobFile | None = None) -> Prepared:
        """A container job: the image's ENTRYPOINT (or --command) with `args` replacing its CMD, exactly
        Vertex's containerSpec.command/args; no Python is needed in the image. `job_file`: a CustomJob file
        the options override (args given here replace the file's)."""
        from_file = job_file.options if job_file else {}
        args = list(args)
        if not (options.image or options.command or from_file.get("image")):
            raise SpecError("a container job runs an image's own program: name the image (--image, options.image), "
                            "or say what to run in the default image (--command, options.command)")
        if not (options.name or from_file.get("name")):  # the file's name, or the image's and its program
            image = options.image or self.settings.default_image
            named = Path(job_file.path).stem if job_file else container_name(image, options.command, args)
            options = dataclasses.replace(options, name=named)
        spec, project = self.spec_for(options, "container", job_file, args)
        return Prepared(spec, build_container_payload(home=self.settings.home_path), project)

    def prepare_notebook(self, options: RunOptions, path: str | Path,
                         parameters: Mapping[str, Any] | None = None) -> Prepared:
        """A whole notebook: parameters validated against its `parameters` cell and injected with the project."""
        from .core import notebook
        from .core.payload import build_notebook_payload

        check_kind(options, "notebook")
        path = Path(path)
        nb = notebook.read_notebook(path)
        declared = notebook.inspect_parameters(nb)
        values = notebook.validate_parameters(declared, parameters or {}, path.name)
        options = dataclasses.replace(options, name=options.name or path.stem)
        project = resolve_project(options.project, self.settings.project or None)
        spec = self._build_spec(options, project.project)
        self._check_kind(spec.backend, "notebook")
        executed = notebook.parameterize(nb, values, project.project, declared)
        self._mount_named(spec, [n for cell in executed.cells if cell.cell_type == "code"  # the parameters' too
                                 for n in names_in_source(cell.source, path.name)])
        payload = build_notebook_payload(notebook.notebook_bytes(executed), home=self.settings.home_path,
                                         filename=path.name, kernel_name=notebook.kernel_name(nb))
        spec.requirements, pins = kernel_env.resolve(
            spec.requirements, [c.source for c in executed.cells if c.cell_type == "code"], None)
        return Prepared(spec, payload, project, kernel_pins=pins)

    def _check_kind(self, name: str, kind: str) -> None:
        """The backend's capabilities say which job kinds it runs; the error names the backends that do."""
        backend = self.backend(name)
        if kind in backend.capabilities["kinds"]:
            return
        words = {"cell": "cells", "script": "scripts", "notebook": "whole notebooks", "container": "container jobs"}
        takes = [n for n in available_backends() if kind in _kinds(n)]
        raise SpecError(f"{backend.label} runs {' and '.join(words.get(k, k) for k in backend.capabilities['kinds'])} "
                        f"only, not {words.get(kind, kind)}: use --backend {' or '.join(takes)}", field="backend")

    def _mount_named(self, spec: JobSpec, source_names: Iterable[Named]) -> None:
        """The buckets a job names, mounted at /gcs where its backend does not mount every bucket itself."""
        if not self.backend(spec.backend).traits.mounts_buckets:
            mount_named(spec, source_names)

    def export(self, job_id: str) -> tuple[dict[str, Any], list[str]]:
        """A container job as the CustomJob file that runs it again (`run --config`, gcloud), with notes on
        what the file leaves out. Python jobs are refused: their code travels in a payload, not an image."""
        record = self.store.find(job_id)
        if record.spec.kind != "container":
            what = record.spec.kind or "Python"
            raise SpecError(f"job {record.id} ran a {what} job, whose code travels beside the image, not in it: "
                            "export takes container jobs (run --image/--command/--config); rerun the "
                            f"{what} itself, or --dry-run it with --backend vertex to see its CustomJob")
        job, notes = to_custom_job(record.spec)
        job["labels"] = {k: v for k, v in job["labels"].items() if k not in OWN_LABELS}  # set anew on each run
        return job, notes

    def notebook_parameters(self, path: str | Path) -> list[dict[str, Any]]:
        from .core import notebook

        return [p.to_dict() for p in notebook.inspect_parameters(notebook.read_notebook(path))]

    def outputs(self, job_id: str) -> list[dict[str, Any]]:
        """Files kept for a job (executed notebook, files written to its output folder, logs), newest first."""
        from .core.job_files import list_files

        return list_files(Path(self.store.find(job_id).job_dir))

    def output_file(self, job_id: str, relpath: str) -> Path:
        from .core.job_files import resolve_file

        return resolve_file(Path(self.store.find(job_id).job_dir), relpath)

    def _build_spec(self, options: RunOptions, project: str | None, job_file: JobFile | None = None,
                    exempt: frozenset[str] = frozenset(), args: list[str] | None = None) -> JobSpec:
        spec = build_spec(options, default_image=self.settings.default_image,
                          default_backend=self.settings.default_backend, project=project,
                          region=self.settings.region, staging_bucket=self.settings.staging_bucket or None,
                          service_account=self.settings.service_account or None,
                          image_repo=self.settings.image_repo or None,
                          from_file=exempt, args=args or [], store_home=self.settings.home_path,
                          traits_of=backend_traits)
        if job_file:
            spec.network = job_file.network
            spec.restart_job_on_worker_restart = job_file.restart_job_on_worker_restart
            spec.primary.boot_disk_size_gb = job_file.boot_disk_gb or spec.primary.boot_disk_size_gb
            if job_file.more_pools and len(spec.worker_pools) > 1:
                raise SpecError(f"--replicas and the worker pools of --config {job_file.path} both say how many "
                                "replicas run: keep one", field="replicas")
            spec.worker_pools += [dataclasses.replace(p, env=dict(p.env)) for p in job_file.more_pools]
        return spec

    def dry_run(self, prepared: Prepared, *, origin: str = "") -> dict[str, Any]:
        """The exact request, after the same offline checks a submit makes (no None in what it prints)."""
        backend = self.backend(prepared.spec.backend)
        backend.validate(prepared.spec, prepared.payload)
        described = backend.describe(prepared.spec, prepared.payload, "cj-00000000", origin)
        return {**described, **retry_settings(prepared.spec)}  # containerjob's own, beside the request

    def submit(self, prepared: Prepared, *, origin: str = "", notify: Callable[[str], None] | None = None,
               job_id: str | None = None, on_created: Callable[[JobRecord], None] | None = None) -> JobRecord:
        """Record and start the job (`on_created`: see Backend.submit)."""
        return self.backend(prepared.spec.backend).submit(prepared.spec, prepared.payload, origin=origin,
                                                         notify=notify, job_id=job_id, on_created=on_created)

    def run(self, record: JobRecord) -> JobRun:
        """The job as its caller follows, interrupts, cancels or times it (backends/lifecycle.py)."""
        return JobRun(self.backend(record.backend), record)

    def follow(self, record: JobRecord, on_output: Callable[[str], None], *,
               detach_on_interrupt: bool = False) -> JobRecord:
        """Stream the job to its end; an interrupt cancels it, or leaves it running with `detach_on_interrupt`."""
        return self.run(record).follow(on_output, on_interrupt=JobRun.detach if detach_on_interrupt else None)

    def result(self, record: JobRecord, *, key: bytes | None = None) -> JobResult:
        """The job's JSON results: what the CLI, the server and finalisation may read. Results its
        finalisation could not read failed the job, with a note saying why: nothing more comes back then."""
        try:
            return read_result(Path(record.job_dir) / "output", key=key, job_id=record.id)
        except (OutputUnreadable, ResultRefused):
            if record.status.is_final and record.status is not JobStatus.SUCCEEDED:
                return JobResult()  # the record's message carries the note (raise_for_failure says it)
            raise

    def values(self, record: JobRecord) -> JobResult:
        """The results with their values unpickled: for the kernel that asked for them, and no one else.
        Results that came back through shared storage must carry the job's signature before any is read."""
        signed = self.backend(record.backend).signs_results
        result = self.result(record, key=signing_key(self.settings.home_path, record.id) if signed else None)
        load_values(result, Path(record.job_dir) / "output")
        return result

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

    def wait(self, job_ids: Iterable[str], *, timeout_s: float | None = None,
             on_end: Callable[[JobRecord], None] | None = None) -> list[JobRecord]:
        """Block until every job has ended (or `timeout_s` passed: those still running come back as they are),
        looking at each the way `status` does; `on_end` hears of each as it ends. Unknown IDs fail at once."""
        records = {r.id: r for r in (self.store.find(job_id) for job_id in job_ids)}
        deadline = time.monotonic() + timeout_s if timeout_s is not None else None
        delay = 0.5
        while True:
            for job_id, record in records.items():
                if not record.status.is_final:
                    records[job_id] = record = self.backend(record.backend).refresh(record)
                    if record.status.is_final and on_end:
                        on_end(record)
            if all(r.status.is_final for r in records.values()):
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())) if deadline is not None else delay)
            delay = min(delay * 1.5, 5.0)
        return list(records.values())

    def logs(self, job_id: str, *, follow: bool = False, stop: StreamStop | None = None) -> Iterator[str]:
        """The job's log as it arrives; setting `stop` ends the stream (its reader went away)."""
        record = self.store.find(job_id)
        return self.backend(record.backend).stream_logs(record, follow=follow, stop=stop)

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel once: a job already ended, or being cancelled by another caller, is not stopped again."""
        return self.run(self.store.find(job_id)).cancel()

    def delete(self, job_id: str) -> None:
        """Cancel the job if it still runs, then remove its record, logs and outputs (by full ID only)."""
        record = self.store.get(job_id)
        self.backend(record.backend).delete(record)

    def sync(self, job_id: str) -> str:
        """Retry the upload of a finished job's sync-mode stage (after a network failure or a fixed conflict)."""
        from .mounts.job_mounts import JobMounts

        record = self.get(job_id)
        if not record.status.is_final:
            raise SpecError(f"job {record.id} is still {record.status.value}; its stage is uploaded when it ends")
        return JobMounts(Path(record.job_dir)).upload()

    def warm_line(self) -> str:
        """The warm containers waiting for a job (backends/warm.py), for `containerjob list --all`."""
        try:
            waiting = [c for name in available_backends() for c in self.backend(name).warm_waiting()]
        except BackendUnavailable as exc:
            return f"warm containers: not checked: {exc}"
        return f"warm containers waiting for a job: {len(waiting)}" + "".join(f"\n  {w}" for w in waiting)

    def gc(self, *, older_than_days: float | None = None) -> GcReport:
        """Remove leftover containers of finished jobs, payloads no job refers to and, when asked,
        finished jobs older than N days (with their records, logs and outputs). Without a Docker engine
        (a Vertex-only machine) everything but the containers is still cleaned, and the report says so."""
        if older_than_days is not None and older_than_days < 0:
            raise SpecError(f"--older-than {older_than_days} must be 0 or more days")
        report = GcReport()
        unchecked: dict[str, str] = {}  # backend -> why what it left on this machine could not be looked at
        for name in available_backends():
            try:
                report.containers += self.backend(name).cleanup(stopped_only=False)
                report.warm += self.backend(name).remove_warm()
            except BackendUnavailable as exc:  # one broken plugin, or no engine: clean what can be cleaned
                unchecked[name] = str(exc)
        known = {r.id: r for r in self.store.list(limit=1_000_000)}
        freed: set[str] = set()
        removed: dict[str, int] = {}  # backend -> jobs removed
        if older_than_days is not None:
            cutoff = time.time() - older_than_days * 86400
            for record in list(known.values()):
                if record.status.is_final and (record.finished_at or record.created_at) < cutoff:
                    size = _du(Path(record.job_dir))
                    try:
                        self.backend(record.backend).delete(record)
                    except ContainerJobError as exc:  # kept, and said why; the other jobs still go
                        report.skipped.append(f"job {record.id} kept: {exc}")
                        continue
                    report.bytes += size
                    known.pop(record.id)
                    freed.add(record.spec.payload)
                    removed[record.backend] = removed.get(record.backend, 0) + 1
                    report.jobs += 1
        report.skipped += [_unchecked(name, why, removed.get(name, 0)) for name, why in unchecked.items()]
        in_use = {r.spec.payload for r in known.values()}
        payloads = self.settings.home_path / "payloads"
        if payloads.is_dir():
            for path in payloads.iterdir():
                unclaimed = time.time() - path.stat().st_mtime > PAYLOAD_GRACE_S or path.name in freed
                if path.name not in in_use and unclaimed:
                    report.bytes += _du(path)
                    shutil.rmtree(path, ignore_errors=True)
                    report.payloads += 1
        return report


def _unchecked(backend: str, why: str, jobs_removed: int) -> str:
    """One line for a backend whose leftovers gc could not look at: why, and that a later gc finishes the job."""
    later = (f"; if the {jobs_removed} {backend} jobs removed now left containers, the next `containerjob gc` "
             "that reaches the engine removes them") if jobs_removed else ""
    return f"{backend} containers not checked: {why}{later}"


def _du(path: Path) -> int:
    """Bytes under `path` on its own filesystem, links not followed: a job's FUSE mount is a whole bucket, not
    space the job takes here (and walking it could take hours); what cannot be read counts nothing."""
    try:
        top = path.lstat()
    except OSError:
        return 0
    if not stat.S_ISDIR(top.st_mode):
        return top.st_size if stat.S_ISREG(top.st_mode) else 0
    total = 0
    for root, dirs, files in os.walk(path, onerror=lambda _exc: None):
        dirs[:] = [d for d in dirs if _same_device(Path(root, d), top.st_dev)]
        total += sum(_size(Path(root, f)) for f in files)
    return total


def _same_device(path: Path, device: int) -> bool:
    try:
        return path.lstat().st_dev == device
    except OSError:  # a FUSE mount whose tool died answers ENOTCONN
        return False


def _size(path: Path) -> int:
    try:
        info = path.lstat()
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _kinds(name: str) -> list[str]:
    """The job kinds a backend runs; none for a plugin that cannot load (it is named when chosen)."""
    try:
        return backend_class(name).capabilities["kinds"]
    except BackendUnavailable:
        return []
