"""Bulk object transfers for sync mode and job staging, through google-cloud-storage's public API.

Thousands of small objects are dominated by per-request overhead, so objects move CONCURRENCY at a
time on worker threads, the shape of google-cloud-storage's transfer_manager (whose calls take one
set of keyword arguments for every object, where each upload and delete here carries its own
`if_generation_match`). Preconditions are the library's own: an update or delete of an object
changed since it was read fails with 412 and is reported as a conflict.

Every request is bounded by silence, not duration: it gives up, naming what it was doing, once Cloud
Storage has sent or taken no byte for `timeout_s` (requests' timeout is per socket operation); a
silent request is not retried, every other transient failure is, as the library retries.
"""
from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from ..core.errors import MountError
from ..core.runtime import writeback
from ..core.settings import Settings
from .storage import storage_client

T = TypeVar("T")
R = TypeVar("R")

RESUMABLE_BYTES = 8 << 20  # google-cloud-storage's multipart limit: bigger files go through a resumable upload
RESUMABLE_CHUNK = 256 << 20  # bytes per resumable request, held in memory: one big upload runs at a time
CONCURRENCY = 32  # requests in flight
TRANSIENT = (408, 429, 500, 502, 503, 504)  # statuses google-cloud-storage retries


class Transfer:
    def __init__(self, project: str | None, timeout_s: float | None = None) -> None:
        from google.cloud.storage.retry import DEFAULT_RETRY

        self.project = project
        self.timeout_s = float(Settings.load().network_timeout_s if timeout_s is None else timeout_s)
        self.client = storage_client(project)
        self.retry = DEFAULT_RETRY.with_predicate(_retryable)

    def _each(self, what: str, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """work(item) for every item, CONCURRENCY at a time; the first failure cancels what has not started
        and is raised (a silent Cloud Storage as a MountError saying what was waited for)."""
        items = list(items)
        if not items:
            return []
        pool = concurrent.futures.ThreadPoolExecutor(min(CONCURRENCY, len(items)), "containerjob-gcs")
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

    def _blob(self, bucket: str, key: str, **kwargs: Any):
        return self.client.bucket(bucket).blob(key, **kwargs)

    def put(self, files: list[Path], targets: list[str], what: str) -> None:
        """Local files to bucket/key targets, replacing what is there."""
        def one(pair: tuple[Path, str]) -> None:
            bucket, key = pair[1].split("/", 1)
            blob = self._blob(bucket, key, chunk_size=RESUMABLE_CHUNK if pair[0].stat().st_size >= RESUMABLE_BYTES
                              else None)
            blob.upload_from_filename(str(pair[0]), timeout=self.timeout_s, retry=self.retry)

        self._each(what, one, zip(files, targets))

    def get(self, names: list[str], targets: list[Path], what: str) -> None:
        """bucket/key objects to local files (their folders made)."""
        def one(pair: tuple[str, Path]) -> None:
            bucket, key = pair[0].split("/", 1)
            pair[1].parent.mkdir(parents=True, exist_ok=True)
            self._download(self._blob(bucket, key), pair[1], 0)

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
        def pages(_: None) -> dict[str, dict[str, Any]]:
            blobs = self.client.list_blobs(bucket, prefix=prefix or None, timeout=self.timeout_s, retry=self.retry)
            return {b.name: {"generation": int(b.generation or 0), "md5": b.md5_hash, "size": int(b.size or 0)}
                    for b in blobs if b.name}

        return self._each(what, pages, [None])[0]

    def info(self, bucket: str, key: str) -> dict[str, Any] | None:
        def read(_: None) -> Any:
            return self.client.bucket(bucket).get_blob(key, timeout=self.timeout_s, retry=self.retry)

        found = self._each(f"reading gs://{bucket}/{key}", read, [None])[0]
        return None if found is None else {"generation": int(found.generation or 0), "md5": found.md5_hash}

    def download(self, bucket: str, items: list[tuple[str, Path, int, int]]) -> None:
        """Items are (key, file, size, generation) from the listing: one GET per object, pinned to the listed
        generation so the bytes are the ones the manifest records, streamed into the file as they arrive."""
        def one(item: tuple[str, Path, int, int]) -> None:
            key, path, size, generation = item
            from google.api_core.exceptions import NotFound

            try:
                self._download(self._blob(bucket, key, generation=generation or None), path, size)
            except NotFound:
                raise MountError(f"gs://{bucket}/{key} changed or was deleted while it was downloaded; "
                                 "start the job again") from None

        self._each(f"downloading {len(items)} objects from gs://{bucket}", one, items)

    def _download(self, blob: Any, path: Path, size: int) -> None:
        """Never through a link a job left at the path; a big file is handed to the disk as it is written
        (on disk before the engine's flush). An object stored gzip-encoded arrives decompressed."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        sink = _Sink(fd, writeback.Disk(fd) if size >= writeback.FROM else None)
        try:
            blob.download_to_file(sink, checksum=None, timeout=self.timeout_s, retry=self.retry)
        finally:
            sink.close()

    def upload(self, bucket: str, items: list[tuple[str, Path, int, str]]) -> dict[str, int | None]:
        """Items are (key, file, expected generation, base64 MD5); the MD5 goes along so the server checks
        the bytes. Returns key -> new generation, or None where the precondition failed (a conflict). Files
        of RESUMABLE_BYTES or more go one at a time (each holds RESUMABLE_CHUNK in memory)."""
        from google.api_core.exceptions import PreconditionFailed

        def one(item: tuple[str, Path, int, str]) -> tuple[str, int | None]:
            key, path, generation, md5 = item
            blob = self._blob(bucket, key, chunk_size=RESUMABLE_CHUNK if path.stat().st_size >= RESUMABLE_BYTES
                              else None)
            blob.md5_hash = md5  # verified by the server; no second client-side checksum pass
            try:
                blob.upload_from_filename(str(path), if_generation_match=generation, checksum=None,
                                          timeout=self.timeout_s, retry=self.retry)
            except PreconditionFailed:
                return key, None
            return key, int(blob.generation)

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
                self._blob(bucket, item[0]).delete(if_generation_match=item[1], timeout=self.timeout_s,
                                                   retry=self.retry)
            except PreconditionFailed:
                return item[0], "conflict"
            except NotFound:
                return item[0], "gone"
            return item[0], "deleted"

        return dict(self._each(f"deleting {len(items)} objects in gs://{bucket}", one, items))


class _Sink:
    """The file object a download writes to: every write lands whole (a short write goes on where it
    stopped), and each writeback.PIECE written is handed to `disk`."""

    def __init__(self, fd: int, disk: writeback.Disk | None) -> None:
        self.fd, self.disk, self.offset, self.handed = fd, disk, 0, 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view, self.offset = view[written:], self.offset + written
        if self.disk is not None and self.offset - self.handed >= writeback.PIECE:
            self.disk.start(self.handed, self.offset - self.handed)
            self.handed = self.offset
        return len(data)

    def tell(self) -> int:
        return self.offset

    def seek(self, offset: int, whence: int = 0) -> int:
        """A retried download starts the object again: the file is cut back to where it resumes."""
        self.offset = os.lseek(self.fd, offset, whence)
        os.ftruncate(self.fd, self.offset)
        self.handed = min(self.handed, self.offset)
        return self.offset

    def flush(self) -> None:
        """Writes go straight to the file: nothing is buffered here."""

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()
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
