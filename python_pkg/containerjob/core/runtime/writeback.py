"""Write a large file so that its pages go to disk while it is still being written (Linux sync_file_range).

Docker makes the filesystem holding its data-root write every dirty page to disk (overlayfs syncs it) when
it creates, starts and stops a container. A value written just before a job (its payload) or by the job (its
results) is such dirty pages whenever CONTAINERJOB_HOME shares that filesystem (one disk): the job's create,
start and exit each waited until all of it was on disk, ~0.7 s per GiB here (bench/numpy_roundtrip.py).
Started piece by piece as the file is written, that writeback runs while the rest is pickled, hashed and
written, and the engine's flush finds little left. Stdlib only, shipped with the runner; ctypes loads for a
large file only, and where the call is missing nothing changes but when the pages reach the disk.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import _queue
    import threading
    from typing import IO, Callable, Iterable, Literal, Union

    SyncFileRange = Callable[[int, int, int, int], int]
PIECE = 8 << 20  # written, then handed to the disk, a piece at a time
FROM = 64 << 20  # a file smaller than this is left to the kernel's own writeback
SYNC_FILE_RANGE_WRITE = 2  # start writing the range's dirty pages, wait for nothing
_call: SyncFileRange | Literal[False] | None = None  # sync_file_range, False where unavailable; resolved at first use


def write(fh: IO[bytes], chunks: Iterable[Union[bytes, bytearray, memoryview]],
          each: Callable[[memoryview], object] | None = None) -> int:
    """Write byte-like chunks to the open binary file fh (at its start, as written from an empty file);
    each(piece), when given, sees every byte written (a MAC). Returns the number of bytes written."""
    written = started = 0
    disk: Disk | None = None
    try:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            for at in range(0, len(view), PIECE):
                piece = view[at:at + PIECE]
                fh.write(piece)
                if each is not None:
                    each(piece)
                written += len(piece)
                if written >= FROM and written - started >= PIECE:
                    fh.flush()
                    disk = disk or Disk(fh.fileno())
                    disk.start(started, written - started)
                    started = written
    finally:
        if disk is not None:
            disk.close()
    return written


class Disk:
    """Hands ranges of an open file to the disk from a thread of its own: sync_file_range waits while the
    disk's queue is full, and the writer should not (ctypes releases the GIL for the call). `close()` before
    the file closes."""

    def __init__(self, fd: int) -> None:
        global _call
        if _call is None:
            _call = _resolve()
        self.fd = fd
        self.thread: threading.Thread | None = None
        if _call:
            import _queue
            import threading

            self._sync = _call
            self.ranges: _queue.SimpleQueue[tuple[int, int] | None] = _queue.SimpleQueue()
            self.thread = threading.Thread(target=self._run, name="writeback", daemon=True)
            self.thread.start()

    def start(self, offset: int, nbytes: int) -> None:
        if self.thread is not None:
            self.ranges.put((offset, nbytes))

    def close(self) -> None:
        """Returns once every range was handed over (the file may close then)."""
        if self.thread is not None:
            self.ranges.put(None)
            self.thread.join()

    def _run(self) -> None:
        while True:
            item = self.ranges.get()
            if item is None:
                return
            self._sync(self.fd, item[0], item[1], SYNC_FILE_RANGE_WRITE)  # an error only means the pages go later


def _resolve() -> SyncFileRange | Literal[False]:
    try:
        import ctypes

        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (ImportError, OSError, AttributeError):  # not Linux, or a libc without it
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return call
