"""Warm containers (issue 29): the local engine's create and start, ~300 ms of a trivial cell, paid in the
background before the job that needs them.

When a local cell or script job starts, the next container for its launch key (everything fixed when a
container is created: image, GPUs, binds, user, network, security options, labels, the environment's names) is
asked for; it is created and started once that job ends or two seconds after it started (not at once: it would
compete with the job for the engine and the CPU), under a job ID of its own, reserved for the job it will
serve, with core/runtime/waiter.py as its command. The next job with that key takes that ID: its payload is
hard-linked and its output and /gcs folders are renamed into the folders the container was created with (the
binds follow the folders, whatever their name), and the waiter is handed the job's argv and environment
through a FIFO, then execs the runner. So the job's container has the name, labels, binds and environment a
cold start gives it, and serves only that job. A warm container goes when its idle time is up (a timer here;
the waiter exits on its own a little later), when this process exits (atexit; kill -9: the waiter sees its
`maker` FIFO close), with `gc`, and with the pre-run sweep (leftovers.py), which also removes one whose maker
is gone. One per key, four in all.

Container jobs (the image's own entrypoint: nothing runs the waiter), notebooks, several replicas (a network
and peers made per job), bucket mounts and a local --output-dir (binds made per job) start cold."""
from __future__ import annotations

import atexit
import errno
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.models import CHIEF, JobSpec, new_job_id
from ..core.payload import Payload
from ..mounts.job_mounts import GCS_ROOT_DIR
from . import replicas
from .container_config import IN_CONTAINER
from .leftovers import LABEL_JOB, LABEL_MAKER, LABEL_WARM, maker_id

HANDOFF = "/containerjob/handoff"
PER_KEY, TOTAL = 1, 4
MAKE_AFTER_S = 2.0  # the next container is made when the job that asks for it ends, or this long after it started
WAITER_GRACE_S = 30  # the waiter outlives our idle timer by this much, so it never exits under a handoff
MAGIC, END = b"containerjob-handoff-1", b"end"
HANDED = "handed"  # the handoff folder's copy of the message, for restarts (waiter.py reads it first)
FILLED = {IN_CONTAINER["payload"]: "payload", IN_CONTAINER["output"]: "output", "/gcs": "gcs"}
log = logging.getLogger(__name__)


def eligible(spec: JobSpec, payload: Payload) -> bool:
    """Jobs whose container the runner starts and whose binds are all known before the job is."""
    return (payload.kind in ("cell", "script") and not replicas.is_pool_job(spec) and not spec.primary.command
            and not spec.mounts and not spec.base_output_dir)


def launch_key(config: dict[str, Any]) -> str:
    """The create call less what belongs to one job: its name, ID label, environment's values and filled folders."""
    fixed = {k: v for k, v in config.items() if k not in ("name", "environment", "labels", "mounts")}
    fixed["labels"] = {k: v for k, v in config["labels"].items() if k != LABEL_JOB}
    fixed["environment"] = list(config["environment"])  # the names, in order: the engine orders them at create
    fixed["mounts"] = [{"target": m["target"], "read_only": m["read_only"]} if m["target"] in FILLED else m
                       for m in config["mounts"]]
    return hashlib.sha256(json.dumps(fixed, sort_keys=True, default=str).encode()).hexdigest()[:16]


def warm_config(config: dict[str, Any], job_id: str, folder: Path, key: str, idle_s: float) -> dict[str, Any]:
    """The job's create call for a container that waits: its own folders bound, the waiter as command."""
    mounts = [{**m, "source": str(folder / FILLED[m["target"]])} if m["target"] in FILLED else m
              for m in config["mounts"]]
    return {**config, "name": replicas.container_name(job_id, CHIEF),
            # the names the job will set, empty (Python ignores an empty PYTHON* variable): the engine puts them
            # where a cold start has them, and the waiter fills them in place
            "environment": dict.fromkeys(config["environment"], ""),
            "labels": {**config["labels"], LABEL_JOB: job_id, LABEL_WARM: key, LABEL_MAKER: maker_id()},
            "mounts": [*mounts, {"source": str(folder / "handoff"), "target": HANDOFF, "read_only": True}],
            "entrypoint": ["python3", "-u", f"{IN_CONTAINER['runtime']}/waiter.py", HANDOFF,
                           str(idle_s + WAITER_GRACE_S)],
            "command": None}


def message(config: dict[str, Any]) -> bytes:
    """What the waiter execs: the cold start's entrypoint and command, with its environment."""
    argv = [*config["entrypoint"], *(config["command"] or [])]
    env = [f"{k}={v}" for k, v in config["environment"].items()]
    return b"\0".join([MAGIC, str(len(argv)).encode(), *map(os.fsencode, argv), *map(os.fsencode, env), END])


@dataclass
class Warm:
    job_id: str
    key: str
    image_id: str
    folder: Path
    maker_fd: int
    container_id: str = ""
    made_at: float = field(default_factory=time.monotonic)
    timer: threading.Timer | None = None


class WarmPool:
    """This process's warm containers for one store: made in the background, each handed one job."""

    def __init__(self, root: Path, idle_s: float, create: Callable[[dict[str, Any]], str],
                 remove: Callable[[str], None]) -> None:
        self.root, self.idle_s = root, idle_s
        self._create, self._remove = create, remove  # the engine calls (LocalBackend's)
        self._lock = threading.Lock()
        self._ready: dict[str, Warm] = {}
        self._making: set[str] = set()
        self._soon: dict[str, tuple[str, dict[str, Any], str, threading.Timer]] = {}  # job ID -> the next one
        atexit.register(self.close)

    def take(self, key: str, image_id: str) -> Warm | None:
        """The ready container for `key`, now this caller's (hand or discard it); None: start cold. One made
        from an image the tag no longer names (rebuilt, pulled) is removed, not used."""
        with self._lock:
            warm = self._ready.pop(key, None)
        if warm is None:
            return None
        if warm.timer:
            warm.timer.cancel()
        if warm.image_id != image_id or time.monotonic() - warm.made_at > self.idle_s:
            self.discard(warm)
            return None
        return warm

    def hand(self, warm: Warm, config: dict[str, Any], payload: Payload, job_dir: Path) -> bool:
        """Give the job to the waiter; False (nothing changed) when it no longer waits (it died, or its engine
        went away): the caller discards it and starts cold."""
        try:
            go = os.open(warm.folder / "handoff" / "go", os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ENXIO, errno.ENOENT):  # no reader: the waiter is gone
                return False
            raise
        try:
            try:
                _link_tree(payload.path, warm.folder / "payload")
            except OSError as exc:  # another filesystem, or links refused: a cold start binds the payload itself
                log.warning("containerjob: cannot link the payload into a warm container (%s); starting cold", exc)
                return False
            # over the empty folders create_job made: the running container's binds follow; a link left in
            # their place gives a restart (restarts.py re-runs the same container) the same folders
            for name, in_job in (("output", "output"), ("gcs", GCS_ROOT_DIR)):
                os.rename(warm.folder / name, job_dir / in_job)
                os.symlink(job_dir / in_job, warm.folder / name)
            handed = message(config)
            # kept for a restart: the container starts the waiter again, which then runs this job at once
            fd = os.open(warm.folder / "handoff" / HANDED, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(handed)
            os.set_blocking(go, True)
            data = memoryview(handed)
            while data:
                data = data[os.write(go, data):]
        finally:
            os.close(go)
        os.close(warm.maker_fd)
        return True

    def replenish(self, key: str, config: dict[str, Any], image_id: str, *, job_id: str) -> None:
        """Make the next container for `key` once job `job_id` ends (job_ended) or MAKE_AFTER_S after now,
        whichever is first: made at once, its create and start compete with the job that just started for
        the engine and the CPU (a trivial cell's run took 4x longer on 2 busy cores)."""
        timer = threading.Timer(MAKE_AFTER_S, self.job_ended, args=(job_id,))
        timer.daemon = True
        with self._lock:
            self._soon[job_id] = (key, config, image_id, timer)
        timer.start()

    def job_ended(self, job_id: str) -> None:
        with self._lock:
            soon = self._soon.pop(job_id, None)
        if soon is not None:
            soon[3].cancel()
            self._make_next(*soon[:3])

    def _make_next(self, key: str, config: dict[str, Any], image_id: str) -> None:
        """Start making the next container for `key` in the background, unless one is ready or on its way, or
        TOTAL are on their way; the oldest ready ones go to keep TOTAL in all. Not a daemon: an exiting process
        finishes it, then atexit removes it."""
        with self._lock:
            if key in self._ready or key in self._making or len(self._making) >= TOTAL:
                return
            self._making.add(key)
            keep = TOTAL - len(self._making)
            over = sorted(self._ready.values(), key=lambda w: w.made_at)[:max(0, len(self._ready) - keep)]
            for old in over:
                del self._ready[old.key]
        for old in over:
            self.discard(old)
        threading.Thread(target=self._make, args=(key, config, image_id), name=f"containerjob-warm-{key}").start()

    def _make(self, key: str, config: dict[str, Any], image_id: str) -> None:
        warm = None
        try:
            job_id = new_job_id()
            folder = self.root / job_id
            for name in ("payload", "output", "gcs", "handoff"):
                (folder / name).mkdir(parents=True)
            os.mkfifo(folder / "handoff" / "go", 0o600)
            os.mkfifo(folder / "handoff" / "maker", 0o600)
            # held open (read-write opens a FIFO without a reader) until the job is handed or this process ends
            warm = Warm(job_id, key, image_id, folder, os.open(folder / "handoff" / "maker", os.O_RDWR))
            warm.container_id = self._create(warm_config(config, job_id, folder, key, self.idle_s))
            _until_read(folder / "handoff" / "go")
        except Exception as exc:  # noqa: BLE001 - the next job starts cold; nothing of this one stays
            log.warning("containerjob: could not start a warm container (%s); the next job starts cold", exc)
            if warm is not None:
                self.discard(warm)
            with self._lock:
                self._making.discard(key)
            return
        warm.timer = threading.Timer(self.idle_s, self._expire, args=(warm,))
        warm.timer.daemon = True
        warm.timer.start()
        with self._lock:
            self._making.discard(key)
            self._ready[key] = warm

    def _expire(self, warm: Warm) -> None:
        with self._lock:
            if self._ready.get(warm.key) is not warm:
                return
            del self._ready[warm.key]
        self.discard(warm)

    def discard(self, warm: Warm) -> None:
        """Remove an unhanded warm container: the waiter exits once its maker FIFO closes, even if the engine
        cannot be reached now (then the sweep removes the stopped container)."""
        if warm.timer:
            warm.timer.cancel()
        try:
            os.close(warm.maker_fd)
        except OSError:
            pass
        try:
            self._remove(warm.container_id or replicas.container_name(warm.job_id, CHIEF))
        except Exception as exc:  # noqa: BLE001 - left to the sweep and gc, which find it by its labels
            log.warning("containerjob: could not remove warm container %s (%s)", warm.job_id, exc)
        shutil.rmtree(warm.folder, ignore_errors=True)

    def ready(self) -> list[str]:
        """The job IDs reserved by the containers waiting now."""
        with self._lock:
            return sorted(w.job_id for w in self._ready.values())

    def close(self) -> None:
        """Remove every waiting container (at exit)."""
        with self._lock:
            waiting, self._ready = list(self._ready.values()), {}
        for warm in waiting:
            self.discard(warm)


def _until_read(fifo: Path, within_s: float = 60.0) -> None:
    """Until the waiter has the FIFO open (its Python started): a job handed sooner would start cold."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise OSError(f"the waiter never opened {fifo}: {exc}") from None
        time.sleep(0.01)


def _link_tree(source: Path, target: Path) -> None:
    """`target` made of hard links to `source`'s files: a payload of any size in a few system calls."""
    for root, dirs, files in os.walk(source):
        here = target / os.path.relpath(root, source)
        for name in dirs:
            (here / name).mkdir(exist_ok=True)
        for name in files:
            os.link(os.path.join(root, name), here / name)
