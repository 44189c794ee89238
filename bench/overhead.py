"""Trivial cell through %%containerjob in a warm kernel vs raw `docker run --rm`, interleaved.

Two containerjob rows: "containerjob warm" (the default: the cell is handed to a warm container made in the
background after the previous job started, backends/warm.py; the benchmark waits until that container is
ready before timing the next contender, as the seconds between a person's cells would, so its making does
not slow the others) and "containerjob cold" (CONTAINERJOB_WARM=0: the engine creates and starts the job's
container; a kernel of its own in a worker subprocess, timed inside the worker around the cell only).

Prints the median wall time of each, the ratios to `docker run` (warm: target <= 0.25, issue 29; cold:
target <= 1.05, issue 18), and what the containerjob runs
added to the engine: image builds, commits, pulls and tags seen on the engine's event stream while a
containerjob run was in flight, and images and image bytes added over the whole benchmark (target 0
and 0; the engine-wide figures also count other users of the engine, the events name the images).

With --kfp, Kubeflow Pipelines' local DockerRunner runs the same work as a lightweight component
(`x = 21 * 2; print(x); return x`) as a third contender in the same interleaved loop. kfp lives in its
own virtual environment (--kfp-python, e.g. `python -m venv /tmp/kfp-venv && /tmp/kfp-venv/bin/pip
install kfp docker`), so it runs in a worker subprocess that this script drives run by run; the time
reported for kfp is measured inside that worker around the component call only (kfp's image lookup,
container run, log streaming and output reading; not the worker's own start). Its base image is
python:X.Y-slim with the same kfp version preinstalled (built once by benchimages.py, pip with the host's
CA bundle), so the `pip install kfp==...` step kfp runs in every container finds it already satisfied
and needs no network.

Run: python bench/overhead.py [--runs 15] [--kfp [--kfp-python /tmp/kfp-venv/bin/python]]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

import docker

from containerjob.core.settings import kernel_python_image

CODE = "x = 21 * 2\nprint(x)"
# Engine events that mean an image was made or fetched (a build shows as container commits plus a tag).
IMAGE_ACTIONS = {("image", "tag"), ("image", "pull"), ("image", "import"), ("image", "load"), ("container", "commit")}

COLD_WORKER = r"""
import contextlib, io, json, os, sys, time
os.environ["CONTAINERJOB_WARM"] = "0"
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
shell.run_line_magic("load_ext", "containerjob")
shell.run_line_magic("config", "ContainerJob.display_mode = 'text'")
for line in sys.stdin:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        start = time.perf_counter()
        shell.run_cell_magic("containerjob", "--image " + sys.argv[1], json.loads(line))
        seconds = time.perf_counter() - start
    sys.stdout.write(json.dumps({"seconds": seconds, "x": shell.user_ns.get("x"), "out": out.getvalue()}) + "\n")
    sys.stdout.flush()
"""

KFP_WORKER = r"""
import contextlib, io, json, sys, time
import docker.errors
from kfp import dsl, local
local.init(runner=local.DockerRunner(), pipeline_root=sys.argv[2])

@dsl.component(base_image=sys.argv[1])
def trivial() -> int:
    x = 21 * 2
    print(x)
    return x

out = sys.stdout
for line in sys.stdin:
    retries = 0
    while True:
        logs = io.StringIO()
        try:
            with contextlib.redirect_stdout(logs):
                start = time.perf_counter()
                task = trivial()
                seconds = time.perf_counter() - start
            break
        except docker.errors.ImageNotFound:  # kfp lists every image, then inspects each: one removed between fails
            retries += 1
    out.write(json.dumps({"seconds": seconds, "output": task.output, "logs": logs.getvalue(), "retries": retries}) + "\n")
    out.flush()
"""


class EngineEvents:
    """The engine's event stream, recorded from a thread (its in-memory history holds only 256 events)."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.events: list[dict[str, Any]] = []
        self._stream = client.events(decode=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # the stream ends with an error when closed
            for event in self._stream:
                self.events.append(event)

    def close(self) -> None:
        time.sleep(0.5)  # events are delivered asynchronously; let the last ones arrive
        self._stream.close()

    def image_events(self, windows: list[tuple[float, float]]) -> list[str]:
        """Image-making events that happened while one of the given [start, end] windows was open."""
        found = []
        for event in self.events:
            kind, action = event.get("Type"), event.get("Action", "")
            at = event.get("timeNano", 0) / 1e9
            if (kind, action.split(":")[0]) in IMAGE_ACTIONS and any(a <= at <= b for a, b in windows):
                actor = event.get("Actor", {}).get("Attributes", {})
                found.append(f"{kind} {action} {actor.get('name') or event.get('id', '')[:12]}")
        return found


def image_footprint(client: docker.DockerClient) -> dict[str, int]:
    return {i.id: i.attrs.get("Size", 0) for i in client.images.list(all=True)}


def kfp_image(client: docker.DockerClient, base: str, kfp_python: str) -> str:
    """python:X.Y-slim + the worker venv's kfp version, built once (see benchimages.py)."""
    from benchimages import pip_image

    version = subprocess.run([kfp_python, "-c", "import kfp; print(kfp.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    return pip_image(client, base, [f"kfp=={version}"], "kfp")


class KfpWorker:
    """kfp in its own venv: one long-lived process, one component run per request."""

    def __init__(self, python: str, image: str, root: str) -> None:
        self.log = os.path.join(root, "worker.log")
        self.retries = 0
        os.makedirs(root, exist_ok=True)
        script = os.path.join(root, "kfp_worker.py")  # a file: kfp reads the component's source with inspect
        with open(script, "w") as fh:
            fh.write(KFP_WORKER)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([python, script, image, root], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, text=True)

    def run(self) -> float:
        assert self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write("run\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            tail = open(self.log, errors="replace").read()[-3000:]
            raise SystemExit(f"the kfp worker died (exit code {self.proc.wait()}):\n{tail}")
        reply = json.loads(line)
        if reply["output"] != 42:
            raise SystemExit(f"kfp run gave a wrong result: {reply}")
        self.retries += reply["retries"]
        return reply["seconds"]

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class ColdWorker:
    """A kernel with warm containers off (CONTAINERJOB_WARM=0), driven run by run."""

    def __init__(self, image: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", COLD_WORKER, image], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self) -> float:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(CODE) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the cold worker died (exit code {self.proc.wait()})")
        reply = json.loads(line)
        if reply["x"] != 42 or "42" not in reply["out"]:
            raise SystemExit(f"containerjob cold run gave a wrong result: {reply}")
        return reply["seconds"]

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--image", default=kernel_python_image())
    parser.add_argument("--kfp", action="store_true", help="also run kfp's local DockerRunner")
    parser.add_argument("--kfp-python", default="/tmp/kfp-venv/bin/python", help="python of a venv with kfp and docker")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="cj-bench-")
    os.environ.setdefault("CONTAINERJOB_HOME", os.path.join(work, "home"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: str) -> int:
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "containerjob")
    shell.run_line_magic("config", "ContainerJob.display_mode = 'text'")
    client = docker.from_env()

    def service():
        return shell.magics_manager.registry["ContainerJob"].service

    def magic() -> float:
        waiting = set(service().backend("local").warm_pool.ready())
        with contextlib.redirect_stdout(io.StringIO()) as out:
            start = time.perf_counter()
            shell.run_cell_magic("containerjob", f"--image {args.image}", CODE)
            seconds = time.perf_counter() - start
        if "42" not in out.getvalue() or shell.user_ns.get("x") != 42:
            raise SystemExit(f"containerjob run gave a wrong result: {out.getvalue()!r}")
        warm_starts.append(service().list(refresh=False, limit=1)[0].id in waiting)  # handed the container waiting
        next_ready()
        return seconds

    def next_ready(within_s: float = 60.0) -> None:
        """Until the next job's warm container waits (made in the background; not part of any timing)."""
        pool = service().backend("local").warm_pool
        deadline = time.monotonic() + within_s
        while not pool.ready() and time.monotonic() < deadline:
            time.sleep(0.01)

    def raw() -> None:
        proc = subprocess.run(["docker", "run", "--rm", args.image, "python3", "-c", CODE.replace("\n", ";")],
                              capture_output=True, text=True, check=True)
        if proc.stdout.strip() != "42":
            raise SystemExit(f"docker run gave a wrong result: {proc.stdout!r}")

    warm_starts: list[bool] = []
    cold = ColdWorker(args.image)
    contenders: dict[str, Callable[[], float | None]] = {"containerjob warm": magic, "containerjob cold": cold.run,
                                                        "docker run": raw}
    worker = None
    if args.kfp:
        worker = KfpWorker(args.kfp_python, kfp_image(client, args.image, args.kfp_python), os.path.join(work, "kfp"))
        contenders["kfp DockerRunner"] = worker.run
    for fn in contenders.values():  # warm: image probe cached, page cache hot, kfp imported
        fn()
    events = EngineEvents(client)
    before = image_footprint(client)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    windows: list[tuple[float, float]] = []
    for i in range(args.runs):
        order = list(contenders.items())
        for name, fn in (order if i % 2 == 0 else order[::-1]):
            wall = time.time()
            start = time.perf_counter()
            inner = fn()
            times[name].append(inner if inner is not None else time.perf_counter() - start)
            if name.startswith("containerjob"):
                windows.append((wall, time.time()))
    after = image_footprint(client)
    events.close()
    if worker:
        worker.close()
    cold.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {args.runs} interleaved (A/B then B/A), image {args.image}")
    for name, value in med.items():
        note = "  (inside the kfp worker, component call only)" if name.startswith("kfp") else ""
        print(f"  {name:17s} median {value * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f}, "
              f"max {max(times[name]) * 1000:.1f}){note}")
    timed = warm_starts[1:]  # the first run (before the timed ones) had nothing waiting
    print(f"containerjob warm runs handed a warm container: {sum(timed)} of {len(timed)}")
    for name, target in (("containerjob warm", 0.25), ("containerjob cold", 1.05)):
        ratio = med[name] / med["docker run"]
        print(f"ratio {name} / docker run: {ratio:.3f}  (target <= {target}: "
              f"{'target met' if ratio <= target else 'target MISSED'})")
    if worker:
        print(f"ratio containerjob cold / kfp DockerRunner: {med['containerjob cold'] / med['kfp DockerRunner']:.3f}  "
              f"(kfp / docker run: {med['kfp DockerRunner'] / med['docker run']:.3f}; kfp calls retried after an image "
              f"removed during its image listing: {worker.retries})")
    made = events.image_events(windows)
    added = set(after) - set(before)
    added_bytes = sum(after[i] for i in added) - sum(before[i] for i in set(before) - set(after))
    print(f"image builds/commits/pulls/tags during containerjob runs: {len(made)} "
          f"({len(made) / args.runs:.2f} per run; target 0; {len(events.events)} engine events seen)"
          f"{': ' + ', '.join(made) if made else ''}")
    print(f"engine-wide over the benchmark: images added per run {len(added) / args.runs:.2f}, "
          f"bytes added per run {added_bytes / args.runs:.0f} (target 0 and 0; includes other users of the engine)")
    print("builds: " + ("target met" if not made else "target MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
