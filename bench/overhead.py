"""Trivial cell through %%containerjob in a warm kernel vs raw `docker run --rm`, interleaved.

Prints the median wall time of each, their ratio (target <= 1.10), and the images and image bytes
added per run by containerjob (target 0 and 0). Run: python bench/overhead.py [--runs 15]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time

import docker

from containerjob.core.settings import kernel_python_image

CODE = "x = 21 * 2\nprint(x)"


def image_footprint(client: docker.DockerClient) -> tuple[int, int]:
    images = client.images.list(all=True)
    return len(images), sum(i.attrs.get("Size", 0) for i in images)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--image", default=kernel_python_image())
    args = parser.parse_args()
    os.environ.setdefault("CONTAINERJOB_HOME", tempfile.mkdtemp(prefix="cj-bench-"))

    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "containerjob")
    shell.run_line_magic("config", "ContainerJob.display_mode = 'text'")
    client = docker.from_env()

    def magic() -> None:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            shell.run_cell_magic("containerjob", f"--image {args.image}", CODE)
        assert "42" in out.getvalue(), out.getvalue()

    def raw() -> None:
        proc = subprocess.run(["docker", "run", "--rm", args.image, "python3", "-c", CODE.replace("\n", ";")],
                              capture_output=True, text=True, check=True)
        assert proc.stdout.strip() == "42"

    magic(), raw()  # warm: image probe cached, page cache hot
    before = image_footprint(client)
    times: dict[str, list[float]] = {"containerjob": [], "docker run": []}
    for i in range(args.runs):
        order = [("containerjob", magic), ("docker run", raw)]
        for name, fn in (order if i % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    after = image_footprint(client)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"runs: {args.runs} interleaved, image {args.image}")
    for name, value in med.items():
        print(f"  {name:13s} median {value * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f}, max {max(times[name]) * 1000:.1f})")
    print(f"ratio containerjob / docker run: {med['containerjob'] / med['docker run']:.3f}  (target <= 1.10)")
    print(f"images added per run: {(after[0] - before[0]) / args.runs:.2f}  bytes added per run: "
          f"{(after[1] - before[1]) / args.runs:.0f}  (target 0 and 0)")


if __name__ == "__main__":
    sys.exit(main())
