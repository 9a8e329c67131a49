"""A small REST client for pascom's user endpoints (the contract in ``wire``).

- HTTP Basic auth as the REST user; the password lives only in the sessions' auth
  and is never logged or put in a message.
- Redirects are never followed (a redirect could carry the credentials elsewhere);
  one is reported as a configuration problem.
- 429 / 5xx / connection errors are retried within a bounded :class:`RetryPolicy`,
  waiting what ``Retry-After`` says; a POST that creates a device is not repeated
  blindly when its answer is lost: the user is read back first (:meth:`PascomClient.add_device`).
- Thread-safe: every thread gets its own ``requests`` session (a session is not
  safe to share between threads); each keeps a small connection pool.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Iterable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from syncframe import AuthenticationError, FatalSyncError, PermanentRecordError, RetriableSyncError, SkippableRecordError
from syncframe.sdk import CASession, RetryPolicy, RetryStats, send_with_retries

from . import wire

log = logging.getLogger("syncframe.pascom")

#: what :meth:`PascomClient._call` answers for a 404 the caller expected
MISSING = object()


class PascomApiError(SkippableRecordError):
    """pascom refused one request (400, 404, 409, ...): a per-user failure.

    :param operation: What was tried, e.g. ``PUT identity/jdoe``.
    :param error: pascom's code, message and field.
    :param retried: Whether the request was sent more than once (a retried create
        that answers "login exists" may have landed the first time).
    """

    def __init__(self, operation: str, error: wire.WireError, retried: bool = False):
        super().__init__(f"pascom refused {operation}: {error.describe()}")
        self.operation = operation
        self.error = error
        self.retried = retried

    @property
    def status(self) -> int:
        return self.error.status

    @property
    def code(self) -> str:
        return self.error.code


class PascomRefusal(PascomApiError, PermanentRecordError):
    """pascom refused a request it received exactly once with a 4xx: a definite answer
    (nothing of it was written) that asking again would only repeat."""


class PascomUnavailable(RetriableSyncError):
    """pascom kept answering 429 / 5xx, or could not be reached, within the retry budget."""


class PascomClient:
    """The REST client of one pascom instance.

    :param base_url: ``https://<host>/<instance>`` (validated by the schema).
    :param username: The REST user (``moby``).
    :param password: Its password (resolved from the profile's reference).
    :param password_hint: Where the password came from (``$VAR`` or a path), for messages.
    :param ca_bundle: A PEM bundle to verify the server against, or None for the system store.
    :param timeout: Seconds to wait for an answer (connecting waits at most 10).
    :param policy: Retries on 429 / 5xx / connection errors.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        password_hint: str = "",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.services = self.base_url + wire.SERVICES
        self.username = username
        self._password = password
        self._password_hint = password_hint
        self.ca_bundle = ca_bundle
        self.timeout = (min(10.0, timeout), timeout)
        self.policy = policy or RetryPolicy()
        self.stats = RetryStats()
        self.requests = 0
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the password
        return f"PascomClient({self.base_url!r}, user={self.username!r})"

    # --- transport ----------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = CASession(self.ca_bundle, user_agent="syncframe-pascom")
            session.auth = (self.username, self._password)
            session.headers["Accept"] = wire.ACCEPT
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(self, method: str, path: str, body: Any = None, idempotent: bool = True) -> tuple[requests.Response, int]:
        """Send with retries; returns the final response and how many retries it took."""
        operation = f"{method} {path}"
        stats = RetryStats()
        kwargs: dict[str, Any] = {"timeout": self.timeout, "allow_redirects": False}
        if body is not None:
            kwargs["json"] = body
        try:
            response = send_with_retries(
                self._session(), method, self.services + path, self.policy, stats, idempotent=idempotent, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            raise FatalSyncError(f"TLS verification of {self.base_url} failed ({_reason(exc)}); set [target] ca_bundle to the instance's CA") from None
        except requests.RequestException as exc:
            raise PascomUnavailable(f"pascom at {self.base_url} could not be reached for {operation} after {stats.retries} retries: {_reason(exc)}") from None
        finally:
            with self._lock:
                self.stats.retries += stats.retries
                self.stats.waited += stats.waited
                self.requests += stats.retries + 1
        log.debug("%s -> %s (%d retries)", operation, response.status_code, stats.retries)
        return response, stats.retries

    def _call(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False, idempotent: bool = True) -> Any:
        """One API call: the decoded JSON answer (None for 204; :data:`MISSING` for 404 when ``missing_ok``).

        ``idempotent=False``: a 5xx or a lost connection is not retried here (its outcome
        is unknown); it raises :class:`PascomUnavailable` for the caller to check.
        """
        operation = f"{method} {path}"
        response, retries = self._send(method, path, body, idempotent)
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise PascomApiError(operation, wire.WireError(status, "INVALID_ANSWER", "the answer is not JSON"), retries > 0) from None
        if status == 404 and missing_ok:
            return MISSING
        if 300 <= status < 400:
            where = _origin(response.headers.get("Location", "")) or "elsewhere"
            raise FatalSyncError(
                f"pascom answered {operation} with a redirect ({status}) to {where}; redirects are not followed "
                f"with credentials: check [target] url ({self.base_url})"
            )
        error = wire.parse_error(status, response.text, response.reason or "")
        if status == 401:
            hint = f" in {self._password_hint}" if self._password_hint else ""
            raise AuthenticationError(
                f"pascom at {self.base_url} refused the REST credentials of user {self.username!r} (401 {error.code}); "
                f"check the password{hint} (pascom: Information → Developer → Show REST credentials)"
            )
        if status == 403:
            raise AuthenticationError(f"pascom at {self.base_url} does not let REST user {self.username!r} do {operation} (403 {error.code}: {error.message})")
        if status in self.policy.statuses:
            raise PascomUnavailable(f"pascom kept answering {operation} with {error.describe()} after {retries} retries")
        if 400 <= status < 500 and retries == 0:
            raise PascomRefusal(operation, error)
        raise PascomApiError(operation, error, retries > 0)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    # --- the endpoints --------------------------------------------------------------

    def list_identities(self) -> list[dict[str, Any]]:
        """Every user (one request; pascom does not page this list)."""
        answer = self._call("GET", wire.identities_path())
        if not isinstance(answer, list):
            raise FatalSyncError(f"pascom at {self.base_url} answered the user list with something that is not a list")
        return answer

    def get_identity(self, login: str) -> dict[str, Any] | None:
        """One user, or None when there is none with this login."""
        answer = self._call("GET", wire.identity_path(login), missing_ok=True)
        return None if answer is MISSING else answer

    def create_identity(self, document: dict[str, Any]) -> dict[str, Any]:
        """Create one user from an IO-Framework document; returns the created user."""
        answer = self._call("POST", wire.identities_path(), document)
        try:
            return wire.created_identity(answer)
        except ValueError as exc:
            raise PascomApiError("POST identity/", wire.WireError(201, "INVALID_ANSWER", str(exc))) from None

    def update_identity(self, login: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change some fields (a new login renames); returns the user as it now is."""
        return self._call("PUT", wire.identity_path(login), body)

    def delete_identity(self, login: str) -> bool:
        """Delete a user; False when it was already gone."""
        return self._call("DELETE", wire.identity_path(login), missing_ok=True) is not MISSING

    def disable_identity(self, login: str) -> dict[str, Any]:
        """Disable a user (kept, with its devices and extension)."""
        return self.update_identity(login, dict(wire.DISABLE))

    def add_device(self, login: str, body: dict[str, Any], known: Iterable[Any]) -> dict[str, Any]:
        """Create a device and assign it to the user, exactly once.

        A POST is not safe to repeat: when its answer is lost (a 5xx, a dropped
        connection, a timeout) the device may exist already. So the user is read back
        first, and the POST is sent again only when no device of that kind beyond
        ``known`` (the ids the user had before) appeared.
        """
        path = wire.devices_path(login)
        kind = str(body.get("type"))
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._call("POST", path, body, idempotent=False)
            except PascomUnavailable:
                current = self.get_identity(login)
                if current is None:
                    raise PascomApiError(f"POST {path}", wire.WireError(404, "NOT_FOUND", f"no user {login} any more")) from None
                landed = wire.new_device(current, known, kind)
                if landed is not None:
                    log.info("%s: the %s device was created before its answer was lost; not creating it again", login, kind)
                    return landed
                if attempt >= self.policy.attempts:
                    raise
            wait = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempt - 1))
            with self._lock:
                self.stats.retries += 1
                self.stats.waited += wait
            self.policy.sleep(wait)

    def remove_device(self, login: str, device_id: Any) -> None:
        """Remove one device of a user (gone already is fine)."""
        self._call("DELETE", wire.device_path(login, device_id), missing_ok=True)

    def list_sessions(self, login: str) -> list[dict[str, Any]]:
        return self._call("GET", wire.sessions_path(login)) or []

    def end_sessions(self, login: str) -> None:
        """End every session of the user and remove the mobile pairing."""
        self._call("DELETE", wire.sessions_path(login))


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: no credentials, path or query in messages."""
    parts = urlsplit(url)
    if not parts.hostname:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _reason(exc: BaseException) -> str:
    """A short, credential-free reason for a transport error."""
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if reason is not None:
        text = str(reason)
    return text[:300]
