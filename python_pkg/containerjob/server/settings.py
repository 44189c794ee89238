"""What a job would get: version, resolved settings and project, and which backends can run now."""
from __future__ import annotations

from typing import Any

import tornado.web

from ..backends import Capabilities, available_backends
from ..core.options import options_for_backend
from ..core.project import resolve_project
from ..core.version import __version__
from .base import ContainerJobHandler


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
        """Each backend says itself whether it can run now (local pings the engine; the cloud ones check the
        configuration) and what it can do; the options it takes come from the option table."""
        return [self._describe(name) for name in available_backends()]

    def _describe(self, name: str) -> dict[str, Any]:
        """A backend that cannot load or answer is reported as unavailable with why: never a 500 for all."""
        try:
            backend = self.service.backend(name)
            available, message = backend.health()
            capabilities = backend.host_capabilities()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not a 500 for every backend
            return {"name": name, "label": name, "available": False, "message": f"cannot use it: {exc}",
                    "capabilities": Capabilities(kinds=[], schedules=False, gpus=False, cancel=False, live_logs=False),
                    "options": []}
        return {"name": name, "label": backend.label, "available": available, "message": message,
                "capabilities": capabilities, "options": options_for_backend(name)}
