"""A container's log as text while it runs: the engine's stream of byte frames decoded as it comes (a character
may span two frames), closed from another thread by a StreamStop when its reader goes away."""
from __future__ import annotations

import codecs
from typing import Iterator

import docker
import docker.errors

from .base import StreamStop
from .engine import engine_errors


def container_text(client: docker.DockerClient, ref: str, follow: bool, stop: StreamStop | None,
                   action: str) -> Iterator[str] | None:
    """A container's log as text as it comes (a character may span frames), or None when the container is
    gone; `stop` closes the stream, which ends the text without an error."""
    with engine_errors(action):
        try:
            stream = client.api.logs(ref, stream=True, follow=follow, stdout=True, stderr=True)
        except docker.errors.NotFound:
            return None
    if stop is not None:
        stop.on_set(stream.close)
    return _decoded(stream, stop, action)


def _decoded(stream: Iterator[bytes], stop: StreamStop | None, action: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        with engine_errors(action):
            for chunk in stream:
                if text := decoder.decode(chunk):
                    yield text
            if tail := decoder.decode(b"", final=True):
                yield tail
    except Exception:
        if stop is None or not stop.is_set():
            raise  # closed by its reader: not an error
