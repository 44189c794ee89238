"""Values on disk as pickle protocol 5 with out-of-band buffers (PEP 574); stdlib only, shipped with the runner.

A 1 GiB NumPy array pickled in-band is copied whole into a bytes object, scanned, written, then read
back whole and copied again by `pickle.loads`. Out of band, the array's memory is written straight to
the file, and a large buffer is mapped back copy-on-write (writable, pages read from the page cache
when touched): one write, no copies.

File: MAGIC, u64 buffer count, u64 in-band length, u64 length of each buffer, the in-band pickle, then
each buffer starting at a multiple of ALIGN. Files without MAGIC are plain pickles (older jobs).

Every job's runner imports this module: the pickler itself loads only when a value needs it.
"""
from __future__ import annotations

import io
import mmap
import struct

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import os
    import pickle
    from typing import IO, Any, Callable, Union

    Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]
    DumpsFn = Callable[..., bytes]  # pickle.dumps or cloudpickle.dumps: (value, protocol=, buffer_callback=)

MAGIC = b"CJPKL5\x00\x01"
ALIGN = mmap.ALLOCATIONGRANULARITY  # buffers start where mmap can map them
MAP_FROM = 1 << 20  # buffers this large are mapped, smaller ones read


class Frames:
    """A value pickled: the in-band stream (small: structure and scalars) and its large raw buffers."""

    def __init__(self, inband: bytes, buffers: list[memoryview]) -> None:
        self.inband = inband
        self.buffers = buffers

    @property
    def size(self) -> int:
        return len(self.inband) + sum(b.nbytes for b in self.buffers)

    def chunks(self) -> list[bytes | memoryview]:
        """The file's bytes as a sequence of byte-like chunks (buffers are views, never copied)."""
        lengths = [b.nbytes for b in self.buffers]
        header = MAGIC + struct.pack("<QQ%dQ" % len(lengths), len(lengths), len(self.inband), *lengths)
        out: list[bytes | memoryview] = [header, self.inband]
        offset = len(header) + len(self.inband)
        for buf in self.buffers:
            pad = -offset % ALIGN
            if pad:
                out.append(b"\0" * pad)
            out.append(buf)
            offset += pad + buf.nbytes
        return out


def _pickler() -> Any:
    """The C pickler itself, at first use: the pickle module's Python half imports re, and the C half
    functools and collections (~10 ms of a job's start that a job sending back only plain scalars,
    which travel as JSON, never pays)."""
    try:
        import _pickle
    except ImportError:  # pragma: no cover - CPython always has it
        import pickle

        return pickle
    return _pickle


def dumps(value: object, dumps_fn: DumpsFn | None = None) -> Frames:
    """Frames of value; dumps_fn is pickle.dumps (the default) or cloudpickle.dumps (same signature)."""
    dumps_fn = dumps_fn or _pickler().dumps
    raw: list[pickle.PickleBuffer] = []
    inband = dumps_fn(value, protocol=5, buffer_callback=raw.append)
    return Frames(inband, [b.raw() for b in raw])


def write(path: str | os.PathLike[str], frames: Frames) -> None:
    with open(path, "wb") as fh:
        for chunk in frames.chunks():
            fh.write(chunk)


def load(path: str | os.PathLike[str], unpickler: type[pickle.Unpickler] | None = None,
         mapped: list[mmap.mmap | None] | None = None) -> Any:
    """The value in a file written by `write` (or a plain pickle); every buffer is writable and private.
    `unpickler`: a pickle.Unpickler subclass that limits what may be loaded (its find_class). `mapped`: a
    list that receives, for each buffer, its copy-on-write mapping, or None where the buffer was read."""
    unpickler = unpickler or _pickler().Unpickler
    with open(path, "rb") as fh:
        found = layout(fh)
        if found is None:
            fh.seek(0)
            return unpickler(fh).load()
        inband, spans = found
        buffers: list[Buffer] = []
        for offset, length in spans:
            mapping = _mapped(fh, offset, length) if length >= MAP_FROM else None
            if mapped is not None:
                mapped.append(mapping)
            if mapping is None:
                fh.seek(offset)
                read = bytearray(length)
                fh.readinto(read)
            buffers.append(read if mapping is None else mapping)
    return unpickler(io.BytesIO(inband), buffers=buffers).load()


def layout(fh: IO[bytes]) -> tuple[bytes, list[tuple[int, int]]] | None:
    """(in-band stream, [(offset, length) of each buffer]) of an open file written by `write`, or None for a
    plain pickle."""
    fh.seek(0)
    if fh.read(len(MAGIC)) != MAGIC:
        return None
    count, inband_len = struct.unpack("<QQ", fh.read(16))
    lengths = struct.unpack("<%dQ" % count, fh.read(8 * count))
    inband = fh.read(inband_len)
    offset = len(MAGIC) + 16 + 8 * count + inband_len
    size = fh.seek(0, 2)
    spans: list[tuple[int, int]] = []
    for length in lengths:
        offset += -offset % ALIGN
        if offset + length > size:
            raise EOFError("%s is truncated" % fh.name)
        spans.append((offset, length))
        offset += length
    return inband, spans


def _mapped(fh: IO[bytes], offset: int, length: int) -> mmap.mmap | None:
    """Copy-on-write mapping, or None where the file system cannot map (then the buffer is read)."""
    try:
        return mmap.mmap(fh.fileno(), length, access=mmap.ACCESS_COPY, offset=offset)
    except (OSError, ValueError):
        return None
