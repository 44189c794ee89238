"""Containers and networks a store's jobs left on the engine after they ended (a job LOST while the engine was
away, a process that died between recording the end and removing its container): found by the store's
label, removed once their job is final or unknown. The local backend sweeps before runs; `gc` sweeps all.
Warm containers (warm.py) reserve a job that has no record yet: `gc` removes them all; the sweep before a run
removes those that stopped (idle) and those whose maker is gone (`maker_alive`), and the folders of warm
containers that no longer exist."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import docker

from ..core.errors import JobNotFound
from . import replicas
from .engine import engine_errors, gone_ok

LABEL_JOB = "containerjob.job"
LABEL_STORE = "containerjob.store"
LABEL_WARM = "containerjob.warm"  # a warm container's launch key (warm.py)
LABEL_MAKER = "containerjob.warm.maker"  # the process that made it: boot ID, PID and start time (maker_id)


def remove_leftovers(client: docker.DockerClient, store, store_label: str, *, stopped_only: bool) -> int:
    """Remove what the store's ended jobs left; returns how many containers. `stopped_only`: only stopped
    containers of labelled jobs (one call, before a run); otherwise running ones and unlabelled image probes
    too. Warm containers waiting for their job are remove_warm's."""
    labels = [f"{LABEL_STORE}={store_label}"] + ([LABEL_JOB] if stopped_only else [])
    filters: dict[str, Any] = {"label": labels, **({"status": ["exited", "dead"]} if stopped_only else {})}
    with engine_errors("list containers"):
        found = client.api.containers(all=True, filters=filters)
    removed = 0
    for container in found:
        labels = container.get("Labels") or {}
        if _ended(store, labels.get(LABEL_JOB, "")) and not _waiting(store, labels):
            with engine_errors("remove a leftover container"), gone_ok():
                client.api.remove_container(container["Id"], force=True)
            removed += 1
    # the networks of several-replica jobs that ended without removing them (LOST while the engine was away)
    with engine_errors("list networks"):
        networks = client.api.networks(filters={"label": f"{LABEL_STORE}={store_label}"})
    for network in networks:
        job_id = (network.get("Labels") or {}).get(LABEL_JOB, "")
        if _ended(store, job_id):
            replicas.remove_network(client, job_id)
    return removed


def remove_warm(client: docker.DockerClient, store, store_label: str, warm_root: Path, *, every: bool) -> int:
    """Warm containers waiting for a job: `every` one (gc), or those that stopped (idle) or whose maker is
    gone (the waiter stops by itself then, but may not have yet); and the folders of warm containers the
    engine no longer has. Returns how many containers."""
    with engine_errors("list containers"):
        found = client.api.containers(all=True, filters={"label": [f"{LABEL_STORE}={store_label}", LABEL_WARM]})
    removed = 0
    for container in found:
        labels = container.get("Labels") or {}
        unwanted = every or container.get("State") != "running" or not maker_alive(labels.get(LABEL_MAKER, ""))
        if unwanted and _waiting(store, labels):
            with engine_errors("remove a warm container"), gone_ok():
                client.api.remove_container(container["Id"], force=True)
            removed += 1
    held = {(c.get("Labels") or {}).get(LABEL_JOB) for c in found}
    for folder in warm_root.iterdir() if warm_root.is_dir() else ():
        if folder.name not in held and not _just_made(folder):
            shutil.rmtree(folder, ignore_errors=True)
    return removed


def _just_made(folder: Path) -> bool:
    """A folder whose container another process is creating right now."""
    try:
        return time.time() - folder.stat().st_mtime < 120
    except OSError:
        return False


def maker_id() -> str:
    """This process, in a form that outlives a PID's reuse: boot ID, PID, start time in clock ticks."""
    return f"{_boot_id()}/{os.getpid()}/{_start_ticks(os.getpid())}"


def maker_alive(maker: str) -> bool:
    """Whether the process `maker_id` named still runs (another machine's or boot's: no)."""
    boot, _, rest = maker.partition("/")
    pid, _, ticks = rest.partition("/")
    return bool(pid.isdigit() and boot == _boot_id() and _start_ticks(int(pid)) == ticks)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _start_ticks(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22, counted after the command's closing parenthesis


def _waiting(store, labels: dict[str, str]) -> bool:
    """A warm container not handed its job yet: no record holds the ID reserved for it."""
    if LABEL_WARM not in labels:
        return False
    try:
        store.get(labels.get(LABEL_JOB, ""))
    except JobNotFound:
        return True
    return False


def _ended(store, job_id: str) -> bool:
    """A job whose record is final, or gone (nothing will ever finalise it)."""
    try:
        return store.get(job_id).status.is_final
    except JobNotFound:
        return True
