"""A 4-replica local job vs a 1-replica job, interleaved: what rehearsing a worker pool costs to start.

Both run the same trivial container job (`python3 -c print(...)` in python:X.Y-slim) through JobService
(prepare_container, submit, follow), in this process, with the same store; the 4-replica one creates the
job's network, four containers (created before any starts, as the rendezvous needs) and merges their
logs. Each run checks its outcome (SUCCEEDED, every replica's line in the log) and that no container or
network of the store is left; a wrong result exits non-zero, a missed target only says so.

The same is done by raw docker SDK calls in the same loop (a network when there are several, the containers
created and started in parallel, waited for, removed): the engine's own cost of N containers on a network,
so the ratio containerjob can reach on this machine is visible next to the one it reaches; and once more
with no network at all (network_mode none: the engine's floor for N containers, which no choice of
network on containerjob's side could go below).

Prints the median wall time of each, the ratio 4-vs-1 for containerjob (target <= 1.5) and for raw docker,
and the added time per extra replica.

Run: python bench/replicas.py [--runs 9] [--replicas 4]
"""
from __future__ import annotations

import argparse
import functools
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


def raw_once(engine: docker.DockerClient, replicas: int, networked: bool = True) -> float:
    """What the engine itself takes for the same replicas: network, parallel create+start, wait, remove.
    `networked=False`: no network at all (network_mode none), the engine's floor for N containers."""
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    name = f"cj-bench-raw-{os.getpid()}"
    network = engine.networks.create(name) if replicas > 1 and networked else None
    where = {"network": name} if network else {} if networked else {"network_mode": "none"}

    def one(i: int) -> None:
        container = engine.containers.create(kernel_python_image(), ["python3", "-c", "print('replica up')"],
                                             hostname=f"workerpool1-{i}", **where)
        container.start()
        if container.wait(timeout=60)["StatusCode"] != 0 or b"replica up" not in container.logs():
            sys.exit("raw docker run failed")
        container.remove(force=True)

    with ThreadPoolExecutor(max_workers=replicas) as pool:
        list(pool.map(one, range(replicas)))
    if network:
        network.remove()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--replicas", type=int, default=4)
    args = parser.parse_args()
    os.environ["CONTAINERJOB_HOME"] = tempfile.mkdtemp(prefix="cj-bench-replicas-")
    service = JobService()
    run_once(service, 1), run_once(service, args.replicas)  # warm: image probe cached, first sweep done
    engine = docker.from_env()
    one, many, raw_one, raw_many, bare_one, bare_many = [], [], [], [], [], []
    isolated = functools.partial(raw_once, networked=False)
    for i in range(args.runs):
        order = [(run_once, service, 1, one), (run_once, service, args.replicas, many),
                 (raw_once, engine, 1, raw_one), (raw_once, engine, args.replicas, raw_many),
                 (isolated, engine, 1, bare_one), (isolated, engine, args.replicas, bare_many)]
        for run, target, count, times in order if i % 2 == 0 else reversed(order):
            times.append(run(target, count))
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
    c, d = statistics.median(raw_one), statistics.median(raw_many)
    print(f"raw docker SDK, same work: 1 container {c * 1000:.0f} ms, {args.replicas} on a network {d * 1000:.0f} ms, "
          f"ratio {d / c:.2f}; containerjob over raw: {a / c:.2f}x (1), {b / d:.2f}x ({args.replicas})")
    e, f = statistics.median(bare_one), statistics.median(bare_many)
    print(f"raw docker SDK, no network at all (the engine's floor): 1 container {e * 1000:.0f} ms, "
          f"{args.replicas} {f * 1000:.0f} ms, ratio {f / e:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
