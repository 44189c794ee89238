"""A payload file's content digest: what its content address is made of.

BLAKE3 over the BLAKE3 digests of each PIECE-byte piece of the file's bytes, so that the pieces of a large
value hash on several threads (blake3 releases the GIL) while the same bytes are being written. BLAKE3,
not sha256: ~3x sha256's speed per core here even with SHA-NI (0.34 vs 1.03 s per GiB), and on a 2-core
machine the hash, not the write, set the time a 1 GiB input took to send (bench/numpy_roundtrip.py).
Only the kernel hashes: the runner tells a changed input from the pages it wrote, or from the file itself.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Union

from blake3 import blake3

PIECE = 8 << 20  # 128 per GiB, enough to keep every core busy
Chunk = Union[bytes, bytearray, memoryview]  # a piece of a file's bytes, any size


class Digest:
    """The digest of a file's bytes given as chunks (any chunking of the same bytes gives the same digest).
    With `pool`, full pieces hash on its threads while the caller goes on, e.g. writing the same chunks;
    `result()` waits for them."""

    def __init__(self, chunks: Iterable[Chunk], pool: Executor | None = None) -> None:
        self._parts: list[bytes | Future[bytes]] = [
            pool.submit(_hash, piece) if pool is not None and len(piece) == PIECE else _hash(piece)
            for piece in _pieces(chunks)]

    def result(self) -> bytes:
        return blake3(b"".join(p if isinstance(p, bytes) else p.result() for p in self._parts)).digest()


def _hash(piece: bytes | memoryview) -> bytes:
    return blake3(piece).digest()


def _pieces(chunks: Iterable[Chunk]) -> Iterator[bytes | memoryview]:
    """The bytes of chunks cut every PIECE bytes: views where a piece lies within one chunk, a copy where it
    spans several (small chunks: header, in-band stream, padding)."""
    pending = bytearray()
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        start = 0
        if pending:
            start = min(PIECE - len(pending), len(view))
            pending += view[:start]
            if len(pending) < PIECE:
                continue
            yield bytes(pending)
            pending = bytearray()
        while len(view) - start >= PIECE:
            yield view[start:start + PIECE]
            start += PIECE
        pending += view[start:]
    if pending:
        yield bytes(pending)
