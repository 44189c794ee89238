"""Bulk object transfers for sync mode and job staging through public APIs: reads through gcsfs, writes
through google-cloud-storage.

Thousands of small objects are dominated by per-request overhead. gcsfs's asynchronous client (aiohttp)
costs ~1 ms of CPU a request, requests' ~3-6 ms, so listings and reads go through gcsfs's public
`find`/`info`/`cat_ranges`/`cat_file`: objects under PART_BYTES in batches of CONCURRENCY requests, a
bigger one as STREAMS stripes read side by side, each PART_BYTES at a time written at its offset. Uploads and deletes carry
each object's own `ifGenerationMatch`, which gcsfs expresses only as "create" (generation 0): they go
through google-cloud-storage on CONCURRENCY worker threads, each taking a client of its own from a shelf
(a client's connection pool holds 10). A precondition failure (HTTP 412) is reported as a conflict.

Every request is bounded by silence, not duration: it gives up, naming what it was doing, once Cloud
Storage has sent or taken no byte for `timeout_s`. gcsfs's calls run on a thread of their own while the
caller watches the bytes aiohttp reports (a trace passed through gcsfs's `session_kwargs`); gcsfs alone
retries a silent request for minutes. requests' timeout is per socket operation; a silent request is not
retried, every other transient failure is, as the library retries.
"""
from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar
from urllib.parse import urlsplit

from ..core.errors import MountError
from ..core.runtime import writeback
from ..core.settings import Settings
from .storage import emulator_host, storage_client, storage_credentials

T = TypeVar("T")
R = TypeVar("R")

RESUMABLE_BYTES = 8 << 20  # google-cloud-storage's multipart limit: bigger files go through a resumable upload
RESUMABLE_CHUNK = 256 << 20  # bytes per resumable request, held in memory: one big upload runs at a time
CONCURRENCY = 32  # requests in flight
PART_BYTES = 8 << 20  # one range, held in memory once it has arrived
RANGED_BYTES = PART_BYTES  # objects this big are read in ranges; smaller ones whole, in batches
STREAMS = 4  # a big object's stripes read at once (Cloud Storage serves one connection ~100-200 MB/s)
BATCH_BYTES = 64 << 20  # the most one batch of whole-object reads holds in memory (two are held at once)
BATCH_OBJECTS = 32 * CONCURRENCY  # the most objects one batch reads: a batch's end waits for its slowest
TRANSIENT = (408, 429, 500, 502, 503, 504)  # statuses google-cloud-storage retries


class Transfer:
    def __init__(self, project: str | None, timeout_s: float | None = None) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.project = project
        self.timeout_s = float(Settings.load().network_timeout_s if timeout_s is None else timeout_s)
        self.retry = DEFAULT_RETRY.with_predicate(_retryable)
        self._credentials: tuple[Any, str | None] | None = None  # looked up at the first write
        self._shelf: queue.SimpleQueue[Any] = queue.SimpleQueue()  # idle clients, one per thread at work
        self._heard = time.monotonic()
        self.fs = self._filesystem(version_aware=False)
        self._versioned: Any = None  # made at the first pinned batch read
        self._sizes: dict[str, int] = {}  # bucket/key -> size, from find(), for get()

    def _filesystem(self, version_aware: bool) -> Any:
        """A gcsfs filesystem whose every byte either way, and every answer, counts as Cloud Storage alive.
        Its listings are never cached: each one is asked again."""
        import aiohttp

        trace = aiohttp.TraceConfig()
        for signal in (trace.on_request_chunk_sent, trace.on_response_chunk_received, trace.on_request_end,
                       trace.on_connection_create_end):
            signal.append(self._heard_from)
        kwargs: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False,
                                  "version_aware": version_aware, "session_kwargs": {"trace_configs": [trace]}}
        if emulator_host():
            # gcsfs's default class (unless GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false was set before its import)
            # first probes each bucket's type over gRPC, which an emulator never answers: 60 s per bucket.
            from gcsfs.core import GCSFileSystem

            return GCSFileSystem(project=self.project or "", token="anon", **kwargs)
        import gcsfs

        return gcsfs.GCSFileSystem(project=self.project or "", **kwargs)

    async def _heard_from(self, *_args: Any) -> None:
        self._heard = time.monotonic()

    def _run(self, what: str, call: Callable[[], R]) -> R:
        """A gcsfs call on a thread of its own, waited for until it ends or Cloud Storage has been silent
        for `timeout_s`: then a MountError says what was waited for (the call is abandoned: its result is
        never used, and its requests end by gcsfs's own retries)."""
        return self._run_all(what, [call], threading.Event())[0]

    def _run_all(self, what: str, calls: list[Callable[[], R]], stop: threading.Event) -> list[R]:
        """Each call on a thread of its own, all waited for; `stop` is set at the first failure (the others
        should end early, and are waited for) or at a silence of `timeout_s`, raised as a MountError
        without waiting (the calls stuck in a request must do nothing once it ends)."""
        if not calls:
            return []
        pool = concurrent.futures.ThreadPoolExecutor(len(calls), "containerjob-gcsfs")
        futures = [pool.submit(call) for call in calls]
        pool.shutdown(wait=False)
        self._heard = time.monotonic()
        pending = set(futures)
        try:
            while pending:
                done, pending = concurrent.futures.wait(pending, min(1.0, self.timeout_s),
                                                        concurrent.futures.FIRST_EXCEPTION)
                if any(future.exception() for future in done):
                    stop.set()
                if pending and time.monotonic() - self._heard > self.timeout_s:
                    failed = next((f.exception() for f in futures if f.done() and f.exception()), None)
                    raise failed or self._silence(what)
        except BaseException:
            stop.set()
            raise
        return [future.result() for future in futures]

    def _silence(self, what: str) -> MountError:
        return MountError(f"Cloud Storage did not answer for {self.timeout_s:g} s while {what}; check the "
                          "network or the service's status, then retry (the bound is CONTAINERJOB_NETWORK_TIMEOUT_S)")

    def _with_client(self, work: Callable[[Any], R]) -> R:
        try:
            client = self._shelf.get_nowait()
        except queue.Empty:
            if self._credentials is None:
                self._credentials = storage_credentials()
            client = storage_client(self.project, self._credentials)
        try:
            return work(client)
        finally:
            self._shelf.put(client)

    def _each(self, what: str, work: Callable[[T], R], items: Iterable[T], threads: int = CONCURRENCY) -> list[R]:
        """work(item) for every item, `threads` at a time; the first failure cancels what has not started and
        is raised (a silent Cloud Storage as a MountError saying what was waited for)."""
        items = list(items)
        if not items:
            return []
        pool = concurrent.futures.ThreadPoolExecutor(min(threads, len(items)), "containerjob-gcs")
        try:
            futures = [pool.submit(work, item) for item in items]
            return [future.result() for future in futures]
        except BaseException as exc:
            if _silent(exc):
                raise self._silence(what) from None
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # running requests end within the silence bound

    @staticmethod
    def _blob(client: Any, bucket: str, key: str, **kwargs: Any) -> Any:
        return client.bucket(bucket).blob(key, **kwargs)

    def put(self, files: list[Path], targets: list[str], what: str) -> None:
        """Local files to bucket/key targets, replacing what is there."""
        def one(pair: tuple[Path, str]) -> None:
            bucket, key = pair[1].split("/", 1)
            chunk = RESUMABLE_CHUNK if pair[0].stat().st_size >= RESUMABLE_BYTES else None
            self._with_client(lambda client: self._blob(client, bucket, key, chunk_size=chunk).upload_from_filename(
                str(pair[0]), timeout=self.timeout_s, retry=self.retry))

        self._each(what, one, zip(files, targets))

    def get(self, names: list[str], targets: list[Path], what: str) -> None:
        """bucket/key objects to local files (their folders made)."""
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
        by_bucket: dict[str, list[tuple[str, Path, int, int]]] = {}
        for name, target in zip(names, targets):
            bucket, key = name.split("/", 1)
            by_bucket.setdefault(bucket, []).append((key, target, self._sizes.get(name, -1), 0))
        for bucket, items in by_bucket.items():
            self._read(bucket, items, what)

    def find(self, path: str, what: str) -> list[str]:
        """bucket/key of every object under bucket/prefix (folder placeholders left out); none when there is
        nothing there."""
        try:
            found = self._run(what, lambda: self.fs.find(path, detail=True))
        except FileNotFoundError:
            return []
        self._sizes.update((name, int(info.get("size") or 0)) for name, info in found.items())
        return [name for name in found if not name.endswith("/")]

    def list(self, bucket: str, key_prefix: str) -> dict[str, dict[str, Any]]:
        """key -> {generation, md5, size} for every object whose name starts with `key_prefix` (`in/` for a
        folder, `in/data.csv` for what a job names: that object, and a folder of that name; placeholders
        included)."""
        folder, _, start = key_prefix.rpartition("/")
        path = f"{bucket}/{folder}" if folder else bucket
        found = self._run(f"listing gs://{bucket}/{key_prefix}",
                          lambda: self.fs.find(path, detail=True, withdirs=False, prefix=start))
        out = {}
        for name, info in found.items():
            key = name.split("/", 1)[1] if "/" in name else ""
            if key and key.startswith(key_prefix):
                out[key] = {"generation": int(info.get("generation") or 0), "md5": info.get("md5Hash"),
                            "size": int(info.get("size") or 0)}
        return out

    def info(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            found = self._run(f"reading gs://{bucket}/{key}", lambda: self.fs.info(f"{bucket}/{key}"))
        except FileNotFoundError:
            return None
        return {"generation": int(found.get("generation") or 0), "md5": found.get("md5Hash")}

    def download(self, bucket: str, items: list[tuple[str, Path, int, int]]) -> None:
        """Items are (key, file, size, generation) from the listing: pinned to the listed generation so the
        bytes are the ones the manifest records."""
        self._read(bucket, items, f"downloading {len(items)} objects from gs://{bucket}")

    def _read(self, bucket: str, items: list[tuple[str, Path, int, int]], what: str) -> None:
        """(key, file, size or -1 when unknown, generation or 0 for the live one): objects under PART_BYTES
        in batches of CONCURRENCY requests holding at most BATCH_BYTES, bigger ones in ranges; a key gcsfs
        would read a generation into (`#`, `?`, `:`) alone, through the filesystem that reads none. Each
        batch is written while the next one downloads."""
        try:
            small = [i for i in items if 0 <= i[2] < RANGED_BYTES and _pinnable(i[0])]
            batches: list[list[tuple[str, Path, int, int]]] = [[]]
            for item in small:
                if batches[-1] and (len(batches[-1]) >= BATCH_OBJECTS
                                    or sum(i[2] for i in batches[-1]) + item[2] > BATCH_BYTES):
                    batches.append([])
                batches[-1].append(item)
            _overlapped((lambda batch=batch: self._read_batch(bucket, batch, what), _write_batch)
                        for batch in batches if batch)
            for key, path, size, generation in (i for i in items if i not in small):
                if size < 0:
                    size = int(self._run(what, lambda: self.fs.info(f"{bucket}/{key}"))["size"])
                self._read_ranges(bucket, key, path, size, generation, what)
        except FileNotFoundError:
            raise MountError(f"an object of gs://{bucket} changed or was deleted while it was downloaded; "
                             "start the job again") from None

    def _read_batch(self, bucket: str, items: list[tuple[str, Path, int, int]],
                    what: str) -> list[tuple[Path, bytes]]:
        if self._versioned is None:
            self._versioned = self._filesystem(version_aware=True)
        paths = [f"{bucket}/{key}#{generation}" if generation else f"{bucket}/{key}" for key, _, _, generation in items]
        got = self._run(what, lambda: self._versioned.cat_ranges(paths, None, None, batch_size=CONCURRENCY))
        return [(path, _arrived(data)) for (_, path, _, _), data in zip(items, got)]

    def _read_ranges(self, bucket: str, key: str, path: Path, size: int, generation: int, what: str) -> None:
        """The object in STREAMS stripes read side by side, each PART_BYTES at a time (one gcsfs request,
        the listed generation) written at its offset through a descriptor of the stripe's own: at most
        STREAMS parts held, and no write once this returns (a stripe stops at `stop`). One stored
        gzip-encoded is served whole and decompressed whatever range was asked: it is read again whole."""
        name = f"{bucket}/{key}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        disk = writeback.Disk(fd) if size >= writeback.FROM else None
        stripe = max(1, -(-size // PART_BYTES // STREAMS)) * PART_BYTES
        stop = threading.Event()

        def read(start: int, own: int) -> None:
            try:
                for at in range(start, min(start + stripe, size), PART_BYTES):
                    want = min(PART_BYTES, size - at)
                    data = self.fs.cat_file(name, at, at + want, generation=generation or None)
                    if len(data) != want:
                        raise _Transcoded()
                    if stop.is_set():
                        return
                    _pwrite(own, data, at)
                    if disk is not None:
                        disk.start(at, want)
            finally:
                os.close(own)

        try:
            os.ftruncate(fd, size)
            self._run_all(what, [lambda start=start, own=os.dup(fd): read(start, own)
                                 for start in range(0, size, stripe)], stop)
        except _Transcoded:
            data = self._run(what, lambda: self.fs.cat_file(name, generation=generation or None))
            os.ftruncate(fd, len(data))
            _pwrite(fd, data, 0)
        finally:
            if disk is not None:
                disk.close()
            os.close(fd)

    def upload(self, bucket: str, items: list[tuple[str, Path, int, str]]) -> dict[str, int | None]:
        """Items are (key, file, expected generation, base64 MD5); the MD5 goes along so the server checks
        the bytes. Returns key -> new generation, or None where the precondition failed (a conflict). Files
        of RESUMABLE_BYTES or more go one at a time (each holds RESUMABLE_CHUNK in memory)."""
        from google.api_core.exceptions import PreconditionFailed

        def one(item: tuple[str, Path, int, str]) -> tuple[str, int | None]:
            key, path, generation, md5 = item

            def send(client: Any) -> int:
                blob = self._blob(client, bucket, key,
                                  chunk_size=RESUMABLE_CHUNK if path.stat().st_size >= RESUMABLE_BYTES else None)
                blob.md5_hash = md5  # verified by the server; no second client-side checksum pass
                blob.upload_from_filename(str(path), if_generation_match=generation, checksum=None,
                                          timeout=self.timeout_s, retry=self.retry)
                return int(blob.generation)

            try:
                return key, self._with_client(send)
            except PreconditionFailed:
                return key, None

        big = [i for i in items if i[1].stat().st_size >= RESUMABLE_BYTES]
        small = [i for i in items if i not in big]
        results = dict(self._each(f"uploading {len(small)} files to gs://{bucket}", one, small))
        for item in big:
            results.update(self._each(f"uploading {item[1].name} to gs://{bucket}/{item[0]}", one, [item]))
        return results

    def delete(self, bucket: str, items: list[tuple[str, int]]) -> dict[str, str]:
        """key -> deleted | conflict | gone."""
        from google.api_core.exceptions import NotFound, PreconditionFailed

        def one(item: tuple[str, int]) -> tuple[str, str]:
            try:
                self._with_client(lambda client: self._blob(client, bucket, item[0]).delete(
                    if_generation_match=item[1], timeout=self.timeout_s, retry=self.retry))
            except PreconditionFailed:
                return item[0], "conflict"
            except NotFound:
                return item[0], "gone"
            return item[0], "deleted"

        return dict(self._each(f"deleting {len(items)} objects in gs://{bucket}", one, items))


class _Transcoded(Exception):
    """A ranged read of an object stored gzip-encoded came back whole and decompressed (Cloud Storage's
    decompressive transcoding): it is read again in one request."""


def _pinnable(key: str) -> bool:
    """Whether gcsfs reads `key#generation` as that key at that generation (it splits the name as a URL)."""
    parts = urlsplit(key + "#1")
    return (parts.path, parts.fragment, parts.scheme, parts.netloc, parts.query) == (key, "1", "", "", "")


def _pwrite(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:  # a short write goes on where it stopped
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _write(path: Path, data: bytes) -> None:
    """A whole object into its file, never through a link a job left at the path."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    try:
        _pwrite(fd, data, 0)
    finally:
        os.close(fd)


def _arrived(data: bytes | BaseException) -> bytes:
    """One range of a gcsfs batch: its failure comes back in its place."""
    if isinstance(data, BaseException):
        raise data
    return data


def _write_batch(files: list[tuple[Path, bytes]]) -> None:
    for path, data in files:
        _write(path, data)


def _overlapped(steps: Iterable[tuple[Callable[[], T], Callable[[T], None]]]) -> None:
    """Each step's fetch while the previous step's result is written on a thread of its own: at most two
    steps' data held, and no write goes on once this returns or raises."""
    writer = concurrent.futures.ThreadPoolExecutor(1, "containerjob-write")
    pending: concurrent.futures.Future[None] | None = None
    try:
        for fetch, write in steps:
            got = fetch()
            if pending is not None:
                pending.result()
            pending = writer.submit(write, got)
        if pending is not None:
            pending.result()
    finally:
        writer.shutdown(wait=True)


def _silent(exc: BaseException) -> bool:
    """A request that waited timeout_s for a byte: requests raises Timeout, or ConnectionError around
    urllib3's timeout when the silence falls while a body is being read."""
    import requests
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    if isinstance(exc, requests.Timeout):
        return True
    return isinstance(exc, requests.ConnectionError) and bool(exc.args) and isinstance(exc.args[0], Urllib3Timeout)


def _retryable(exc: BaseException) -> bool:
    """google-cloud-storage's retry rule (transient statuses, dropped connections), less silence: that is
    the bound's to report."""
    import http.client

    import requests
    from google.api_core.exceptions import GoogleAPICallError
    from google.auth.exceptions import TransportError
    from google.cloud.storage.exceptions import InvalidResponse

    if _silent(exc):
        return False
    if isinstance(exc, InvalidResponse):
        return exc.response.status_code in TRANSIENT
    if isinstance(exc, GoogleAPICallError):
        return exc.code in TRANSIENT
    return isinstance(exc, (ConnectionError, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                            http.client.HTTPException, TransportError))
