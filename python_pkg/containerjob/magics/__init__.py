"""IPython layer: `%%containerjob` and `%containerjob ...`, thin over containerjob.core."""
from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    from .cell import ContainerJob
    from .gcsmount import GcsMountMagics
    from .quiet_errors import install

    ipython.register_magics(ContainerJob(shell=ipython))
    ipython.register_magics(GcsMountMagics)
    install(ipython)


def unload_ipython_extension(ipython) -> None:
    from .quiet_errors import uninstall

    uninstall(ipython)
