"""GET /containerjob/jobs with 20 local jobs running vs with none, in two real Jupyter servers, interleaved.

Two `jupyter server` subprocesses with the extension, each with its own throwaway CONTAINERJOB_HOME:
A's store holds --jobs finished records, B's the same number of real running jobs (a container sleeping,
submitted through B's REST API). Both answer the same page (same number of jobs, same spec), so the
difference is what running jobs cost a list request: nothing, when reads serve the store and the
server's watcher alone talks to the engine. Requests alternate A, B, B, A, ... over one keep-alive
connection each. At the end every job is cancelled through the REST API and no container may be left.

Prints median and p95 of each, their ratio (target <= 1.5 with B's median < 50 ms), and, in this
process, what the same list costs when it refreshes every running job from the engine (the old read).

Run: python bench/list_under_load.py [--jobs 20] [--requests 200]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jobs_api import pct, start_server

from containerjob.core.settings import kernel_python_image

SLEEPER = "import time\ntime.sleep({seconds})\n"


class Client:
    """One keep-alive connection to one server, with its token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[float, int, dict | None]:
        start = time.perf_counter()
        self.conn.request(method, f"/containerjob/{path}", body=json.dumps(body) if body is not None else None,
                          headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return time.perf_counter() - start, response.status, json.loads(data) if data else None

    def ok(self, method: str, path: str, body: dict | None = None) -> dict:
        _, status, data = self.call(method, path, body)
        if status >= 300:
            raise SystemExit(f"{method} {path}: HTTP {status}: {data}")
        return data or {}


def submit_sleepers(client: Client, count: int, image: str, seconds: int) -> list[str]:
    ids = [client.ok("POST", "jobs", {"kind": "cell", "source": SLEEPER.format(seconds=seconds),
                                      "options": {"image": image, "name": f"sleeper-{i}"}})["id"]
           for i in range(count)]
    deadline = time.monotonic() + 120
    while True:
        statuses = {j["id"]: j["status"] for j in client.ok("GET", f"jobs?limit={count}")["jobs"]}
        if all(statuses.get(i) == "RUNNING" for i in ids):
            return ids
        if time.monotonic() > deadline or any(s not in ("QUEUED", "RUNNING") for s in statuses.values()):
            raise SystemExit(f"the {count} jobs did not all reach RUNNING: {statuses}")
        time.sleep(0.5)


def seed_finished(home: Path, running_home: Path, ids: list[str]) -> None:
    """A's store: B's records, as if they had succeeded (same names, spec and image: the same page size)."""
    import dataclasses

    from containerjob.core.models import JobStatus
    from containerjob.core.store import Store

    source, target = Store(running_home / "jobs.db"), Store(home / "jobs.db")
    for job_id in ids:
        record = source.get(job_id)
        target.add(dataclasses.replace(record, status=JobStatus.SUCCEEDED, exit_code=0, finished_at=time.time(),
                                       job_dir=str(home / "jobs" / job_id)))


def measure(clients: dict[str, Client], requests: int, count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in clients}
    order = list(clients)
    for name in order:  # warm, and check each page once
        jobs = clients[name].ok("GET", "jobs")["jobs"]
        if len(jobs) != count:
            raise SystemExit(f"server {name} lists {len(jobs)} jobs, expected {count}")
    for i in range(requests):
        for name in (order if i % 2 == 0 else order[::-1]):
            seconds, status, data = clients[name].call("GET", "jobs")
            if status != 200 or len(data["jobs"]) != count:
                raise SystemExit(f"server {name}: HTTP {status}, {len(data['jobs']) if data else 0} jobs")
            times[name].append(seconds)
    return times


def old_read_cost(home: Path, rounds: int = 10) -> tuple[float, float]:
    """In this process: the list as the store has it vs refreshed from the engine (what every GET did before)."""
    os.environ["CONTAINERJOB_HOME"] = str(home)
    from containerjob.service import JobService

    service = JobService()
    costs = []
    for refresh in (False, True):
        start = time.perf_counter()
        for _ in range(rounds):
            service.list(refresh=refresh, limit=50)
        costs.append((time.perf_counter() - start) / rounds)
    return costs[0], costs[1]


def leftovers(ids: list[str]) -> list[str]:
    """Containers of these jobs still on the engine (the docker CLI: no client library state to trust)."""
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True,
                         check=True).stdout.split()
    return sorted(name for name in out if name.removeprefix("containerjob-") in ids)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20, help="running jobs in B (finished ones in A)")
    parser.add_argument("--requests", type=int, default=200, help="requests per server")
    parser.add_argument("--sleep", type=int, default=600, help="how long each job sleeps (it is cancelled at the end)")
    parser.add_argument("--image", default=kernel_python_image())
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-load-"))
    servers: list[subprocess.Popen] = []
    clients: dict[str, Client] = {}
    ids: list[str] = []
    failed = False
    try:
        for name in ("A (none running)", "B (running)"):
            folder = work / name[0]
            folder.mkdir()
            os.environ["CONTAINERJOB_HOME"] = str(folder / "home")
            token = secrets.token_hex(16)
            server, port = start_server(folder, token)
            servers.append(server)
            clients[name] = Client(port, token)
        a_name, b_name = list(clients)
        start = time.perf_counter()
        ids = submit_sleepers(clients[b_name], args.jobs, args.image, args.sleep)
        print(f"{args.jobs} jobs submitted through B's REST API and RUNNING in {time.perf_counter() - start:.1f} s")
        seed_finished(work / "A" / "home", work / "B" / "home", ids)
        times = measure(clients, args.requests, args.jobs)
        report(times, a_name, b_name, args)
        store_read, refreshed = old_read_cost(work / "B" / "home")
        print(f"in process, the same page from B's store: as stored {store_read * 1000:.1f} ms, refreshed from the "
              f"engine (the read before this change) {refreshed * 1000:.1f} ms")
    finally:
        if ids:
            for job_id in ids:
                _, status, data = clients[b_name].call("POST", f"jobs/{job_id}/cancel", {})
                if status != 200 or data["status"] != "CANCELLED":
                    print(f"cancel {job_id}: HTTP {status} {data}")
                    failed = True
        for server in servers:
            server.terminate()
            server.wait(30)
        left = leftovers(ids)
        if left:
            print(f"containers left behind: {', '.join(left)} (removed now)")
            subprocess.run(["docker", "rm", "-f", *left], capture_output=True)
            failed = True
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def report(times: dict[str, list[float]], a_name: str, b_name: str, args: argparse.Namespace) -> None:
    print(f"GET /containerjob/jobs (the sidebar's page, {args.jobs} jobs listed), {args.requests} requests each, "
          "interleaved A, B, B, A, ...")
    for name, values in times.items():
        median, p95 = statistics.median(values) * 1000, pct(values, 0.95) * 1000
        print(f"  {name:18s} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    a, b = statistics.median(times[a_name]), statistics.median(times[b_name])
    verdict = "target met" if b / a <= 1.5 and b < 0.050 else "target MISSED"
    print(f"  ratio B/A {b / a:.2f} (target <= 1.5, and B's median < 50 ms): {verdict}")


if __name__ == "__main__":
    sys.exit(main())
