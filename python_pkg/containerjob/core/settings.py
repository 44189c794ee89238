"""Defaults for every layer, from (lowest to highest) built-ins, a JSON config file and CONTAINERJOB_* variables."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    """Every default a job needs; `ContainerJob` traitlets and CLI flags override per use."""

    home: str = ""
    default_image: str = ""
    default_backend: str = "local"
    project: str = ""
    region: str = "us-central1"
    ca_bundle: str = ""
    pass_proxy: bool = True
    max_payload_mb: int = 2048
    log_buffer_lines: int = 10000
    stop_timeout_s: int = 2
    # Processes (threads included) one local container may hold: a fork bomb stops there, not at the host's
    # limit; data loaders and BLAS pools stay far below it. 0 or -1: no limit
    pids_limit: int = 4096
    # Seconds without an answer from Cloud Storage, Vertex AI or Cloud Logging before containerjob gives up
    # on what it was waiting for and says so (silence, not duration: a big transfer that moves is never cut)
    network_timeout_s: int = 60
    staging_bucket: str = ""
    image_repo: str = ""
    service_account: str = ""
    vertex_endpoint: str = ""  # default: REGION-aiplatform.googleapis.com
    vertex_transport: str = "rest"
    vertex_credentials: str = "adc"  # or "anonymous", for a local fake of the API (Vertex's and Logging's)
    logging_endpoint: str = ""  # Cloud Logging's API; default: logging.googleapis.com

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @classmethod
    def load(cls) -> "Settings":
        values: dict[str, object] = {}
        path = _config_file()
        if path.is_file():
            try:
                values.update(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                raise SpecError(f"config file {path} is not valid JSON ({exc}); fix or remove it") from exc
        types = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise SpecError(f"config file {path} has unknown keys {unknown}; allowed: {sorted(types)}")
        for name in types:
            env = os.environ.get(f"CONTAINERJOB_{name.upper()}")
            if env is not None:
                values[name] = env
        settings = cls(**{k: _coerce(k, v, types[k]) for k, v in values.items()})
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
            return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SpecError(f"setting {name}={value!r} must be an integer") from None
    return str(value)
