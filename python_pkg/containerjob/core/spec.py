"""User options -> validated JobSpec. Every error names the option and the fix."""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import stat
from pathlib import Path
from typing import Callable

from .errors import Problems, SpecError
from .gcs_uri import parse_mount, split_gs
from .host_paths import confine
from .models import JobSpec, Mount, Traits, WorkerPool
from .options import RunOptions, check_applicable
from .retries import parse_retries, parse_retry_on
from .vertex_catalog import parse_accelerator, validate_machine, validate_region

# Docker reference grammar (distribution/reference), simplified: [host[:port]/]path[:tag][@digest]
_IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION_RE = re.compile(r"^(\d{1,12}(?:\.\d{1,9})?)\s*([smhd]?)$")  # at most nanoseconds, as protobuf's Duration
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
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
        raise SpecError(f"--gpus {value!r} is not a number: use --gpus N (N >= 1) or --gpus all", field="gpus") from None
    if count < 0 or count > 64:
        raise SpecError(f"--gpus {count} is out of range: use 1..64 or all (0 means no GPU, the default)", field="gpus")
    return count


# scheduling.timeout: "Optional. The maximum job running time. The default is 7 days." (aiplatform_v1.Scheduling,
# google-cloud-aiplatform as installed, checked 2026-12-07): no maximum is documented, so none is kept here beyond
# protobuf's Duration (315,576,000,000 s); fractions of a second are sent as they are written.
MAX_DURATION_S = 315_576_000_000


def parse_timeout(value: str | None) -> int | float | None:
    """Seconds: a whole number when the value is one (`90`, `10m`), else as written (`90.7s`)."""
    if value is None or value == "":
        return None
    match = _DURATION_RE.match(value.strip().lower())
    amount = float(match.group(1)) if match else 0
    if not match or not amount:
        raise SpecError(f"--timeout {value!r} is not a positive duration: use seconds (90, 90.5) or 90s, 10m, 2h, 1d",
                        field="timeout")
    seconds = amount * _UNITS[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise SpecError(f"--timeout {value!r} is longer than a protobuf Duration holds ({MAX_DURATION_S:,} s)",
                        field="timeout")
    return int(seconds) if seconds == int(seconds) else seconds


# ContainerSpec.env: "Environment variables to be passed to the container. Maximum limit is 100."
# (aiplatform_v1.ContainerSpec, google-cloud-aiplatform as installed, checked 2026-12-07); backends/vertex.py counts
# containerjob's own variables in too.
MAX_ENV = 100


def parse_env(items: list[str], flag: str = "--env") -> dict[str, str]:
    """NAME=VALUE items; `flag` names the option in errors (--secret-env's never show the item: it may be the
    value)."""
    env: dict[str, str] = {}
    field = flag[2:].replace("-", "_")  # the option's name in the table: env, secret_env
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            shown = "an item" if flag == "--secret-env" else repr(item)
            raise SpecError(f"{flag} {shown} has no '=': write {flag} NAME=VALUE", field=field)
        if not _ENV_NAME_RE.match(name):
            raise SpecError(f"{flag} name {name!r} is not a valid variable name: use letters, digits and _ (not first)",
                            field=field)
        if name.startswith(RESERVED_ENV_PREFIX):
            raise SpecError(f"{flag} {name} is reserved for containerjob itself: choose another name", field=field)
        env[name] = value
    if len(env) > MAX_ENV:
        raise SpecError(f"{flag}: {len(env)} variables; Vertex AI takes at most {MAX_ENV} per container (containerjob "
                        "adds a few of its own there): pass fewer, e.g. one holding a JSON or a file under /gcs", field=field)
    return env


def parse_secret_env(env: list[str], secret_env: list[str]) -> tuple[dict[str, str], list[str]]:
    """--env and --secret-env together: the environment and the names whose values are secret."""
    plain, secret = parse_env(env), parse_env(secret_env, "--secret-env")
    both = sorted(set(plain) & set(secret))
    if both:
        raise SpecError(f"--env and --secret-env both set {', '.join(both)}: give each variable once, with "
                        "--secret-env when its value is a secret", field="secret_env")
    if len(plain) + len(secret) > MAX_ENV:
        raise SpecError(f"--env and --secret-env: {len(plain) + len(secret)} variables; Vertex AI takes at most "
                        f"{MAX_ENV} per container: pass fewer, e.g. one holding a JSON or a file under /gcs", field="env")
    return {**plain, **secret}, sorted(secret)


# CustomJob.labels, as google-cloud-aiplatform's aiplatform_v1.CustomJob documents it (checked 2026-12-07):
# "Label keys and values can be no longer than 64 characters (Unicode codepoints), can only contain lowercase
# letters, numeric characters, underscores and dashes. International characters are allowed." Keys start with
# a letter: cloud.google.com/resource-manager/docs/labels-overview ("Keys must start with a lowercase letter or
# international character", 2026-12-07).
MAX_LABEL_CHARS = 64
# The labels containerjob sets on every job itself (the schedule's by scheduling.py); a user's label never
# overwrites one of them, nor one of them a user's.
OWN_LABELS = {"containerjob-job": "the job's name", "containerjob-id": "the job's ID",
              "containerjob-notebook": "the notebook that ran it", "containerjob-schedule": "the schedule that fired it",
              "containerjob-sweep": "the sweep it is one job of"}


def _label_text(text: str) -> bool:
    """Lowercase letters (any script's, or a letter with no case), digits, underscores and dashes."""
    return len(text) <= MAX_LABEL_CHARS and all(
        c in "_-" or c.isdecimal() or (c.isalpha() and not c.isupper()) for c in text)


def parse_labels(items: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not (key[0].isalpha() and _label_text(key)) or not _label_text(value):
            raise SpecError(
                f"label {item!r} is invalid: write key=value, each at most {MAX_LABEL_CHARS} characters of lowercase "
                "letters (international ones too), digits, _ and -, the key starting with a letter", field="labels")
        if key in OWN_LABELS:
            raise SpecError(f"label {item!r} clashes with containerjob's own label {key} ({OWN_LABELS[key]}), which "
                            "it sets on every job: choose another key", field="labels")
        labels[key] = value
    return labels


MAX_REQUIREMENTS_BYTES = 1024 * 1024


def parse_requirements_file(path: str | None, store_home: Path | None = None) -> list[str]:
    """A requirements.txt as its meaningful lines (comments and blanks dropped)."""
    if not path:
        return []
    full = str(confine(path, "--requirements", store_home=store_home, fix="give the path of your requirements.txt"))
    try:
        info = os.stat(full)  # before open(): opening a FIFO would block, /dev/zero would never end
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_REQUIREMENTS_BYTES:
            raise SpecError(f"--requirements {path!r} is not a requirements.txt (a regular file of at most "
                            f"{MAX_REQUIREMENTS_BYTES // 1024} KiB); give the path of one", field="requirements")
        with open(full, encoding="utf-8") as fh:
            text = fh.read(MAX_REQUIREMENTS_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path, or bytes that are not UTF-8
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).split(":")[0]
        raise SpecError(f"--requirements {path!r}: cannot read it ({reason}); give the path of a requirements.txt",
                        field="requirements") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def parse_pip(items: list[str]) -> list[str]:
    bad = [i for i in items if not i.strip() or i.strip().startswith("-")]
    if bad:
        raise SpecError(f"--pip {bad[0]!r} is not a requirement: give names like numpy==2.1 (options go in "
                        "--requirements)", field="pip")
    return [i.strip() for i in items]


def split_words(value: str, name: str, field: str) -> list[str]:
    """Text as words, split as a shell would split them (quotes keep words together, a backslash escapes) but
    never run by one: --command, and a form's Arguments (`args_text`); `name` is how the message names it."""
    try:
        return shlex.split(value)
    except ValueError as exc:  # an unclosed quote, a trailing backslash
        fix = ("close the quote, or escape it with a backslash" if "quotation" in str(exc) else
               "a backslash escapes the character after it: double the last one, or remove it")
        raise SpecError(f"{name} {value!r} cannot be split into words ({str(exc).lower()}); {fix}",
                        field=field) from None


_PLAIN_IN_DOUBLE_QUOTES = re.compile(r'[^"\\$`!]*')  # nothing a shell or shlex treats specially inside "…"


def join_words(words: list[str]) -> str | None:
    """Words as one line that split_words (and a POSIX shell) splits back into them, for a page to show and a
    form to take back; None for no words. shlex.quote's, except that a word with a single quote and nothing a
    shell expands between double quotes reads as "…": python3 -c "print('hi')", not 'print('"'"'hi'"'"')'."""
    if not words:
        return None
    return " ".join(f'"{w}"' if "'" in w and _PLAIN_IN_DOUBLE_QUOTES.fullmatch(w) else shlex.quote(w) for w in words)


def parse_command(value: str | None) -> list[str]:
    """--command as words (split_words)."""
    if value is None:
        return []
    words = split_words(value, "--command", "command")
    if not words:
        raise SpecError("--command is empty: give the program and its arguments, e.g. --command 'python3 train.py', "
                        "or leave it out to run the image's own ENTRYPOINT", field="command")
    return words


def label_value(text: str) -> str:
    """Any text as a valid label value (Vertex and Docker accept it)."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:63]


def validate_image(image: str) -> str:
    image = image.strip()
    if not image or not _IMAGE_RE.match(image):
        raise SpecError(
            f"--image {image!r} is not a valid image reference: use NAME[:TAG] such as python:3.11-slim "
            "or REGION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG", field="image")
    return image


def validate_output_dir(value: str | None, store_home: Path | None = None) -> str | None:
    """A gs:// prefix, or a local folder (bound read-write into the job's containers) under host_paths' rule."""
    if not value:
        return None
    if value.startswith("gs://"):
        bucket, prefix = split_gs(value, "--output-dir")
        return f"gs://{bucket}/{prefix}".rstrip("/")
    return str(confine(value, "--output-dir", store_home=store_home))


def build_spec(options: RunOptions, *, default_image: str, default_backend: str, project: str | None,
               traits_of: Callable[[str], Traits], region: str | None = None, staging_bucket: str | None = None,
               service_account: str | None = None, image_repo: str | None = None,
               from_file: frozenset[str] = frozenset(), args: list[str] | None = None,
               store_home: Path | None = None) -> JobSpec:
    """Validate everything a backend needs; raises SpecError on the first problem, carrying every problem
    found (SpecError.problems: the checks of one option do not wait for another's). `traits_of`: a backend's
    Traits by its name (backends.backend_traits; an unknown name is refused). `from_file`: the options a
    CustomJob file set, valid on every backend (see check_applicable). `args`: containerSpec.args.
    `store_home`: containerjob's home, which no host path a job is given may reach (core/host_paths.py)."""
    found = Problems()
    backend = options.backend or default_backend
    traits = found.check("backend", traits_of, backend)
    if traits is not None:
        found.check(None, check_applicable, options, backend, from_file)
        refused = {p.field for p in found.found if p.field}  # checked no further: one problem a field
        options = dataclasses.replace(options, **{name: getattr(RunOptions(), name) for name in refused})
    image = found.check("image", validate_image, options.image or default_image)
    parsed = found.check("accelerator", parse_accelerator, options.accelerator)
    accelerator, count = parsed or (None, 0)
    count = count or found.check("gpus", parse_gpus, options.gpus) or 0  # the table keeps --gpus local, this remote
    machine_type = options.machine_type or "n1-standard-4"
    if traits is not None and traits.cloud_machines:
        found.check("region", validate_region, options.region or region or "")
        if parsed is not None:
            found.check("machine_type", validate_machine, machine_type, accelerator, count)
    name = (options.name or "containerjob").strip()
    found.check("name", _check_name, name)
    replicas = found.check("replicas", _parse_replicas, options.replicas) or 1
    env, secret_env = found.check("env", parse_secret_env, options.env, options.secret_env) or ({}, [])
    command = found.check("command", parse_command, options.command) or []
    staging = options.staging_bucket or staging_bucket
    if staging:
        bucket = found.check("staging_bucket", split_gs, staging if staging.startswith("gs://") else f"gs://{staging}",
                             "--staging-bucket")
        staging = bucket[0] if bucket else None
    labels = found.check("labels", parse_labels, options.labels) or {}
    output_dir = found.check("output_dir", validate_output_dir, options.output_dir, store_home)
    if output_dir and traits is not None and not traits.runs_locally and not output_dir.startswith("gs://"):
        found.add(SpecError(f"--output-dir {options.output_dir!r} is a local folder, which Vertex AI cannot see: "
                            "give gs://BUCKET/PREFIX", field="output_dir"))
    # one problem a field, as a form shows it: the first bad --mount
    mounts = found.check("mounts", lambda given: [parse_mount(m) for m in given], options.mounts) or []
    requirements = [*(found.check("requirements", parse_requirements_file, options.requirements, store_home) or []),
                    *(found.check("pip", parse_pip, options.pip) or [])]
    image_repo = (options.image_repo or image_repo or "").strip().rstrip("/")
    found.check("image_repo", _check_image_repo, image_repo)
    sa = options.service_account or service_account
    found.check("service_account", _check_service_account, sa)
    timeout_s = found.check("timeout", parse_timeout, options.timeout)
    runtime_template = found.check("runtime_template", _runtime_template, options.runtime_template)
    retries = found.check("retries", parse_retries, options.retries) or 0
    retry_on = found.check("retry_on", parse_retry_on, options.retry_on, retries) or []
    found.raise_any()
    assert image is not None
    pool = WorkerPool(image=image, command=command, args=list(args or []), env=env, secret_env=secret_env,
                      machine_type=machine_type, accelerator_type=accelerator or ("NVIDIA_GPU" if count else None),
                      accelerator_count=count)
    pools = [pool]
    if replicas > 1:  # as Vertex wants it: one chief (workerpool0), the other replicas as workers (workerpool1)
        pools.append(dataclasses.replace(pool, env=dict(pool.env), args=list(pool.args), replica_count=replicas - 1))
    if output_dir and output_dir.startswith("gs://"):
        out_bucket, prefix = split_gs(output_dir, "--output-dir")
        if not any(m.bucket == out_bucket and m.mode == "fuse" for m in mounts):  # fuse mounts whole buckets
            mounts.append(Mount(bucket=out_bucket, prefix=f"{prefix}/" if prefix else "", mode="sync",
                                named=f"--output-dir {output_dir}"))
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
        timeout_s=timeout_s,
        labels={"containerjob-job": label_value(name) or "job", **labels},
        project=project,
        region=options.region or region,
        mounts=mounts,
        upload_on_failure=options.upload_on_failure,
        mount_credentials=options.credentials,
        runtime_template=runtime_template,
        retries=retries,
        retry_on=retry_on,
    )


def _check_name(name: str) -> None:
    if len(name) > 128 or not name.isprintable():
        raise SpecError("--name must be printable text of at most 128 characters", field="name")


def _parse_replicas(value: str | None) -> int:
    try:
        replicas = int(value or 1)
    except ValueError:
        raise SpecError(f"--replicas {value!r} is not a number: use 1 or more", field="replicas") from None
    if not 1 <= replicas <= 1000:
        raise SpecError(f"--replicas {replicas} is out of range: use 1..1000", field="replicas")
    return replicas


def _check_image_repo(image_repo: str) -> None:
    if image_repo and not _IMAGE_RE.match(f"{image_repo}/x:y"):
        raise SpecError(f"--image-repo {image_repo!r} is not a registry path: use REGION-docker.pkg.dev/PROJECT/REPO",
                        field="image_repo")


def _check_service_account(sa: str | None) -> None:
    if sa and not re.match(r"^[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$|^[0-9]+-compute@developer\.gserviceaccount\.com$", sa):
        raise SpecError(f"--service-account {sa!r} is not a service account e-mail: NAME@PROJECT.iam.gserviceaccount.com",
                        field="service_account")


def _runtime_template(value: str | None) -> str | None:
    if not value:
        return None
    if value != "workbench" and not re.match(r"^projects/[^/]+/locations/[^/]+/notebookRuntimeTemplates/[^/]+$", value):
        raise SpecError(f"--runtime-template {value!r} is neither `workbench` (a Workbench runtime) nor a resource "
                        "name: projects/PROJECT/locations/REGION/notebookRuntimeTemplates/ID", field="runtime_template")
    return value
