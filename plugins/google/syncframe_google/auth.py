"""Signing in as a service account with domain-wide delegation (google-auth).

The service account signs a JWT with its private key asking for the Directory
scopes on behalf of ``subject`` (an administrator); Google's token endpoint answers
with a one-hour access token (the JWT bearer grant, RFC 7523). google-auth does the
signing and the exchange; the token request goes through our :class:`CASession`, so
``ca_bundle`` applies to it as to the Directory calls. google-auth is imported only
when a source is opened: the CLI's start-up does not pay for it.

What can go wrong is said in one line with the fix: delegation not granted
(``unauthorized_client``), a subject Google does not know (``invalid_grant``), a key
that was deleted or revoked.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Mapping

import requests

from syncframe import AuthenticationError, ConfigError, RetriableSyncError

from .credentials import load_key

log = logging.getLogger("syncframe.google.auth")

READ_USERS = "https://www.googleapis.com/auth/admin.directory.user.readonly"
READ_GROUP_MEMBERS = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
DELEGATION_PATH = "Admin console › Security › Access and data control › API controls › Domain-wide delegation"


def required_scopes(config: Mapping[str, Any]) -> list[str]:
    """Least privilege: the user scope, and the group-member scope only with ``groups``."""
    return [READ_USERS, READ_GROUP_MEMBERS] if config.get("groups") else [READ_USERS]


class GoogleAuth:
    """Access tokens for one service account acting as one administrator.

    :param config: The validated ``[source]`` section.
    :param session: The :class:`syncframe.sdk.CASession` token requests go through.
    :raises ConfigError: the key is missing, too open, or not a service-account key.
    """

    def __init__(self, config: Mapping[str, Any], session: requests.Session):
        from google.oauth2 import service_account  # lazily: see the module docstring

        info, self.key_label = load_key(config)
        # a lab or the sandbox: the token endpoint named in the profile, not the key's
        info = {**info, "token_uri": str(config.get("token_url") or info["token_uri"])}
        self.client_email = str(info["client_email"])
        self.client_id = str(info.get("client_id") or "")
        self.subject = str(config["subject"])
        self.scopes = required_scopes(config)
        self.token_url = info["token_uri"]
        self.session = session
        self.token_requests = 0
        self._lock = threading.Lock()
        try:
            base = service_account.Credentials.from_service_account_info(info, scopes=self.scopes)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"the service account key in {self.key_label} cannot be used: {exc}") from None
        self.credentials = base.with_subject(self.subject)

    def access_token(self) -> str:
        """A valid access token, fetched again when the last one expired."""
        with self._lock:
            if not self.credentials.valid:
                self._refresh()
            return str(self.credentials.token)

    def renew(self) -> str:
        """A new token even though the old one has not expired (it was refused)."""
        with self._lock:
            self._refresh()
            return str(self.credentials.token)

    def _refresh(self) -> None:
        from google.auth import exceptions
        from google.auth.transport.requests import Request

        self.token_requests += 1
        try:
            self.credentials.refresh(Request(session=self.session))
        except exceptions.RefreshError as exc:
            raise self.explain(exc) from None
        except exceptions.TransportError as exc:
            raise RetriableSyncError(f"cannot reach Google's token endpoint {self.token_url}: {_first_line(exc)}") from None
        log.info("token for %s acting as %s (%d scope(s))", self.client_email, self.subject, len(self.scopes))

    def explain(self, exc: Exception) -> Exception:
        """One line with the fix for a refused token request."""
        data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = str(data.get("error") or "")
        description = str(data.get("error_description") or _first_line(exc))
        if getattr(exc, "retryable", False):
            return RetriableSyncError(f"Google's token endpoint kept failing ({description}); try again later")
        who = f"the service account {self.client_email}" + (f" (client id {self.client_id})" if self.client_id else "")
        if code == "unauthorized_client":
            return AuthenticationError(
                f"Google refused to let {who} act as {self.subject} (unauthorized_client: domain-wide delegation is not granted "
                f"for these scopes); grant client id {self.client_id or '?'} the scopes {','.join(self.scopes)} in the "
                f"{DELEGATION_PATH}"
            )
        if code == "invalid_grant" and "email" in description.lower():
            return AuthenticationError(
                f"Google does not know the subject {self.subject!r} (invalid_grant: {description}); set subject to the primary "
                f"e-mail of an administrator of the Workspace, as allowed in the {DELEGATION_PATH}"
            )
        if code == "invalid_grant":
            return AuthenticationError(
                f"Google refused the signed request of {who} (invalid_grant: {description}); the key in {self.key_label} "
                f"may have been deleted or the clock is wrong: create a new key (IAM › Service accounts › Keys)"
            )
        return AuthenticationError(f"Google refused a token for {who} acting as {self.subject} ({code or 'error'}: {description})")


def _first_line(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.splitlines()[0][:300] if text else exc.__class__.__name__
