"""Job logs by character offset (polling) or as one chunked text stream that ends with the job."""
from __future__ import annotations

import asyncio
import threading
from typing import Callable

import tornado.web
from tornado.iostream import StreamClosedError

from .base import ContainerJobHandler

RECHECK_S = 0.5  # a stream that ended before the job was final (still starting, being finalised) is reopened


class LogsHandler(ContainerJobHandler):
    _closed: threading.Event | None = None

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        job_id = self.job_id(job_id)
        since = self.int_argument("since", 0, 0, 2**62)
        if self.get_query_argument("follow", "") in ("1", "true"):
            await self._stream(job_id, since)
            return
        text, final = await self.blocking(self._snapshot, job_id)
        self.reply({"text": text[since:], "next": len(text), "done": final})

    def _snapshot(self, job_id: str) -> tuple[str, bool]:
        """Whether the job was final is read before its logs, so `done` never hides a late chunk."""
        final = self.service.get(job_id).status.is_final
        return "".join(self.service.logs(job_id, follow=False)), final

    async def _stream(self, job_id: str, since: int) -> None:
        await self.blocking(self.service.store.get, job_id)  # 404 before any byte is sent
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue = asyncio.Queue()
        self._closed = closed = threading.Event()

        def push(item: object) -> None:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
            except RuntimeError:  # the loop is gone: the server stopped
                closed.set()

        threading.Thread(target=self._pump, args=(job_id, since, push, closed), name=f"containerjob-logs-{job_id}",
                         daemon=True).start()
        content_type = "text/plain; charset=utf-8"
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # proxies must not hold the chunks back
        try:
            await self.flush()
            while (item := await chunks.get()) is not None:
                if isinstance(item, BaseException):
                    self.log.warning("containerjob: log stream of %s ended early: %s", job_id, item)
                    break
                self.write(item)
                await self.flush()
        except StreamClosedError:
            closed.set()
            return
        finally:
            closed.set()
        self.finish(set_content_type=content_type)

    def _pump(self, job_id: str, since: int, push: Callable[[object], None], closed: threading.Event) -> None:
        """In its own thread (a stream can last hours; the pool is for short calls): the backend's log
        stream from the start, skipping what the client has seen, reopened until the job is final."""
        pos = since  # absolute character offset up to which the client has the text
        try:
            while not (closed.is_set() or self.ctx.stopping):
                final = self.service.get(job_id).status.is_final
                seen = 0
                for chunk in self.service.logs(job_id, follow=not final):
                    if seen + len(chunk) > pos:
                        push(chunk[pos - seen:])
                        pos = seen + len(chunk)
                    seen += len(chunk)
                    if closed.is_set():
                        return
                if final:
                    return
                closed.wait(RECHECK_S)
        except Exception as exc:  # noqa: BLE001 - reported to the handler, which ends the stream
            push(exc)
        finally:
            push(None)

    def on_connection_close(self) -> None:
        """The client went away: the pump stops at its next chunk (or when the job ends)."""
        if self._closed is not None:
            self._closed.set()
