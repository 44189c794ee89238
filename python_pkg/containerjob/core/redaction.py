"""What is a secret, and how it is shown: one rule for every environment a job, a record, a dry run, a
CustomJob file or a schedule prints. Values are redacted where they are shown; they reach the job as given."""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .errors import SpecError

# Names that say "secret": anywhere in the name, or (KEY, PAT) at its end; e.g. DB_PASS, OPENAI_KEY, GH_PAT, SENTRY_DSN
_SECRET_NAME_RE = re.compile(r"SECRET|TOKEN|PASS|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH|DSN|_KEY$|PAT$", re.I)
# A URL with a password part (postgres://user:pw@host/db, redis://:pw@host), under any name
_URL_PASSWORD_RE = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#@\s:]*:[^/?#\s]+@", re.I)
REDACTED = "***"


class SecretValue(str):
    """A value given with --secret-env: a plain string to everything that uses it, but recognisably secret
    to `redact_env` in every environment built from the spec (the engine's, a CustomJob's)."""

    __slots__ = ()


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says its value must never be shown."""
    return bool(_SECRET_NAME_RE.search(name))


def is_secret(name: str, value: str) -> bool:
    """Whether a variable's value must never be shown: its name says so, it was given as a secret
    (--secret-env), or it is a URL that carries a password."""
    return is_secret_name(name) or isinstance(value, SecretValue) or bool(_URL_PASSWORD_RE.search(value))


def redact_env(env: dict[str, str], secret: Iterable[str] = ()) -> dict[str, str]:
    """`env` as it may be shown: every secret value (see is_secret; `secret`: more names) is ***."""
    marked = set(secret)
    return {k: (REDACTED if k in marked or is_secret(k, v) else v) for k, v in env.items()}


def redact_env_items(items: Iterable[str], secret: bool = False) -> list[str]:
    """NAME=VALUE texts (--env, --secret-env as a schedule keeps them) as they may be shown; `secret`: all."""
    shown = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:  # not NAME=VALUE (refused when used): perhaps a value typed alone
            shown.append(REDACTED if secret else item)
        else:
            shown.append(f"{name}={REDACTED}" if secret or is_secret(name, value) else item)
    return shown




ENV_OPTIONS = {"env": False, "secret_env": True}  # run options of NAME=VALUE items -> whether all are secret


def shown_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Run options as a JSON object keeps them (a schedule's) as they may be shown: secret env values ***."""
    return {k: redact_env_items(v, ENV_OPTIONS[k]) if k in ENV_OPTIONS and isinstance(v, list) else v
            for k, v in options.items()}


def kept_secrets(options: Mapping[str, Any], before: Mapping[str, Any], where: str = "options") -> dict[str, Any]:
    """An edit's run options with each `NAME=***` (a secret as it was shown) back to the value `before` has
    for NAME, so saving a form opened on shown values keeps the secrets; a *** `before` has no value for
    is refused (it would become the value)."""
    known = {}
    for key in ENV_OPTIONS:
        for item in before.get(key) or []:
            name, _, value = item.partition("=")
            known[name] = value
    edited = dict(options)
    for key in ENV_OPTIONS:
        if not isinstance(options.get(key), list):
            continue
        items = []
        for item in options[key]:
            name, sep, value = item.partition("=") if isinstance(item, str) else (item, "", "")
            if sep and value == REDACTED:
                if name not in known:
                    raise SpecError(f"{where}.{key} {name}={REDACTED} hides a value this schedule does not have: "
                                    "give the value")
                item = f"{name}={known[name]}"
            items.append(item)
        edited[key] = items
    return edited
