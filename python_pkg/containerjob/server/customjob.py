"""`GET customjob?path=FILE`: what a CustomJob file sets, for the Run a container form (customjob_files.py
reads it; validation.py answers a bad one as every other field error)."""
from __future__ import annotations

import tornado.web

from ..core.errors import SpecError
from .base import ContainerJobHandler
from .customjob_files import preview, read_config
from .validation import refuse


class CustomJobFileHandler(ContainerJobHandler):
    """`GET customjob?path=FILE`: what a CustomJob file sets, or a 400 naming the bad field inside it."""

    @tornado.web.authenticated
    async def get(self) -> None:
        text = self.get_query_argument("path", "")
        try:
            job_file = await self.blocking(read_config, self.ctx.root_dir, text, self.service.settings.home_path)
        except SpecError as exc:
            refuse(self, [("config", str(exc))])
            return
        self.reply(preview(job_file, text))
