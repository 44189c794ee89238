"""HMAC signatures over what a job's runner writes for the kernel (result.json, error.*, values/*), for jobs
whose results travel through storage others can write (a Vertex staging bucket). The key reaches the runner
in its environment, never the bucket; the kernel loads pickles only when every file is the runner's own.
Stdlib only: shipped with the runner, imported by the host; every job imports it, so hashing loads only for a
job that is signed (json too)."""
import os

KEY_ENV = "CONTAINERJOB_SIGNING_SECRET"  # a secret-looking name: redacted wherever environments are shown
SIGNATURES = "signatures.json"
RESULT_FILES = ("result.json", "error.json", "error.pkl")


class Signer:
    """MACs taken while the runner writes (no second pass over large values), saved at the end."""

    def __init__(self, key):
        self.key = key
        self.macs = {}

    def new(self):
        return _new_mac(self.key)

    def add(self, path, mac):
        self.macs[os.path.abspath(path)] = mac.hexdigest()

    def save(self, output):
        output = os.path.abspath(output)
        signed = {os.path.relpath(p, output): m for p, m in self.macs.items() if p.startswith(output + os.sep)}
        tmp = os.path.join(output, SIGNATURES + ".tmp")
        import json

        with open(tmp, "w") as fh:
            json.dump({"files": signed}, fh)
        os.replace(tmp, os.path.join(output, SIGNATURES))


def _new_mac(key):
    import hashlib
    import hmac

    return hmac.new(key, digestmod=hashlib.sha256)


def result_files(output):
    """The files of an output folder the kernel reads, relative to it."""
    names = [n for n in RESULT_FILES if os.path.lexists(os.path.join(output, n))]
    values = os.path.join(output, "values")
    if os.path.isdir(values):
        names += ["values/" + n for n in sorted(os.listdir(values))]
    return names


def file_mac(path, key):
    mac = _new_mac(key)
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                return mac.hexdigest()
            mac.update(chunk)


def problems(output, key):
    """What in `output` the runner holding `key` did not write as it is now: [] when everything is its own
    (or there is nothing to load: a job that ended before writing results)."""
    if not result_files(output):
        return []
    import json

    try:
        with open(os.path.join(output, SIGNATURES)) as fh:
            signed = json.load(fh)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["%s is missing or unreadable: the results are unsigned" % SIGNATURES]
    import hmac

    present = result_files(output)
    found = ["%s was signed but is missing" % name for name in sorted(set(signed) - set(present))]
    for name in present:
        path = os.path.join(output, name)
        if name not in signed:
            found.append("%s is not signed" % name)
        elif os.path.islink(path) or not os.path.isfile(path):
            found.append("%s is not a plain file" % name)
        elif not hmac.compare_digest(file_mac(path, key), str(signed[name])):
            found.append("%s was altered" % name)
    return found
