"""Images for jobs with extra requirements: built once per content hash, reused, pushed when needed.

The tag is a hash of the base image's ID and the sorted requirements, so the same cell never builds
twice and a changed requirement never reuses a stale image. Builds pass the host's proxy settings
and CA bundle to pip, for networks behind a TLS-intercepting proxy.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from typing import Any

import docker
import docker.errors

from ..core.errors import BackendError, SpecError
from ..core.project import PROXY_VARS
from .base import Notify
from .engine import engine_errors, no_such_executable

ENV_IMAGE = "containerjob-env"


def _context(base: str, requirements: list[str], ca_bundle: str) -> bytes:
    files = {"requirements.txt": ("\n".join(requirements) + "\n").encode()}
    cert = ""
    if ca_bundle and os.path.isfile(ca_bundle):
        files["ca.crt"] = open(ca_bundle, "rb").read()
        cert = "PIP_CERT=/tmp/containerjob/ca.crt SSL_CERT_FILE=/tmp/containerjob/ca.crt "
    files["Dockerfile"] = (
        f"FROM {base}\n"
        "COPY . /tmp/containerjob/\n"
        # PIP_BREAK_SYSTEM_PACKAGES: Debian's pip refuses to install outside a venv otherwise; older pips ignore it.
        f"RUN {cert}PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "
        "python3 -m pip install --no-cache-dir -r /tmp/containerjob/requirements.txt && rm -rf /tmp/containerjob\n"
    ).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def redact_url_credentials(text: str) -> str:
    """https://user:TOKEN@host -> https://***@host, for anything we print."""
    return re.sub(r"(\w+://)[^/\s@]+@", r"\1***@", text)


def requirements_image(client: docker.DockerClient, base_image: Any, requirements: list[str], *, repo: str,
                       ca_bundle: str, notify: Notify) -> str:
    """The tag of an image with the requirements installed on `base_image`; builds only when neither this
    engine nor the registry has it."""
    key = hashlib.sha256("\n".join([base_image.id, *sorted(requirements)]).encode()).hexdigest()[:16]
    tag = f"{repo.rstrip('/') + '/' if repo else ''}{ENV_IMAGE}:{key}"
    try:
        client.images.get(tag)
        notify(f"reusing {tag} (same base image and requirements)")
        return tag
    except docker.errors.ImageNotFound:
        pass
    if repo and in_registry(client, tag):
        notify(f"reusing {tag} from the registry (same base image and requirements)")
        return tag
    base = (base_image.tags or [base_image.id])[0]
    shown = redact_url_credentials(" ".join(requirements))
    notify(f"building {tag}: {base} + pip install {shown} (once; reused afterwards)")
    proxies = {k: os.environ[k] for k in PROXY_VARS if os.environ.get(k)}
    tail: list[str] = []
    try:
        for event in client.api.build(fileobj=io.BytesIO(_context(base, requirements, ca_bundle)), custom_context=True,
                                      tag=tag, rm=True, forcerm=True, decode=True, buildargs=proxies,
                                      labels={"containerjob.requirements": key}):
            if "error" in event:
                raise BackendError(event["error"].strip())
            line = (event.get("stream") or "").strip()
            if line:
                tail = (tail + [line])[-8:]
    except (BackendError, docker.errors.APIError) as exc:
        detail = redact_url_credentials("\n".join(tail[-5:]))
        raise BackendError(f"installing the requirements into {base} failed ({exc}); the last build lines:\n{detail}\n"
                           "fix the requirement, or use an image that has pip (python -m pip)") from None
    return tag


def in_registry(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.api.inspect_distribution(tag)
        return True
    except docker.errors.APIError:
        return False


def push(client: docker.DockerClient, tag: str, notify: Notify) -> None:
    """Push unless the registry already has this tag (content-hashed tags never change)."""
    if in_registry(client, tag):
        notify(f"{tag} is already in the registry")
        return
    notify(f"pushing {tag}")
    repo, _, version = tag.rpartition(":")
    try:
        for event in client.api.push(repo, tag=version, stream=True, decode=True):
            if "error" in event:
                raise BackendError(event["error"])
    except (BackendError, docker.errors.APIError) as exc:
        raise BackendError(f"pushing {tag} failed ({exc}); check `gcloud auth configure-docker` for the registry "
                           "and that the repository exists") from None


def local_only(image: Any) -> bool:
    """An image that exists here but in no registry (built or imported locally): Vertex cannot pull it."""
    return not image.attrs.get("RepoDigests")


def publish_local_image(client: docker.DockerClient, image: Any, repo: str, notify: Notify) -> str:
    """Tag a local-only image by its content hash in the repository and push it."""
    if not repo:
        raise SpecError("the image exists only on this machine, so Vertex AI cannot pull it: set --image-repo "
                        "REGION-docker.pkg.dev/PROJECT/REPOSITORY (or CONTAINERJOB_IMAGE_REPO) to push it there")
    name = (image.tags[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] if image.tags else "image")
    tag = f"{repo.rstrip('/')}/{name}:{image.id.split(':')[-1][:16]}"
    image.tag(tag)
    push(client, tag, notify)
    return tag


class PullProgress:
    """One progress bar over all layers, redrawn only when it moves by 5% (papermill logs stay short)."""

    def __init__(self, ref: str, notify: Notify) -> None:
        self.ref = ref
        self.notify = notify
        self.layers: dict[str, tuple[int, int]] = {}
        self.shown = -1

    def update(self, event: dict[str, Any]) -> None:
        detail = event.get("progressDetail") or {}
        if event.get("id") and detail.get("total"):
            self.layers[event["id"]] = (detail.get("current", 0), detail["total"])
        elif event.get("id") and event.get("status") in ("Download complete", "Pull complete", "Already exists"):
            total = self.layers.get(event["id"], (0, 0))[1]
            self.layers[event["id"]] = (total, total)
        done = sum(c for c, _ in self.layers.values())
        total = sum(t for _, t in self.layers.values()) or 1
        percent = min(100, done * 100 // total) // 5 * 5
        if percent != self.shown:
            self._draw(percent, total)

    def finish(self) -> None:
        total = sum(t for _, t in self.layers.values())
        if self.shown != 100:
            self._draw(100, total)

    def _draw(self, percent: int, total: int) -> None:
        self.shown = percent
        bar = "#" * (percent // 5) + "." * (20 - percent // 5)
        self.notify(f"pulling {self.ref} [{bar}] {percent}% of {total / 1e6:.0f} MB")


def ensure_image(client: docker.DockerClient, ref: str, notify: Notify):
    """The image `ref` from this engine, pulled (with progress notes) when it is not here yet."""
    with engine_errors(f"look up image {ref}"):
        try:
            return client.images.get(ref)
        except docker.errors.ImageNotFound:
            pass
        notify(f"pulling {ref} (not on this machine yet)")
        progress = PullProgress(ref, notify)
        try:
            for event in client.api.pull(ref, stream=True, decode=True):  # tag or digest from ref
                if "error" in event:
                    raise BackendError(event["error"])
                progress.update(event)
            progress.finish()
            return client.images.get(ref)
        except (docker.errors.APIError, BackendError) as exc:
            raise BackendError(f"image {ref} is not on this machine and could not be pulled ({_pull_failure(exc)}): "
                               "build or load it here (docker build / docker import) or choose another with --image"
                               ) from None


def _pull_failure(exc: Exception) -> str:
    """The engine's pull error in a few words (its own text is a URL, an HTTP status and a Go error chain)."""
    text = str(getattr(exc, "explanation", None) or exc)
    if "no such host" in text or "dial tcp" in text or "i/o timeout" in text or "connection refused" in text:
        return "no registry is reachable from this machine"
    if "not found" in text or "manifest unknown" in text or "pull access denied" in text or "denied" in text:
        return "the registry has no such image, or it needs a login (docker login)"
    return text.splitlines()[0][:200]


_PROBE = "import json,sys;print(json.dumps({'python':'%d.%d.%d'%sys.version_info[:3]}))"


def python_info(client: docker.DockerClient, store, image, labels: dict[str, str]) -> dict[str, Any]:
    """Python version inside the image, probed once per image ID and cached in the store."""
    cached = store.image_info(image.id)
    if cached is not None:
        return cached
    info: dict[str, Any] = {"python": None}
    with engine_errors("probe the image"):
        container = client.containers.create(image.id, ["-c", _PROBE], entrypoint=["python3"], labels=labels)
        try:
            try:
                container.start()
            except docker.errors.APIError as exc:
                if not no_such_executable(exc):
                    raise  # the engine failed (network, storage): not a verdict on the image
            else:
                container.wait(timeout=60)
                try:
                    info.update(json.loads(container.logs(stderr=False).decode().strip().splitlines()[-1]))
                except (ValueError, IndexError):
                    pass  # a python3 that is not CPython 3 printing JSON: info["python"] stays None
        finally:
            container.remove(force=True)
    if info["python"]:
        store.set_image_info(image.id, info)
    return info
