"""The one confinement rule for every host path a job is given (an output folder bound read-write into its
container, a script folder shipped with it, a requirements file read for its image), wherever the path comes
from: a flag, a magic, a CustomJob file, a REST body, a schedule.

A path is taken with its links resolved, then refused when it is, holds or lies inside a folder of the
host's own (a container given `/run` reaches the Docker socket: root on the host), or when it is or holds
the user's home folder, or is, holds or lies inside containerjob's home (the store and its signing secret).
A REST request is held to the server's root first (server/bodies.py); this rule applies under it too, for a
server started at `/`."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import SpecError

# Folders of the host itself, each with what a job would reach through it. Inside them, at them and above them
# (`/`, `/var`) is refused. /containerjob and /gcs are where a job's own folders are mounted in its container.
SYSTEM_DIRS = {
    "/run": "the host's runtime state, the Docker socket among it",
    "/var/run": "the host's runtime state, the Docker socket among it",
    "/var/lib/docker": "the Docker engine's own data",
    "/var/lib/containerd": "the container runtime's own data",
    "/proc": "the host's processes",
    "/sys": "the host's kernel settings",
    "/dev": "the host's devices",
    "/etc": "the host's configuration",
    "/boot": "the host's kernel and boot loader",
    "/usr": "the host's programs",
    "/bin": "the host's programs",
    "/sbin": "the host's programs",
    "/lib": "the host's libraries",
    "/lib64": "the host's libraries",
    "/containerjob": "the folder where a job's own payload and outputs are mounted in its container",
    "/gcs": "the folder where Cloud Storage is mounted in a job's container",
}
RULE = ("containerjob gives a job no folder of the host's own (/run, /proc, /sys, /dev, /etc, /boot, /usr, the "
        "Docker socket's folder), not the home folder itself, and nothing of its own home (CONTAINERJOB_HOME)")


def _real(path: str | Path) -> Path:
    """`path` absolute with every link that exists resolved (the part that does not exist yet kept as given)."""
    return Path(os.path.realpath(path))


def _docker_socket_dir() -> str:
    """The folder that holds the Docker socket; the socket itself when it lies in `/` (DOCKER_HOST=unix:///x),
    or every path would be inside the folder refused."""
    host = os.environ.get("DOCKER_HOST", "")
    socket = host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"
    folder = os.path.dirname(socket) or "/"
    return socket if folder == "/" else folder


def _protected(store_home: Path | None) -> list[tuple[Path, str, str, bool]]:
    """(folder, its name in a message, what it holds, refused inside it) for every protected folder; each is
    refused at it and above it. Messages name the user's and containerjob's homes, never their server paths."""
    found = [(_real(d), d, why, True) for d, why in SYSTEM_DIRS.items()]
    socket_dir = _docker_socket_dir()
    found.append((_real(socket_dir), socket_dir, "the Docker socket (root on the host)", True))
    found.append((_real(Path.home()), "your home folder", "all your files", False))
    if store_home is not None:
        found.append((_real(store_home), "containerjob's home (CONTAINERJOB_HOME)",
                      "its records, payloads and signing secret", True))
    return found


def confine(path: str | Path, field: str, *, store_home: Path | None, shown: str | None = None,
            fix: str = "choose a folder of your own, e.g. ./outputs") -> Path:
    """`path` made absolute with its links resolved, or a SpecError naming the field, what the path would give
    the job, the rule and `fix`. `store_home`: containerjob's home (CONTAINERJOB_HOME), refused with all inside;
    `shown`: the path as the user wrote it, when `path` is already made absolute (a REST body's)."""
    text = str(path)
    if not text or "\0" in text:
        raise SpecError(f"{field} {shown or text!r} is not a path; {fix}")
    try:
        real = _real(os.path.expanduser(text))
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a name too long
        raise SpecError(f"{field} {shown or text!r} cannot be resolved ({exc}); {fix}") from None
    for folder, name, why, inside in _protected(store_home):
        if real == folder:
            where = "is"
        elif inside and real.is_relative_to(folder):
            where = "is inside"
        elif folder.is_relative_to(real):
            where = "holds"
        else:
            continue
        named = shown if shown is not None else text if str(real) == text else f"{text} (that is {real})"
        raise SpecError(f"{field} {named} {where} {name}, {why}: refused, since {RULE}; {fix}")
    return real
