"""Helpers shared by the tests (imported as a plain module; pytest puts this folder on sys.path)."""
from __future__ import annotations

import io
import tarfile

from containerjob.core.settings import kernel_python_image

IMAGE = kernel_python_image()


def build_dockerfile(engine, dockerfile: str, tag: str) -> str:
    """An image built from a Dockerfile alone (no other context), from images this engine already has."""
    data = dockerfile.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    engine.images.build(fileobj=buf, custom_context=True, tag=tag, rm=True)
    return tag


def commit_without_python3(engine, tag: str) -> str:
    """IMAGE with every python3 deleted: an otherwise normal Debian with a shell."""
    container = engine.containers.run(IMAGE, ["sh", "-c", "rm -f /usr/bin/python3* /usr/local/bin/python3*"],
                                      detach=True)
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0
        container.commit(*tag.split(":"))
    finally:
        container.remove(force=True)
    return tag


def build_image_without_python(engine, tag: str) -> str:
    """An image holding one text file: anything that needs python3 must fail clearly."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"no python here\n"
        info = tarfile.TarInfo("README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    engine.api.import_image_from_data(buf.getvalue(), repository=tag.split(":")[0], tag=tag.split(":")[1])
    return tag


def run_cell(shell, line: str, cell: str):
    """Run a %%containerjob cell the way a notebook does and return IPython's ExecutionResult."""
    return shell.run_cell(f"%%containerjob {line}\n{cell}")



KERNEL_IMAGE = "containerjob-test-kernel:1"
KERNEL_REQUIREMENTS = ["papermill", "ipykernel"]


def build_kernel_image(engine) -> str:
    """python:X.Y-slim plus papermill and ipykernel (a Jupyter kernel), pip going through the host's
    proxy and CA like any requirements image; built once per engine under its own tag, so removing
    containerjob's content-hashed images leaves it alone."""
    try:
        engine.images.get(KERNEL_IMAGE)
        return KERNEL_IMAGE
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound: build it below
        pass
    from containerjob.backends import images
    from containerjob.core.settings import Settings

    tag = images.requirements_image(engine, engine.images.get(IMAGE), KERNEL_REQUIREMENTS, repo="",
                                    ca_bundle=Settings.load().ca_bundle, notify=lambda _msg: None)
    engine.images.get(tag).tag(*KERNEL_IMAGE.split(":"))
    engine.images.remove(tag)  # only untags: the image stays under KERNEL_IMAGE
    return KERNEL_IMAGE
