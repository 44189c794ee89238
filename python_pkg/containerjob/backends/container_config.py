"""What the local engine is asked to create for one replica of a job: image, Vertex's command/args meaning,
environment, binds (payload, output, /gcs, CA bundle, credentials), labels, GPUs and the limits that keep a
job (root in its container on a root host, as on Vertex) from reaching the host. Pure: a dry run prints
exactly this, and `LocalBackend.start` hands it to the engine."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import SpecError
from ..core.models import JobSpec, Replica, redact_env
from ..core.payload import Payload
from ..core.project import CONTAINER_ADC_PATH, CONTAINER_CA_PATH, adc_file, job_environment
from ..core.settings import Settings
from ..core.version import __version__
from ..mounts.job_mounts import GCS_ROOT_DIR, JobMounts, described
from . import replicas

IN_CONTAINER = {"runtime": "/containerjob/runtime", "payload": "/containerjob/payload", "output": "/containerjob/output"}
# Of Docker's default capabilities, those a job never needs and a root job could turn against the host: device
# nodes in its output folder (MKNOD), forged packets on the host's networks (NET_RAW), file capabilities on
# programs it leaves behind (SETFCAP). Whatever such files a job still leaves, host_files clears at its end.
CAP_DROP = ["MKNOD", "NET_RAW", "SETFCAP"]


def container_config(settings: Settings, spec: JobSpec, payload: Payload, job_dir: Path, job_id: str,
                     replica: Replica, *, labels: dict[str, str], redact: bool) -> dict[str, Any]:
    """The create call's arguments for `replica`; `labels`: the backend's own (job, store)."""
    pool = spec.worker_pools[replica.pool]
    env = job_environment(spec, job_id, ca_bundle_mounted=bool(settings.ca_bundle),
                          pass_proxy=settings.pass_proxy, replica=replica)
    env.update({"CONTAINERJOB_PAYLOAD": IN_CONTAINER["payload"], "CONTAINERJOB_OUTPUT": IN_CONTAINER["output"],
                "CONTAINERJOB_JOB_ID": job_id})
    if spec.timeout_s:
        env["CONTAINERJOB_TIMEOUT_S"] = str(spec.timeout_s)
    mounts: list[dict[str, Any]] = []
    if payload.kind != "container":
        mounts = [{"source": str(payload.runtime), "target": IN_CONTAINER["runtime"], "read_only": True},
                  {"source": str(payload.path), "target": IN_CONTAINER["payload"], "read_only": True}]
    else:
        del env["CONTAINERJOB_PAYLOAD"]
    shown = described(spec.mounts)  # "gcs", which the engine is not given: the dry run shows what a bucket's bind holds
    for source, target in writable_binds(spec, job_dir):
        bind = {"source": source, "target": target, "read_only": False}
        mounts.append({**bind, "gcs": shown[target]} if target in shown else bind)
    if settings.ca_bundle:
        mounts.append({"source": settings.ca_bundle, "target": CONTAINER_CA_PATH, "read_only": True})
    if spec.mount_credentials:
        mounts.append({"source": adc_file(), "target": CONTAINER_ADC_PATH, "read_only": True})
        env["GOOGLE_APPLICATION_CREDENTIALS"] = CONTAINER_ADC_PATH
    config: dict[str, Any] = {
        "name": replicas.container_name(job_id, replica),
        "hostname": replica.name,
        "image": pool.image,
        # Vertex's meaning of containerSpec: command replaces the image's ENTRYPOINT, args its CMD (Docker
        # drops the image's CMD too once an entrypoint is given), so an image's own ENTRYPOINT changes nothing
        # for the runner; a container job without them keeps the image's (None: the image's own).
        "entrypoint": pool.command or (None if payload.kind == "container" else
                                       ["python3", "-u", f"{IN_CONTAINER['runtime']}/runner.py"]),
        "command": list(pool.args) or None,
        "environment": env,
        "mounts": mounts,
        "labels": {**labels, "containerjob.version": __version__,
                   replicas.LABEL_REPLICA: replica.name,
                   **{f"containerjob.label.{k}": v for k, v in spec.labels.items()}},
        "security_opt": ["no-new-privileges"],
        "cap_drop": CAP_DROP,
        "pids_limit": pids_limit(settings),
        # An emulator or any service on this machine, as Docker Desktop names it (Linux engines need this)
        "extra_hosts": {"host.docker.internal": "host-gateway"},
    }
    if os.getuid() != 0:
        config["user"] = f"{os.getuid()}:{os.getgid()}"
        env.setdefault("HOME", "/tmp")
    if pool.gpu_ids:  # a sweep's jobs side by side, each on GPUs of its own (core/sweep_run.py)
        config["device_requests"] = [{"device_ids": list(pool.gpu_ids), "capabilities": [["gpu"]]}]
    elif pool.accelerator_count:
        config["device_requests"] = [{"count": pool.accelerator_count, "capabilities": [["gpu"]]}]
    if redact:
        config["environment"] = redact_env(env, pool.secret_env)
    return config


def writable_binds(spec: JobSpec, job_dir: Path, *, fuse: bool = True) -> list[tuple[str, str]]:
    """(host path, container path) of every bind the job may write: its output folder, /gcs (the job's own
    folder; the buckets' binds nest inside, so what lands there beside them is kept), a local --output-dir
    and the buckets' stages (`fuse`: and their FUSE mounts)."""
    binds = [(str(job_dir / "output"), IN_CONTAINER["output"]), (str(job_dir / GCS_ROOT_DIR), "/gcs")]
    if spec.base_output_dir and not spec.base_output_dir.startswith("gs://"):
        binds.append((spec.base_output_dir, spec.base_output_dir))
    binds += [(b.source, b.target) for b in JobMounts(job_dir).plan(spec.mounts) if fuse or b.mode != "fuse"]
    return binds


def pids_limit(settings: Settings) -> int:
    """CONTAINERJOB_PIDS_LIMIT for the engine: 0 or -1 is no limit (-1, Docker's word for it, so that an
    engine's own default limit does not apply either)."""
    limit = settings.pids_limit
    if limit < -1:
        raise SpecError(f"setting pids_limit={limit} (CONTAINERJOB_PIDS_LIMIT) must be a positive number of "
                        "processes, or 0 or -1 for no limit")
    return limit if limit > 0 else -1
