"""Google's OAuth 2.0 token endpoint for service accounts (the JWT bearer grant).

A service account posts ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
and ``assertion=<JWT>`` signed RS256 with its private key. The endpoint verifies the
signature with the registered public key (by ``kid``, else every key of ``iss``),
the audience (Google's token URL, which google-auth always names, or this endpoint's
own URL), the times, then the delegation:

- ``sub`` must be a user of the account (else 400 ``invalid_grant`` "Invalid email or
  User ID");
- every requested scope must be granted to the service account's client id in the
  Admin console's domain-wide delegation (else 401 ``unauthorized_client``).

The answer is ``{"access_token", "expires_in", "token_type": "Bearer"}``, as Google's.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import jwt
from werkzeug.wrappers import Request, Response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: the audience Google's clients put in every service-account JWT, whatever token URL they post to
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
#: how long an assertion may live (Google: at most one hour)
MAX_ASSERTION_SECONDS = 3600


@dataclass
class RegisteredAccount:
    """A service account the simulated Cloud project holds: its client id and public keys."""

    client_email: str
    client_id: str
    public_keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """What an issued access token allows."""

    client_id: str
    subject: str | None
    scopes: frozenset[str]
    expires_at: float


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class TokenService:
    """Issues and checks access tokens.

    :param is_user: Whether an e-mail is a user of the account (a valid ``sub``).
    :param clock: Seconds since the epoch (the simulator can move it forward).
    :param lifetime: ``expires_in`` of new tokens (read on every issue).
    """

    def __init__(self, is_user: Callable[[str], bool], clock: Callable[[], float], lifetime: Callable[[], int]):
        self._lock = threading.Lock()
        self.is_user = is_user
        self.clock = clock
        self.lifetime = lifetime
        self.accounts: dict[str, RegisteredAccount] = {}
        #: client id -> scopes granted in the Admin console (domain-wide delegation)
        self.delegations: dict[str, set[str]] = {}
        self._tokens: dict[str, Grant] = {}
        self.issued = 0

    def register(self, client_email: str, client_id: str, key_id: str, public_pem: str) -> None:
        with self._lock:
            account = self.accounts.setdefault(client_email, RegisteredAccount(client_email, client_id))
            account.public_keys[key_id] = public_pem

    def delete_key(self, client_email: str, key_id: str) -> None:
        """The key stops working (its JWTs fail the signature check)."""
        with self._lock:
            self.accounts[client_email].public_keys.pop(key_id, None)

    def delegate(self, client_id: str, scopes: Iterable[str]) -> None:
        """Replace the scopes granted to ``client_id`` (empty: delegation removed)."""
        with self._lock:
            self.delegations[client_id] = set(scopes)

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- the endpoint ------------------------------------------------------------------

    def handle(self, request: Request, audience: str) -> Response:
        if request.method != "POST":
            return _answer(405, {"error": "invalid_request", "error_description": "Method Not Allowed"})
        try:
            grant = self._grant(request, audience)
        except TokenError as exc:
            return _answer(exc.status, {"error": exc.error, "error_description": exc.description})
        token = "ya29.sim-" + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = grant
            self.issued += 1
        return _answer(200, {"access_token": token, "expires_in": int(grant.expires_at - self.clock()), "token_type": "Bearer"})

    def _grant(self, request: Request, audience: str) -> Grant:
        if request.form.get("grant_type") != JWT_BEARER:
            raise TokenError(400, "unsupported_grant_type", "Invalid grant_type: " + str(request.form.get("grant_type")))
        assertion = request.form.get("assertion") or ""
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenError(400, "invalid_grant", "Invalid JWT: malformed assertion") from None
        if header.get("alg") != "RS256":
            raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
        with self._lock:
            account = self.accounts.get(str(unverified.get("iss") or ""))
            keys = dict(account.public_keys) if account else {}
        candidates = [keys[header["kid"]]] if header.get("kid") in keys else list(keys.values())
        claims = None
        for public_pem in candidates:
            try:
                claims = jwt.decode(
                    assertion, public_pem, algorithms=["RS256"], audience=[GOOGLE_AUDIENCE, audience],
                    options={"require": ["iss", "aud", "iat", "exp"], "verify_exp": False, "verify_iat": False},
                )
                break
            except jwt.InvalidAudienceError:
                raise TokenError(400, "invalid_grant", "Invalid JWT: Failed audience check.") from None
            except jwt.PyJWTError:
                continue
        if claims is None or account is None:
            raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
        now = self.clock()
        iat, exp = float(claims["iat"]), float(claims["exp"])
        if exp < now or iat > now + 300 or exp - iat > MAX_ASSERTION_SECONDS:
            raise TokenError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
        scopes = frozenset(str(claims.get("scope") or "").split())
        if not scopes:
            raise TokenError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        subject = claims.get("sub")
        if subject:
            if not self.is_user(str(subject)):
                raise TokenError(400, "invalid_grant", "Invalid email or User ID")
            with self._lock:
                granted = self.delegations.get(account.client_id, set())
            if not scopes <= granted:
                raise TokenError(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
        return Grant(account.client_id, str(subject) if subject else None, scopes, now + self.lifetime())

    # -- used by the Directory API ----------------------------------------------------------

    def grant_for(self, authorization: str | None) -> Grant | None:
        """The grant behind ``Authorization: Bearer <token>``, or None when missing or expired."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        with self._lock:
            grant = self._tokens.get(authorization[len("Bearer "):].strip())
        if grant is None or grant.expires_at <= self.clock():
            return None
        return grant


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    return response


def wall_clock() -> float:
    return time.time()
