"""The service account's JSON key: read from a 0600 file or an environment variable.

Checked before any request: a file others can read, a missing variable, or JSON
that is not a service-account key is a :class:`syncframe.ConfigError` naming the
fix. The key itself never appears in a message.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Mapping

from syncframe import ConfigError

#: what google-auth needs from a key file (Google's downloaded JSON has more)
REQUIRED_KEYS = ("client_email", "private_key", "token_uri")


def check_private(path: Path, what: str) -> None:
    """Refuse a key file that is missing, not a regular file, or readable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"{what} {str(path)!r} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{what} {str(path)!r} is not a regular file")
    if mode & 0o077:
        raise ConfigError(f"{what} {str(path)!r} is readable by group or others (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"{what} {str(path)!r} cannot be read: permission denied")


def parse_key(text: str, where: str) -> dict[str, Any]:
    """The key's JSON as a dict, after checking it is a service account's key."""
    try:
        info = json.loads(text)
    except ValueError:
        raise ConfigError(f"{where} is not JSON; download the service account's key as JSON (Keys › Add key › JSON)") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConfigError(f"{where} is not a service account key (\"type\" must be \"service_account\")")
    missing = [key for key in REQUIRED_KEYS if not info.get(key)]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}; download a new JSON key for the service account")
    return info


def load_key(config: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The key's JSON and a label saying where it came from (for messages)."""
    if config.get("credentials_env"):
        name = str(config["credentials_env"])
        text = os.environ.get(name)
        if not text:
            raise ConfigError(f"the environment variable {name} (credentials_env) is not set or empty")
        return parse_key(text, f"the environment variable {name}"), f"environment variable {name}"
    path = Path(str(config["credentials_file"])).expanduser()
    check_private(path, "credentials_file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"credentials_file {str(path)!r} cannot be read: {getattr(exc, 'strerror', None) or exc.__class__.__name__}") from None
    return parse_key(text, f"credentials_file {str(path)!r}"), f"credentials_file {str(path)!r}"
