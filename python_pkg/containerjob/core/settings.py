"""Defaults for every layer, from (lowest to highest) built-ins, a JSON config file, CONTAINERJOB_* variables and
values a caller passes (the magic's and the server's `ContainerJob` traitlets). The names are one table: the
dataclass below, each field's help in its metadata; docs/configuration.md lists them."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError

HOST_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def kernel_python_image() -> str:
    """The image whose Python matches this interpreter, so pickled code loads unchanged."""
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def _data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "containerjob"


def _config_file() -> Path:
    explicit = os.environ.get("CONTAINERJOB_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "containerjob" / "config.json"


def _default_ca_bundle() -> str:
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(var)
        if path and os.path.isfile(path):
            return path
    return next((p for p in HOST_CA_BUNDLES if os.path.isfile(p)), "")


def _setting(default: Any, help: str) -> Any:
    """A field with its help: the one place a setting is described (traitlets help, docs test)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every default a job needs; per-job options (flags, cell options, REST fields) override per use."""

    home: str = _setting("", "Where the store, payloads and job files live (default: ~/.local/share/containerjob).")
    default_image: str = _setting("", "Image for jobs that name none (default: python:X.Y-slim matching the kernel).")
    default_backend: str = _setting("local", "Backend for jobs that name none.")
    project: str = _setting("", "GCP project for jobs that name none (default: GOOGLE_CLOUD_PROJECT, gcloud's, ADC's).")
    region: str = _setting("us-central1", "Vertex AI region.")
    ca_bundle: str = _setting("", "CA bundle for local containers and image builds (default: the host's; empty: none).")
    pass_proxy: bool = _setting(True, "Pass the host's HTTP(S)_PROXY variables into local containers.")
    max_payload_mb: int = _setting(2048, "Largest payload (a cell's pickled inputs, a script's folder) a job takes, in MB.")
    log_buffer_lines: int = _setting(10000, "Log lines the magic's live view keeps.")
    stop_timeout_s: int = _setting(2, "Seconds a cancelled local container gets between SIGTERM and SIGKILL.")
    pids_limit: int = _setting(4096, "Processes (threads included) one local container may hold: a fork bomb stops "
                                     "there, not at the host's limit. 0 or -1: no limit.")
    warm: bool = _setting(True, "Start the next local cell or script job's container before it is needed, waiting "
                                "for the job (backends/warm.py): a trivial cell then skips the engine's create and start.")
    warm_idle_s: int = _setting(300, "Seconds a warm local container waits for a job before it is removed.")
    network_timeout_s: int = _setting(60, "Seconds without an answer from Cloud Storage, Vertex AI or Cloud Logging "
                                          "before containerjob gives up and says so (silence, not duration).")
    staging_bucket: str = _setting("", "gs:// bucket for Vertex AI payloads and results.")
    image_repo: str = _setting("", "Artifact Registry repository images are pushed to for Vertex AI.")
    service_account: str = _setting("", "Service account Vertex AI jobs run as.")
    vertex_endpoint: str = _setting("", "Vertex AI API endpoint (default: REGION-aiplatform.googleapis.com).")
    vertex_transport: str = _setting("rest", "Vertex AI client transport (rest or grpc).")
    vertex_credentials: str = _setting("adc", "adc, or anonymous for a local fake of Vertex's and Logging's APIs.")
    logging_endpoint: str = _setting("", "Cloud Logging API endpoint (default: logging.googleapis.com).")

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @classmethod
    def load(cls, overrides: Mapping[str, object] | None = None) -> "Settings":
        """The file, then CONTAINERJOB_* variables, then `overrides` (a caller's own config layer) on top."""
        values: dict[str, object] = {}
        path = _config_file()
        if path.is_file():
            try:
                values.update(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                raise SpecError(f"config file {path} is not valid JSON ({exc}); fix or remove it") from exc
        types = {f.name: str(f.type) for f in fields(cls)}  # annotations as text (`from __future__ import annotations`)
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise SpecError(f"config file {path} has unknown keys {unknown}; allowed: {sorted(types)}")
        for name in types:
            env = os.environ.get(f"CONTAINERJOB_{name.upper()}")
            if env is not None:
                values[name] = env
        unknown = sorted(set(overrides or {}) - set(types))
        if unknown:
            raise SpecError(f"unknown settings {unknown}; allowed: {sorted(types)}")
        values.update(overrides or {})
        coerced: dict[str, Any] = {k: _coerce(k, v, types[k]) for k, v in values.items()}  # each of its field's type
        settings = cls(**coerced)
        return replace(
            settings,
            home=settings.home or str(_data_home()),
            default_image=settings.default_image or kernel_python_image(),
            ca_bundle=settings.ca_bundle if "ca_bundle" in values else _default_ca_bundle(),
        )


def _coerce(name: str, value: object, type_name: str) -> object:
    try:
        if type_name == "bool":
            return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
        if type_name == "int":
            return int(value)  # type: ignore[call-overload]  # JSON's, the environment's or a caller's value: TypeError refuses
    except (TypeError, ValueError):
        raise SpecError(f"setting {name}={value!r} must be an integer") from None
    return str(value)
