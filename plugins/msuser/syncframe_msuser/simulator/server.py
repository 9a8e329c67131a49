"""The simulator object: tenant + login service + Graph on one loopback HTTPS server."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import uuid
from typing import Any, Iterable

from werkzeug.wrappers import Request, Response

from syncframe.sdk import LoopbackServer

from .clock import Clock
from .graph import GraphService
from .login import AADError, LoginService
from .odata import GraphError
from .switches import DROP, TRUNCATE, RequestLog, RequestRecord, Switches
from .tenant import Tenant
from .tokens import AppRegistration, RegisteredCertificate

#: Application permissions the default app is granted (admin-consented).
DEFAULT_APP_ROLES = ("User.Read.All", "GroupMember.Read.All", "Presence.Read.All")
#: Delegated permissions consented for the default app (device code flow).
DEFAULT_DELEGATED_SCOPES = ("User.Read", "User.Read.All", "GroupMember.Read.All", "Presence.Read.All")

_AGS_DIAGNOSTIC = ('{"ServerInfo":{"DataCenter":"Germany West Central","Slice":"E","Ring":"4",'
                   '"ScaleUnit":"003","RoleInstance":"FR1PEPF00000D2A"}}')


class GraphSimulator:
    """Microsoft Graph v1.0 and the Entra ID login service for one tenant, on loopback HTTPS.

    :param tenant_domain: The tenant's initial domain (UPN suffix of generated users).
    :param tenant_id: The tenant GUID (default: derived from the domain, stable).
    :param users: Generate this many users at once (seeded by ``seed``).
    :param register_default_app: Register an app with a client secret and
        :data:`DEFAULT_APP_ROLES` (see :attr:`client_id`, :attr:`client_secret`).
    """

    def __init__(self, tenant_domain: str = "contoso.onmicrosoft.com", tenant_id: str | None = None, *,
                 users: int = 0, seed: int = 0, register_default_app: bool = True, port: int = 0):
        self.clock = Clock()
        self.tenant = Tenant(tenant_domain, tenant_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, tenant_domain)), self.clock)
        self.switches = Switches()
        self.log = RequestLog()
        self.apps: dict[str, AppRegistration] = {}
        self.login = LoginService(self)
        self.graph = GraphService(self)
        self._server = LoopbackServer(self.wsgi_app, port=port)
        self._started = False
        self._token_lock = threading.Lock()
        self._revoked_before: float | None = None
        self._issued: dict[str, float] = {}
        self.default_app: AppRegistration | None = None
        if register_default_app:
            self.default_app = self.register_app(display_name="syncframe")
        if users:
            self.tenant.generate_users(users, seed=seed)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "GraphSimulator":
        if not self._started:
            self._server.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False

    def __enter__(self) -> "GraphSimulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` — the authority host and Graph root."""
        return self._server.url

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v1.0"

    @property
    def authority(self) -> str:
        """What msal takes as ``authority=``: ``https://127.0.0.1:<port>/<tenant id>``."""
        return f"{self.url}/{self.tenant.tenant_id}"

    @property
    def ca_bundle(self) -> str:
        return self._server.ca_bundle

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    @property
    def client_id(self) -> str:
        assert self.default_app is not None, "no default app registered"
        return self.default_app.client_id

    @property
    def client_secret(self) -> str:
        assert self.default_app is not None and self.default_app.secret, "no default app secret"
        return self.default_app.secret

    @property
    def graph_scope(self) -> str:
        """The client-credentials scope (the simulator also accepts ``<url>/.default``)."""
        return "https://graph.microsoft.com/.default"

    # ------------------------------------------------------------------ apps and sign-in

    def register_app(self, client_id: str | None = None, secret: str | None = None, certificate_pem: str | bytes | None = None,
                     roles: Iterable[str] = DEFAULT_APP_ROLES, delegated_scopes: Iterable[str] = DEFAULT_DELEGATED_SCOPES,
                     public_client: bool = True, display_name: str = "syncframe") -> AppRegistration:
        """Register an app (with its service principal's consented permissions).

        Without ``secret`` and ``certificate_pem`` a random secret is created.
        """
        app = AppRegistration(client_id=client_id or str(uuid.uuid4()), display_name=display_name,
                              roles=set(roles), delegated_scopes=set(delegated_scopes), public_client=public_client)
        if secret is not None:
            app.secrets.append(secret)
        if certificate_pem is not None:
            app.certificates.append(RegisteredCertificate.from_pem(certificate_pem))
        if secret is None and certificate_pem is None:
            app.secrets.append(secrets.token_urlsafe(30))
        self.apps[app.client_id] = app
        return app

    def grant_roles(self, client_id: str, roles: Iterable[str]) -> None:
        """Replace an app's admin-consented application permissions (tokens issued later carry them)."""
        self.apps[client_id].roles = set(roles)

    def consent_scopes(self, client_id: str, scopes: Iterable[str]) -> None:
        """Replace an app's consented delegated permissions."""
        self.apps[client_id].delegated_scopes = set(scopes)

    def default_signed_in_user(self) -> dict[str, Any]:
        """Who approves a device code when no user is named: a tenant admin outside the user list."""
        return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.tenant_id + "/admin")),
                "userPrincipalName": f"admin@{self.tenant.domain}", "displayName": "Simulated Administrator",
                "givenName": "Simulated", "surname": "Administrator"}

    def approve_device_code(self, user_code: str | None = None, user: str | None = None) -> str:
        """Let the "user" approve a device code (the newest pending one when None).

        ``user`` is an id or UPN of a tenant user; default the simulated admin.
        Returns the approved user code.
        """
        signed_in = self.default_signed_in_user()
        if user is not None:
            found = self.tenant.get_user(user)
            if found is None:
                raise LookupError(f"no user {user}")
            signed_in = found
        return self.login.resolve_device_flow(user_code, True, signed_in)

    def decline_device_code(self, user_code: str | None = None) -> str:
        return self.login.resolve_device_flow(user_code, False, {})

    def pending_device_codes(self) -> list[str]:
        return self.login.pending_user_codes()

    def note_token(self, claims: dict[str, Any]) -> None:
        with self._token_lock:
            self._issued[claims["uti"]] = self.clock.now()

    def token_revoked(self, claims: dict[str, Any]) -> bool:
        with self._token_lock:
            if self._revoked_before is None:
                return False
            issued = self._issued.get(claims.get("uti", ""))
            return issued is None or issued < self._revoked_before

    def revoke_tokens(self) -> None:
        """Every access and refresh token issued so far stops working (Graph answers 401)."""
        with self._token_lock:
            self._revoked_before = self.clock.now()
        time.sleep(0.001)  # tokens issued from now on are strictly newer
        self.login.revoke_refresh_tokens()

    def advance_time(self, seconds: float) -> None:
        """Move the simulator's clock forward (expires access tokens and ages delta tokens)."""
        self.clock.advance(seconds)

    def invalidate_delta_tokens(self) -> None:
        """All deltaLinks handed out so far answer 410 Gone ``syncStateNotFound``."""
        self.graph.invalidate_delta_tokens()

    # ------------------------------------------------------------------ switches (shortcuts)

    @property
    def faults(self) -> Switches:
        """The misbehaviour switches (latency, throttling, page faults, token lifetime)."""
        return self.switches

    # ------------------------------------------------------------------ request log

    @property
    def requests(self) -> list[RequestRecord]:
        """Every answered request so far: ``RequestRecord(method, path, query, status, seconds)``."""
        return self.log.records

    @property
    def request_count(self) -> int:
        return self.log.total

    def path_counts(self) -> dict[str, int]:
        return self.log.path_counts()

    def stats(self) -> dict[str, Any]:
        summary = self.log.summary()
        summary.update({"users": self.tenant.user_count(), "throttled": self.switches.throttled,
                        "faults": self.switches.faults_fired})
        return summary

    # ------------------------------------------------------------------ WSGI

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.monotonic()
        request = Request(environ)
        request_id = str(uuid.uuid4())
        environ["sim.request_id"] = request_id
        environ["sim.client_request_id"] = request.headers.get("client-request-id") or request_id
        if self.switches.latency:
            time.sleep(self.switches.latency)
        response = self._dispatch(request)
        fault = getattr(response, "sim_fault", None)
        status = 0 if fault == DROP else response.status_code
        self.log.add(RequestRecord(request.method, request.path, request.query_string.decode("latin-1"),
                                   status, time.monotonic() - started))
        if fault == DROP:
            self._drop(environ)
            # the server still "answers"; writing to the closed socket fails quietly
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        if fault == TRUNCATE:
            return self._truncated(environ, start_response, response)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        graph = path == "/v1.0" or path.startswith("/v1.0/")
        throttled, retry_after = self.switches.throttle_now("graph" if graph else "login")
        if graph:
            if throttled:
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                headers["x-ms-throttle-information"] = "ResourceUnitLimitExceeded"
                response = self.graph.error(request, GraphError(429, "TooManyRequests", "Too many requests.", headers))
            else:
                response = self.graph.handle(request, path[len("/v1.0"):])
            self._graph_headers(request, response)
            return response
        if throttled:
            response = self.login.error_response(request, AADError(
                429, "temporarily_unavailable", 50196,
                "The server terminated an operation because it encountered a client request loop. Please try again later."))
            if retry_after is not None:
                response.headers["Retry-After"] = str(retry_after)
            return response
        if path.rstrip("/") == "/devicelogin":
            return self._device_login_page(request)
        segments = path.strip("/").split("/", 1)
        if len(segments) == 2 and segments[0]:
            return self.login.handle(request, segments[0], segments[1])
        return Response('{"error":"not_found"}', status=404, content_type="application/json")

    def _graph_headers(self, request: Request, response: Response) -> None:
        response.headers["request-id"] = request.environ["sim.request_id"]
        response.headers["client-request-id"] = request.environ["sim.client_request_id"]
        response.headers["x-ms-ags-diagnostic"] = _AGS_DIAGNOSTIC
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Vary"] = "Accept-Encoding"

    def _device_login_page(self, request: Request) -> Response:
        """A stand-in for microsoft.com/devicelogin: POST ``user_code`` approves as the admin."""
        if request.method == "POST":
            try:
                code = self.approve_device_code(request.form.get("user_code") or None)
            except LookupError as error:
                return Response(f"{error}\n", status=400, content_type="text/plain; charset=utf-8")
            return Response(f"approved {code}\n", content_type="text/plain; charset=utf-8")
        text = ("syncframe Graph simulator: POST user_code=<code> to this URL, or call "
                "GraphSimulator.approve_device_code(), to approve a device code.\n")
        return Response(text, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _drop(environ: dict[str, Any]) -> None:
        """Close the client's connection without an answer."""
        sock = environ.get("werkzeug.socket")
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _truncated(self, environ: dict[str, Any], start_response: Any, response: Response) -> Iterable[bytes]:
        """Announce the whole body, send half of it, then close the connection."""
        body = response.get_data()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(response.status, headers)

        def stream() -> Iterable[bytes]:
            yield body[: len(body) // 2]
            self._drop(environ)

        return stream()
