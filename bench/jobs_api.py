"""GET /containerjob/jobs with 1,000 stored jobs in a real Jupyter server vs GET /api/status, interleaved.

1,000 finished job records (80% succeeded, 15% failed, 5% cancelled; 90% local, 10% vertex; spread
over 30 days and five notebooks) are written through the Store API with the spec a real submission
records (`JobService.prepare(...).spec.to_dict(redact=True)` plus the payload name, as
Backend.submit writes it); --active N more are real running jobs (a container sleeping), because
the list asks the engine about every unfinished job it returns. Then `jupyter server` runs in a
subprocess (token, free port, the extension enabled, the same CONTAINERJOB_HOME), and each URL is
requested --requests times over one keep-alive connection, the URLs in alternating order.

Prints median and p95 per URL (target for the job list: < 100 ms), the ratio to GET /api/status
(a trivial jupyter_server route, the baseline), and where the time of the largest page goes,
measured in this process with the calls the handler makes (store query, refresh of unfinished
jobs, to_dict, json.dumps).

Run: python bench/jobs_api.py [--jobs 1000] [--active 3] [--requests 50]
"""
from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from containerjob.core.settings import kernel_python_image

NOTEBOOKS = [f"projects/exp{i}/train.ipynb" for i in range(5)]


def seed_jobs(count: int, image: str) -> dict[str, int]:
    """`count` finished records with a realistic spec; returns how many of each status and origin were written."""
    from containerjob.core.models import JobRecord, JobStatus, new_job_id
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    service = JobService()
    prepared = service.prepare(RunOptions(image=image, env=["SEED=1", "API_TOKEN=secret"], labels=["team=ml"],
                                          name="train"), "import time\nloss = train(data)\n", kind="cell",
                               filename="<containerjob cell>")
    spec = {**prepared.spec.to_dict(redact=True), "payload": prepared.payload.path.name}
    rng = random.Random(7)
    now = time.time()
    tally: dict[str, int] = {}
    for i in range(count):
        roll = rng.random()
        status = JobStatus.SUCCEEDED if roll < 0.80 else JobStatus.FAILED if roll < 0.95 else JobStatus.CANCELLED
        backend = "vertex" if i % 10 == 0 else "local"
        created = now - 30 * 86400 * (count - i) / count
        job_id = new_job_id()
        origin = NOTEBOOKS[i % len(NOTEBOOKS)]
        service.store.add(JobRecord(
            id=job_id, name=f"train-{i}", backend=backend, status=status, spec={**spec, "backend": backend},
            image=image, created_at=created, started_at=created + 2, finished_at=created + 2 + rng.uniform(5, 600),
            exit_code={JobStatus.SUCCEEDED: 0, JobStatus.FAILED: 1, JobStatus.CANCELLED: 143}[status],
            message="" if status is JobStatus.SUCCEEDED else "ValueError: loss is NaN" if status is JobStatus.FAILED
            else "cancelled by the user",
            backend_ref=secrets.token_hex(32) if backend == "local"
            else f"projects/123/locations/us-central1/customJobs/{rng.randrange(10**18)}",
            job_dir=str(service.settings.home_path / "jobs" / job_id), origin=origin))
        for key in (status.value, backend, origin):
            tally[key] = tally.get(key, 0) + 1
    return tally


def start_active(count: int, image: str) -> list[str]:
    """Real running jobs: each GET of the list refreshes them from the engine."""
    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    service = JobService()
    ids = []
    for _ in range(count):
        prepared = service.prepare(RunOptions(image=image, name="sleeper"), "import time\ntime.sleep(3600)\n",
                                   kind="script", filename="sleep.py")
        ids.append(service.submit(prepared).id)
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(work: Path, token: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    pkg = str(Path(__file__).resolve().parent.parent / "python_pkg")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([pkg, os.environ.get("PYTHONPATH", "")])}
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", f"--ServerApp.port={port}",
                             f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
                             "--ServerApp.allow_root=True", f"--ServerApp.root_dir={work}",
                             "--ServerApp.jpserver_extensions={'containerjob': True}"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/status", headers={"Authorization": f"token {token}"})
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"jupyter server did not start; see {work / 'server.log'}:\n"
                     + (work / "server.log").read_text()[-2000:])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--active", type=int, default=3, help="running jobs (real containers) besides the finished ones")
    parser.add_argument("--requests", type=int, default=50, help="requests per URL")
    parser.add_argument("--image", default=kernel_python_image())
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-api-"))
    os.environ["CONTAINERJOB_HOME"] = str(work / "home")
    server = None
    active: list[str] = []
    try:
        start = time.perf_counter()
        tally = seed_jobs(args.jobs, args.image)
        print(f"{args.jobs} records written through Store.add in {time.perf_counter() - start:.2f} s")
        active = start_active(args.active, args.image)
        token = secrets.token_hex(16)
        server, port = start_server(work, token)
        run(args, port, token, tally, active)
        profile(args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if active:
            from containerjob.service import JobService

            service = JobService()
            for job_id in active:
                service.cancel(job_id)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(args, port: int, token: str, tally: dict[str, int], active: list[str]) -> None:
    total = args.jobs + len(active)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"token {token}"}

    def get(url: str) -> tuple[float, dict]:
        start = time.perf_counter()
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"GET {url}: HTTP {response.status}: {body[:300]!r}")
        return seconds, json.loads(body)

    def expect(url: str, data: dict) -> None:
        jobs = data.get("jobs")
        if jobs is None:
            return
        if url.endswith("/jobs"):
            want = min(50, total)
        elif "status=FAILED" in url:
            want = tally.get("FAILED", 0)
        elif "origin=" in url:
            want = tally.get(NOTEBOOKS[0], 0)
        elif "offset=" in url:
            want = max(0, total - 950)
        else:
            want = min(1000, total)
        created = [j["created_at"] for j in jobs]
        if len(jobs) != want or created != sorted(created, reverse=True):
            raise SystemExit(f"GET {url}: {len(jobs)} jobs (expected {want}) or not newest first")
        if "status=" in url and any(j["status"] != "FAILED" for j in jobs):
            raise SystemExit(f"GET {url}: the status filter let other statuses through")
        if url.endswith("/jobs") and active and {j["id"] for j in jobs[:len(active)]} != set(active):
            raise SystemExit(f"GET {url}: the running jobs are not first (newest) or not RUNNING")
        if url.endswith("/jobs") and active and any(j["status"] != "RUNNING" for j in jobs[:len(active)]):
            raise SystemExit(f"GET {url}: a running job is listed as {[j['status'] for j in jobs[:len(active)]]}")

    urls = ["/api/status", "/containerjob/jobs", "/containerjob/jobs?limit=1000", "/containerjob/jobs?status=FAILED&limit=1000",
            f"/containerjob/jobs?origin={NOTEBOOKS[0]}&limit=1000", "/containerjob/jobs?offset=950&limit=1000"]
    for url in urls:  # warm (and check each once)
        expect(url, get(url)[1])
    times: dict[str, list[float]] = {u: [] for u in urls}
    sizes: dict[str, int] = {}
    for i in range(args.requests):
        for url in (urls if i % 2 == 0 else urls[::-1]):
            seconds, data = get(url)
            times[url].append(seconds)
            sizes[url] = len(json.dumps(data))
    conn.close()
    base = statistics.median(times["/api/status"])
    print(f"{args.requests} requests per URL, interleaved; {args.jobs} finished + {len(active)} running jobs in the store")
    print(f"  {'URL':64s} {'median':>9s} {'p95':>9s} {'vs status':>9s} {'body':>9s}  target median < 100 ms")
    for url, values in times.items():
        med = statistics.median(values)
        verdict = "" if url == "/api/status" else "target met" if med < 0.100 else "target MISSED"
        print(f"  {url:64s} {med * 1000:6.1f} ms {pct(values, 0.95) * 1000:6.1f} ms {med / base:8.1f}x "
              f"{sizes[url] / 1e3:7.1f} kB  {verdict}")
    print("  (the sidebar asks for limit=50, the default page)")


def profile(args) -> None:
    """The handler's work for ?limit=1000, step by step, in this process (no HTTP, no thread hop)."""
    from containerjob.service import JobService

    service = JobService()
    rounds = 10
    steps = {"store.list (SQLite + json.loads of each spec)": 0.0, "refresh of unfinished jobs (engine inspect)": 0.0,
             "JobRecord.to_dict": 0.0, "json.dumps": 0.0,
             "(for comparison: a shallow copy of the fields instead of to_dict)": 0.0}
    for _ in range(rounds):
        t0 = time.perf_counter()
        records = service.store.list(limit=1000)
        t1 = time.perf_counter()
        records = [service.backend(r.backend).refresh(r) if not r.status.is_final else r for r in records]
        t2 = time.perf_counter()
        dicts = [r.to_dict() for r in records]
        t3 = time.perf_counter()
        json.dumps({"jobs": dicts, "limit": 1000, "offset": 0})
        t4 = time.perf_counter()
        [{**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)}, "status": r.status.value,
          "duration_s": r.duration_s} for r in records]
        t5 = time.perf_counter()
        for key, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            steps[key] += seconds / rounds
    print(f"where the time of ?limit=1000 goes (in process, mean of {rounds}):")
    for key, seconds in steps.items():
        print(f"  {key:66s} {seconds * 1000:6.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
