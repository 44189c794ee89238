"""The server extension as a jupyter_server ExtensionApp: routes at load, background threads stopped at shutdown."""
from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Float, Int

from ..config_traits import ContainerJobConfig
from .context import ServerContext
from .routes import PREFIX, ROUTES


class ContainerJobExtension(ExtensionApp):
    """REST API over containerjob's JobService; follows unfinished jobs and fires due schedules."""

    name = "containerjob"
    load_other_extensions = True

    local_interval_s = Float(1.0, config=True, help="How often a followed local job is checked (Docker inspect).")
    remote_interval_s = Float(15.0, config=True, help="How often a followed Vertex job is checked (one API call).")
    sweep_s = Float(60.0, config=True,
                    help="How often containers that no unfinished job claims are reported (for `containerjob gc`).")
    schedule_interval_s = Float(30.0, config=True, help="How often due schedules are fired.")
    workers = Int(8, config=True, help="Threads for blocking Docker, Vertex and store calls of API requests.")

    ctx: ServerContext | None = None

    def initialize_settings(self) -> None:
        """Job settings from `c.ContainerJob.<name>` (the server's config: jupyter_server_config.py/json) over
        CONTAINERJOB_* and the config file (docs/configuration.md); a bad value stops the extension, named."""
        self.ctx = ServerContext.create(
            settings=ContainerJobConfig(parent=self).load_settings(), root_dir=self.serverapp.root_dir, log=self.serverapp.log, workers=self.workers,
            local_interval_s=self.local_interval_s, remote_interval_s=self.remote_interval_s, sweep_s=self.sweep_s,
            schedule_interval_s=self.schedule_interval_s)
        self.ctx.start()
        self.ctx.log.info("containerjob: store %s", self.ctx.service.store.path)

    def initialize_handlers(self) -> None:
        self.handlers.extend((url_path_join(PREFIX, pattern), handler, {"ctx": self.ctx}) for pattern, handler in ROUTES)

    async def stop_extension(self) -> None:
        if self.ctx is not None:
            self.ctx.stop()
