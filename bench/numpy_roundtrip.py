"""A 1 GiB NumPy array into a cell and a 1 GiB result back, end to end, vs the same bytes through local disk.

containerjob: a warm in-process IPython shell runs `%%containerjob --in x --out y` on `y = x + 1`, x a
float64 array of 2**27 elements (1 GiB): x is pickled into the payload, the container loads it,
computes y, pickles y to the output folder, and the kernel loads y back. x changes (x[0]) every run,
so the content-addressed payload is written every time, as for new data.

Baseline, same process, same disk: np.save(x) to a file, np.load it into a new array, y = x + 1,
np.save(y), np.load it back: the same bytes in and out through the same file system and the same
computation, without a container. Both go through the page cache (nothing is fsynced in either).

Prints medians, the throughput ratio (baseline time / containerjob time; target >= 0.5) and, from
one extra run through the core API (the same prepare/submit/follow/result calls the magic makes),
where the time goes. The image is python:X.Y-slim plus this kernel's numpy version, built once (benchimages.py). Peak memory is about 4 GiB in this process and 3 GiB in
the container; the files of each run are deleted after it.

Run: python bench/numpy_roundtrip.py [--runs 5] [--mib 1024]
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle
import docker
import numpy as np

from containerjob.core.settings import kernel_python_image

CELL = "y = x + 1\n"
TIMED_CELL = "import time\nprint('cell-start', time.time())\ny = x + 1\nprint('cell-end', time.time())\n"


def numpy_image(client: docker.DockerClient, base: str) -> str:
    from benchimages import pip_image

    return pip_image(client, base, [f"numpy=={np.__version__}"], "numpy")


def check(x: np.ndarray, y: np.ndarray, who: str) -> None:
    """y == x + 1, on a strided sample plus both ends (a full compare would need two more GiB), and a sum
    that reads every page of y: a memory-mapped y pays for its reads here, as np.load does up front."""
    ok = (y.shape == x.shape and y.dtype == x.dtype and y[0] == x[0] + 1 and y[-1] == x[-1] + 1
          and np.array_equal(y[::4099], x[::4099] + 1) and np.isclose(y.sum(), x.sum() + y.size))
    if not ok:
        raise SystemExit(f"{who}: wrong result")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=1024, help="array size in MiB (1024: 2**27 float64)")
    parser.add_argument("--image", default=kernel_python_image(), help="base image; numpy is added to it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-np-"))
    home = work / "home"
    os.environ["CONTAINERJOB_HOME"] = str(home)
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
    n = args.mib * 2**20 // 8
    x = np.arange(n, dtype=np.float64)
    size = x.nbytes

    def clean() -> None:
        shell.user_ns.pop("y", None)
        for sub in ("payloads", "jobs"):
            shutil.rmtree(home / sub, ignore_errors=True)

    def magic(i: int) -> None:
        x[0] = i  # new data each run: a new payload
        shell.user_ns["x"] = x
        with contextlib.redirect_stdout(io.StringIO()) as out:
            shell.run_cell_magic("containerjob", f"--image {image} --in x --out y", CELL)
        if "y" not in shell.user_ns:
            raise SystemExit(f"containerjob: y did not come back: {out.getvalue()}")
        check(x, shell.user_ns["y"], "containerjob")

    def disk(i: int) -> None:
        x[0] = i
        path = work / "disk.npy"
        np.save(path, x)
        x_in = np.load(path)
        y = x_in + 1
        del x_in
        np.save(path, y)
        del y
        y_back = np.load(path)
        check(x, y_back, "disk baseline")

    def clean_disk() -> None:
        (work / "disk.npy").unlink()

    # Each run's files are deleted after it, outside the timed part.
    contenders = {"containerjob": (magic, clean), "local disk": (disk, clean_disk)}
    for fn, cleanup in contenders.values():  # warm: image probe cached, numpy in the page cache
        fn(-1)
        cleanup()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for i in range(args.runs):
        order = list(contenders.items())
        for name, (fn, cleanup) in (order if i % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - start)
            cleanup()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {args.runs} interleaved (A/B then B/A); x and y are {size / 2**30:.2f} GiB each, image {image}")
    for name, value in med.items():
        print(f"  {name:13s} median {value:6.2f} s  ({2 * size / value / 1e6:7.1f} MB/s in+out; "
              f"min {min(times[name]):.2f}, max {max(times[name]):.2f})")
    ratio = med["local disk"] / med["containerjob"]
    print(f"throughput ratio containerjob / local disk: {ratio:.2f}x  "
          f"(target >= 0.5x: {'target met' if ratio >= 0.5 else 'target MISSED'})")
    breakdown(x, image, size)
    return 0


def breakdown(x: np.ndarray, image: str, size: int) -> None:
    """One more run through the core API (the calls the magic makes), each step timed by the wall clock;
    the container's steps from stamps the cell prints and from the runner's result.json (its mtime is the
    runner's end, its "seconds" the time since just before the inputs were loaded)."""
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    service = JobService()
    x[0] = -2
    host = {}  # the same operations on the same bytes in this process, as evidence for the rows below
    start = time.perf_counter()
    data = cloudpickle.dumps(x, protocol=5)
    host["cloudpickle.dumps(x)"] = time.perf_counter() - start
    start = time.perf_counter()
    hashlib.sha256(data).digest()
    host["sha256 of the pickle (payload content address)"] = time.perf_counter() - start
    start = time.perf_counter()
    _ = b"__main__" in data
    host["scan of the pickle for b'__main__' (runner's _dump)"] = time.perf_counter() - start
    start = time.perf_counter()
    (Path(tempfile.gettempdir()) / f"cj-bench-{os.getpid()}.pkl").write_bytes(data)
    host["write the pickle to a file"] = time.perf_counter() - start
    (Path(tempfile.gettempdir()) / f"cj-bench-{os.getpid()}.pkl").unlink()
    del data
    start = time.perf_counter()
    z = x + 1
    host["x + 1 (fresh 1 GiB result)"] = time.perf_counter() - start
    del z
    logs: list[str] = []
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
    del result
    stamps = dict(line.split() for line in "".join(logs).splitlines() if line.startswith("cell-"))
    cell_start, cell_end = float(stamps["cell-start"]), float(stamps["cell-end"])
    result_file = Path(record.job_dir) / "output" / "result.json"
    runner_end = result_file.stat().st_mtime
    runner_start = runner_end - json.loads(result_file.read_text())["seconds"]
    rows = [
        ("prepare: pickle x + write the payload", t1 - t0),
        ("submit: preflight, record, create + start container", t2 - t1),
        ("container: python start until the runner reads x", runner_start - t2),
        ("container: load x (unpickle from the bind mount)", cell_start - runner_start),
        ("container: y = x + 1", cell_end - cell_start),
        ("container: pickle y + write it", runner_end - cell_end),
        ("exit, end of logs, keep logs, remove container", t3 - runner_end),
        ("result: read + unpickle y in the kernel", t4 - t3),
    ]
    print("where the time goes (one run through the core API):")
    for label, seconds in rows:
        print(f"  {label:55s} {seconds:6.2f} s")
    print(f"  {'total':55s} {t4 - t0:6.2f} s")
    print("the same steps alone on the host, same bytes:")
    for label, seconds in host.items():
        print(f"  {label:55s} {seconds:6.2f} s")
    shutil.rmtree(prepared.payload.path, ignore_errors=True)
    shutil.rmtree(record.job_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
