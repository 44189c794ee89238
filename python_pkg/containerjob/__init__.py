"""containerjob: run notebook cells and notebooks as container jobs, locally or on Vertex AI."""
from __future__ import annotations

from .core.gcs_uri import gcs_path, gs_uri
from .core.version import __version__

__all__ = ["__version__", "gcs_path", "gs_uri", "load_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    """`%load_ext containerjob`: registers %%containerjob (imports stay lazy until first use)."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "containerjob"}]


def _jupyter_server_extension_points() -> list[dict]:
    """The server extension is an ExtensionApp, so jupyter_server stops its threads at shutdown."""
    from .server import ContainerJobExtension

    return [{"module": "containerjob.server", "app": ContainerJobExtension}]
