"""REST handlers. Every handler derives from APIHandler and is @authenticated."""
from __future__ import annotations

import json

import tornado.web
from jupyter_server.base.handlers import APIHandler

from .. import __version__


class VersionHandler(APIHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(json.dumps({"version": __version__}))
