"""A NumPy array into a cell and a result of the same size back, end to end, vs np.save/np.load of the same bytes.

containerjob: a warm in-process IPython shell runs `%%containerjob --in x --out y` on `y = x + 1` (in a warm
container, the default since issue 29: the benchmark waits for the next one between runs), x a
float64 array (1 GiB and 4 GiB by default): x is pickled into the payload, the container loads it,
computes y, pickles y to the output folder, and the kernel loads y back. x changes (x[0]) every run,
so the content-addressed payload is written every time, as for new data.

Baseline (what a user would do by hand, and what holds still): np.save(x) to one file, np.load it into a
new array, y = x + 1, np.save(y) to a second file, np.load it back: the same bytes in and out, the same
computation, two files kept at once as containerjob keeps the payload and the result, in a folder beside
CONTAINERJOB_HOME (the same file system as the job folders). The page cache is set the same way before
every timed run of either: the previous run's files are deleted and os.sync() flushes what is dirty, so no
run pays for another's writeback; neither fsyncs, and both read back bytes they just wrote (page cache hits,
as in real use). Caches are not dropped: that needs root, disturbs other users, and reads nothing cold that
either side would read cold in real use.

Prints, per size: medians and the throughput ratio (baseline time / containerjob time; target >= 1.0), the
peak RSS of this process (the kernel) above its RSS before each run, in copies of the array (target: at
most one copy beyond the result itself), and from one extra run through the core API (the calls the magic
makes) where the time goes, beside the same steps alone on the host.

Run: python bench/numpy_roundtrip.py [--runs 5] [--mib 1024,4096]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import docker
import numpy as np

from containerjob.core.digests import Digest
from containerjob.core.runtime import pickle_frames
from containerjob.core.settings import kernel_python_image

CELL = "y = x + 1\n"
TIMED_CELL = "import time\nprint('cell-start', time.time())\ny = x + 1\nprint('cell-end', time.time())\n"
GIB = 2**30


def numpy_image(client: docker.DockerClient, base: str) -> str:
    from benchimages import pip_image

    return pip_image(client, base, [f"numpy=={np.__version__}"], "numpy")


def check(x: np.ndarray, y: np.ndarray, who: str) -> None:
    """y == x + 1, on a strided sample plus both ends (a full compare would need two more copies), and a sum
    that reads every page of y: a memory-mapped y pays for its reads here, as np.load does up front."""
    ok = (y.shape == x.shape and y.dtype == x.dtype and y[0] == x[0] + 1 and y[-1] == x[-1] + 1
          and np.array_equal(y[::4099], x[::4099] + 1) and np.isclose(y.sum(), x.sum() + y.size))
    if not ok:
        raise SystemExit(f"{who}: wrong result")


def rss() -> tuple[int, int]:
    """(current, peak) resident bytes of this process: anonymous and file-backed pages (a mapped y counts)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux >= 4.0: VmHWM := VmRSS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", default="1024,4096", help="array sizes in MiB, comma-separated (1024: 2**27 float64)")
    parser.add_argument("--image", default=kernel_python_image(), help="base image; numpy is added to it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-np-"))
    home = work / "home"
    os.environ["CONTAINERJOB_HOME"] = str(home)
    os.environ["CONTAINERJOB_MAX_PAYLOAD_MB"] = str(2 * max(int(m) for m in args.mib.split(",")))  # default: 2 GiB
    try:
        return run(args, work, home)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, home: Path) -> int:
    from IPython.testing.globalipapp import start_ipython

    client = docker.from_env()
    image = numpy_image(client, args.image)
    shell = start_ipython()
    shell.run_line_magic("load_ext", "containerjob")
    shell.run_line_magic("config", "ContainerJob.display_mode = 'text'")
    print(f"image {image}; {args.runs} interleaved runs per size (A/B then B/A); load average at start "
          f"{os.getloadavg()[0]:.1f}; files in {work} (CONTAINERJOB_HOME {home})")
    for mib in (int(m) for m in args.mib.split(",")):
        size = mib * 2**20
        available = int(Path("/proc/meminfo").read_text().split("MemAvailable:")[1].split()[0]) * 1024
        if available < 3.5 * size:  # x plus the baseline's x_in and y at once, and some page cache
            print(f"\n{mib} MiB: skipped, needs {3.5 * size / GIB:.0f} GiB available ({available / GIB:.1f} now)")
            continue
        compare(shell, image, work, home, size, args.runs)
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    return 0


def compare(shell, image: str, work: Path, home: Path, size: int, runs: int) -> None:
    x = np.arange(size // 8, dtype=np.float64)
    disk = work / "disk"
    disk.mkdir(exist_ok=True)

    def magic(i: int) -> None:
        x[0] = i  # new data each run: a new payload
        shell.user_ns["x"] = x
        with contextlib.redirect_stdout(io.StringIO()) as out:
            shell.run_cell_magic("containerjob", f"--image {image} --in x --out y", CELL)
        if "y" not in shell.user_ns:
            raise SystemExit(f"containerjob: y did not come back: {out.getvalue()}")
        check(x, shell.user_ns["y"], "containerjob")

    def clean_magic() -> None:
        """Also waits until the next job's warm container is ready (made in the background once a job ends,
        backends/warm.py): its making is no contender's time, as between a person's cells."""
        pool = shell.magics_manager.registry["ContainerJob"].service.backend("local").warm_pool
        deadline = time.monotonic() + 60
        while not pool.ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        shell.user_ns.pop("y", None)
        for sub in ("payloads", "jobs"):
            shutil.rmtree(home / sub, ignore_errors=True)

    def by_hand(i: int) -> None:
        x[0] = i
        np.save(disk / "x.npy", x)
        x_in = np.load(disk / "x.npy")
        y = x_in + 1
        del x_in
        np.save(disk / "y.npy", y)
        del y
        y_back = np.load(disk / "y.npy")
        check(x, y_back, "np.save/np.load")

    def clean_by_hand() -> None:
        for name in ("x.npy", "y.npy"):
            (disk / name).unlink()

    contenders = {"containerjob": (magic, clean_magic), "np.save/load": (by_hand, clean_by_hand)}
    for fn, cleanup in contenders.values():  # warm: image probe cached, numpy's pages loaded
        fn(-1)
        cleanup()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    extra: dict[str, list[int]] = {k: [] for k in contenders}
    for i in range(runs):
        order = list(contenders.items())
        for name, (fn, cleanup) in (order if i % 2 == 0 else order[::-1]):
            os.sync()  # no dirty pages left from the run before: each run pays only for its own writeback
            reset_peak()
            before = rss()[0]
            start = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - start)
            extra[name].append(rss()[1] - before)
            cleanup()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nx and y are {size / GIB:.2f} GiB each")
    for name, value in med.items():
        print(f"  {name:13s} median {value:6.2f} s  ({2 * size / value / 1e6:7.1f} MB/s in+out; "
              f"min {min(times[name]):.2f}, max {max(times[name]):.2f}); peak RSS above start "
              f"{max(extra[name]) / GIB:.2f} GiB = {max(extra[name]) / size:.2f} copies (y itself is one)")
    ratio = med["np.save/load"] / med["containerjob"]
    copies = max(extra["containerjob"]) / size - 1
    print(f"  throughput ratio containerjob / np.save+np.load: {ratio:.2f}x  "
          f"(target >= 1.0x: {'target met' if ratio >= 1.0 else 'target MISSED'})")
    print(f"  containerjob's kernel peak beyond y itself: {copies:.2f} copies "
          f"(target <= 1: {'target met' if copies <= 1.05 else 'target MISSED'})")
    breakdown(x, image, size)
    shell.user_ns.pop("x", None)  # the next size starts with this one's memory free


def breakdown(x: np.ndarray, image: str, size: int) -> None:
    """One more run through the core API (the calls the magic makes), each step timed by the wall clock;
    the container's steps from stamps the cell prints and from the runner's result.json (its mtime is the
    runner's end, its "seconds" the time since just before the inputs were loaded)."""
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    service = JobService()
    x[0] = -2
    host = host_steps(x)
    logs: list[str] = []
    os.sync()
    t0 = time.time()
    prepared = service.prepare(RunOptions(image=image), TIMED_CELL, kind="cell", filename="<bench>",
                               namespace={"x": x}, inputs=["x"], outputs=["y"])
    t1 = time.time()
    record = service.submit(prepared)
    t2 = time.time()
    record = service.follow(record, logs.append)
    t3 = time.time()
    result = service.values(record)
    t4 = time.time()
    if record.status.value != "SUCCEEDED" or "y" not in result.values:
        raise SystemExit(f"breakdown run failed: {record.status} {record.message}")
    check(x, result.values["y"], "breakdown run")
    t5 = time.time()
    del result
    stamps = dict(line.split() for line in "".join(logs).splitlines() if line.startswith("cell-"))
    cell_start, cell_end = float(stamps["cell-start"]), float(stamps["cell-end"])
    result_file = Path(record.job_dir) / "output" / "result.json"
    runner_end = result_file.stat().st_mtime
    runner_start = runner_end - json.loads(result_file.read_text())["seconds"]
    rows = [
        ("prepare: pickle x, write the payload while hashing it", t1 - t0),
        ("submit: preflight, record, create + start container", t2 - t1),
        ("container: python start until the runner reads x", runner_start - t2),
        ("container: load x (map it from the bind mount)", cell_start - runner_start),
        ("container: y = x + 1 (reads x's pages)", cell_end - cell_start),
        ("container: pickle + write y; x unchanged? (pagemap)", runner_end - cell_end),
        ("exit, end of logs, keep logs, remove container", t3 - runner_end),
        ("result: map y in the kernel", t4 - t3),
        ("the benchmark's check (reads every page of y)", t5 - t4),
    ]
    print("  where the time goes (one run through the core API):")
    for label, seconds in rows:
        print(f"    {label:55s} {seconds:6.2f} s")
    print(f"    {'total':55s} {t5 - t0:6.2f} s")
    print("  the same steps alone on the host, same bytes:")
    for label, seconds in host.items():
        print(f"    {label:55s} {seconds:6.2f} s")
    shutil.rmtree(prepared.payload.path, ignore_errors=True)
    shutil.rmtree(record.job_dir, ignore_errors=True)


def host_steps(x: np.ndarray) -> dict[str, float]:
    """Each step of the payload alone, on the same bytes, as evidence for the rows above."""
    steps: dict[str, float] = {}
    path = Path(os.environ["CONTAINERJOB_HOME"]) / f"bench-{os.getpid()}.pkl"

    def timed(label: str, fn):
        start = time.perf_counter()
        value = fn()
        steps[label] = time.perf_counter() - start
        return value

    frames = timed("pickle x (protocol 5, out of band: no copy)", lambda: pickle_frames.dumps(x, cloudpickle.dumps))
    timed("BLAKE3 pieces on one thread", lambda: Digest(frames.chunks()).result())
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        timed(f"BLAKE3 pieces on {os.cpu_count()} threads", lambda: Digest(frames.chunks(), pool).result())
        os.sync()
        timed("write x to a file (np.save does the same)", lambda: pickle_frames.write(path, frames))
        path.unlink()
        os.sync()

        def both() -> bytes:
            digest = Digest(frames.chunks(), pool)
            pickle_frames.write(path, frames)
            return digest.result()
        timed("write x while its pieces hash (the payload's way)", both)
        path.unlink()
    timed("x + 1 (a fresh result)", lambda: x + 1)
    return steps


if __name__ == "__main__":
    sys.exit(main())
