"""Opening a connection: TLS (ldaps:// or StartTLS) against the profile's CA, then a simple bind.

This module imports python-ldap; :func:`syncframe_ldap.source.require_python_ldap`
checks it is there before anything imports this module. Every connection sets
its own TLS options (a new TLS context per connection), never the process-wide
ones, so two connectors with different CAs cannot see each other's settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import ldap
from ldap.ldapobject import SimpleLDAPObject

from syncframe import AuthenticationError, ConfigError, SyncError
from syncframe.sdk import read_secret_file

#: seconds to open the TCP connection (and the TLS handshake)
CONNECT_TIMEOUT = 10.0
#: seconds any one request (a page, a refresh round) may take before the read is cut short
REQUEST_TIMEOUT = 120.0


def error_text(exc: BaseException) -> str:
    """python-ldap's error as one line: the result's description and the server's words."""
    info: Any = exc.args[0] if exc.args else None
    if isinstance(info, dict):
        desc = str(info.get("desc") or type(exc).__name__)
        extra = str(info.get("info") or "").strip()
        return f"{desc} ({extra})" if extra and extra.lower() != desc.lower() else desc
    return str(exc) or type(exc).__name__


def result_code(exc: BaseException) -> int | None:
    info: Any = exc.args[0] if exc.args else None
    return info.get("result") if isinstance(info, dict) else None


def bind_password(config: Mapping[str, Any]) -> tuple[str | None, str]:
    """The bind password and where it came from (for messages that must not show it).

    :raises ConfigError: an unset variable, or a file missing, empty or readable by others.
    """
    if config.get("bind_password_env"):
        name = str(config["bind_password_env"])
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"the environment variable {name} (bind_password_env) is not set or empty")
        return value, f"the environment variable {name}"
    if config.get("bind_password_file"):
        path = Path(str(config["bind_password_file"])).expanduser()
        # one trailing newline is how editors save a file; the password is the line
        value = read_secret_file(path, "bind_password_file").rstrip("\r\n")
        return value, f"bind_password_file {str(path)!r}"
    return None, "no password (anonymous bind)"


def connect(config: Mapping[str, Any], password: str | None, where: str, cls: type[SimpleLDAPObject] = SimpleLDAPObject) -> SimpleLDAPObject:
    """A bound connection of class ``cls`` (a syncrepl consumer needs its own class).

    :param config: The validated ``[source]`` section.
    :param password: The bind password (None: anonymous).
    :param where: Where the password came from, for the bind-refused message.
    :raises AuthenticationError: the server refused the bind.
    :raises SyncError: the server cannot be reached, or TLS failed.
    """
    url = str(config["url"])
    conn = cls(url)
    conn.protocol_version = ldap.VERSION3
    # a referral means part of the directory lives elsewhere: report it, never chase it
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, CONNECT_TIMEOUT)
    conn.set_option(ldap.OPT_TIMEOUT, REQUEST_TIMEOUT)
    if config.get("ca_bundle"):
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(config["ca_bundle"]))
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    # apply the options above to this connection's own TLS context
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    try:
        if config.get("start_tls"):
            conn.start_tls_s()
        bind_dn = config.get("bind_dn")
        conn.simple_bind_s(bind_dn or "", password or "")
    except ldap.INVALID_CREDENTIALS:
        conn.unbind_s()
        raise AuthenticationError(f"the LDAP server {url} refused the bind as {bind_dn!r}: invalid credentials (check bind_dn and the password in {where})") from None
    except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.TIMEOUT) as exc:
        raise SyncError(f"cannot reach the LDAP server {url}: {error_text(exc)}") from None
    except ldap.LDAPError as exc:
        raise SyncError(f"the LDAP server {url} refused the connection: {error_text(exc)}") from None
    return conn


def close(conn: SimpleLDAPObject | None) -> None:
    """Unbind, ignoring a connection that is gone already."""
    if conn is None:
        return
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        pass
