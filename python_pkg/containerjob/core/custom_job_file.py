"""CustomJob files: `gcloud ai custom-jobs create --config` files read with aiplatform_v1's own message
types (field names as Vertex spells them, camelCase or snake_case; a misspelt field is an error naming
it), and a job's spec written back as such a file (`containerjob export`, round trip).

A file sets run options as if typed on the command line, so the same validation applies and flags
override the file; fields containerjob does not carry are refused by name, never dropped."""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from .errors import SpecError
from .models import JobSpec, WorkerPool
from .options import RunOptions, changed
from .redaction import REDACTED, is_secret
from .spec import OWN_LABELS, join_words

MAX_FILE_BYTES = 1024 * 1024
# Set fields (camelCase paths, list indices dropped) that containerjob carries; any other set field is refused.
_CARRIED = {
    "displayName", "labels",
    "jobSpec.workerPoolSpecs.containerSpec.imageUri", "jobSpec.workerPoolSpecs.containerSpec.command",
    "jobSpec.workerPoolSpecs.containerSpec.args", "jobSpec.workerPoolSpecs.containerSpec.env",
    "jobSpec.workerPoolSpecs.machineSpec.machineType", "jobSpec.workerPoolSpecs.machineSpec.acceleratorType",
    "jobSpec.workerPoolSpecs.machineSpec.acceleratorCount", "jobSpec.workerPoolSpecs.replicaCount",
    "jobSpec.workerPoolSpecs.diskSpec.bootDiskSizeGb", "jobSpec.workerPoolSpecs.diskSpec.bootDiskType",
    "jobSpec.scheduling.timeout", "jobSpec.scheduling.strategy", "jobSpec.scheduling.restartJobOnWorkerRestart",
    "jobSpec.baseOutputDirectory.outputUriPrefix", "jobSpec.serviceAccount", "jobSpec.network",
}


@dataclass
class JobFile:
    """What a CustomJob file asks for, as run options (the names of core/option_table.py) plus the
    containerSpec's command and args and the spec fields no option carries."""

    path: str
    options: dict[str, Any] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    network: str | None = None
    boot_disk_gb: int | None = None
    restart_job_on_worker_restart: bool = False  # scheduling's; see backends/restarts.py for what it means here
    more_pools: list[WorkerPool] = field(default_factory=list)  # workerPoolSpecs[1:]


def read_job_file(path: str) -> JobFile:
    """Parse and validate a CustomJobSpec or a whole CustomJob (displayName, jobSpec, labels) in YAML or JSON."""
    data = _load(path)
    whole = "jobSpec" in data or "job_spec" in data
    resource = dict(data) if whole else {"jobSpec": data}
    spec = resource.get("jobSpec", resource.get("job_spec"))
    if isinstance(spec, dict):
        for key in ("workerPoolSpecs", "worker_pool_specs"):
            if isinstance(spec.get(key), dict):  # gcloud's docs and posts write a single pool as a mapping
                spec[key] = [spec[key]]
    from google.cloud import aiplatform_v1
    from google.protobuf.json_format import MessageToDict, ParseError

    kind = "a CustomJob" if whole else "a CustomJobSpec"
    try:
        message = aiplatform_v1.CustomJob.from_json(json.dumps(resource, default=str))  # YAML dates: text
    except ParseError as exc:
        raise SpecError(f"--config {path} is not {kind} as Vertex AI reads it: {_first_line(exc)}") from None
    job = MessageToDict(type(message).pb(message))  # camelCase, enum names, set fields only
    refused = sorted(p for p in _set_paths(job) if p not in _CARRIED)
    if refused:
        raise SpecError(f"--config {path}: {refused[0]} is a CustomJob field containerjob does not carry; remove it "
                        f"(containerjob carries {', '.join(sorted(_CARRIED))})")
    return _job_file(path, job)


def _load(path: str) -> dict[str, Any]:
    """The file's mapping. Opened before it is checked (a file swapped for a FIFO between a check and the open
    would block the reader) and read whole only when small."""
    import yaml

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                raise SpecError(f"--config {path} is not a CustomJob file (a regular file of at most "
                                f"{MAX_FILE_BYTES // 1024} KiB)")
            data = _bounded_yaml(fh.read(MAX_FILE_BYTES + 1).decode("utf-8"), path)  # JSON is YAML
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"--config {path}: cannot read it ({exc}); give a YAML or JSON CustomJob file") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"--config {path} is not valid YAML or JSON: {exc}") from None
    except RecursionError:
        raise SpecError(f"--config {path} nests too deeply to be a CustomJob file") from None
    if not isinstance(data, dict):
        raise SpecError(f"--config {path} must hold a mapping (a CustomJobSpec with workerPoolSpecs, or a CustomJob "
                        f"with jobSpec), not {type(data).__name__}")
    return data


# YAML anchors and aliases are accepted (`- &pool {...}` then `- *pool`: what yaml.dump writes for a repeated
# pool), but a few hundred bytes of nested aliases expand to gigabytes once written out, and a file may come from
# any REST client: the document is composed (aliases stay shared nodes, cheap), its values are counted as they
# would be written out, and it is refused past this many before anything is built from it.
MAX_EXPANDED_VALUES = 100_000


def _bounded_yaml(text: str, path: str) -> Any:
    """yaml.safe_load, refusing a document whose aliases expand past MAX_EXPANDED_VALUES values."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        count, stack = 0, [node]
        while stack:  # a walk of the graph as written out: a shared node counts each time it is reached
            current = stack.pop()
            count += 1
            if count > MAX_EXPANDED_VALUES:
                raise SpecError(f"--config {path}: its YAML aliases expand to more than {MAX_EXPANDED_VALUES:,} values, "
                                "far more than a CustomJob file holds; write the repeated parts out")
            if isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend(item for pair in current.value for item in pair)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0].replace(' "google.cloud.aiplatform.v1.', ' "')


def _set_paths(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the fields a file set (list indices dropped, maps such as labels are leaves)."""
    if isinstance(value, list):
        return [p for item in value for p in _set_paths(item, prefix)] if value and isinstance(value[0], dict) \
            else [prefix]
    if isinstance(value, dict) and prefix not in ("labels", "jobSpec.workerPoolSpecs.containerSpec.env"):
        return [p for key, item in value.items() for p in _set_paths(item, f"{prefix}.{key}" if prefix else key)]
    return [prefix]


def _job_file(path: str, job: dict[str, Any]) -> JobFile:
    spec = job.get("jobSpec", {})
    pools = spec.get("workerPoolSpecs", [])
    if not pools:
        raise SpecError(f"--config {path} has no workerPoolSpecs; give at least the chief's pool")
    pool = pools[0]
    replicas = int(pool.get("replicaCount", "1") or 1)
    if replicas != 1:
        raise SpecError(f"--config {path}: workerPoolSpecs[0].replicaCount is {replicas}; the first pool is the "
                        "chief, one replica, as Vertex AI requires: put the other replicas in workerPoolSpecs[1]")
    container, machine = pool.get("containerSpec", {}), pool.get("machineSpec", {})
    if not container.get("imageUri"):
        raise SpecError(f"--config {path}: workerPoolSpecs[0].containerSpec.imageUri is missing; name the image")
    disk = pool.get("diskSpec", {})
    if disk.get("bootDiskType", "pd-ssd") != "pd-ssd":
        raise SpecError(f"--config {path}: diskSpec.bootDiskType {disk['bootDiskType']!r}: containerjob submits "
                        "pd-ssd boot disks; remove the field")
    scheduling = spec.get("scheduling", {})
    options: dict[str, Any] = {"image": container["imageUri"]}
    if machine.get("machineType"):
        options["machine_type"] = machine["machineType"]
    if machine.get("acceleratorType"):
        options["accelerator"] = f"{machine['acceleratorType']}:{machine.get('acceleratorCount', 1)}"
    if container.get("env"):
        options["env"] = [f"{e['name']}={e.get('value', '')}" for e in container["env"]]
    if scheduling.get("timeout"):
        options["timeout"] = scheduling["timeout"]  # protobuf's JSON: "600s", "90.700s"
    if scheduling.get("strategy") == "SPOT":
        options["spot"] = True
    elif scheduling.get("strategy") not in (None, "STANDARD", "STRATEGY_UNSPECIFIED", "ON_DEMAND"):
        raise SpecError(f"--config {path}: scheduling.strategy {scheduling['strategy']}: containerjob submits "
                        "STANDARD or SPOT")
    if spec.get("baseOutputDirectory", {}).get("outputUriPrefix"):
        options["output_dir"] = spec["baseOutputDirectory"]["outputUriPrefix"]
    if spec.get("serviceAccount"):
        options["service_account"] = spec["serviceAccount"]
    if job.get("displayName"):
        options["name"] = job["displayName"]
    labels = {k: v for k, v in job.get("labels", {}).items() if k not in OWN_LABELS}  # a past job's: set anew
    if labels:
        options["labels"] = [f"{k}={v}" for k, v in labels.items()]
    return JobFile(path=path, options=options, command=list(container.get("command", [])),
                   args=list(container.get("args", [])), network=spec.get("network") or None,
                   boot_disk_gb=int(disk["bootDiskSizeGb"]) if disk.get("bootDiskSizeGb") else None,
                   restart_job_on_worker_restart=bool(scheduling.get("restartJobOnWorkerRestart")),
                   more_pools=[_more_pool(path, i, raw) for i, raw in enumerate(pools[1:], 1)])


def _more_pool(path: str, index: int, raw: dict[str, Any]) -> WorkerPool:
    """workerPoolSpecs[1:] (workers, parameter servers, evaluators), validated as the chief's options are."""
    from .spec import parse_env, validate_image
    from .vertex_catalog import parse_accelerator

    where = f"--config {path}: workerPoolSpecs[{index}]"
    container, machine = raw.get("containerSpec", {}), raw.get("machineSpec", {})
    if not container.get("imageUri"):
        raise SpecError(f"{where}.containerSpec.imageUri is missing; name the image")
    replicas = int(raw.get("replicaCount", "0") or 0)
    if not 1 <= replicas <= 100:
        raise SpecError(f"{where}.replicaCount is {replicas}; give 1..100 replicas")
    if raw.get("diskSpec", {}).get("bootDiskType", "pd-ssd") != "pd-ssd":
        raise SpecError(f"{where}.diskSpec.bootDiskType: containerjob submits pd-ssd boot disks; remove the field")
    try:
        accelerator, count = parse_accelerator(f"{machine['acceleratorType']}:{machine.get('acceleratorCount', 1)}"
                                               if machine.get("acceleratorType") else None)
        return WorkerPool(image=validate_image(container["imageUri"]), command=list(container.get("command", [])),
                          args=list(container.get("args", [])),
                          env=parse_env([f"{e['name']}={e.get('value', '')}" for e in container.get("env", [])]),
                          machine_type=machine.get("machineType") or "n1-standard-4", accelerator_type=accelerator,
                          accelerator_count=count, replica_count=replicas,
                          boot_disk_size_gb=int(raw.get("diskSpec", {}).get("bootDiskSizeGb") or 100))
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def merged_options(job_file: JobFile, given: RunOptions) -> tuple[RunOptions, frozenset[str]]:
    """The file's options with the command line's on top (lists add to the file's; a later K=V wins), and the
    names that came from the file alone: those apply wherever the file runs (a machine type means nothing
    locally, an accelerator becomes GPUs there), while the same flags typed for the wrong backend are refused."""
    typed = changed(given)
    values = {**job_file.options}
    for name, value in typed.items():
        values[name] = [*values.get(name, []), *value] if isinstance(value, list) else value
    if "command" not in typed and job_file.command:
        values["command"] = join_words(job_file.command)
    return RunOptions(**values), frozenset(values) - frozenset(typed)


def flags_to_every_pool(spec: JobSpec, typed: dict[str, Any], args_typed: bool) -> None:
    """Flags given with a file of several worker pools change every pool, as gcloud applies its own: `gcloud ai
    custom-jobs create --config F --args ... --command ...` sets each pool's containerSpec.args and .command
    (googlecloudsdk/command_lib/ai/custom_jobs/custom_jobs_util.py, ConstructCustomJobSpec). gcloud has no --env;
    containerjob's (and --secret-env) add their variables to every pool likewise, over each pool's own."""
    from .spec import parse_secret_env

    chief = spec.worker_pools[0]
    env, secret = parse_secret_env(typed.get("env", []), typed.get("secret_env", []))
    for pool in spec.worker_pools[1:]:
        if args_typed:
            pool.args = list(chief.args)
        if "command" in typed:
            pool.command = list(chief.command)
        pool.env.update({k: chief.env[k] for k in env})  # the chief's values carry --secret-env's mark
        pool.secret_env = sorted({*pool.secret_env, *secret})


def to_custom_job(spec: JobSpec, env: dict[str, str] | None = None,
                  command: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The job as a CustomJob file (displayName, jobSpec, labels) that --config reads back into the same spec,
    and notes on what it leaves out (secret values the record keeps redacted, a local GPU count of `all`).
    The Vertex backend passes `env`, the variables every pool gets before its own (nothing hidden then), and,
    for Python jobs, the runner's `command`."""
    notes: list[str] = []
    pools = [_pool(pool, env, command, notes) for pool in spec.worker_pools]
    job_spec: dict[str, Any] = {"workerPoolSpecs": pools}
    scheduling: dict[str, Any] = {}
    if spec.timeout_s:
        scheduling["timeout"] = f"{spec.timeout_s}s"
    if spec.spot:
        scheduling["strategy"] = "SPOT"
    if spec.restart_job_on_worker_restart:
        scheduling["restartJobOnWorkerRestart"] = True
    if scheduling:
        job_spec["scheduling"] = scheduling
    if spec.base_output_dir and spec.base_output_dir.startswith("gs://"):
        job_spec["baseOutputDirectory"] = {"outputUriPrefix": spec.base_output_dir}
    if spec.service_account:
        job_spec["serviceAccount"] = spec.service_account
    if spec.network:
        job_spec["network"] = spec.network
    return {"displayName": spec.display_name, "jobSpec": job_spec, "labels": dict(spec.labels)}, \
        list(dict.fromkeys(notes))


def _pool(pool: WorkerPool, env: dict[str, str] | None, command: list[str] | None,
          notes: list[str]) -> dict[str, Any]:
    """One workerPoolSpecs entry; what it leaves out is added to `notes`."""
    if env is None:
        hidden = sorted(k for k, v in pool.env.items() if k in pool.secret_env or v == REDACTED or is_secret(k, v))
        notes += [f"env {k} is left out: its value is kept redacted; give it with "
                  f"--{'secret-env' if k in pool.secret_env else 'env'} {k}=VALUE" for k in hidden]
        values = {k: v for k, v in pool.env.items() if k not in hidden}
    else:
        values = {**env, **pool.env}
    machine: dict[str, Any] = {"machineType": pool.machine_type}
    if pool.accelerator_count and pool.accelerator_type != "NVIDIA_GPU":
        machine.update(acceleratorType=pool.accelerator_type, acceleratorCount=pool.accelerator_count)
    elif pool.accelerator_count:
        notes.append(f"--gpus {pool.accelerator_count if pool.accelerator_count > 0 else 'all'} is left out: "
                     "Vertex AI needs a GPU type; add machineSpec.acceleratorType and acceleratorCount")
    container: dict[str, Any] = {"imageUri": pool.image}
    if command or pool.command:
        container["command"] = list(command or pool.command)
    if pool.args:
        container["args"] = list(pool.args)
    if values:
        container["env"] = [{"name": k, "value": v} for k, v in values.items()]
    return {"machineSpec": machine, "replicaCount": str(pool.replica_count),
            "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": pool.boot_disk_size_gb},
            "containerSpec": container}
