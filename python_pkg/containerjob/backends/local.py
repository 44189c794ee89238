"""Local Docker engine backend (docker SDK): no image build per run, payload bind-mounted read-only."""
from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import docker
import docker.errors
import requests.exceptions
from docker.types import DeviceRequest, Mount

from .. import __version__
from ..core.errors import BackendError, BackendUnavailable, MountError, PayloadError, SpecError
from ..core.models import JobRecord, JobSpec, JobStatus, redact_env
from ..core.payload import KERNEL_PYTHON, Payload, read_result
from ..core.gcs_uri import gcs_path
from ..core.project import CONTAINER_ADC_PATH, CONTAINER_CA_PATH, adc_file, job_environment, output_dirs
from ..mounts.job_mounts import JobMounts
from . import gpu
from .base import Backend, Notify

LABEL_JOB = "containerjob.job"
LABEL_STORE = "containerjob.store"
IN_CONTAINER = {"runtime": "/containerjob/runtime", "payload": "/containerjob/payload", "output": "/containerjob/output"}
_PROBE = "import json,sys;print(json.dumps({'python':'%d.%d.%d'%sys.version_info[:3]}))"


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate the SDK's exceptions into ours, once, with the fix in the message."""
    try:
        yield
    except docker.errors.NotFound:
        raise
    except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:
        if isinstance(exc, docker.errors.APIError) and exc.response is not None:
            raise BackendError(f"Docker engine refused to {action}: {exc.explanation or exc}") from None
        raise BackendUnavailable(
            f"cannot reach the Docker engine to {action} ({exc}); start it (dockerd or `systemctl start docker`) "
            "or point DOCKER_HOST at a running engine"
        ) from None


class LocalBackend(Backend):
    name = "local"

    def __init__(self, settings, store, client: docker.DockerClient | None = None) -> None:
        super().__init__(settings, store)
        self._client = client
        self.store_label = hashlib.sha256(str(store.path.resolve()).encode()).hexdigest()[:12]

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            with engine_errors("connect"):
                self._client = docker.from_env(timeout=120)
        return self._client

    # -- preflight ---------------------------------------------------------------------------------
    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        pool = spec.primary
        image = self.ensure_image(pool.image, notify)
        info = self.image_info(image)
        if not info.get("python"):
            raise SpecError(
                f"image {pool.image} has no python3, which containerjob's runner needs: use an image with "
                "Python (e.g. python:3.11-slim) or install python3 in it"
            )
        image_python = ".".join(info["python"].split(".")[:2])
        if payload.code_by_value and image_python != KERNEL_PYTHON:
            raise PayloadError(
                f"the inputs carry functions or classes defined in this kernel (Python {KERNEL_PYTHON}) but image "
                f"{pool.image} runs Python {image_python}, where that pickled code cannot load: use an image with "
                f"Python {KERNEL_PYTHON} or define them inside the cell"
            )
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

    def ensure_image(self, ref: str, notify: Notify):
        with engine_errors(f"look up image {ref}"):
            try:
                return self.client.images.get(ref)
            except docker.errors.ImageNotFound:
                pass
            notify(f"pulling {ref} (not on this machine yet)")
            repo, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "latest")
            try:
                for event in self.client.api.pull(repo, tag=tag or "latest", stream=True, decode=True):
                    if "error" in event:
                        raise BackendError(event["error"])
                    _report_pull(event, notify)
                return self.client.images.get(ref)
            except (docker.errors.APIError, BackendError) as exc:
                raise BackendError(
                    f"image {ref} is not on this machine and pulling it failed ({exc}); build or load it "
                    "locally (docker build / docker import) or choose another with --image"
                ) from None

    def image_info(self, image) -> dict[str, Any]:
        """Python version inside the image, probed once per image ID and cached in the store."""
        cached = self.store.image_info(image.id)
        if cached is not None:
            return cached
        info: dict[str, Any] = {"python": None}
        with engine_errors("probe the image"):
            container = self.client.containers.create(image.id, ["python3", "-c", _PROBE],
                                                      labels={LABEL_STORE: self.store_label})
            try:
                try:
                    container.start()
                    container.wait(timeout=60)
                    info.update(json.loads(container.logs(stderr=False).decode().strip().splitlines()[-1]))
                except (docker.errors.APIError, ValueError, IndexError):
                    pass  # no python3 (exec fails) or unusable output: info["python"] stays None
            finally:
                container.remove(force=True)
        if info["python"]:
            self.store.set_image_info(image.id, info)
        return info

    # -- run -----------------------------------------------------------------------------------------
    def describe(self, spec: JobSpec, payload: Payload, job_id: str, *, redact: bool = True) -> dict[str, Any]:
        pool = spec.primary
        output_dir = self.job_dir(job_id) / "output"
        env = job_environment(spec, job_id, ca_bundle_mounted=bool(self.settings.ca_bundle),
                              pass_proxy=self.settings.pass_proxy)
        env.update({"CONTAINERJOB_PAYLOAD": IN_CONTAINER["payload"], "CONTAINERJOB_OUTPUT": IN_CONTAINER["output"],
                    "CONTAINERJOB_JOB_ID": job_id})
        mounts = [
            {"source": str(payload.runtime), "target": IN_CONTAINER["runtime"], "read_only": True},
            {"source": str(payload.path), "target": IN_CONTAINER["payload"], "read_only": True},
            {"source": str(output_dir), "target": IN_CONTAINER["output"], "read_only": False},
        ]
        if self.settings.ca_bundle:
            mounts.append({"source": self.settings.ca_bundle, "target": CONTAINER_CA_PATH, "read_only": True})
        if spec.base_output_dir and not spec.base_output_dir.startswith("gs://"):
            mounts.append({"source": spec.base_output_dir, "target": spec.base_output_dir, "read_only": False})
        for bind in JobMounts(self.job_dir(job_id)).plan(spec.mounts):
            mounts.append({"source": bind.source, "target": bind.target, "read_only": False})
        if spec.mount_credentials:
            mounts.append({"source": adc_file(), "target": CONTAINER_ADC_PATH, "read_only": True})
            env["GOOGLE_APPLICATION_CREDENTIALS"] = CONTAINER_ADC_PATH
        config: dict[str, Any] = {
            "name": f"containerjob-{job_id}",
            "image": pool.image,
            "command": pool.command or ["python3", "-u", f"{IN_CONTAINER['runtime']}/runner.py", *pool.args],
            "environment": env,
            "mounts": mounts,
            "labels": {LABEL_JOB: job_id, LABEL_STORE: self.store_label, "containerjob.version": __version__,
                       **{f"containerjob.label.{k}": v for k, v in spec.labels.items()}},
            "security_opt": ["no-new-privileges"],
        }
        if os.getuid() != 0:
            config["user"] = f"{os.getuid()}:{os.getgid()}"
            env.setdefault("HOME", "/tmp")
        if pool.accelerator_count:
            config["device_requests"] = [{"count": pool.accelerator_count, "capabilities": [["gpu"]]}]
        if redact:
            config["environment"] = redact_env(env)
        return config

    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        """Low-level API calls only: the model layer re-inspects after each call, which costs ~20 ms each."""
        config = self.describe(spec, payload, record.id, redact=False)
        job_mounts = JobMounts(Path(record.job_dir))
        job_mounts.prepare(spec.mounts, project=spec.project, upload_on_failure=spec.upload_on_failure,
                           notify=notify)
        if spec.base_output_dir:  # Cloud Storage FUSE shows these implicitly; make them real here
            base = spec.base_output_dir
            host_base = job_mounts.host_path(gcs_path(base)) if base.startswith("gs://") else base
            for path in output_dirs(host_base).values():
                os.makedirs(path, exist_ok=True)
        api = self.client.api
        host_config = api.create_host_config(
            mounts=[Mount(m["target"], m["source"], type="bind", read_only=m["read_only"]) for m in config.pop("mounts")],
            device_requests=[DeviceRequest(**d) for d in config.pop("device_requests", [])] or None,
            security_opt=config.pop("security_opt"),
        )
        try:
            with engine_errors("create the container"):
                container_id = api.create_container(detach=True, host_config=host_config, **config)["Id"]
            with engine_errors("start the container"):
                api.start(container_id)
        except BaseException as exc:
            # By name: an interrupt can land after the engine created it but before we learnt its ID.
            with engine_errors("remove the container that failed to start"):
                try:
                    api.remove_container(config["name"], force=True)
                except docker.errors.NotFound:
                    pass
            job_mounts.release(keep_stage=False)
            if gpu.is_gpu_unavailable_error(str(exc)):
                raise BackendError(gpu.NO_GPU_MESSAGE) from None
            raise
        return container_id

    def _inspect(self, record: JobRecord) -> dict[str, Any] | None:
        with engine_errors(f"inspect job {record.id}"):
            try:
                return self.client.api.inspect_container(record.backend_ref or f"containerjob-{record.id}")
            except docker.errors.NotFound:
                return None

    def refresh(self, record: JobRecord) -> JobRecord:
        if record.status.is_final:
            return record
        info = self._inspect(record)
        if info is None:
            return self.store.update(record.id, status=JobStatus.LOST, finished_at=time.time(),
                                     message="its container disappeared (removed outside containerjob)")
        if info["State"]["Status"] in ("created", "running", "restarting", "paused"):
            return self.store.get(record.id)
        return self._finalise(record, info, None, "")

    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        info = self._inspect(record)
        if info is None:
            return self.store.update(record.id, status=status, message=message, finished_at=time.time())
        with engine_errors(f"stop job {record.id}"):
            try:
                self.client.api.stop(info["Id"], timeout=self.settings.stop_timeout_s)
                info = self.client.api.inspect_container(info["Id"])
            except docker.errors.NotFound:
                pass
        return self._finalise(record, info, status, message)

    def _finalise(self, record: JobRecord, info: dict[str, Any], status: JobStatus | None, message: str) -> JobRecord:
        """Keep the logs, take the exit code from the inspected state, remove the container, write the final state once."""
        api = self.client.api
        state = info["State"]
        with engine_errors(f"finish job {record.id}"):
            try:
                logs = api.logs(info["Id"], stdout=True, stderr=True)
                with open(os.path.join(record.job_dir, "logs.txt"), "wb") as fh:
                    fh.write(logs)
                api.remove_container(info["Id"], force=True)
            except docker.errors.NotFound:
                pass
        exit_code = state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None
        if status is None:
            status = JobStatus.SUCCEEDED if exit_code == 0 else JobStatus.FAILED
            message = _failure_message(record, exit_code, state) if status is JobStatus.FAILED else ""
        try:
            synced = JobMounts(Path(record.job_dir)).finish(succeeded=status is JobStatus.SUCCEEDED)
        except MountError as exc:
            status = JobStatus.FAILED
            synced = f"{exc}; the stage is kept: retry with `containerjob sync {record.id}`"
        message = "; ".join(m for m in (message, synced) if m)
        return self.store.update(record.id, status=status, exit_code=exit_code, message=message,
                                 finished_at=time.time())

    def stream_logs(self, record: JobRecord, follow: bool) -> Iterator[str]:
        ref = record.backend_ref or f"containerjob-{record.id}"
        if not record.status.is_final:
            with engine_errors(f"read the logs of job {record.id}"):
                try:
                    stream = self.client.api.logs(ref, stream=True, follow=follow, stdout=True, stderr=True)
                except docker.errors.NotFound:
                    stream = None
            if stream is not None:
                with engine_errors(f"read the logs of job {record.id}"):
                    for chunk in stream:
                        yield chunk.decode("utf-8", errors="replace")
                return
        path = os.path.join(record.job_dir, "logs.txt")
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                yield fh.read()

    def containers(self, *, all_stores: bool = False) -> list:
        """Containers this store launched (by label), running or not."""
        label = LABEL_JOB if all_stores else f"{LABEL_STORE}={self.store_label}"
        with engine_errors("list containers"):
            return self.client.containers.list(all=True, filters={"label": label})


def _failure_message(record: JobRecord, exit_code: int | None, state: dict[str, Any]) -> str:
    if state.get("OOMKilled"):
        return "the container ran out of memory (OOM killed)"
    result = read_result(Path(record.job_dir) / "output")
    if result.error:
        return f"{result.error['type']}: {result.error['message']}"
    return f"the container exited with code {exit_code}"


def _report_pull(event: dict[str, Any], notify: Notify) -> None:
    detail = event.get("progressDetail") or {}
    if detail.get("total"):
        done = detail.get("current", 0) * 20 // detail["total"]
        notify(f"pull {event.get('id', '')} [{'#' * done}{'.' * (20 - done)}] {done * 5}%")
    elif event.get("status"):
        notify(f"pull: {event['status']} {event.get('id', '')}".strip())
