"""Secret files: refused when others can read them, read without leaking their content.

Every plugin that takes a password, key or token cache from a file asks the same
questions (a regular file? readable by group or others? empty?), so the answers and
their messages live here, in the SDK (:mod:`syncframe.sdk`). A message names the file
and the fix, never the content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError


def check_private(path: Path, what: str) -> None:
    """Refuse a secret file that is missing, not a regular file, or readable by group or others.

    :param path: The file.
    :param what: How the profile names it (``"client_secret_file"``), for the message.
    :raises ConfigError: naming the file and the ``chmod 600`` that fixes it.
    """
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


def read_secret_file(path_text: str | os.PathLike[str], what: str) -> str:
    """The content of a private secret file (checked with :func:`check_private`).

    :param path_text: The path as the profile gives it (``~`` is expanded).
    :param what: How the profile names it, for messages.
    :return: The content as stored (callers strip what their format allows).
    :raises ConfigError: the file is not private, cannot be read or decoded, or holds only whitespace.
    """
    path = Path(path_text).expanduser()
    check_private(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {str(path)!r} cannot be read: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    if not text.strip():
        raise ConfigError(f"{what} {str(path)!r} is empty")
    return text
