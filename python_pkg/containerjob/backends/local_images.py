"""The images a local job runs, made ready at preflight: found or pulled, the requirements baked in, and
the runner's python3 checked against the payload, each image looked up once (each lookup is an engine
round trip, and the trivial job's start is measured against a bare `docker run`)."""
from __future__ import annotations

from typing import Any

import docker

from ..core.errors import PayloadError, SpecError
from ..core.models import JobSpec
from ..core.payload import KERNEL_PYTHON, Payload
from . import images
from .base import Notify
from .engine import engine_errors


def ready_images(client: docker.DockerClient, store, spec: JobSpec, payload: Payload, *, ca_bundle: str,
                 labels: dict[str, str], notify: Notify) -> Any:
    """Point every pool at the image it will run (a requirements image's tag where there are requirements);
    returns the engine's image of the primary pool."""
    ready: dict[str, str] = {}  # each pool's image as given -> as run (with the requirements baked in)
    found = {}  # as run -> the engine's image
    for one in spec.worker_pools:
        if one.image not in ready:
            image = images.ensure_image(client, one.image, notify)
            tag = one.image
            if spec.requirements:
                with engine_errors("build the image with the requirements"):
                    tag = images.requirements_image(client, image, spec.requirements, repo="",
                                                    ca_bundle=ca_bundle, notify=notify)
                image = client.images.get(tag)
            if payload.kind != "container":  # the runner's python3; a container job runs the image's own
                _check_python(client, store, tag, image, payload, labels)
            ready[one.image], found[tag] = tag, image
        one.image = ready[one.image]
    return found[spec.primary.image]


def _check_python(client: docker.DockerClient, store, name: str, image: Any, payload: Payload,
                  labels: dict[str, str]) -> None:
    info = images.python_info(client, store, image, labels)
    if not info.get("python"):
        raise SpecError(
            f"image {name} has no python3, which containerjob's runner needs for a cell, file or notebook: "
            "use an image with Python (e.g. python:3.11-slim) or install python3 in it; to run the image's own "
            "program, leave out the file (containerjob run --image IMAGE [--command 'PROG ARG...'])"
        )
    image_python = ".".join(info["python"].split(".")[:2])
    if payload.code_by_value and image_python != KERNEL_PYTHON:
        raise PayloadError(
            f"the inputs carry functions or classes defined in this kernel (Python {KERNEL_PYTHON}) but image "
            f"{name} runs Python {image_python}, where that pickled code cannot load: use an image with "
            f"Python {KERNEL_PYTHON} or define them inside the cell"
        )
