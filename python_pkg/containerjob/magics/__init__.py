"""IPython layer: `%%containerjob` and `%containerjob ...`, thin over containerjob.core."""
from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    from .cell import ContainerJob

    ipython.register_magics(ContainerJob(shell=ipython))
