"""The package version, for modules below the package root (which holds the extension hooks)."""
from __future__ import annotations

try:
    from .._version import __version__
except ImportError:  # running from a source tree that was never built (hatch writes _version.py)
    __version__ = "0.0.0.dev0"
