"""Jupyter server extension: REST routes under <base_url>/containerjob/ over containerjob's JobService."""
from __future__ import annotations

from typing import Any

from .app import ContainerJobExtension

__all__ = ["ContainerJobExtension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "containerjob.server", "app": ContainerJobExtension}]
