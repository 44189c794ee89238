"""A notebook's declared parameters (its `parameters` cell), for the run and schedule dialogs."""
from __future__ import annotations

import tornado.web

from .base import ContainerJobHandler
from .bodies import under_root


class NotebookParametersHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = under_root(self.ctx.root_dir, self.get_query_argument("path", ""))
        self.reply({"parameters": await self.blocking(self.service.notebook_parameters, path)})
