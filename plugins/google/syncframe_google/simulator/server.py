"""The simulator object: a Workspace account, its token endpoint and its Directory API
on one loopback HTTPS server."""

from __future__ import annotations

import socket
import time
from typing import Any, Iterable

from werkzeug.wrappers import Request, Response

from syncframe.sdk import LoopbackServer

from .api import PREFIX, ApiError, DirectoryApi, DroppedConnection
from .keys import ServiceAccountKey, new_service_account
from .switches import RequestLog, RequestRecord, Switches
from .tokens import TokenService
from .workspace import Workspace

READ_USERS = "https://www.googleapis.com/auth/admin.directory.user.readonly"
READ_GROUP_MEMBERS = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
#: what the default service account is granted in the domain-wide delegation
DEFAULT_SCOPES = (READ_USERS, READ_GROUP_MEMBERS)


class GoogleSimulator:
    """Google's token endpoint and Admin SDK Directory API for one account, on loopback HTTPS.

    :param domain: The account's primary domain.
    :param customer_id: The account's customer id (``my_customer`` aliases it).
    :param admin: The administrator service accounts may act as (a delegated subject).
    :param users: Generate this many users at once (seeded by ``seed``).
    :param default_account: Create a service account with a fresh key, delegated
        :data:`DEFAULT_SCOPES` (see :attr:`key`).
    """

    def __init__(self, domain: str = "example.com", customer_id: str = "C03sim0001", *, admin: str | None = None,
                 users: int = 0, seed: int = 0, default_account: bool = True, port: int = 0):
        self.workspace = Workspace(domain, customer_id)
        self.admin = admin or f"admin@{self.workspace.domain}"
        self.workspace.make_admin(self.admin)
        self.switches = Switches()
        self.log = RequestLog()
        self._clock_offset = 0.0
        self.tokens = TokenService(self._is_subject, self.now, lambda: self.switches.token_lifetime)
        self.api = DirectoryApi(self.workspace, self.tokens.grant_for, self.switches.page_fault)
        self._server = LoopbackServer(self.wsgi_app, port=port)
        self._started = False
        self.key: ServiceAccountKey | None = self.add_service_account() if default_account else None
        if users:
            self.workspace.generate_users(users, seed=seed)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "GoogleSimulator":
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False

    def __enter__(self) -> "GoogleSimulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>``: the ``api_url`` of a profile."""
        return self._server.url

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def ca_bundle(self) -> str:
        return self._server.ca_bundle

    # -- service accounts and delegation ----------------------------------------------------

    def add_service_account(self, name: str = "syncframe", scopes: Iterable[str] = DEFAULT_SCOPES, client_id: str | None = None) -> ServiceAccountKey:
        """A service account with a fresh key, granted ``scopes`` for domain-wide delegation."""
        key = new_service_account(name, client_id=client_id)
        self.register_key(key)
        self.delegate(key.client_id, scopes)
        return key

    def register_key(self, key: ServiceAccountKey) -> None:
        """Trust a key made elsewhere (its public half)."""
        self.tokens.register(key.client_email, key.client_id, key.key_id, key.public_pem)

    def delegate(self, client_id: str, scopes: Iterable[str]) -> None:
        """Replace the scopes granted to ``client_id`` (nothing: delegation not granted)."""
        self.tokens.delegate(client_id, scopes)

    def delete_key(self, key: ServiceAccountKey) -> None:
        self.tokens.delete_key(key.client_email, key.key_id)

    def _is_subject(self, email: str) -> bool:
        """A delegated subject: a user of the account, or the administrator."""
        return email.lower() in self.workspace.admins or self.workspace.find_user(email) is not None

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (the API answers 401)."""
        self.tokens.revoke_all()

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_time(self, seconds: float) -> None:
        """Move the simulator's clock forward (expires access tokens without sleeping)."""
        self._clock_offset += seconds

    # -- request log ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.log.records

    def path_counts(self) -> dict[str, int]:
        return self.log.path_counts()

    def stats(self) -> dict[str, Any]:
        summary = self.log.summary()
        summary.update(users=self.workspace.user_count(), throttled=self.switches.throttled, faults=self.switches.faults_fired,
                       tokens=self.tokens.issued)
        return summary

    # -- WSGI --------------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.monotonic()
        request = Request(environ)
        if self.switches.latency:
            time.sleep(self.switches.latency)
        try:
            response = self._dispatch(request)
        except DroppedConnection:
            self.log.add(RequestRecord(request.method, request.path, request.query_string.decode("latin-1"), 0, time.monotonic() - started))
            _drop(environ)
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        self.log.add(RequestRecord(request.method, request.path, request.query_string.decode("latin-1"), response.status_code, time.monotonic() - started))
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        area = "token" if path == "/token" else "api"
        throttled = self.switches.throttle_now(area)
        if path == "/token":
            if throttled:
                return Response('{"error": "temporarily_unavailable", "error_description": "Try again later."}', status=throttled[0] if throttled[0] != 403 else 429,
                                content_type="application/json; charset=utf-8")
            return self.tokens.handle(request, self.token_url_for(request))
        if path == PREFIX or path.startswith(PREFIX + "/"):
            if throttled:
                status, reason, retry_after = throttled
                message = "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'." if status != 503 else "The service is currently unavailable."
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return ApiError(status, reason, message, headers, domain="usageLimits" if status != 503 else "global").response()
            return self.api.handle(request, path[len(PREFIX):])
        return ApiError(404, "notFound", "Not Found").response()

    @staticmethod
    def token_url_for(request: Request) -> str:
        """The audience a JWT must name: this endpoint's URL as the client called it."""
        return f"https://{request.host}/token"


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection without an answer."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
