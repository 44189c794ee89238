"""Images the benchmarks need (a base image plus pip packages), built once per content hash and kept.

Not containerjob's own requirements builder: the tests remove every `containerjob-env:*` image by ID
when they start, which would pull the image from under a benchmark running beside them. The build
passes the host's proxy variables and CA bundle to pip, like containerjob's builder. The image sets
PIP_BREAK_SYSTEM_PACKAGES=1: the python:X.Y-slim made by .ci/setup is Debian's python3, whose pip
refuses any install outside a venv otherwise (even one already satisfied, as kfp's run-time step is).
"""
from __future__ import annotations

import hashlib
import io
import os
import tarfile

import docker
import docker.errors

from containerjob.core.project import PROXY_VARS
from containerjob.core.settings import Settings


def pip_image(client: docker.DockerClient, base: str, requirements: list[str], name: str) -> str:
    """The tag of `base` + `pip install requirements`; built only when this engine does not have it."""
    base_id = client.images.get(base).id
    key = hashlib.sha256("\n".join([base_id, *requirements]).encode()).hexdigest()[:12]
    tag = f"containerjob-bench/{name}:{key}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    print(f"  building {tag}: {base} + pip install {' '.join(requirements)} (once)")
    ca_bundle = Settings.load().ca_bundle
    files = {"Dockerfile": (
        f"FROM {base_id}\n"
        "COPY ca.crt /tmp/bench-ca.crt\n"
        "RUN PIP_CERT=/tmp/bench-ca.crt SSL_CERT_FILE=/tmp/bench-ca.crt PIP_BREAK_SYSTEM_PACKAGES=1 "
        f"PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --no-cache-dir {' '.join(requirements)} "
        "&& rm /tmp/bench-ca.crt\n"
        "ENV PIP_BREAK_SYSTEM_PACKAGES=1\n"
        "LABEL containerjob.bench=1\n").encode(),
        "ca.crt": open(ca_bundle, "rb").read() if ca_bundle else b""}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for filename, data in files.items():
            info = tarfile.TarInfo(filename)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tail: list[str] = []
    for event in client.api.build(fileobj=io.BytesIO(buf.getvalue()), custom_context=True, tag=tag, rm=True,
                                  forcerm=True, decode=True,
                                  buildargs={k: os.environ[k] for k in PROXY_VARS if os.environ.get(k)}):
        if "error" in event:
            raise SystemExit(f"building {tag} failed: {event['error'].strip()}\n" + "\n".join(tail[-8:]))
        line = (event.get("stream") or "").strip()
        if line:
            tail.append(line)
    return tag
