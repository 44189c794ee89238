"""Job logs from a byte offset (polling) or as one chunked text stream that ends with the job.

Both read files, never the backend: the live log the server's watcher copies while the job runs
(logs.live), and the log the backend keeps when it finalises the job (logs.txt, which begins with the
same text). Each answer seeks to the client's offset and reads only what is new.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import tornado.web
from tornado.iostream import StreamClosedError

from ..core.errors import JobNotFound
from ..core.job_files import read_log
from .base import ContainerJobHandler

FOLLOW_POLL_S = 0.25  # how often a follow stream looks for new text


class LogsHandler(ContainerJobHandler):
    _closed: asyncio.Event | None = None

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        job_id = self.job_id(job_id)
        since = self.int_argument("since", 0, 0, 2**62)
        if self.get_query_argument("follow", "") in ("1", "true"):
            await self._stream(job_id, since)
            return
        text, next_offset, done = await self.blocking(self._read, job_id, since)
        self.reply({"text": text, "next": next_offset, "done": done})

    def _read(self, job_id: str, offset: int) -> tuple[str, int, bool]:
        """Whether the job is final is read before its log, so `done` never hides a late chunk."""
        record = self.service.get(job_id, refresh=False)
        return read_log(Path(record.job_dir), record.status.is_final, offset)

    async def _stream(self, job_id: str, offset: int) -> None:
        """Tail the same files on the server's loop (reads in the pool), so nothing outlives the client: the
        stream ends with the job, when the client goes away (on_connection_close) or when the server stops."""
        text, offset, done = await self.blocking(self._read, job_id, offset)  # a 404 before any byte is sent
        self._closed = closed = asyncio.Event()
        content_type = "text/plain; charset=utf-8"
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # proxies must not hold the chunks back
        try:
            while True:
                if text:
                    self.write(text)
                await self.flush()
                if done or closed.is_set() or self.ctx.stopping:
                    break
                if not text:
                    try:
                        await asyncio.wait_for(closed.wait(), FOLLOW_POLL_S)
                        break
                    except asyncio.TimeoutError:
                        pass
                if self.ctx.stopping:
                    break
                text, offset, done = await self.blocking(self._read, job_id, offset)
        except StreamClosedError:
            return
        except JobNotFound:
            self.log.info("containerjob: job %s was deleted while its log was followed", job_id)
        if not closed.is_set():
            self.finish(set_content_type=content_type)

    def on_connection_close(self) -> None:
        """The client went away: the stream's loop ends at once."""
        if self._closed is not None:
            self._closed.set()
