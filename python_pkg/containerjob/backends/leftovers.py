"""Containers and networks a store's jobs left on the engine after they ended (a job LOST while the engine was
away, a process that died between recording the end and removing its container): found by the store's
label, removed once their job is final or unknown. The local backend sweeps before runs; `gc` sweeps all."""
from __future__ import annotations

from typing import Any

import docker

from ..core.errors import JobNotFound
from . import replicas
from .engine import engine_errors, gone_ok

LABEL_JOB = "containerjob.job"
LABEL_STORE = "containerjob.store"


def remove_leftovers(client: docker.DockerClient, store, store_label: str, *, stopped_only: bool) -> int:
    """Remove what the store's ended jobs left; returns how many containers. `stopped_only`: only stopped
    containers of labelled jobs (one call, before a run); otherwise running ones and unlabelled image probes
    too."""
    labels = [f"{LABEL_STORE}={store_label}"] + ([LABEL_JOB] if stopped_only else [])
    filters: dict[str, Any] = {"label": labels, **({"status": ["exited", "dead"]} if stopped_only else {})}
    with engine_errors("list containers"):
        found = client.api.containers(all=True, filters=filters)
    removed = 0
    for container in found:
        if _ended(store, (container.get("Labels") or {}).get(LABEL_JOB, "")):
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


def _ended(store, job_id: str) -> bool:
    """A job whose record is final, or gone (nothing will ever finalise it)."""
    try:
        return store.get(job_id).status.is_final
    except JobNotFound:
        return True
