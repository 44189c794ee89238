"""Local Docker engine backend (docker SDK): no image build per run, payload bind-mounted read-only."""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

import docker
import docker.errors
from docker.types import DeviceRequest, Mount

from ..core import replica_states
from ..core.errors import BackendUnavailable, ContainerJobError, JobLost, MountError, SpecError
from ..core.gcs_uri import gcs_path
from ..core.job_files import FINAL_LOG
from ..core.models import CHIEF, JobRecord, JobSpec, JobStatus, Replica, Traits
from ..core.payload import Payload
from ..core.project import adc_file, output_dirs
from ..core.results import OutputUnreadable, failure_text, read_result
from ..core.runtime import STOP_REASON
from ..mounts import fuse
from ..mounts.job_mounts import GCS_ROOT_DIR, JobMounts
from . import gpu, replicas, restarts, warm
from .base import Backend, Capabilities, Notify, Outcome, StreamStop
from .container_config import container_config
from .container_logs import container_text
from .engine import engine_errors, gone_ok, program_errors
from .host_files import make_job_safe
from .leftovers import LABEL_JOB, LABEL_STORE, LABEL_WARM, remove_leftovers, remove_warm
from .local_images import ready_images
from .unsaved import keep_unsaved, not_mounted

TIMEOUT_GRACE_S = 5  # the runner enforces --timeout itself; this catches a runner that could not
EXIT_TIMEOUT = 124
SWEEP_EVERY_S = 60  # leftover containers are rare: look for them at most this often per process
PLACEHOLDER_ID = "cj-0000000000000000"  # a launch key's job: the key leaves the ID out
log = logging.getLogger(__name__)


class LocalBackend(Backend):
    name = "local"
    label = "Local container (Docker)"
    capabilities = Capabilities(kinds=["cell", "script", "notebook", "container"], schedules=True, gpus=False, cancel=True,
                                live_logs=True)  # gpus: see host_capabilities()
    # this machine's engine: the follower times a job, an interrupt stops it, /gcs holds the buckets it names
    traits = Traits(runs_locally=True, enforces_timeout=False, mounts_buckets=False, cloud_machines=False)

    def __init__(self, settings, store, client: docker.DockerClient | None = None) -> None:
        super().__init__(settings, store)
        self._client = client
        self.store_label = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:12]
        self._swept = -SWEEP_EVERY_S  # the first run of a process sweeps
        self._removing: dict[str, threading.Thread] = {}  # container ID -> its removal (released())
        self._local = threading.local()  # the warm container a submit in this thread took (preflight)
        self._warm: warm.WarmPool | None = None

    @property
    def warm_pool(self) -> warm.WarmPool:
        if self._warm is None:
            self._warm = warm.WarmPool(self.settings.home_path / "warm", self.settings.warm_idle_s,
                                       self._create_warm, self._remove_container)
        return self._warm

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            with engine_errors("connect"):
                self._client = docker.from_env(timeout=120)
            if self._client.api.base_url.startswith("http+docker://"):  # a local socket: no proxy can apply,
                self._client.api.trust_env = False  # and requests re-reads the environment for one per call
        return self._client

    def health(self) -> tuple[bool, str]:
        """Ping the engine (its GPU toolkit is checked at submit)."""
        try:
            with engine_errors("ping"):
                self.client.ping()
        except ContainerJobError as exc:
            return False, str(exc)
        return True, "Docker engine reachable"

    def host_capabilities(self) -> Capabilities:
        """GPUs when this host has an NVIDIA driver."""
        return {**super().host_capabilities(), "gpus": gpu.host_cuda_version() is not None}

    # -- preflight ---------------------------------------------------------------------------------
    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        pool = spec.primary
        if spec.base_output_dir and not spec.base_output_dir.startswith("gs://"):
            _check_writable(spec.base_output_dir)
        if time.monotonic() - self._swept > SWEEP_EVERY_S:
            self.cleanup(stopped_only=True)
            self._swept = time.monotonic()
        image = ready_images(self.client, self.store, spec, payload, ca_bundle=self.settings.ca_bundle,
                             labels={LABEL_STORE: self.store_label}, notify=notify)
        if replicas.is_pool_job(spec) and any(p.accelerator_count for p in spec.worker_pools):
            gpu.split_gpus([(r.name, spec.worker_pools[r.pool].accelerator_count) for r in spec.replicas()],
                           gpu.host_gpu_ids())
        if spec.mounts:
            from ..mounts.job_mounts import check_buckets

            check_buckets(spec.mounts, spec.project)
        if spec.mount_credentials and not adc_file():
            raise SpecError("--credentials: no application default credentials on this machine; run "
                            "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS")
        if pool.accelerator_count:
            warning = gpu.driver_warning(pool.image, image.attrs["Config"].get("Env") or [], gpu.host_cuda_version())
            if warning:
                notify("warning: " + warning)
        self._local.image_id, self._local.warm = image.id, None
        if self.settings.warm and warm.eligible(spec, payload):  # the ID create_job gives the job is its
            key = warm.launch_key(self._container(spec, payload, PLACEHOLDER_ID, CHIEF, redact=False))
            self._local.warm = self.warm_pool.take(key, image.id)

    def submit(self, spec: JobSpec, payload: Payload, **kwargs: Any) -> JobRecord:
        """A warm container taken at preflight and not handed the job (a failed create or start) goes."""
        try:
            return super().submit(spec, payload, **kwargs)
        finally:
            untaken = self._local.__dict__.pop("warm", None)
            if untaken is not None:
                self.warm_pool.discard(untaken)

    def create_job(self, make: Callable[[str], JobRecord], job_id: str | None = None) -> JobRecord:
        taken = getattr(self._local, "warm", None)
        return super().create_job(make, job_id or (taken.job_id if taken else None))

    def cleanup(self, *, stopped_only: bool) -> int:
        """Remove what this store's ended jobs left on the engine (leftovers.py); returns how many containers."""
        removed = remove_leftovers(self.client, self.store, self.store_label, stopped_only=stopped_only)
        if stopped_only:  # before a run: warm containers idle or orphaned (gc asks remove_warm for all of them)
            remove_warm(self.client, self.store, self.store_label, self.settings.home_path / "warm", every=False)
        return removed

    def warm_waiting(self) -> list[str]:
        return [f"{c.attrs.get('Image')} ({c.attrs.get('State')}, {c.attrs.get('Status')}; reserved ID "
                f"{(c.attrs.get('Labels') or {}).get(LABEL_JOB)})" for c in self.containers(warm_only=True)]

    def remove_warm(self) -> int:
        """Every warm container of this store that waits for a job (any process's)."""
        return remove_warm(self.client, self.store, self.store_label, self.settings.home_path / "warm", every=True)

    def delete(self, record: JobRecord) -> None:
        """Unmount the job's buckets before its folder goes: a job LOST with its engine keeps its FUSE mounts,
        and removing the folder through one would delete the bucket's objects. A final job needs no engine
        here; a container it left behind goes with the next run or `gc` that reaches the engine."""
        if not record.status.is_final:
            record = self.cancel(record)
        job_dir = Path(record.job_dir).resolve()
        JobMounts(job_dir).release(keep_stage=False)
        held = [point for _, point in fuse.active_mounts() if Path(point).is_relative_to(job_dir)]
        if held:
            raise MountError(f"job {record.id} still has {held[0]} mounted, and removing its folder would delete "
                             f"the bucket's files through it: unmount it (fusermount -u -z {held[0]}), then "
                             "delete the job again")
        super().delete(record)

    def follow(self, record: JobRecord, on_output: Callable[[str], None], **kwargs: Any) -> JobRecord:
        """An engine that stops answering mid-job leaves the job LOST (the engine kills or forgets its
        containers when it stops), never RUNNING for ever; the error says so and how to recover."""
        try:
            return super().follow(record, on_output, **kwargs)
        except JobLost:
            raise  # refresh() already recorded it
        except BackendUnavailable as exc:
            raise self._lost(record, exc) from None

    def _lost(self, record: JobRecord, exc: BackendUnavailable) -> JobLost:
        """Mark the job LOST (whoever notices first: a follower, the server's watcher, a status call)."""
        self._swept = -SWEEP_EVERY_S  # the engine may keep its container: the next run looks at once
        why = "the Docker engine stopped answering while it ran; the next run or `containerjob gc` removes a container it kept"
        JobMounts(Path(record.job_dir)).close_view()
        # the note stop() left for the runner, when the job ended before the runner could read (and remove) it
        (Path(record.job_dir) / "output" / STOP_REASON).unlink(missing_ok=True)
        made_safe = make_job_safe(record.spec, Path(record.job_dir))  # its containers died with the engine
        self.store.transition(record.id, (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING),
                              status=JobStatus.LOST, finished_at=time.time(), message="; ".join(filter(None, (why, made_safe))))
        return JobLost(f"job {record.id} is LOST: {exc}")

    # -- run -----------------------------------------------------------------------------------------
    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "", *,
                 redact: bool = True) -> dict[str, Any]:
        """The container's create call; for several replicas, the job's network and one call per replica."""
        if not replicas.is_pool_job(spec):
            return self._container(spec, payload, job_id, CHIEF, redact=redact)
        return {"network": replicas.network_name(job_id),
                "replicas": [self._container(spec, payload, job_id, r, redact=redact) for r in spec.replicas()]}

    def _container(self, spec: JobSpec, payload: Payload, job_id: str, replica: Replica, *,
                   redact: bool) -> dict[str, Any]:
        return container_config(self.settings, spec, payload, self.job_dir(job_id), job_id, replica,
                                labels={LABEL_JOB: job_id, LABEL_STORE: self.store_label}, redact=redact)

    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        """Low-level API calls only: the model layer re-inspects after each call, which costs ~20 ms each.
        Several replicas: created and started together on the job's network (each waits for its peers' names
        itself, as on Vertex); the chief's ID is returned."""
        pool_job = replicas.is_pool_job(spec)
        taken, image_id = self._local.__dict__.pop("warm", None), getattr(self._local, "image_id", "")
        configs = self.describe(spec, payload, record.id, redact=False)
        configs = configs["replicas"] if pool_job else [configs]
        if pool_job and any(p.accelerator_count for p in spec.worker_pools):
            split = gpu.split_gpus([(r.name, spec.worker_pools[r.pool].accelerator_count) for r in spec.replicas()],
                                   gpu.host_gpu_ids())
            for config in configs:
                ids = split[config["hostname"]]
                config["device_requests"] = [{"device_ids": ids, "capabilities": [["gpu"]]}] if ids else []
        job_mounts = JobMounts(Path(record.job_dir))
        job_mounts.prepare(spec.mounts, project=spec.project, upload_on_failure=spec.upload_on_failure,
                           notify=notify)
        (Path(record.job_dir) / GCS_ROOT_DIR).mkdir(exist_ok=True)
        api = self.client.api
        try:
            if spec.base_output_dir:  # Cloud Storage FUSE shows these implicitly; make them real here
                base = spec.base_output_dir
                host_base = job_mounts.host_path(spec.mounts, gcs_path(base)) if base.startswith("gs://") else base
                for path in output_dirs(host_base).values():
                    os.makedirs(path, exist_ok=True)
            if pool_job:
                replicas.create_network(self.client, record.id, {LABEL_JOB: record.id, LABEL_STORE: self.store_label})
            network = replicas.network_name(record.id) if pool_job else None

            def create_and_start(replica: Replica, config: dict[str, Any]) -> str:
                container_id = self._create(config, spec.worker_pools[replica.pool], payload, network)
                with engine_errors("start the container"), program_errors(spec.worker_pools[replica.pool], payload):
                    api.start(container_id)
                return container_id

            if taken is not None and not (taken.job_id == record.id and
                                          self.warm_pool.hand(taken, configs[0], payload, Path(record.job_dir))):
                self.warm_pool.discard(taken)  # dead or not this job's: its name is the job's, so it goes first
                taken = None
            # Replicas start together (each waits for the others' addresses itself, as on Vertex).
            ids = [taken.container_id] if taken else replicas.each(create_and_start, list(zip(spec.replicas(), configs)))
        except BaseException as exc:
            # By name: an interrupt can land after the engine created one but before we learnt its ID.
            with engine_errors("remove the containers that failed to start"):
                for config in configs:
                    with gone_ok():
                        api.remove_container(config["name"], force=True)
            if pool_job:
                replicas.remove_network(self.client, record.id)
            job_mounts.release(keep_stage=False)
            if gpu.is_gpu_unavailable_error(str(exc)):
                raise BackendUnavailable(gpu.NO_GPU_MESSAGE) from None
            raise
        if self.settings.warm and warm.eligible(spec, payload):  # the next job's container, made meanwhile
            self.warm_pool.replenish(warm.launch_key(configs[0]), configs[0], image_id, job_id=record.id)
        return ids[0]

    def _create_warm(self, config: dict[str, Any]) -> str:
        """Create and start a warm container (warm.py); one that fails to start goes at once."""
        container_id = self._create(config, None, None, None)
        try:
            with engine_errors("start a warm container"):
                self.client.api.start(container_id)
        except BaseException:
            self._remove_container(container_id)
            raise
        return container_id

    def _create(self, config: dict[str, Any], pool, payload: Payload | None, network: str | None) -> str:
        api = self.client.api
        config = dict(config)
        host_config = api.create_host_config(
            mounts=[Mount(m["target"], m["source"], type="bind", read_only=m["read_only"]) for m in config.pop("mounts")],
            device_requests=[DeviceRequest(**d) for d in config.pop("device_requests", [])] or None,
            security_opt=config.pop("security_opt"), cap_drop=config.pop("cap_drop"), pids_limit=config.pop("pids_limit"),
            extra_hosts=config.pop("extra_hosts"),
            network_mode=network,
        )
        networking = (api.create_networking_config({network: api.create_endpoint_config(aliases=[config["hostname"]])})
                      if network else None)
        with engine_errors("create the container"), program_errors(pool, payload) if pool else nullcontext():
            return api.create_container(detach=True, host_config=host_config, networking_config=networking,
                                        **config)["Id"]

    def _inspect(self, ref: str) -> dict[str, Any] | None:
        with engine_errors(f"inspect container {ref}"):
            try:
                return self.client.api.inspect_container(ref)
            except docker.errors.NotFound:
                return None

    def _replica_infos(self, record: JobRecord) -> dict[str, dict[str, Any]]:
        return replicas.replica_infos(self.client, record.id, self.store_label)

    def refresh(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        if record.status is JobStatus.QUEUED:  # still starting in some process; its container may not exist yet
            return self.lose_if_stale(record, "its start never finished (the starting process died)",
                                      lambda: self._inspect(f"containerjob-{record.id}") is not None)
        try:
            pool = self._replica_infos(record) if replicas.is_pool_job(record.spec) else None
            info = pool.get(CHIEF.name) if pool is not None else self._inspect(record.backend_ref)
        except BackendUnavailable as exc:
            raise self._lost(record, exc) from None
        if info is None:
            lost = "its container disappeared (removed outside containerjob)"
            if replicas.is_pool_job(record.spec):  # the other replicas and the network go with it
                return self.stop(record, JobStatus.LOST, f"the chief's {lost}")
            return self.finalise(record, None, JobStatus.LOST, lost)
        if pool is not None:
            self._keep_replica_states(record, pool)
            decided = replicas.verdict({name: i["State"] for name, i in pool.items()})
            if decided.status is not None:  # the first failure, or the chief's success, ends every replica
                if decided.status is JobStatus.FAILED and restarts.restart_job(self, record, pool, log_ref=None):
                    return self.store.get(record.id)  # as Vertex AI restarts a job (restarts.py)
                return self.stop(record, decided.status, decided.message, decided)
        if info["State"]["Status"] in ("created", "running", "restarting", "paused") or pool is not None:
            timeout = record.spec.timeout_s
            if timeout and record.started_at and time.time() > record.started_at + timeout + TIMEOUT_GRACE_S:
                return self.stop(record, JobStatus.FAILED, f"timed out after {timeout} s (--timeout)")
            return self.store.get(record.id)
        if restarts.restart_job(self, record, {CHIEF.name: info}, log_ref=info["Id"]):
            return self.store.get(record.id)
        return self.finalise(record, info)

    def _keep_replica_states(self, record: JobRecord, pool: dict[str, dict[str, Any]]) -> None:
        """Under the job's lock and only while it is unfinished: the final states conclude kept stay."""
        with self.job_lock(record) as current:
            if not current.status.is_final:
                replica_states.keep(Path(record.job_dir), replicas.states(record.spec, pool))

    def stop(self, record: JobRecord, status: JobStatus, message: str,
             decided: replicas.Verdict | None = None) -> JobRecord:
        ref = record.backend_ref or f"containerjob-{record.id}"
        pool_job = replicas.is_pool_job(record.spec)
        refs = [i["Id"] for i in self._replica_infos(record).values()] if pool_job else [ref]

        def stop_one(one: str) -> None:
            with engine_errors(f"stop job {record.id}"):
                try:
                    self.client.api.stop(one, timeout=self.settings.stop_timeout_s)
                except docker.errors.NotFound:
                    pass

        output = Path(record.job_dir) / "output"
        if message and output.is_dir():  # the runner's last line says why it got SIGTERM (a cancel by the user)
            _write_note(output / STOP_REASON, message)
        replicas.each(stop_one, [(one,) for one in refs])
        if pool_job:
            return self.finalise(record, {"replicas": self._replica_infos(record), "verdict": decided},
                                 status if decided is None else None, message)
        return self.finalise(record, self._inspect(ref), status, message)

    def conclude(self, record: JobRecord, info: dict[str, Any] | None, status: JobStatus | None,
                 message: str) -> Outcome:
        """Make the job's files safe before anything reads or uploads them, keep the logs, take the exit code,
        upload and unmount /gcs; the containers go once the final state is written (released(); or gc)."""
        JobMounts(Path(record.job_dir)).close_view()
        made_safe = make_job_safe(record.spec, Path(record.job_dir))
        if info and "replicas" in info:
            return self._conclude_pool(record, info["replicas"], info["verdict"], status, message, made_safe)
        state = info["State"] if info else {}
        exit_code = state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None
        if info:
            with engine_errors(f"keep the logs of job {record.id}"), gone_ok():
                raw = self.client.api.logs(info["Id"], stdout=True, stderr=True)
                with open(os.path.join(record.job_dir, FINAL_LOG), "wb") as fh:
                    # The same text stream_logs yields (and the server's live copy holds), byte for byte.
                    fh.write(raw.decode("utf-8", errors="replace").encode())
        if status is None and record.status is not JobStatus.CANCELLING:
            status, message = _verdict(record, exit_code, state)
        return self._outcome(record, status, message, exit_code, made_safe)

    def _conclude_pool(self, record: JobRecord, infos: dict[str, dict[str, Any]], decided: replicas.Verdict | None,
                       status: JobStatus | None, message: str, made_safe: str) -> Outcome:
        """Several replicas: the merged log (replica names in front) and each replica's own under replicas/;
        the verdict's status and exit code (the failing replica's, named in the message)."""
        replicas.keep_logs(self.client, {name: i["Id"] for name, i in infos.items()}, Path(record.job_dir))
        exit_code = None
        if status is None and decided is not None and record.status is not JobStatus.CANCELLING:
            status, message, exit_code = decided.status, decided.message, decided.exit_code
        blamed = message if status is JobStatus.FAILED else ""  # a cancel blames no replica
        replica_states.keep(Path(record.job_dir), replicas.states(record.spec, infos, blamed))
        return self._outcome(record, status, message, exit_code, made_safe)

    def _outcome(self, record: JobRecord, status: JobStatus | None, message: str, exit_code: int | None, made_safe: str) -> Outcome:
        """What every end shares: a cancel's verdict, restarts and unsaved files kept, /gcs uploaded and unmounted."""
        restarted = restarts.kept(Path(record.job_dir))
        targets = [b.target for b in JobMounts(Path(record.job_dir)).plan(record.spec.mounts)]
        unsaved = keep_unsaved(Path(record.job_dir), targets)
        if status is None:  # only a cancel that reached the job leaves the verdict open here
            status, message = JobStatus.CANCELLED, "cancelled by the user"
        if status is JobStatus.FAILED:
            message = "; ".join(filter(None, (message, not_mounted(Path(record.job_dir), message, record.spec.mounts))))
        try:
            synced = JobMounts(Path(record.job_dir)).finish(succeeded=status is JobStatus.SUCCEEDED)
        except MountError as exc:
            status = JobStatus.FAILED
            synced = f"{exc}; the stage is kept: retry with `containerjob sync {record.id}`"
        return Outcome(status, "; ".join(m for m in (message, restarted, made_safe, synced, unsaved) if m), exit_code)

    def released(self, record: JobRecord, info: dict[str, Any] | None) -> None:
        """A container that ended by itself is removed on a thread of its own: the job's result waits for
        nothing the engine still does (removal is ~10 ms, the tail of every job: bench/overhead.py). Not a
        daemon: a CLI process removes it before it exits; one killed first leaves it to the sweep. A cancel,
        and replicas (their removal runs on a pool, which takes no work once the interpreter is exiting),
        are removed before this returns."""
        if self._warm is not None:
            self._warm.job_ended(record.id)
        if not info:
            return
        if "replicas" in info:
            replicas.each(self._remove, [(record, one["Id"]) for one in info["replicas"].values()])
            replicas.remove_network(self.client, record.id)
        elif record.status is JobStatus.CANCELLED:
            self._remove(record, info["Id"])
        else:
            thread = threading.Thread(target=self._remove_later, args=(record, info["Id"]), name=f"remove-{record.id}")
            self._removing[info["Id"]] = thread
            thread.start()

    def _remove(self, record: JobRecord, container_id: str) -> None:
        with engine_errors(f"remove the container of job {record.id}"):
            self._remove_container(container_id)
        shutil.rmtree(self.settings.home_path / "warm" / record.id, ignore_errors=True)  # a warm start's folders

    def _remove_container(self, ref: str, within_s: float = 15.0) -> None:
        """Remove a warm container and wait until it is gone: its name is the job's, and a job that starts cold
        after it creates a container of that name at once (a removal already under way answers 409 first)."""
        with gone_ok():
            self.client.api.remove_container(ref, force=True)
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                self.client.api.inspect_container(ref)
            except docker.errors.NotFound:
                return
            time.sleep(0.05)

    def _remove_later(self, record: JobRecord, container_id: str) -> None:
        try:
            self._remove(record, container_id)
        except ContainerJobError as exc:  # the job's outcome stands; the next run's sweep or `gc` retries
            log.warning("%s; `containerjob gc` removes it", exc)
        finally:
            self._removing.pop(container_id, None)

    def wait_removed(self, timeout_s: float = 30.0) -> None:
        """Until the removals this process started (released()) are done: then a container still listed by
        containers() was left behind (its removal failed, or nobody removed it)."""
        deadline = time.monotonic() + timeout_s
        for thread in list(self._removing.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def stream_logs(self, record: JobRecord, follow: bool, stop: StreamStop | None = None) -> Iterator[str]:
        """The engine's stream while the container exists; `stop` closes its socket, so a reader that went
        away frees the thread even while the job prints nothing."""
        ref = record.backend_ref or f"containerjob-{record.id}"
        if not record.status.is_final and replicas.is_pool_job(record.spec):
            infos = self._replica_infos(record)
            if infos:
                yield from replicas.merged_logs(self.client, {n: i["Id"] for n, i in sorted(infos.items())}, follow, stop)
                return
        elif not record.status.is_final:
            text = container_text(self.client, ref, follow, stop, f"read the logs of job {record.id}")
            if text is not None:
                yield from text
                return
        yield from self.saved_logs(record)

    def containers(self, *, warm_only: bool = False) -> list:
        """Containers this store's jobs hold (by label), running or not. Not among them: one being removed (the
        engine's "removing", or a removal this process started: wait_removed() waits for those), and a warm
        container still waiting for its job (no record holds its ID): those are listed with `warm_only`.
        Sparse: the list call's own answer, so a container another process removes meanwhile is not a
        NotFound from a follow-up inspect."""
        with engine_errors("list containers"):
            found = self.client.containers.list(
                all=True, sparse=True, filters={"label": f"{LABEL_STORE}={self.store_label}"}
            )
        return [c for c in found if c.attrs.get("State") != "removing" and c.id not in self._removing
                and self._waiting(c.attrs.get("Labels") or {}) == warm_only]

    def _waiting(self, labels: dict[str, str]) -> bool:
        """A warm container no job was handed yet: the job its ID is reserved for has no folder."""
        return LABEL_WARM in labels and not self.job_dir(labels.get(LABEL_JOB, "?")).exists()

    def held_job_ids(self) -> list[str]:
        return sorted({(c.attrs.get("Labels") or {}).get(LABEL_JOB, "?") for c in self.containers()})


def _check_writable(path: str) -> None:
    """--output-dir must be a directory we can create and write, or the job would fail only at start."""
    try:
        os.makedirs(path, exist_ok=True)
        writable = os.access(path, os.W_OK | os.X_OK)
    except OSError as exc:
        raise SpecError(f"--output-dir {path} cannot be created ({exc.strerror}); choose a writable directory") from None
    if not writable:
        raise SpecError(f"--output-dir {path} is not writable; choose a writable directory")


def _verdict(record: JobRecord, exit_code: int | None, state: dict[str, Any]) -> tuple[JobStatus, str]:
    """How a container that ended by itself ended; its runner's results are data: unreadable ones fail it."""
    if exit_code and state.get("OOMKilled"):
        return JobStatus.FAILED, "the container ran out of memory (OOM killed)"
    if exit_code == EXIT_TIMEOUT and record.spec.timeout_s:
        return JobStatus.FAILED, f"timed out after {record.spec.timeout_s} s (--timeout)"
    exited = f"the container exited with code {exit_code}"
    try:  # a container job has no runner: what its image writes to the output folder is its own
        result = read_result(Path(record.job_dir) / "output") if record.spec.kind != "container" else None
    except OutputUnreadable as exc:
        return JobStatus.FAILED, f"{exited}; {exc}"
    if exit_code == 0:
        return JobStatus.SUCCEEDED, ""
    return JobStatus.FAILED, failure_text(result.error) if result and result.error else exited


def _write_note(path: Path, text: str) -> None:
    """Write a file of ours into a folder the job writes too: whatever the job put at `path` (a link to a host
    file, say) is removed, never followed, and the note is made anew."""
    try:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except OSError as exc:  # a folder there, or the job racing us: the log's line is only less precise
        log.warning("containerjob: could not leave the stop reason for %s (%s)", path.parent.parent.name, exc)
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
