"""20 local jobs at once through one JobService (threads: submit + follow) vs 20 raw `docker run` at once.

Each job computes `total = sum(range(n))` with its own n and prints it; the job's variable comes back
through the result. Every run checks every job: final status SUCCEEDED, exit code 0, the value and
the streamed and kept logs right, and no container of this store left behind (by label; once the
removals the finished jobs started are done, and not counting the warm container waiting for the next job). The
baseline is the same 20 computations as 20 concurrent `docker run --rm` (CLI, one thread each);
20 sequential `docker run --rm` are timed too, for context. Contenders interleave (A/B/C, then
C/B/A). Prints median wall times and the ratio containerjob / concurrent docker run.

Run: python bench/concurrent_jobs.py [--jobs 20] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from containerjob.core.settings import kernel_python_image


def expected(n: int) -> int:
    return n * (n - 1) // 2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--image", default=kernel_python_image())
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-conc-"))
    os.environ["CONTAINERJOB_HOME"] = str(work / "home")
    try:
        return run(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args) -> int:
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    service = JobService()
    sizes = [1_000_000 + 1_000 * k for k in range(args.jobs)]

    def one_job(n: int) -> str:
        """Submit, follow, check; returns the job ID or raises with what is wrong."""
        chunks: list[str] = []
        prepared = service.prepare(RunOptions(image=args.image, name=f"sum-{n}"),
                                   "total = sum(range(n))\nprint('total', total)\n", kind="cell",
                                   filename="<bench>", namespace={"n": n}, inputs=["n"], outputs=["total"])
        record = service.follow(service.submit(prepared), chunks.append)
        problems = []
        if record.status.value != "SUCCEEDED" or record.exit_code != 0:
            problems.append(f"status {record.status.value}, exit code {record.exit_code}: {record.message}")
        value = service.values(record).values.get("total")
        if value != expected(n):
            problems.append(f"total {value!r}, expected {expected(n)}")
        line = f"total {expected(n)}\n"
        if "".join(chunks) != line:
            problems.append(f"streamed logs {''.join(chunks)!r}")
        kept = Path(record.job_dir, "logs.txt")
        if not kept.is_file() or kept.read_text() != line:
            problems.append(f"kept logs {kept.read_text() if kept.is_file() else 'missing'!r}")
        stored = service.get(record.id, refresh=False)
        if stored.status.value != "SUCCEEDED" or stored.finished_at is None:
            problems.append(f"stored record {stored.status.value}, finished_at {stored.finished_at}")
        if problems:
            raise AssertionError(f"job {record.id} (n={n}): " + "; ".join(problems))
        return record.id

    def raw_job(n: int) -> str:
        proc = subprocess.run(["docker", "run", "--rm", args.image, "python3", "-c", f"print('total', sum(range({n})))"],
                              capture_output=True, text=True)
        if proc.returncode != 0 or proc.stdout != f"total {expected(n)}\n":
            raise AssertionError(f"docker run n={n}: exit {proc.returncode}, {proc.stdout!r} {proc.stderr[-300:]!r}")
        return ""

    def concurrently(fn: Callable[[int], str]) -> list[str]:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(fn, n) for n in sizes]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise SystemExit(f"{len(errors)} of {args.jobs} failed:\n" + "\n".join(map(str, errors)))
        return [f.result() for f in futures]

    def containerjob() -> None:
        ids = concurrently(one_job)
        if len(set(ids)) != args.jobs:
            raise SystemExit(f"job IDs are not distinct: {ids}")
        backend = service.backend("local")
        backend.wait_removed()  # a finished job's container is removed on a thread of its own (released())
        left = backend.containers()  # neither those being removed nor warm ones waiting for a job
        if left:
            raise SystemExit(f"{len(left)} containers left behind: {[(c.id[:12], c.attrs.get('Names')) for c in left]}")
        warm_counts.append(len(backend.containers(warm_only=True)))

    def raw_concurrent() -> None:
        concurrently(raw_job)

    def raw_sequential() -> None:
        for n in sizes:
            raw_job(n)

    contenders = {"containerjob, concurrent": containerjob, "docker run, concurrent": raw_concurrent,
                  "docker run, sequential": raw_sequential}
    one_job(sizes[0])  # warm: image probe cached
    times: dict[str, list[float]] = {k: [] for k in contenders}
    warm_counts: list[int] = []
    for i in range(args.repeat):
        order = list(contenders.items())
        for name, fn in (order if i % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"{args.jobs} jobs per run, {args.repeat} interleaved runs, image {args.image}, {os.cpu_count()} CPUs; "
          "every job checked (status, exit code, value, logs, no container left)")
    print(f"warm containers waiting after each containerjob run (not left behind: one per launch key): {warm_counts}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, value in med.items():
        print(f"  {name:26s} median {value:6.2f} s  (min {min(times[name]):.2f}, max {max(times[name]):.2f})")
    print(f"ratio containerjob / docker run (both concurrent): {med['containerjob, concurrent'] / med['docker run, concurrent']:.2f}")
    print(f"ratio containerjob concurrent / docker run sequential: "
          f"{med['containerjob, concurrent'] / med['docker run, sequential']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
