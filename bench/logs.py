"""Live logs: latency from the container to the cell, and a 100,000-line flood in a real kernel.

(a) Latency. The container prints `stamp <time.time()>` every 20 ms (flushed). Four readers, in
the same interleaved loop, record when each line arrives (containers share the host's clock):
  - a real kernel (jupyter_client + ipykernel, text mode): when the iopub stream message reaches
    the client, i.e. what a front end receives;
  - the magic, `%%containerjob` in text mode in an in-process IPython shell, its stdout replaced by
    a writer that timestamps each write (what the cell shows);
  - the core API, `JobService.follow(record, callback)` (what the server and CLI use);
  - the baseline: raw `docker run --rm IMAGE python3 -u -c ...`, its stdout read line by line.
Prints median and p95 latency of each (target: median < 50 ms) and the ratio of the kernel's and the
magic's medians to docker run's.

(b) Flood. A real kernel (jupyter_client KernelManager + ipykernel, the extension loaded) runs a
cell printing 100,000 lines: first as a plain cell (the baseline), then through %%containerjob in
text and in widgets display mode, and through JobService.follow with a callback that drops the text
(the floor: engine log streaming without any view). For each: the kernel process's peak RSS during the cell
(VmHWM after resetting it through /proc/PID/clear_refs) and its RSS after, the iopub messages and
bytes the kernel sent, and what a saved notebook would keep (stream text + display data + the last
state of each widget). Also prints the live view's line bound (ContainerJob.log_buffer_lines,
CONTAINERJOB_LOG_BUFFER_LINES).

Run: python bench/logs.py [--repeat 3] [--seconds 5] [--lines 100000] [--skip-latency] [--skip-flood]
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from containerjob.core.settings import Settings, kernel_python_image

INTERVAL_S = 0.02


def stamp_code(count: int) -> str:
    return ("import time\n"
            f"for i in range({count}):\n"
            "    print('stamp', i, time.time(), flush=True)\n"
            f"    time.sleep({INTERVAL_S})\n")


class Arrivals:
    """Text as it arrives, split into lines; each complete line gets the arrival time of the write that ended it."""

    def __init__(self) -> None:
        self.partial = ""
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        now = time.time()
        parts = (self.partial + text).split("\n")
        self.partial = parts.pop()
        self.lines.extend((now, line) for line in parts)
        return len(text)

    def flush(self) -> None:
        pass

    def latencies(self, count: int, who: str) -> list[float]:
        stamps = [(at, line.split()) for at, line in self.lines if line.startswith("stamp ")]
        indexes = [int(words[1]) for _, words in stamps]
        if indexes != list(range(count)):
            raise SystemExit(f"{who}: expected stamps 0..{count - 1} in order, got {len(indexes)} "
                             f"({indexes[:3]}...{indexes[-3:]})")
        return [at - float(words[2]) for at, words in stamps]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(args, image: str) -> None:
    from IPython.testing.globalipapp import start_ipython

    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    count = int(args.seconds / INTERVAL_S)
    code = stamp_code(count)
    shell = start_ipython()
    shell.run_line_magic("load_ext", "containerjob")
    shell.run_line_magic("config", "ContainerJob.display_mode = 'text'")
    service = JobService()

    def magic() -> list[float]:
        sink = Arrivals()
        with contextlib.redirect_stdout(sink):
            shell.run_cell_magic("containerjob", f"--image {image}", code)
        return sink.latencies(count, "magic")

    def core() -> list[float]:
        sink = Arrivals()
        prepared = service.prepare(RunOptions(image=image), code, kind="script", filename="stamps.py")
        record = service.follow(service.submit(prepared), sink.write)
        if record.status.value != "SUCCEEDED" or record.exit_code != 0:
            raise SystemExit(f"core API job {record.id}: {record.status.value} {record.message}")
        return sink.latencies(count, "core API follow")

    def raw() -> list[float]:
        sink = Arrivals()
        proc = subprocess.Popen(["docker", "run", "--rm", image, "python3", "-u", "-c", code],
                                stdout=subprocess.PIPE, text=True, bufsize=1)
        assert proc.stdout
        for line in proc.stdout:
            sink.write(line)
        if proc.wait() != 0:
            raise SystemExit(f"docker run exited with {proc.returncode}")
        return sink.latencies(count, "docker run")

    kernel = Kernel(kernel_env(Path(os.environ["CONTAINERJOB_HOME"])))
    kernel.execute("%load_ext containerjob\n%config ContainerJob.display_mode = 'text'")

    def in_kernel() -> list[float]:
        sink = Arrivals()
        reply = kernel.execute(f"%%containerjob --image {image}\n{code}", on_stream=sink.write)["reply"]
        if reply["status"] != "ok":
            raise SystemExit(f"kernel cell failed: {reply.get('ename')}: {reply.get('evalue')}")
        return sink.latencies(count, "real kernel")

    contenders: dict[str, Callable[[], list[float]]] = {
        "real kernel (iopub)": in_kernel, "magic (text view)": magic, "core API follow": core,
        "docker run (raw)": raw}
    found: dict[str, list[float]] = {k: [] for k in contenders}
    try:
        for i in range(args.repeat):
            order = list(contenders.items())
            for name, fn in (order if i % 2 == 0 else order[::-1]):
                found[name].extend(fn())
    finally:
        kernel.close()
    print(f"(a) latency container -> reader: {args.repeat} interleaved runs x {count} lines, one every "
          f"{INTERVAL_S * 1000:.0f} ms, image {image}")
    for name, values in found.items():
        print(f"  {name:20s} median {statistics.median(values) * 1000:6.1f} ms  p95 {pct(values, 0.95) * 1000:6.1f} ms  "
              f"max {max(values) * 1000:6.1f} ms")
    base = statistics.median(found["docker run (raw)"])
    for name in ("real kernel (iopub)", "magic (text view)"):
        med = statistics.median(found[name])
        print(f"  {name}: ratio to docker run (medians) {med / base:.2f}; target median < 50 ms: "
              f"{'target met' if med < 0.050 else 'target MISSED'}")


# -- (b) flood in a real kernel -------------------------------------------------------------------------
def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


class Kernel:
    """A real ipykernel through jupyter_client, as JupyterLab starts one."""

    def __init__(self, env: dict[str, str]) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, stderr=subprocess.DEVNULL)  # its TCP-without-encryption warning
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.pid = self.km.provisioner.process.pid

    def execute(self, code: str, timeout: float = 600, on_stream: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """Run a cell; return the iopub traffic it caused and the execute reply. on_stream sees each
        stream message's text as it arrives."""
        msg_id = self.client.execute(code)
        counts: dict[str, int] = {}
        sizes: dict[str, int] = {}
        stream: list[str] = []
        display_bytes = 0
        widget_state: dict[str, dict[str, Any]] = {}
        deadline = time.time() + timeout
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=max(1, deadline - time.time()))
            except queue.Empty:
                raise SystemExit(f"kernel did not finish {code[:40]!r} in {timeout} s") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            size = len(json.dumps(msg["content"]))
            counts[kind] = counts.get(kind, 0) + 1
            sizes[kind] = sizes.get(kind, 0) + size
            content = msg["content"]
            if kind == "stream":
                stream.append(content["text"])
                if on_stream:
                    on_stream(content["text"])
            elif kind in ("display_data", "execute_result", "update_display_data"):
                display_bytes += len(json.dumps(content["data"]))
            elif kind in ("comm_open", "comm_msg"):
                state = content.get("data", {}).get("state")
                if state:
                    widget_state.setdefault(content["comm_id"], {}).update(state)  # a notebook keeps the last state
            if kind == "status" and content["execution_state"] == "idle":
                break
        reply = self.client.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=60)
        text = "".join(stream)
        widget_text = "".join(str(s.get("value", "")) for s in widget_state.values())
        return {"counts": counts, "bytes": sum(sizes.values()), "stream": text,
                "shown": len(re.findall(r"(?:^|\n|>)line \d+(?=\n|<|$)", text + "\n" + widget_text)),
                "notebook": len(text.encode()) + display_bytes + sum(len(json.dumps(s)) for s in widget_state.values()),
                "reply": reply["content"]}

    def close(self) -> None:
        self.client.stop_channels()
        self.km.shutdown_kernel(now=True)


def kernel_env(home: Path) -> dict[str, str]:
    pkg = str(Path(__file__).resolve().parent.parent / "python_pkg")
    return {**os.environ, "CONTAINERJOB_HOME": str(home),
            "PYTHONPATH": os.pathsep.join([pkg, os.environ.get("PYTHONPATH", "")])}


def flood(args, image: str, home: Path) -> None:
    lines = args.lines
    body = f"for i in range({lines}):\n    print(f'line {{i}}')\n"
    kernel = Kernel(kernel_env(home))
    try:
        # Warm: the first job imports the docker SDK and the backend (memory that is not the flood's).
        setup = kernel.execute(f"%load_ext containerjob\n%config ContainerJob.display_mode = 'text'\n"
                               f"get_ipython().run_cell_magic('containerjob', '--image {image}', 'pass')")
        if setup["reply"]["status"] != "ok":
            raise SystemExit(f"kernel setup failed: {setup['reply']}")
        bound = Settings.load().log_buffer_lines
        print(f"(b) flood: {lines:,} lines in a real kernel (pid {kernel.pid}); live view bound: "
              f"CONTAINERJOB_LOG_BUFFER_LINES = {bound:,} lines")
        floor = ("from containerjob.service import JobService\nfrom containerjob.core.spec import RunOptions\n"
                 "_svc = JobService()\n_rec = _svc.follow(_svc.submit(_svc.prepare(RunOptions(image="
                 f"{image!r}), {body!r}, kind='script', filename='flood.py')), lambda _t: None)\n"
                 "assert _rec.status.value == 'SUCCEEDED', _rec.message\n")
        cells = {"plain cell (baseline)": ("", body), "core API, no view": ("", floor)}
        for mode in ("text", "widgets"):
            cells[f"%%containerjob, {mode}"] = (f"%config ContainerJob.display_mode = '{mode}'\n",
                                                f"%%containerjob --image {image}\n{body}")
        print(f"  {'cell':24s} {'seconds':>8s} {'peak RSS +MiB':>14s} {'RSS after +MiB':>15s} {'iopub msgs':>10s} "
              f"{'iopub MB':>9s} {'notebook MB':>12s} {'lines shown':>11s}")
        for name, (config, cell) in cells.items():
            if config:
                kernel.execute(config)
            before = proc_status(kernel.pid)
            Path(f"/proc/{kernel.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            start = time.perf_counter()
            traffic = kernel.execute(cell)
            seconds = time.perf_counter() - start
            after = proc_status(kernel.pid)
            if traffic["reply"]["status"] != "ok":
                raise SystemExit(f"{name}: the cell failed: {traffic['reply'].get('ename')}: {traffic['reply'].get('evalue')}")
            shown = traffic["shown"]  # in the stream, or in the log widget's last state
            if name.startswith("plain") and shown != lines:
                raise SystemExit(f"{name}: {shown} lines arrived, expected {lines}")
            print(f"  {name:24s} {seconds:8.2f} {(after['VmHWM'] - before['VmRSS']) / 2**20:14.1f} "
                  f"{(after['VmRSS'] - before['VmRSS']) / 2**20:15.1f} {sum(traffic['counts'].values()):10d} "
                  f"{traffic['bytes'] / 1e6:9.2f} {traffic['notebook'] / 1e6:12.2f} "
                  f"{shown:11d}")
        kept = sorted(glob.glob(str(home / "jobs" / "*" / "logs.txt")))
        kept = [p for p in kept if Path(p).stat().st_size]  # not the warm-up job (it printed nothing)
        if len(kept) != len(cells) - 1:
            raise SystemExit(f"{len(kept)} job logs kept, expected {len(cells) - 1}")
        for path in kept:  # every job keeps all its lines, whatever the view showed
            count = Path(path).read_text().count("\n")
            if count != lines:
                raise SystemExit(f"{path}: {count} lines kept, expected {lines}")
        print(f"  each job's logs.txt keeps all {lines:,} lines ({len(kept)} jobs checked)")
    finally:
        kernel.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="latency: interleaved runs per reader")
    parser.add_argument("--seconds", type=float, default=5.0, help="latency: how long each container prints")
    parser.add_argument("--lines", type=int, default=100_000, help="flood: lines printed")
    parser.add_argument("--image", default=kernel_python_image())
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-flood", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cj-bench-logs-"))
    os.environ["CONTAINERJOB_HOME"] = str(work / "home")
    try:
        if not args.skip_latency:
            latency(args, args.image)
        if not args.skip_flood:
            flood(args, args.image, work / "flood-home")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
