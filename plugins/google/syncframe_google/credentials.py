"""The service account's JSON key: read from a 0600 file or an environment variable.

Checked before any request: a file others can read, a missing variable, or JSON
that is not a service-account key is a :class:`syncframe.ConfigError` naming the
fix. The key itself never appears in a message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from syncframe import ConfigError
from syncframe.sdk import read_secret_file

#: what google-auth needs from a key file (Google's downloaded JSON has more)
REQUIRED_KEYS = ("client_email", "private_key", "token_uri")


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
    text = read_secret_file(path, "credentials_file")
    return parse_key(text, f"credentials_file {str(path)!r}"), f"credentials_file {str(path)!r}"
