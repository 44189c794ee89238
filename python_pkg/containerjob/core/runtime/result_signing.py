"""HMAC signatures over what a job's runner writes for the kernel (result.json, error.*, values/*), for jobs
whose results travel through storage others can write (a Vertex staging bucket). The key reaches the runner
in its environment, never the bucket; the host reads nothing of them until they are the runner's own
(core/results.py checks, core/job_output.py reads).

Each file's MAC covers its name and its content; signatures.json lists them and carries a MAC over that
list too, so files swapped or removed together with their entries are refused as well as changed ones.
Stdlib only: shipped with the runner, imported by the host; every job imports it, so hashing loads only for
a job that is signed (json too)."""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import hmac

KEY_ENV = "CONTAINERJOB_SIGNING_SECRET"  # a secret-looking name: redacted wherever environments are shown
SIGNATURES = "signatures.json"
RESULT_FILES = ("result.json", "error.json", "error.pkl")
_FILE = b"containerjob file\0"  # what each MAC says it signs: a file's MAC can never pass for the list's
_MANIFEST = b"containerjob manifest\0"


class Signer:
    """MACs taken while the runner writes (no second pass over large values), saved at the end."""

    def __init__(self, key: bytes, output: str) -> None:
        self.key = key
        self.output = os.path.abspath(output)
        self.macs: dict[str, str] = {}

    def _name(self, path: str) -> str:
        return os.path.relpath(os.path.abspath(path), self.output)

    def new(self, path: str) -> hmac.HMAC:
        """The MAC to feed `path`'s bytes to as they are written."""
        return file_mac(self.key, self._name(path))

    def add(self, path: str, mac: hmac.HMAC) -> None:
        self.macs[self._name(path)] = mac.hexdigest()

    def save(self) -> None:
        signed = {name: m for name, m in self.macs.items() if not name.startswith("..")}
        tmp = os.path.join(self.output, SIGNATURES + ".tmp")
        import json

        with open(tmp, "w") as fh:
            json.dump({"files": signed, "manifest": manifest_mac(self.key, signed)}, fh)
        os.replace(tmp, os.path.join(self.output, SIGNATURES))


def file_mac(key: bytes, name: str) -> hmac.HMAC:
    """A file's MAC, its name already in: update() it with the file's bytes."""
    import hashlib
    import hmac

    return hmac.new(key, _FILE + name.encode("utf-8", "surrogateescape") + b"\0", hashlib.sha256)


def manifest_mac(key: bytes, signed: dict[str, str]) -> str:
    """The MAC over every (name, MAC) pair, in name order: what makes the list itself the runner's."""
    import hashlib
    import hmac
    import json

    text = json.dumps(sorted(signed.items()), separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, _MANIFEST + text.encode(), hashlib.sha256).hexdigest()


def result_files(output: str) -> list[str]:
    """The names of what in an output folder the kernel reads (the signed set), relative to it."""
    names = [n for n in RESULT_FILES if os.path.lexists(os.path.join(output, n))]
    values = os.path.join(output, "values")
    if os.path.islink(values) or os.path.lexists(values) and not os.path.isdir(values):
        names.append("values")  # never listed: a link may lead to a folder of the host
    elif os.path.isdir(values):
        names += ["values/" + n for n in sorted(os.listdir(values))]
    return names
