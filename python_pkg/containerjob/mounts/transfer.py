"""Bulk object transfers for sync mode over gcsfs's asynchronous HTTP client.

Thousands of small objects are dominated by per-request overhead, so listing, downloads, small
uploads and deletes run concurrently on gcsfs's event loop. Uploads and deletes carry
`ifGenerationMatch`, which gcsfs exposes only as "create" (generation 0); the multipart request
below is the same one gcsfs sends, with the generation we read before the run. Files over
RESUMABLE_BYTES go through google-cloud-storage's resumable upload, which takes a generation too.

Every operation is bounded by silence, not duration: it gives up, naming what it was doing, once
Cloud Storage has sent or taken no byte for `timeout_s` (gcsfs's own retries alone can wait minutes).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import time
from pathlib import Path
from typing import Any, Awaitable, Coroutine, Iterable, TypeVar

from ..core.errors import MountError
from ..core.runtime import writeback
from ..core.settings import Settings
from .storage import emulator_host, storage_client

T = TypeVar("T")

RESUMABLE_BYTES = 8 << 20
RESUMABLE_CHUNK = 256 << 20  # bytes per resumable request, held in memory: one big upload runs at a time
CONCURRENCY = 32  # requests in flight
RANGED_BYTES = 32 << 20  # objects this big are read in RANGE_PARTS concurrent ranges
RANGE_PARTS = 4
READ_BYTES = 1 << 20  # the most one read from the socket hands to pwrite


class Transfer:
    def __init__(self, project: str | None, timeout_s: float | None = None) -> None:
        import aiohttp

        self.project = project
        self.timeout_s = float(Settings.load().network_timeout_s if timeout_s is None else timeout_s)
        self._heard = time.monotonic()
        trace = aiohttp.TraceConfig()  # every byte either way, and every answer, counts as Cloud Storage alive
        for signal in (trace.on_request_chunk_sent, trace.on_response_chunk_received, trace.on_request_end,
                       trace.on_connection_create_end):
            signal.append(self._heard_from)
        kwargs: dict[str, Any] = {"skip_instance_cache": True, "session_kwargs": {"trace_configs": [trace]}}
        if emulator_host():
            # gcsfs's default class (unless GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false was set before its import)
            # first probes each bucket's type over gRPC, which an emulator never answers: 60 s per bucket.
            from gcsfs.core import GCSFileSystem

            self.fs = GCSFileSystem(project=project or "", token="anon", **kwargs)
        else:
            import gcsfs

            self.fs = gcsfs.GCSFileSystem(project=project or "", **kwargs)

    async def _heard_from(self, *_args: Any) -> None:
        self._heard = time.monotonic()

    def run(self, what: str, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a gcsfs coroutine on its event loop until it ends, or until Cloud Storage has been silent for
        `timeout_s`: then it is cancelled and a MountError says what was waited for."""
        future = asyncio.run_coroutine_threadsafe(coro, self.fs.loop)
        self._heard = time.monotonic()
        try:
            while True:
                try:
                    return future.result(timeout=min(1.0, self.timeout_s))
                except concurrent.futures.TimeoutError:
                    if time.monotonic() - self._heard > self.timeout_s:
                        raise MountError(f"Cloud Storage did not answer for {self.timeout_s:g} s while {what}; "
                                         "check the network or the service's status, then retry (the bound is "
                                         "CONTAINERJOB_NETWORK_TIMEOUT_S)") from None
        finally:
            future.cancel()  # no-op once done; an interrupt or the bound leaves nothing running

    def put(self, files: list[Path], targets: list[str], what: str) -> None:
        """Local files to bucket/key targets."""
        if files:
            self.run(what, self.fs._put([str(f) for f in files], targets))

    def get(self, names: list[str], targets: list[Path], what: str) -> None:
        """bucket/key objects to local files."""
        if names:
            self.run(what, self.fs._get(names, [str(t) for t in targets]))

    def find(self, path: str, what: str) -> list[str]:
        """Every object under bucket/prefix; none when there is nothing there."""
        try:
            return list(self.run(what, self.fs._find(path)))
        except FileNotFoundError:
            return []

    def list(self, bucket: str, key_prefix: str) -> dict[str, dict[str, Any]]:
        """key -> {generation, md5, size} for every object whose name starts with `key_prefix` (`in/` for a
        folder, `in/data.csv` for what a job names: that object, and a folder of that name; placeholders
        included)."""
        folder, _, start = key_prefix.rpartition("/")
        path = f"{bucket}/{folder}" if folder else bucket
        found = self.run(f"listing gs://{bucket}/{key_prefix}",
                         self.fs._find(path, detail=True, withdirs=False, prefix=start))
        out = {}
        for name, info in found.items():
            key = name.split("/", 1)[1] if "/" in name else ""
            if key and key.startswith(key_prefix):
                out[key] = {"generation": int(info.get("generation") or 0), "md5": info.get("md5Hash"),
                            "size": int(info.get("size") or 0)}
        return out

    def info(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            found = self.run(f"reading gs://{bucket}/{key}", self.fs._info(f"{bucket}/{key}", refresh=True))
        except FileNotFoundError:
            return None
        return {"generation": int(found.get("generation") or 0), "md5": found.get("md5Hash")}

    def download(self, bucket: str, items: list[tuple[str, Path, int, int]]) -> None:
        """Items are (key, file, size, generation) from the listing: one GET per object, pinned to the listed
        generation so the bytes are the ones the manifest records; objects of RANGED_BYTES or more in
        RANGE_PARTS concurrent ranges, each streamed into its place (gcsfs's _get_file fetches 16 MiB
        pieces into memory, joins them and writes them from a thread: 18 requests for 120 MiB, here 4)."""

        async def run() -> None:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(key: str, path: Path, size: int, generation: int) -> None:
                url = self.fs.url(f"{bucket}/{key}", generation=generation or None)
                step = max(-(-size // RANGE_PARTS), 1) if size >= RANGED_BYTES else max(size, 1)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
                disk = writeback.Disk(fd) if size >= writeback.FROM else None  # on disk before the engine's flush
                try:
                    os.ftruncate(fd, size)

                    async def part(start: int) -> int:
                        async with gate:
                            return await self._fetch(url, fd, start, min(start + step, size), ranged=step < size,
                                                     disk=disk)

                    try:
                        ends = await _together(part(start) for start in range(0, max(size, 1), step))
                    except _Transcoded:  # stored gzip-encoded: served whole and decompressed, ranges do not apply
                        ends = [await self._fetch(url, fd, 0, size, ranged=False)]
                    if len(ends) == 1 and ends[0] != size:  # a decompressed object is longer than it is stored
                        os.ftruncate(fd, ends[0])
                except FileNotFoundError:
                    raise MountError(f"gs://{bucket}/{key} changed or was deleted while it was downloaded; "
                                     "start the job again") from None
                finally:
                    if disk is not None:
                        disk.close()
                    os.close(fd)  # no part of it is still writing: _together ends them all first

            await _together(one(*item) for item in items)

        if items:
            self.run(f"downloading {len(items)} objects from gs://{bucket}", run())

    async def _fetch(self, url: str, fd: int, start: int, end: int, *, ranged: bool,
                     disk: writeback.Disk | None = None) -> int:
        """Bytes [start, end) of an object into fd at the same offsets, as they arrive (at most READ_BYTES
        held, never the whole range); returns where the written bytes end. Each block counts as Cloud
        Storage alive, so a long download is never taken for silence. Retried as gcsfs retries its own
        requests (a retry rewrites the range). An object stored gzip-encoded arrives decompressed, as gcsfs
        gave it: of another length than listed, and whole (_Transcoded) when a range was asked. `disk`: each
        writeback.PIECE written goes to it."""
        import aiohttp
        from gcsfs.retry import retry_request, validate_response

        async def attempt() -> int:
            await self.fs._set_session()
            headers = self.fs._get_headers({"Range": f"bytes={start}-{end - 1}"} if ranged else None)
            async with self.fs.session.get(url, headers=headers, timeout=self.fs.requests_timeout) as reply:
                if reply.status >= 400:
                    validate_response(reply.status, await reply.read(), url)
                encoded = reply.headers.get("Content-Encoding", "identity") != "identity"
                if ranged and reply.status != 206:
                    if encoded:
                        raise _Transcoded()
                    raise MountError(f"Cloud Storage answered a ranged read of {url} with HTTP {reply.status}, "
                                     "not 206 Partial Content; the endpoint does not serve ranges")
                offset = handed = start
                while block := await reply.content.read(READ_BYTES):
                    self._heard = time.monotonic()
                    if not encoded and offset + len(block) > end:  # never into a neighbouring range
                        raise aiohttp.ClientPayloadError(f"{url}: more than the {end - start} bytes asked arrived")
                    view = memoryview(block)
                    while view:  # a short write goes on where it stopped
                        written = os.pwrite(fd, view, offset)
                        view, offset = view[written:], offset + written
                    if disk is not None and offset - handed >= writeback.PIECE:
                        disk.start(handed, offset - handed)
                        handed = offset
                if not encoded and offset != end:
                    raise aiohttp.ClientPayloadError(f"{url}: {offset - start} bytes of {end - start} arrived")
                return offset

        return await retry_request(attempt)()

    def upload(self, bucket: str, items: list[tuple[str, Path, int, str]]) -> dict[str, int | None]:
        """Items are (key, file, expected generation, base64 MD5); the MD5 goes along so the server checks
        the bytes. Returns key -> new generation, or None where the precondition failed (a conflict)."""
        big = [i for i in items if i[1].stat().st_size >= RESUMABLE_BYTES]
        small = [i for i in items if i not in big]
        results = self.run(f"uploading {len(small)} files to gs://{bucket}", self._upload_small(bucket, small)) \
            if small else {}
        if big:
            results.update(self._upload_big(bucket, big))
        return results

    async def _upload_small(self, bucket: str, items: list[tuple[str, Path, int, str]]) -> dict[str, int | None]:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(key: str, path: Path, generation: int, md5: str) -> tuple[str, int | None]:
            metadata = json.dumps({"name": key, "md5Hash": md5})
            body = (f"--==0==\nContent-Type: application/json; charset=UTF-8\n\n{metadata}\n--==0==\n"
                    "Content-Type: application/octet-stream\n\n").encode() + path.read_bytes() + b"\n--==0==--"
            async with gate:
                try:
                    reply = await self.fs._call("POST", f"{self.fs._location}/upload/storage/v1/b/{bucket}/o",
                                                uploadType="multipart", ifGenerationMatch=str(generation),
                                                headers={"Content-Type": 'multipart/related; boundary="==0=="'},
                                                data=body, json_out=True)
                except FileExistsError:  # gcsfs's name for HTTP 412 Precondition Failed
                    return key, None
            return key, int(reply["generation"])

        return dict(await asyncio.gather(*(one(*i) for i in items)))

    def _upload_big(self, bucket: str, items: list[tuple[str, Path, int, str]]) -> dict[str, int | None]:
        from google.api_core.exceptions import PreconditionFailed
        from google.cloud.storage.retry import DEFAULT_RETRY

        client = storage_client(self.project)
        retry = DEFAULT_RETRY.with_deadline(self.timeout_s)  # each request waits timeout_s, retries end then too
        out: dict[str, int | None] = {}
        for key, path, generation, md5 in items:
            blob = client.bucket(bucket).blob(key, chunk_size=RESUMABLE_CHUNK)
            blob.md5_hash = md5  # verified by the server; no second client-side checksum pass
            try:
                blob.upload_from_filename(str(path), if_generation_match=generation, checksum=None,
                                          timeout=self.timeout_s, retry=retry)
                out[key] = blob.generation
            except PreconditionFailed:
                out[key] = None
        return out

    def delete(self, bucket: str, items: list[tuple[str, int]]) -> dict[str, str]:
        """key -> deleted | conflict | gone."""

        async def run() -> dict[str, str]:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(key: str, generation: int) -> tuple[str, str]:
                async with gate:
                    try:
                        await self.fs._call("DELETE", "b/{}/o/{}", bucket, key, ifGenerationMatch=str(generation))
                    except FileExistsError:
                        return key, "conflict"
                    except FileNotFoundError:
                        return key, "gone"
                return key, "deleted"

            return dict(await asyncio.gather(*(one(*i) for i in items)))

        return self.run(f"deleting {len(items)} objects in gs://{bucket}", run()) if items else {}


class _Transcoded(Exception):
    """A ranged read of an object stored gzip-encoded came back whole and decompressed (Cloud Storage's
    decompressive transcoding): read it again in one request."""


async def _together(coroutines: Iterable[Awaitable[T]]) -> list[T]:
    """Await all; when one fails, cancel and await the others before raising (asyncio.gather leaves them
    running: a range still writing through a file descriptor its caller has closed, and maybe reused)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
