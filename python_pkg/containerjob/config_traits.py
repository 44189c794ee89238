"""`ContainerJob` traitlets config for the magic and the server extension: core's Settings, one trait a field.

The same names work as `%config ContainerJob.<name>` (and ipython_config.py), `c.ContainerJob.<name>` in
jupyter_server_config.py/json and `CONTAINERJOB_<NAME>`; names, types and help come from core/settings.py,
so nothing is listed twice. A trait left at None is unset: the variable, the config file and the built-in
default apply in that order (docs/configuration.md).
"""
from __future__ import annotations

from dataclasses import MISSING, Field, fields
from typing import Any

from traitlets import Bool, Int, TraitType, Unicode
from traitlets.config import Configurable

from .core.settings import Settings

_TRAIT_TYPES: dict[str, type[TraitType]] = {"str": Unicode, "bool": Bool, "int": Int}


def _trait(setting: Field) -> TraitType:
    """None by default so an unset trait defers to the lower layers instead of masking them."""
    fallback = f"CONTAINERJOB_{setting.name.upper()}, then the config file"
    if setting.default is not MISSING and setting.default not in ("", None):
        fallback += f", then {setting.default!r}"
    return _TRAIT_TYPES[str(setting.type)](None, allow_none=True,
                                           help=f"{setting.metadata['help']} Unset: {fallback}.").tag(config=True)


def _load_settings(self: Configurable) -> Settings:
    """Settings.load() with this object's set traits as its top layer (config beats variables and file)."""
    return Settings.load({name: value for name in self.trait_names(config=True)
                          if name in SETTING_NAMES and (value := getattr(self, name)) is not None})


SETTING_NAMES = tuple(setting.name for setting in fields(Settings))
_NAMESPACE: dict[str, Any] = {setting.name: _trait(setting) for setting in fields(Settings)}

# Built with type() so each Settings field becomes a trait at class creation (traitlets names them then);
# the class name is the config section, `ContainerJob`, shared with the magics class that subclasses it.
ContainerJobConfig = type("ContainerJob", (Configurable,), {
    "__module__": __name__,
    "__doc__": "Settings as `ContainerJob` config; `load_settings()` resolves them with env and file below.",
    "load_settings": _load_settings,
    **_NAMESPACE,
})
