"""A job's kept files (its log, the executed notebook, what it wrote to its output folder): listed and
downloaded. JobService.output_file keeps every path inside the job's directory (escapes are a 404)."""
from __future__ import annotations

import mimetypes
import os

import tornado.web

from .base import ContainerJobHandler

CHUNK = 1 << 20


class OutputsHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        self.reply({"files": await self.blocking(self.service.outputs, self.job_id(job_id))})


class OutputFileHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str, path: str) -> None:
        file = await self.blocking(self.service.output_file, self.job_id(job_id), path)
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.set_attachment_header(file.name)
        self.set_header("Content-Type", content_type)
        with open(file, "rb") as fh:
            remaining = os.fstat(fh.fileno()).st_size  # a file still being written is sent as it was now
            self.set_header("Content-Length", str(remaining))
            while remaining > 0 and (data := await self.blocking(fh.read, min(CHUNK, remaining))):
                remaining -= len(data)
                self.write(data)
                await self.flush()
        self.finish(set_content_type=content_type)
