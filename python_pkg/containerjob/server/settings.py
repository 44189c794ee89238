"""What a job would get: version, resolved settings and project, and which backends can run now."""
from __future__ import annotations

from typing import Any

import tornado.web

from .. import __version__
from ..backends import gpu
from ..backends.local import engine_errors
from ..core.errors import ContainerJobError
from ..core.project import resolve_project
from .base import ContainerJobHandler

CAPABILITIES = {
    "local": {"cells": True, "notebooks": True, "schedules": True, "gpus": False},
    "vertex": {"cells": True, "notebooks": False, "schedules": True, "gpus": True},
    "executor": {"cells": False, "notebooks": True, "schedules": True, "gpus": True},
}


class VersionHandler(ContainerJobHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.reply({"version": __version__})


class SettingsHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        settings = self.service.settings
        project = await self.blocking(resolve_project, None, settings.project or None)  # reads gcloud/ADC files
        self.reply({
            "default_backend": settings.default_backend,
            "default_image": settings.default_image,
            "project": project.project,
            "project_source": project.source,
            "region": settings.region,
            "staging_bucket": settings.staging_bucket,
            "image_repo": settings.image_repo,
            "service_account": settings.service_account,
            "home": settings.home,
        })


class BackendsHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.reply({"backends": await self.blocking(self._backends)})

    def _backends(self) -> list[dict[str, Any]]:
        local_ok, local_message, gpus = self._local()
        cloud_ok, cloud_message = self._cloud()
        return [
            {"name": "local", "available": local_ok, "message": local_message,
             "capabilities": {**CAPABILITIES["local"], "gpus": gpus}},
            *({"name": name, "available": cloud_ok, "message": cloud_message, "capabilities": CAPABILITIES[name]}
              for name in ("vertex", "executor")),
        ]

    def _local(self) -> tuple[bool, str, bool]:
        """Ping the engine; GPUs when the host has an NVIDIA driver (the engine's toolkit is checked at submit)."""
        gpus = gpu.host_cuda_version() is not None
        try:
            with engine_errors("ping"):
                self.service.backend("local").client.ping()
        except ContainerJobError as exc:
            return False, str(exc), gpus
        return True, "Docker engine reachable", gpus

    def _cloud(self) -> tuple[bool, str]:
        """Configuration only (no API call): a project and a staging bucket."""
        settings = self.service.settings
        project = resolve_project(None, settings.project or None)
        missing = [what for what, ok in (("a GCP project (CONTAINERJOB_PROJECT or gcloud config set project)",
                                          project.project),
                                         ("a staging bucket (CONTAINERJOB_STAGING_BUCKET)", settings.staging_bucket))
                   if not ok]
        if missing:
            return False, f"needs {' and '.join(missing)}"
        return True, f"{project.describe()}, staging bucket gs://{settings.staging_bucket}"
