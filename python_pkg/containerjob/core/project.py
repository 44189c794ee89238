"""Resolve the GCP project once and build the environment every job receives (DESIGN.md)."""
from __future__ import annotations

import configparser
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .models import CHIEF, JobSpec, Replica

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT", "NODE_EXTRA_CA_CERTS",
           "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
CONTAINER_CA_PATH = "/etc/containerjob/ca-certificates.crt"
CONTAINER_ADC_PATH = "/etc/containerjob/application_default_credentials.json"


@dataclass(frozen=True)
class ResolvedProject:
    project: str | None
    source: str  # which rule found it, shown to the user

    def describe(self, local: bool = False) -> str:
        """The project for the line shown before a run; nothing for a job on this machine, which needs none
        (the project, when one is set, still reaches its environment)."""
        if local:
            return ""
        return f"project {self.project} (from {self.source})" if self.project else "no Google Cloud project set"


def resolve_project(option: str | None, configured: str | None) -> ResolvedProject:
    """option > config > GOOGLE_CLOUD_PROJECT/CLOUDSDK_CORE_PROJECT > gcloud config > ADC file."""
    if option:
        return ResolvedProject(option, "--project")
    if configured:
        return ResolvedProject(configured, "containerjob settings")
    for var in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        if os.environ.get(var):
            return ResolvedProject(os.environ[var], var)
    gcloud = _gcloud_project()
    if gcloud:
        return ResolvedProject(gcloud, "gcloud config")
    adc = _adc_project()
    if adc:
        return ResolvedProject(adc, "application default credentials")
    return ResolvedProject(None, "")


def _gcloud_dir() -> Path:
    return Path(os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")


def _gcloud_project() -> str | None:
    base = _gcloud_dir()
    name = os.environ.get("CLOUDSDK_ACTIVE_CONFIG_NAME")
    if not name:
        try:
            name = (base / "active_config").read_text().strip() or "default"
        except OSError:
            name = "default"
    parser = configparser.ConfigParser()
    try:
        parser.read(base / "configurations" / f"config_{name}")
    except configparser.Error:
        return None
    return parser.get("core", "project", fallback=None) or None


def adc_file() -> str | None:
    """The application default credentials file gcloud or the user set up, if any."""
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or str(_gcloud_dir() / "application_default_credentials.json")
    return path if os.path.isfile(path) else None


def _adc_project() -> str | None:
    """Read the ADC file without contacting any server (google.auth.default may probe the metadata server)."""
    path = adc_file()
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data.get("quota_project_id") or data.get("project_id") or None


def output_dirs(base: str) -> dict[str, str]:
    """Vertex's layout under baseOutputDirectory."""
    base = base.rstrip("/")
    return {
        "AIP_MODEL_DIR": f"{base}/model/",
        "AIP_CHECKPOINT_DIR": f"{base}/checkpoints/",
        "AIP_TENSORBOARD_LOG_DIR": f"{base}/logs/",
    }


# The cluster variables as Vertex AI sets them: Google's "Distributed training" page, section "Environment
# variables for distributed training" (https://cloud.google.com/vertex-ai/docs/training/distributed-training),
# with AI Platform Training's "TF_CONFIG and distributed training" page, which words the same TF_CONFIG rules
# (https://cloud.google.com/ai-platform/training/docs/distributed-training-details); stored copies read on
# 2026-12-07, which carry no "Last updated" date:
# - CLUSTER_SPEC on every replica of every job: {"cluster": {"workerpool0": [...], ..., "workerpool3": [...]},
#   "environment": "cloud", "task": {"type": "workerpoolN", "index": I}, "job": <the CustomJobSpec>} ("trial"
#   only in hyperparameter tuning jobs, which containerjob does not run).
# - TF_CONFIG only on the replicas of a distributed job: "Vertex AI does not set TF_CONFIG for single-replica
#   training jobs". Its cluster maps chief, worker and ps (pools 0-2) to their hosts and "never contains
#   evaluator" ("evaluators are not considered part of the training cluster"); an evaluator's own task is
#   {"type": "evaluator", "index": I}. Same "environment" and "job" as CLUSTER_SPEC.
TF_TASK_TYPES = ("chief", "worker", "ps", "evaluator")  # TF_CONFIG's names for worker pools 0..3
TF_EVALUATOR_POOL = 3
PORT = 2222


def _tf_type(pool: int) -> str:
    """Vertex runs at most four pools; a fifth has no TensorFlow name there, so it keeps its pool's."""
    return TF_TASK_TYPES[pool] if pool < len(TF_TASK_TYPES) else f"workerpool{pool}"


def cluster_env(spec: JobSpec, replica: Replica = CHIEF) -> dict[str, str]:
    """CLUSTER_SPEC (and TF_CONFIG for a multi-replica job) as Vertex formats them for custom containers: every
    pool's replicas as host:port (the hosts are the replicas' names, which resolve between them), this
    replica's task, and the job's CustomJobSpec (proto field names) under "job"."""
    from .custom_job_file import to_custom_job

    job = _snake_keys(to_custom_job(spec)[0]["jobSpec"])
    for pool in job["worker_pool_specs"]:  # values of --env stay out of a variable dry runs print
        pool["container_spec"].pop("env", None)
    hosts: dict[int, list[str]] = {}
    for other in spec.replicas():
        hosts.setdefault(other.pool, []).append(f"{other.name}:{PORT}")
    env = {"CLUSTER_SPEC": json.dumps({"cluster": {f"workerpool{i}": h for i, h in hosts.items()},
                                       "environment": "cloud",
                                       "task": {"type": f"workerpool{replica.pool}", "index": replica.index},
                                       "job": job})}
    if len(spec.replicas()) > 1:
        tf_cluster = {_tf_type(i): h for i, h in hosts.items() if i != TF_EVALUATOR_POOL}
        env["TF_CONFIG"] = json.dumps({"cluster": tf_cluster, "environment": "cloud",
                                       "task": {"type": _tf_type(replica.pool), "index": replica.index},
                                       "job": job})
    return env


def _snake_keys(value: Any) -> Any:
    """camelCase REST keys -> the proto field names Vertex uses inside CLUSTER_SPEC (values untouched)."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def job_environment(spec: JobSpec, job_id: str, *, ca_bundle_mounted: bool, pass_proxy: bool,
                    replica: Replica = CHIEF) -> dict[str, str]:
    """The environment of DESIGN.md for one replica, identical in shape for local and cloud jobs; the
    replica's pool's --env wins."""
    env: dict[str, str] = {"PYTHONUNBUFFERED": "1", "CLOUD_ML_JOB_ID": job_id}
    if spec.project:
        env.update(GOOGLE_CLOUD_PROJECT=spec.project, CLOUDSDK_CORE_PROJECT=spec.project,
                   CLOUD_ML_PROJECT_ID=spec.project)
    if spec.region:
        env["CLOUD_ML_REGION"] = spec.region
    if spec.base_output_dir:  # gs:// URIs as on Vertex (the prefix is mounted at /gcs/...); a local folder as is
        env.update(output_dirs(spec.base_output_dir))
    env.update(cluster_env(spec, replica))
    if pass_proxy:
        env.update({k: os.environ[k] for k in PROXY_VARS if os.environ.get(k)})
    if ca_bundle_mounted:
        env.update({k: CONTAINER_CA_PATH for k in CA_VARS})
    env.update(spec.worker_pools[replica.pool].env)
    return env
