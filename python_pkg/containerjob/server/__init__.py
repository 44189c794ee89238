"""Jupyter server extension: REST routes under /containerjob/ over containerjob.core."""
from __future__ import annotations

from jupyter_server.utils import url_path_join

from .handlers import VersionHandler


def load_jupyter_server_extension(server_app) -> None:
    web_app = server_app.web_app
    base = url_path_join(web_app.settings["base_url"], "containerjob")
    web_app.add_handlers(".*$", [(url_path_join(base, "version"), VersionHandler)])
    server_app.log.info("containerjob server extension loaded at %s", base)
