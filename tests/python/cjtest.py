"""Helpers shared by the tests (imported as a plain module; pytest puts this folder on sys.path)."""
from __future__ import annotations

import io
import tarfile

from containerjob.core.settings import kernel_python_image

IMAGE = kernel_python_image()


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

