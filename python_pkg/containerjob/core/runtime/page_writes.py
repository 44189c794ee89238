"""Whether an input the runner mapped from the payload is still the payload's bytes, told by the pages this
process wrote (Linux /proc/self/pagemap) instead of comparing the whole value again: a mapped buffer the cell
only read proves unchanged at once, and one it wrote is compared with the file on the written pages only
(same_as_file compares the whole value where the pages cannot tell). Stdlib only, shipped with the runner.

A copy-on-write mapping's page is read from the page cache until written; the first write gives the process a
private anonymous copy. pagemap says, per page: present, swapped, file-backed. Written = present and not
file-backed, or swapped (only anonymous pages are swapped). A page never touched reads as the file.
"""
from __future__ import annotations

import mmap
import os

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    from typing import IO, Iterable, Sequence

    from .pickle_frames import Buffer, Frames

_PRESENT, _SWAPPED, _FILE = 0x80, 0x40, 0x20  # bits 63, 62, 61 of an entry: its last byte (little endian)
_WRITTEN = bytes(1 if b & _SWAPPED or b & (_PRESENT | _FILE) == _PRESENT else 0 for b in range(256))
_COMPARE = 8 << 20


def same_bytes(frames: Frames, layout: tuple[bytes, list[tuple[int, int]]] | None, fd: int,
               mapped: Sequence[mmap.mmap | None]) -> bool | None:
    """True when `frames` (a value pickled again) are byte for byte the file it was loaded from, False when
    they differ, None when only a full comparison can tell (a buffer was read rather than mapped, it is not that
    mapping's memory, or pagemap is unreadable). `layout`: the file's, from `pickle_frames.layout` (None:
    a plain pickle); `fd`: the file, open; `mapped`: what `pickle_frames.load` listed for it."""
    if layout is None or len(mapped) != len(layout[1]):
        return None
    inband, spans = layout
    if frames.inband != inband or [b.nbytes for b in frames.buffers] != [n for _, n in spans]:
        return False
    for buf, mapping, (offset, length) in zip(frames.buffers, mapped, spans):
        start = _address(mapping) if mapping is not None else None
        if start is None or _address(buf) != start:
            return None
        written = _written(start, length)
        if written is None:
            return None
        if not all(_equal(buf, fd, offset, first, end) for first, end in written):
            return False
    return True


def same_as_file(chunks: Iterable[bytes | memoryview], fh: IO[bytes]) -> bool:
    """Whether the open file holds exactly these bytes, compared a few MiB at a time (no copy of a large
    value): the answer when same_bytes cannot give one."""
    fh.seek(0)
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        for at in range(0, len(view), _COMPARE):
            piece = view[at:at + _COMPARE]
            if fh.read(len(piece)) != piece:
                return False
    return fh.read(1) == b""


def _address(buf: Buffer) -> int | None:
    """Where a writable buffer's memory starts (None for a read-only one, or a Python without ctypes)."""
    try:
        import ctypes

        return ctypes.addressof(ctypes.c_char.from_buffer(buf))
    except (ImportError, TypeError, ValueError, BufferError):
        return None


def _written(start: int, length: int) -> list[tuple[int, int]] | None:
    """[(first, end)) byte ranges, relative to start, of the pages written since they were mapped; None when
    pagemap cannot be read."""
    page = mmap.PAGESIZE
    first = start // page
    count = (start + length + page - 1) // page - first
    try:
        fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    except OSError:
        return None
    try:
        entries = bytearray()
        while len(entries) < 8 * count:
            part = os.pread(fd, 8 * count - len(entries), 8 * first + len(entries))
            if not part:
                return None
            entries += part
    except OSError:
        return None
    finally:
        os.close(fd)
    flags = bytes(entries[7::8]).translate(_WRITTEN)
    ranges: list[tuple[int, int]] = []
    i = flags.find(1)
    while i != -1:
        j = flags.find(0, i)
        j = count if j == -1 else j
        ranges.append((max((first + i) * page - start, 0), min((first + j) * page - start, length)))
        i = flags.find(1, j)
    return ranges


def _equal(buf: Buffer, fd: int, offset: int, first: int, end: int) -> bool:
    """buf[first:end] equals the file's bytes at offset + first (compared a few MiB at a time)."""
    view = memoryview(buf).cast("B")
    for at in range(first, end, _COMPARE):
        n = min(_COMPARE, end - at)
        if os.pread(fd, n, offset + at) != bytes(view[at:at + n]):
            return False
    return True
