"""Bulk object transfers for sync mode and job staging, through google-cloud-storage's public API.

Thousands of small objects are dominated by per-request overhead, so objects move CONCURRENCY at a
time on worker threads, the shape of google-cloud-storage's transfer_manager (whose calls take one
set of keyword arguments for every object, where each upload and delete here carries its own
`if_generation_match`). Each request takes a client of its own from a shelf (a client's connection
pool holds 10: more threads on one client open and drop a connection per request). An object of
RANGED_BYTES or more is read as PART_BYTES ranges in parallel, each written at its offset.
Preconditions are the library's own: an update or delete of an object changed since it was read
fails with 412 and is reported as a conflict.

Every request is bounded by silence, not duration: it gives up, naming what it was doing, once Cloud
Storage has sent or taken no byte for `timeout_s` (requests' timeout is per socket operation); a
silent request is not retried, every other transient failure is, as the library retries.
"""
from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from ..core.errors import MountError
from ..core.runtime import writeback
from ..core.settings import Settings
from .storage import storage_client, storage_credentials

T = TypeVar("T")
R = TypeVar("R")

RESUMABLE_BYTES = 8 << 20  # google-cloud-storage's multipart limit: bigger files go through a resumable upload
RESUMABLE_CHUNK = 256 << 20  # bytes per resumable request, held in memory: one big upload runs at a time
CONCURRENCY = 32  # requests in flight
RANGED_BYTES = 32 << 20  # objects this big are read in ranges, RANGES at a time
PART_BYTES = 8 << 20  # one range, held in memory once it has arrived
RANGES = 8
TRANSIENT = (408, 429, 500, 502, 503, 504)  # statuses google-cloud-storage retries


class Transfer:
    def __init__(self, project: str | None, timeout_s: float | None = None) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.project = project
        self.timeout_s = float(Settings.load().network_timeout_s if timeout_s is None else timeout_s)
        self.credentials = storage_credentials()
        self.retry = DEFAULT_RETRY.with_predicate(_retryable)
        self._shelf: queue.SimpleQueue[Any] = queue.SimpleQueue()  # idle clients, one per thread at work

    def _with_client(self, work: Callable[[Any], R]) -> R:
        try:
            client = self._shelf.get_nowait()
        except queue.Empty:
            client = storage_client(self.project, self.credentials)
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
                raise MountError(f"Cloud Storage did not answer for {self.timeout_s:g} s while {what}; "
                                 "check the network or the service's status, then retry (the bound is "
                                 "CONTAINERJOB_NETWORK_TIMEOUT_S)") from None
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
        def one(pair: tuple[str, Path]) -> None:
            bucket, key = pair[0].split("/", 1)
            pair[1].parent.mkdir(parents=True, exist_ok=True)
            self._with_client(lambda client: self._download(self._blob(client, bucket, key), pair[1], 0))

        self._each(what, one, zip(names, targets))

    def find(self, path: str, what: str) -> list[str]:
        """bucket/key of every object under bucket/prefix (folder placeholders left out); none when there is
        nothing there."""
        bucket, _, prefix = path.partition("/")
        return [f"{bucket}/{key}" for key in self._listing(bucket, prefix.rstrip("/") + "/" if prefix else "", what)
                if not key.endswith("/")]

    def list(self, bucket: str, key_prefix: str) -> dict[str, dict[str, Any]]:
        """key -> {generation, md5, size} for every object whose name starts with `key_prefix` (`in/` for a
        folder, `in/data.csv` for what a job names: that object, and a folder of that name; placeholders
        included)."""
        return self._listing(bucket, key_prefix, f"listing gs://{bucket}/{key_prefix}")

    def _listing(self, bucket: str, prefix: str, what: str) -> dict[str, dict[str, Any]]:
        def pages(client: Any) -> dict[str, dict[str, Any]]:
            blobs = client.list_blobs(bucket, prefix=prefix or None, timeout=self.timeout_s, retry=self.retry)
            return {b.name: {"generation": int(b.generation or 0), "md5": b.md5_hash, "size": int(b.size or 0)}
                    for b in blobs if b.name}

        return self._each(what, lambda _: self._with_client(pages), [None])[0]

    def info(self, bucket: str, key: str) -> dict[str, Any] | None:
        def read(client: Any) -> Any:
            return client.bucket(bucket).get_blob(key, timeout=self.timeout_s, retry=self.retry)

        found = self._each(f"reading gs://{bucket}/{key}", lambda _: self._with_client(read), [None])[0]
        return None if found is None else {"generation": int(found.generation or 0), "md5": found.md5_hash}

    def download(self, bucket: str, items: list[tuple[str, Path, int, int]]) -> None:
        """Items are (key, file, size, generation) from the listing: pinned to the listed generation so the
        bytes are the ones the manifest records, streamed into the file as they arrive; one GET per object,
        PART_BYTES ranges RANGES at a time for an object of RANGED_BYTES or more."""
        from google.api_core.exceptions import NotFound

        what = f"downloading {len(items)} objects from gs://{bucket}"

        def one(item: tuple[str, Path, int, int]) -> None:
            key, path, size, generation = item
            try:
                if size >= RANGED_BYTES:
                    self._download_ranges(bucket, key, path, size, generation, what)
                else:
                    self._with_client(lambda client: self._download(
                        self._blob(client, bucket, key, generation=generation or None), path, size))
            except NotFound:
                raise MountError(f"gs://{bucket}/{key} changed or was deleted while it was downloaded; "
                                 "start the job again") from None

        self._each(what, one, [i for i in items if i[2] < RANGED_BYTES])
        for item in items:
            if item[2] >= RANGED_BYTES:  # one at a time: its ranges are the concurrency
                one(item)

    def _download(self, blob: Any, path: Path, size: int) -> None:
        """Never through a link a job left at the path; a big file is handed to the disk as it is written
        (on disk before the engine's flush). An object stored gzip-encoded arrives decompressed."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        disk = writeback.Disk(fd) if size >= writeback.FROM else None
        try:
            blob.download_to_file(_Sink(fd, 0, disk), checksum=None, single_shot_download=size < PART_BYTES,
                                  timeout=self.timeout_s, retry=self.retry)
        finally:
            if disk is not None:
                disk.close()
            os.close(fd)

    def _download_ranges(self, bucket: str, key: str, path: Path, size: int, generation: int, what: str) -> None:
        """The object's ranges on RANGES threads, each written at its offset. One stored gzip-encoded is read
        whole instead (Cloud Storage serves it decompressed, whatever range was asked). A failed range stops
        the others before the file closes: none writes through a descriptor its download has closed."""
        def meta(client: Any) -> Any:
            return client.bucket(bucket).get_blob(key, generation=generation or None, timeout=self.timeout_s,
                                                  retry=self.retry)

        found = self._each(what, lambda _: self._with_client(meta), [None])[0]
        if found is None:
            raise MountError(f"gs://{bucket}/{key} changed or was deleted while it was downloaded; start the job again")
        if found.content_encoding:
            self._with_client(lambda client: self._download(self._blob(client, bucket, key, generation=generation or None), path, size))
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        disk = writeback.Disk(fd) if size >= writeback.FROM else None
        open_fd = _OpenFd(fd)

        def part(start: int) -> None:
            end = min(start + PART_BYTES, size)
            sink = _Sink(fd, start, disk, open_fd)
            self._with_client(lambda client: self._blob(client, bucket, key, generation=generation or None)
                              .download_to_file(sink, start=start, end=end - 1, raw_download=True, checksum=None,
                                                single_shot_download=True, timeout=self.timeout_s,
                                                retry=self.retry))
            if sink.offset != end:
                raise MountError(f"gs://{bucket}/{key}: {sink.offset - start} bytes of the {end - start} asked "
                                 f"from byte {start} arrived; start the job again")

        try:
            os.ftruncate(fd, size)
            self._each(what, part, range(0, size, PART_BYTES), threads=RANGES)
        finally:
            open_fd.close(disk)  # a range still running writes nothing more

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


class _Sink:
    """The file object a download writes to, from byte `start` of the file on: every write lands whole at
    its offset (a short write goes on where it stopped), and each writeback.PIECE written is handed to
    `disk`. With `open_fd` (a range among others) each write is refused once the file is closing."""

    def __init__(self, fd: int, start: int, disk: writeback.Disk | None, open_fd: _OpenFd | None = None) -> None:
        self.fd, self.disk, self.start, self.offset, self.handed = fd, disk, start, start, start
        self.open_fd = open_fd

    def write(self, data: bytes) -> int:
        if self.open_fd is not None:
            self.open_fd.enter()
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(self.fd, view, self.offset)
                view, self.offset = view[written:], self.offset + written
            if self.disk is not None and self.offset - self.handed >= writeback.PIECE:
                self.disk.start(self.handed, self.offset - self.handed)
                self.handed = self.offset
        finally:
            if self.open_fd is not None:
                self.open_fd.leave()
        return len(data)

    def tell(self) -> int:
        return self.offset - self.start

    def seek(self, offset: int, whence: int = 0) -> int:
        """A whole download served decompressed after a retry starts the object again: the file is cut back
        to where it resumes (never asked of a range: those are not compressed objects)."""
        if whence != 0:
            raise OSError(f"a download sink seeks from the start only, not whence={whence}")
        self.offset = self.start + offset
        os.ftruncate(self.fd, self.offset)
        self.handed = min(self.handed, self.offset)
        return offset

    def flush(self) -> None:
        """Writes go straight to the file: nothing is buffered here."""


class _OpenFd:
    """A descriptor several ranges write through at once: `close()` waits for the writes under way, and
    any write after it is refused (never through a number the process may have reused)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.writers, self.closed = fd, 0, False
        self.changed = threading.Condition()

    def enter(self) -> None:
        with self.changed:
            if self.closed:
                raise MountError("a download was abandoned: another part of it failed")
            self.writers += 1

    def leave(self) -> None:
        with self.changed:
            self.writers -= 1
            self.changed.notify_all()

    def close(self, disk: writeback.Disk | None) -> None:
        with self.changed:
            self.closed = True
            self.changed.wait_for(lambda: self.writers == 0)
        if disk is not None:
            disk.close()
        os.close(self.fd)


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
