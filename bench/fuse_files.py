"""What one small file costs through fuse mode's rclone mount, before any byte goes to Cloud Storage.

fuse mode's small-write figure in gcs_mount.py (1,000 x 4 KiB written by a job, then uploaded) is
compared with gcsfs uploading the same files from local disk. This script isolates the part no upload
setting can change: rclone mounts a local folder (no network, no emulator) with the flags containerjob's
fuse mode uses, write-back pushed past the run so nothing uploads while the files are written, and the
same N files are created, written and closed through it and, interleaved, on the plain local disk (the
baseline: what gcsfs reads from). Prints per-file times of open(O_CREAT), write and close, and the
ratio plain / rclone.
Run: python bench/fuse_files.py [--files 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from containerjob.mounts import fuse


def write_files(folder: Path, count: int) -> tuple[float, float, float]:
    """Seconds spent in open(O_CREAT), write and close over `count` new 4 KiB files."""
    folder.mkdir(parents=True)
    data = os.urandom(4096)
    opened = written = closed = 0.0
    for i in range(count):
        a = time.perf_counter()
        fd = os.open(folder / f"f{i:04d}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        b = time.perf_counter()
        os.write(fd, data)
        c = time.perf_counter()
        os.close(fd)
        d = time.perf_counter()
        opened, written, closed = opened + b - a, written + c - b, closed + d - c
    return opened, written, closed


def mount_local(remote: Path, point: Path, cache: Path) -> subprocess.Popen:
    """rclone over a local folder with fuse mode's own flags (fuse._command), write-back set past the run."""
    cmd, env = fuse._command("rclone", "unused", "", str(point), cache, fuse._free_port(),
                             {"user": "bench", "password": os.urandom(16).hex()})
    cmd[2] = str(remote)  # a local folder instead of the bucket: the VFS and FUSE alone
    cmd += ["--vfs-write-back", "1h"]  # the last value of a flag wins
    point.mkdir(parents=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not fuse.is_mounted(str(point)):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"rclone did not mount {point}")
        time.sleep(0.05)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    fuse.fuse_tool()  # a clear error when rclone or FUSE is missing
    work = Path(tempfile.mkdtemp(prefix="cj-bench-fuse-"))
    (work / "remote").mkdir()
    print(f"rclone {subprocess.run(['rclone', 'version'], capture_output=True, text=True).stdout.split()[1]}; "
          f"{args.files} x 4 KiB files, {args.runs} interleaved runs; load average {os.getloadavg()[0]:.1f}")
    times: dict[str, list[tuple[float, float, float]]] = {"plain disk": [], "rclone mount": []}
    proc = mount_local(work / "remote", work / "mnt", work / "cache")
    try:
        for run in range(args.runs):
            order = ["plain disk", "rclone mount"] if run % 2 == 0 else ["rclone mount", "plain disk"]
            for name in order:
                root = work / "plain" if name == "plain disk" else work / "mnt"
                times[name].append(write_files(root / f"run{run}", args.files))
            if len(list((work / "mnt" / f"run{run}").iterdir())) != args.files:
                raise SystemExit("the rclone mount lost files")
    finally:
        fuse.unmount(fuse.FuseHandle("rclone", "unused", "", str(work / "mnt"), proc.pid, 0, ""))
        shutil.rmtree(work, ignore_errors=True)
    totals = {}
    for name, runs in times.items():
        per_file = [statistics.median(run[i] for run in runs) / args.files * 1e3 for i in range(3)]
        totals[name] = statistics.median(sum(run) for run in runs)
        print(f"  {name:12}  open {per_file[0]:6.3f} ms  write {per_file[1]:6.3f} ms  close {per_file[2]:6.3f} ms"
              f"  per file; {totals[name]:.2f} s for all (median)")
    print(f"  plain disk / rclone mount: {totals['plain disk'] / totals['rclone mount']:.3f}x "
          f"(rclone adds {(totals['rclone mount'] - totals['plain disk']) / args.files * 1e3:.2f} ms per file "
          "before any upload)")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
