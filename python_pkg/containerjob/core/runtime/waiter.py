"""containerjob's warm-container waiter: stdlib only, the command of a container started before its job.

It blocks on two FIFOs in the handoff folder bound at creation (backends/warm.py): `go`, which the host opens
and closes once to see that the waiter reads it (then the container is ready), and where it later
writes the job's argv and environment once the job's payload and output folder are in place (hard links and
renames on the host), and `maker`, which the process that made the container holds open, so its exit (kill -9
included) ends the wait. Handed a job, it puts back the signal dispositions a fresh container starts with and
execs the job's own command with the job's environment over the container's: the runner starts as PID 1 of a
container no other job used, and os.environ, subprocesses and `!shell` lines see what a cold job sees. It
imports nothing the job will import, initialises no GPU, and prints nothing (the container's log is the job's).
Unhanded, it exits after its idle time: nothing depends on the maker staying alive to remove it. Restarted by the
engine after a job was handed, it runs that job again from the handoff folder's copy of the message (`handed`).
"""
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False  # typing is not imported in a container
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple

MAGIC, END = b"containerjob-handoff-1", b"end"
EXIT_UNUSED, EXIT_BAD_HANDOFF = 0, 3  # unused: idle, or its maker exited


def parse(message: bytes) -> "Optional[Tuple[List[str], Dict[str, str]]]":
    """(argv, env) from the host's message: NUL-separated MAGIC, argc, argv..., KEY=VALUE..., END."""
    fields = message.split(b"\0")
    if len(fields) < 3 or fields[0] != MAGIC or fields[-1] != END:
        return None
    argc = int(fields[1])
    argv = [os.fsdecode(a) for a in fields[2:2 + argc]]
    env = dict(os.fsdecode(item).partition("=")[::2] for item in fields[2 + argc:-1])
    return argv, env


def wait(handoff: str, idle_s: float) -> "Optional[bytes]":
    """The message once complete, or None when the maker is gone or the idle time is up."""
    path = os.path.join(handoff, "go")
    go = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    maker = os.open(os.path.join(handoff, "maker"), os.O_RDONLY | os.O_NONBLOCK)
    poller = select.poll()
    poller.register(go, select.POLLIN)
    poller.register(maker, select.POLLIN)
    deadline = time.monotonic() + idle_s
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        events = dict(poller.poll(remaining * 1000))
        while True:  # the go FIFO first: a handoff written before the maker let go still counts
            try:
                chunk = os.read(go, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        if data.endswith(b"\0" + END):
            return data
        if events.get(go, 0) & select.POLLHUP:
            if data:  # the writer closed before a whole message: not handed
                sys.stderr.write("containerjob waiter: incomplete handoff (%d bytes)\n" % len(data))
                sys.exit(EXIT_BAD_HANDOFF)
            # the host's "are you reading yet" (an open and a close): open again, or poll reports it for ever
            poller.unregister(go)
            os.close(go)
            go = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            poller.register(go, select.POLLIN)
        if events.get(maker, 0) & (select.POLLHUP | select.POLLERR):
            return None


def handed_before(handoff: str) -> "Optional[bytes]":
    """The message of a job this container was already handed: the engine restarted it (a Vertex-style restart
    or --retries, backends/restarts.py), so the job runs again at once, as a cold container's command would."""
    try:
        with open(os.path.join(handoff, "handed"), "rb") as fh:
            return fh.read()
    except OSError:
        return None


def main() -> None:
    handoff, idle_s = sys.argv[1], float(sys.argv[2])
    message = handed_before(handoff) or wait(handoff, idle_s)
    if message is None:
        sys.exit(EXIT_UNUSED)
    parsed = parse(message)
    if parsed is None:
        sys.stderr.write("containerjob waiter: malformed handoff\n")
        sys.exit(EXIT_BAD_HANDOFF)
    argv, env = parsed
    for name in ("SIGPIPE", "SIGXFSZ"):  # Python ignores these at start; a fresh container does not
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.execvpe(argv[0], argv, {**started_with(), **env})


def started_with() -> "Dict[str, str]":
    """The environment this process was started with, in the engine's order: os.environ may hold what Python
    added since (LC_CTYPE, coercing a C locale). The container was created with the job's variables, empty,
    in the job's order, so handing them over only replaces values: the order is a cold start's too."""
    try:
        with open("/proc/self/environ", "rb") as fh:
            items = [os.fsdecode(item).partition("=") for item in fh.read().split(b"\0") if item]
    except OSError:
        return dict(os.environ)
    return {name: value for name, _, value in items}


if __name__ == "__main__":
    main()
