"""Helpers shared by the tests (imported as a plain module; pytest puts this folder on sys.path)."""
from __future__ import annotations

import contextlib
import io
import tarfile
from typing import Callable, Iterator

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


def _commit_after(engine, tag: str, command: list[str]) -> str:
    """IMAGE as `command` run in it leaves it, committed as `tag`."""
    container = engine.containers.run(IMAGE, command, detach=True)
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0
        container.commit(*tag.split(":"))
    finally:
        container.remove(force=True)
    return tag


def commit_without_python3(engine, tag: str) -> str:
    """IMAGE with every python3 deleted: an otherwise normal Debian with a shell."""
    return _commit_after(engine, tag, ["sh", "-c", "rm -f /usr/bin/python3* /usr/local/bin/python3*"])


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


@contextlib.contextmanager
def recorded_displays(shell, before: Callable[[], str] = lambda: "") -> Iterator[list[tuple[str, dict]]]:
    """What IPython.display publishes while inside, as (before(), data) pairs: IPython's own DisplayPublisher,
    recording; `before` can read what was printed before each display (capsys)."""
    from IPython.core.displaypub import DisplayPublisher

    events: list[tuple[str, dict]] = []

    class Recorder(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
            events.append((before(), data))

    saved = shell.display_pub
    shell.display_pub = Recorder(shell=shell)
    try:
        yield events
    finally:
        shell.display_pub = saved


@contextlib.contextmanager
def published(shell):
    """Every display IPython publishes while inside: (data, its display_id or None, whether an update)."""
    from IPython.core.displaypub import DisplayPublisher

    events: list[tuple[dict, str | None, bool]] = []

    class Recorder(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
            events.append((data, (transient or {}).get("display_id"), update))

    saved, shell.display_pub = shell.display_pub, Recorder(shell=shell)
    try:
        yield events
    finally:
        shell.display_pub = saved


def run_cell(shell, line: str, cell: str):
    """Run a %%containerjob cell the way a notebook does and return IPython's ExecutionResult."""
    return shell.run_cell(f"%%containerjob {line}\n{cell}")



KERNEL_IMAGE = "containerjob-test-kernel:1"
KERNEL_REQUIREMENTS = ["papermill", "ipykernel"]
RICH_IMAGE = "containerjob-test-rich:1"  # what cells display with, without IPython
RICH_REQUIREMENTS = ["matplotlib", "pandas", "tqdm"]
RICH_IPYTHON_IMAGE = "containerjob-test-rich-ipython:1"  # the same with IPython (IPython.display)


def build_kernel_image(engine) -> str:
    """python:X.Y-slim plus papermill and ipykernel (a Jupyter kernel)."""
    return pip_image(engine, IMAGE, KERNEL_REQUIREMENTS, KERNEL_IMAGE)


def build_rich_images(engine) -> tuple[str, str]:
    """Matplotlib, pandas and tqdm on python:X.Y-slim, and that plus IPython (one layer more)."""
    rich = pip_image(engine, IMAGE, RICH_REQUIREMENTS, RICH_IMAGE)
    return rich, pip_image(engine, rich, ["ipython"], RICH_IPYTHON_IMAGE)


def pip_image(engine, base: str, requirements: list[str], tag: str) -> str:
    """`base` plus pip-installed requirements, pip going through the host's proxy and CA like any requirements
    image; built once per engine under its own tag, so removing containerjob's content-hashed images leaves
    it alone (a new set of requirements needs a new tag)."""
    try:
        engine.images.get(tag)
        return tag
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound: build it below
        pass
    from containerjob.backends import images
    from containerjob.core.settings import Settings

    built = images.requirements_image(engine, engine.images.get(base), requirements, repo="",
                                      ca_bundle=Settings.load().ca_bundle, notify=lambda _msg: None)
    engine.images.get(built).tag(*tag.split(":"))
    engine.images.remove(built)  # only untags: the image stays under `tag`
    return tag


def commit_without_shell(engine, tag: str) -> str:
    """IMAGE with /bin/sh and its target deleted: Python runs, `!cmd` lines have no shell."""
    script = "import os\nfor p in ('/bin/sh', '/bin/dash', '/usr/bin/dash', '/bin/bash', '/usr/bin/bash'):\n" \
             "    os.path.lexists(p) and os.remove(p)"
    return _commit_after(engine, tag, ["python3", "-c", script])
