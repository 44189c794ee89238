"""containerjob: run notebook cells and notebooks as container jobs, locally or on Vertex AI."""
from __future__ import annotations

from .core.gcs_uri import gcs_path, gs_uri
from .core.version import __version__

__all__ = ["__version__", "exit_status", "gcs_path", "gs_uri", "load_ipython_extension", "unload_ipython_extension",
           "wait"]


def wait(*job_ids: str, timeout_s: float | None = None):
    """Block until the jobs end; their records (`exit_status(record)` gives the number `containerjob wait` exits
    with). For scripts that chain jobs: `if containerjob.wait(job_id)[0].status.value == "SUCCEEDED": ...`"""
    from .service import JobService

    return JobService().wait(job_ids, timeout_s=timeout_s)


def exit_status(record) -> int:
    """The job's own exit code, 0 for success, or the code for how it ended (see core/exit_status.py)."""
    from .core.exit_status import exit_status as _exit_status

    return _exit_status(record)


def load_ipython_extension(ipython) -> None:
    """`%load_ext containerjob`: registers %%containerjob (imports stay lazy until first use)."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    """`%unload_ext` / `%reload_ext`: gives back IPython's custom exception handler the extension took."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "containerjob"}]


def _jupyter_server_extension_points() -> list[dict]:
    """The server extension is an ExtensionApp, so jupyter_server stops its threads at shutdown."""
    from .server import ContainerJobExtension

    return [{"module": "containerjob.server", "app": ContainerJobExtension}]
