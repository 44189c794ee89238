"""User options -> validated JobSpec. Every error names the option and the fix."""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import stat

from .errors import SpecError
from .gcs_uri import parse_mount, split_gs
from .models import JobSpec, Mount, WorkerPool
from .options import RunOptions, check_applicable
from .vertex_catalog import parse_accelerator, validate_machine, validate_region

# Docker reference grammar (distribution/reference), simplified: [host[:port]/]path[:tag][@digest]
_IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
_DURATION_RE = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FORBIDDEN_DIRS = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr",
                   "/containerjob", "/gcs")
RESERVED_ENV_PREFIX = "CONTAINERJOB_"


def parse_gpus(value: str | None) -> int:
    """`all` -> -1 (every GPU), N -> N, missing -> 0."""
    if value is None or value == "":
        return 0
    if value.strip().lower() == "all":
        return -1
    try:
        count = int(value)
    except ValueError:
        raise SpecError(f"--gpus {value!r} is not a number: use --gpus N (N >= 1) or --gpus all") from None
    if count < 0 or count > 64:
        raise SpecError(f"--gpus {count} is out of range: use 1..64 or all (0 means no GPU, the default)")
    return count


def parse_timeout(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    match = _DURATION_RE.match(value.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise SpecError(f"--timeout {value!r} is not a positive duration: use seconds (90) or 90s, 10m, 2h, 1d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > 7 * 86400:
        raise SpecError(f"--timeout {value!r} is over 7 days, Vertex AI's limit: use 7d or less")
    return seconds


def parse_env(items: list[str], flag: str = "--env") -> dict[str, str]:
    """NAME=VALUE items; `flag` names the option in errors (--secret-env's never show the item: it may be the
    value)."""
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            shown = "an item" if flag == "--secret-env" else repr(item)
            raise SpecError(f"{flag} {shown} has no '=': write {flag} NAME=VALUE")
        if not _ENV_NAME_RE.match(name):
            raise SpecError(f"{flag} name {name!r} is not a valid variable name: use letters, digits and _ (not first)")
        if name.startswith(RESERVED_ENV_PREFIX):
            raise SpecError(f"{flag} {name} is reserved for containerjob itself: choose another name")
        env[name] = value
    return env


def parse_secret_env(env: list[str], secret_env: list[str]) -> tuple[dict[str, str], list[str]]:
    """--env and --secret-env together: the environment and the names whose values are secret."""
    plain, secret = parse_env(env), parse_env(secret_env, "--secret-env")
    both = sorted(set(plain) & set(secret))
    if both:
        raise SpecError(f"--env and --secret-env both set {', '.join(both)}: give each variable once, with "
                        "--secret-env when its value is a secret")
    return {**plain, **secret}, sorted(secret)


def parse_labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _LABEL_KEY_RE.match(key) or not _LABEL_VALUE_RE.match(value):
            raise SpecError(
                f"label {item!r} is invalid: write key=value with lowercase letters, digits, _ and -, "
                "keys starting with a letter, each at most 63 characters"
            )
        labels[key] = value
    return labels


MAX_REQUIREMENTS_BYTES = 1024 * 1024


def parse_requirements_file(path: str | None) -> list[str]:
    """A requirements.txt as its meaningful lines (comments and blanks dropped)."""
    if not path:
        return []
    try:
        full = os.path.expanduser(path)
        info = os.stat(full)  # before open(): opening a FIFO would block, /dev/zero would never end
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_REQUIREMENTS_BYTES:
            raise SpecError(f"--requirements {path!r} is not a requirements.txt (a regular file of at most "
                            f"{MAX_REQUIREMENTS_BYTES // 1024} KiB); give the path of one")
        with open(full, encoding="utf-8") as fh:
            text = fh.read(MAX_REQUIREMENTS_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path, or bytes that are not UTF-8
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).split(":")[0]
        raise SpecError(f"--requirements {path!r}: cannot read it ({reason}); give the path of a requirements.txt") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def parse_pip(items: list[str]) -> list[str]:
    bad = [i for i in items if not i.strip() or i.strip().startswith("-")]
    if bad:
        raise SpecError(f"--pip {bad[0]!r} is not a requirement: give names like numpy==2.1 (options go in --requirements)")
    return [i.strip() for i in items]


def parse_command(value: str | None) -> list[str]:
    """--command as words, split as a shell would split them (quotes kept together) but never run by one."""
    if value is None:
        return []
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise SpecError(f"--command {value!r} cannot be split into words ({exc}); close the quote or escape it") from None
    if not words:
        raise SpecError("--command is empty: give the program and its arguments, e.g. --command 'python3 train.py', "
                        "or leave it out to run the image's own ENTRYPOINT")
    return words


def label_value(text: str) -> str:
    """Any text as a valid label value (Vertex and Docker accept it)."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:63]


def validate_image(image: str) -> str:
    image = image.strip()
    if not image or not _IMAGE_RE.match(image):
        raise SpecError(
            f"--image {image!r} is not a valid image reference: use NAME[:TAG] such as python:3.11-slim "
            "or REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG"
        )
    return image


def validate_output_dir(value: str | None) -> str | None:
    if not value:
        return None
    if value.startswith("gs://"):
        bucket, prefix = split_gs(value, "--output-dir")
        return f"gs://{bucket}/{prefix}".rstrip("/")
    if "\0" in value:
        raise SpecError(f"--output-dir {value!r} contains a NUL byte; give a directory path")
    path = os.path.abspath(os.path.expanduser(value))
    if path == "/" or any(path == d or path.startswith(d + "/") for d in _FORBIDDEN_DIRS if d != "/"):
        raise SpecError(f"--output-dir {value!r} is a system directory: choose a directory of your own, e.g. ./outputs")
    return path


def build_spec(options: RunOptions, *, default_image: str, default_backend: str, project: str | None,
               region: str | None = None, staging_bucket: str | None = None,
               service_account: str | None = None, image_repo: str | None = None,
               from_file: frozenset[str] = frozenset(), args: list[str] | None = None) -> JobSpec:
    """Validate everything a backend needs; raises SpecError on the first problem. `from_file`: the options
    a CustomJob file set, valid on every backend (see check_applicable). `args`: containerSpec.args."""
    backend = options.backend or default_backend
    check_applicable(options, backend, from_file)
    image = validate_image(options.image or default_image)
    accelerator, count = parse_accelerator(options.accelerator)  # the table keeps --gpus local, this remote
    count = count or parse_gpus(options.gpus)
    if backend in ("vertex", "executor"):
        region = validate_region(options.region or region or "")
        validate_machine(options.machine_type or "n1-standard-4", accelerator, count)
    name = (options.name or "containerjob").strip()
    if len(name) > 128 or not name.isprintable():
        raise SpecError("--name must be printable text of at most 128 characters")
    try:
        replicas = int(options.replicas or 1)
    except ValueError:
        raise SpecError(f"--replicas {options.replicas!r} is not a number: use 1 or more") from None
    if not 1 <= replicas <= 1000:
        raise SpecError(f"--replicas {replicas} is out of range: use 1..1000")
    env, secret_env = parse_secret_env(options.env, options.secret_env)
    pool = WorkerPool(
        image=image,
        command=parse_command(options.command),
        args=list(args or []),
        env=env,
        secret_env=secret_env,
        machine_type=options.machine_type or "n1-standard-4",
        accelerator_type=accelerator or ("NVIDIA_GPU" if count else None),
        accelerator_count=count,
    )
    pools = [pool]
    if replicas > 1:  # as Vertex wants it: one chief (workerpool0), the other replicas as workers (workerpool1)
        pools.append(dataclasses.replace(pool, env=dict(pool.env), args=list(pool.args), replica_count=replicas - 1))
    staging = options.staging_bucket or staging_bucket
    if staging:
        staging = split_gs(staging if staging.startswith("gs://") else f"gs://{staging}", "--staging-bucket")[0]
    labels = {"containerjob-job": label_value(name) or "job", **parse_labels(options.labels)}
    output_dir = validate_output_dir(options.output_dir)
    if output_dir and backend in ("vertex", "executor") and not output_dir.startswith("gs://"):
        raise SpecError(f"--output-dir {options.output_dir!r} is a local folder, which Vertex AI cannot see: "
                        "give gs://BUCKET/PREFIX")
    mounts = [parse_mount(m) for m in options.mounts]
    if output_dir and output_dir.startswith("gs://"):
        bucket, prefix = split_gs(output_dir, "--output-dir")
        if not any(m.bucket == bucket and m.mode == "fuse" for m in mounts):  # fuse mounts whole buckets
            mounts.append(Mount(bucket=bucket, prefix=prefix, mode="sync"))
    requirements = [*parse_requirements_file(options.requirements), *parse_pip(options.pip)]
    image_repo = (options.image_repo or image_repo or "").strip().rstrip("/")
    if image_repo and not _IMAGE_RE.match(f"{image_repo}/x:y"):
        raise SpecError(f"--image-repo {image_repo!r} is not a registry path: use REGION-docker.pkg.dev/PROJECT/REPO")
    sa = options.service_account or service_account
    if sa and not re.match(r"^[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$|^[0-9]+-compute@developer\.gserviceaccount\.com$", sa):
        raise SpecError(f"--service-account {sa!r} is not a service account e-mail: NAME@PROJECT.iam.gserviceaccount.com")
    return JobSpec(
        worker_pools=pools,
        display_name=name,
        backend=backend,
        staging_bucket=staging,
        requirements=requirements,
        image_repo=image_repo or None,
        spot=options.spot,
        service_account=sa,
        base_output_dir=output_dir,
        timeout_s=parse_timeout(options.timeout),
        labels=labels,
        project=project,
        region=options.region or region,
        mounts=mounts,
        upload_on_failure=options.upload_on_failure,
        mount_credentials=options.credentials,
        runtime_template=_runtime_template(options.runtime_template),
    )


def _runtime_template(value: str | None) -> str | None:
    if not value:
        return None
    if value != "workbench" and not re.match(r"^projects/[^/]+/locations/[^/]+/notebookRuntimeTemplates/[^/]+$", value):
        raise SpecError(f"--runtime-template {value!r} is neither `workbench` (a Workbench runtime) nor a resource "
                        "name: projects/PROJECT/locations/REGION/notebookRuntimeTemplates/ID")
    return value
