"""A stored spec as the run options a user would type (`--image python:3.11-slim --gpus 1 --env K=V`): what a job
page shows first, so that the spec reads in the words of the magic, the CLI and the forms, not as the JSON that
mirrors Vertex AI's CustomJobSpec (whose internal fields, payload hash and default display name, say nothing
to the user). Only options the job's backend takes are named, with the flags of core/option_table.py."""
from __future__ import annotations

from .models import JobSpec
from .option_table import OPTIONS
from .spec import join_words

DEFAULT_NAME = "containerjob"  # JobSpec.display_name when no --name was given
_OWN_LABELS = "containerjob"  # labels containerjob sets itself (the job's name, its schedule) start with this


def _words(spec: JobSpec) -> dict[str, list[str]]:
    """Each option's values as typed (one entry per repeat), from the spec's fields."""
    pool = spec.primary
    secret = set(pool.secret_env)
    replicas = sum(p.replica_count for p in spec.worker_pools)
    timeout = spec.timeout_s
    return {
        "backend": [spec.backend],
        "image": [pool.image],
        "command": [join_words(pool.command) or ""],
        "gpus": ["all" if pool.accelerator_count < 0 else str(pool.accelerator_count or "")]
        if pool.accelerator_type in (None, "NVIDIA_GPU") else [],
        "accelerator": [f"{pool.accelerator_type}:{pool.accelerator_count}"]
        if pool.accelerator_type and pool.accelerator_type != "NVIDIA_GPU" else [],
        "env": [f"{k}={v}" for k, v in pool.env.items() if k not in secret],
        "secret_env": [f"{k}=***" for k in pool.env if k in secret],
        "project": [spec.project or ""],
        "region": [spec.region or ""],
        "machine_type": [pool.machine_type],
        "replicas": [str(replicas) if replicas > 1 else ""],
        "output_dir": [spec.base_output_dir or ""],
        "timeout": [f"{timeout:g}s" if timeout else ""],
        "name": [spec.display_name if spec.display_name != DEFAULT_NAME else ""],
        "labels": [f"{k}={v}" for k, v in spec.labels.items() if not k.startswith(_OWN_LABELS)],
        "mounts": [f"gs://{m.bucket}/{m.prefix}".rstrip("/") + (":fuse" if m.mode == "fuse" else "")
                   for m in spec.mounts if not m.named],
        "credentials": ["yes"] if spec.mount_credentials else [],
        "upload_on_failure": [] if spec.upload_on_failure else ["yes"],
        "spot": ["yes"] if spec.spot else [],
        "service_account": [spec.service_account or ""],
        "staging_bucket": [spec.staging_bucket or ""],
        "pip": list(spec.requirements),
        "image_repo": [spec.image_repo or ""],
        "runtime_template": [spec.runtime_template or ""],
    }


def options_text(spec: JobSpec, kind: str = "") -> str:
    """The options that made `spec`, one line: flags in the option table's order, each value shell-quoted, empty
    values and options `spec.backend` or `kind` does not take left out."""
    words = _words(spec)
    parts: list[str] = []
    for option in OPTIONS:
        if not option.accepts(spec.backend) or (kind and kind not in option.kinds):
            continue
        for value in words.get(option.name, []):
            if not value:
                continue
            parts.append(option.cli_flag if option.kind == "flag" else f"{option.cli_flag} {join_words([value])}")
    return " ".join(parts)
