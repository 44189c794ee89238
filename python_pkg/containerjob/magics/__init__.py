"""IPython layer: `%%containerjob` and `%containerjob ...`, thin over containerjob.core."""
from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    from .cell import ContainerJobMagics

    ipython.register_magics(ContainerJobMagics(shell=ipython))
