"""A 4-replica local job vs a 1-replica job, interleaved: what rehearsing a worker pool costs to start.

Both run the same trivial container job (`python3 -c print(...)` in python:X.Y-slim) through JobService
(prepare_container, submit, follow), in this process, with the same store; the 4-replica one creates the
job's network, four containers (created before any starts, as the rendezvous needs) and merges their
logs. Each run checks its outcome (SUCCEEDED, every replica's line in the log) and that no container or
network of the store is left; a wrong result exits non-zero, a missed target only says so.

Prints the median wall time of each, their ratio (target <= 1.5) and the added time per extra replica.

Run: python bench/replicas.py [--runs 9] [--replicas 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import docker

from containerjob.core.options import RunOptions
from containerjob.core.settings import kernel_python_image
from containerjob.service import JobService


def run_once(service: JobService, replicas: int) -> float:
    options = RunOptions(image=kernel_python_image(), command="python3 -c 'print(\"replica up\")'",
                         replicas=str(replicas))
    start = time.perf_counter()
    prepared = service.prepare_container(options)
    record = service.submit(prepared)
    out: list[str] = []
    record = service.follow(record, out.append)
    took = time.perf_counter() - start
    text = "".join(out)
    if record.status.value != "SUCCEEDED" or text.count("replica up") != replicas:
        sys.exit(f"wrong result with {replicas} replicas: {record.status.value} {record.message!r} {text!r}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--replicas", type=int, default=4)
    args = parser.parse_args()
    os.environ["CONTAINERJOB_HOME"] = tempfile.mkdtemp(prefix="cj-bench-replicas-")
    service = JobService()
    run_once(service, 1), run_once(service, args.replicas)  # warm: image probe cached, first sweep done
    one, many = [], []
    for i in range(args.runs):
        order = [(1, one), (args.replicas, many)]
        for count, times in order if i % 2 == 0 else reversed(order):
            times.append(run_once(service, count))
    engine = docker.from_env()
    label = f"containerjob.store={service.backend('local').store_label}"
    time.sleep(1)
    left = engine.containers.list(all=True, sparse=True, filters={"label": label})
    nets = engine.networks.list(filters={"label": label})
    if left or nets:
        sys.exit(f"left behind: {len(left)} containers, {len(nets)} networks")
    a, b = statistics.median(one), statistics.median(many)
    ratio = b / a
    print(f"1 replica: median {a * 1000:.0f} ms; {args.replicas} replicas: median {b * 1000:.0f} ms")
    print(f"ratio {ratio:.2f} (target <= 1.5): target {'met' if ratio <= 1.5 else 'MISSED'}; "
          f"{(b - a) / (args.replicas - 1) * 1000:.0f} ms per extra replica")
    return 0


if __name__ == "__main__":
    sys.exit(main())
