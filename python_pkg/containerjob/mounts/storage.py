"""The Cloud Storage client: the real service with ADC, or an emulator named by STORAGE_EMULATOR_HOST."""
from __future__ import annotations

import base64
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import MountError

EMULATOR_VAR = "STORAGE_EMULATOR_HOST"


def emulator_host() -> str | None:
    return os.environ.get(EMULATOR_VAR) or None


def storage_client(project: str | None = None, credentials: tuple[Any, str | None] | None = None):
    """Imported lazily: google-cloud-storage costs ~0.3 s to import. `credentials` from storage_credentials():
    several clients (a connection pool each) without a credential lookup each."""
    from google.cloud import storage

    found, default_project = credentials or storage_credentials()
    if emulator_host():
        return storage.Client(project=project or "containerjob-emulator", credentials=found)
    return storage.Client(project=project or default_project, credentials=found)


def storage_credentials() -> tuple[Any, str | None]:
    """(credentials, their project): anonymous for an emulator, else Application Default Credentials (a
    MountError saying how to get them)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import storage

    if emulator_host():
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None
    try:
        return google.auth.default(scopes=storage.Client.SCOPE)
    except DefaultCredentialsError:
        raise MountError(
            "no Google credentials for Cloud Storage: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None


@contextmanager
def gcs_errors(what: str) -> Iterator[None]:
    """Translate google-api-core errors into MountError with the bucket or object named."""
    import requests
    from google.api_core import exceptions as gexc

    try:
        yield
    except gexc.NotFound:
        raise MountError(f"{what} does not exist (or this identity cannot see it): create it or fix the URI") from None
    except gexc.Forbidden as exc:
        raise MountError(f"{what} is not readable with the current credentials ({exc.message}): grant "
                         "roles/storage.objectViewer (objectAdmin to write) or use another identity") from None
    except (gexc.RetryError, requests.Timeout, requests.ConnectionError):
        raise MountError(f"Cloud Storage did not answer about {what} in time; check the network or the service's "
                         "status, then retry (the bound is CONTAINERJOB_NETWORK_TIMEOUT_S)") from None
    except gexc.GoogleAPIError as exc:
        raise MountError(f"Cloud Storage refused {what}: {exc}") from None


def file_md5(path: Path) -> str:
    """Base64 MD5, the form Cloud Storage reports in md5Hash."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()
