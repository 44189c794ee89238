"""Jupyter server extension: REST routes under <base_url>/containerjob/ over containerjob's JobService."""
from __future__ import annotations

from typing import Any

from .app import ContainerJobExtension

__all__ = ["ContainerJobExtension", "load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "containerjob.server", "app": ContainerJobExtension}]


def load_jupyter_server_extension(server_app) -> ContainerJobExtension:  # noqa: ANN001 - ServerApp
    """Module-style entry (containerjob._load_jupyter_server_extension). Loaded this way the server
    calls no stop hook; pointing the package's extension points at ContainerJobExtension adds it."""
    extension = ContainerJobExtension()
    extension._link_jupyter_server_extension(server_app)
    extension.initialize()
    return extension
