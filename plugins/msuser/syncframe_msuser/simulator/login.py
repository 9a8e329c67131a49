"""The simulated Microsoft identity platform (login.microsoftonline.com) for one tenant.

Endpoints under ``/<tenant>/`` (the tenant GUID, its domain, ``organizations`` or ``common``):

* ``GET  v2.0/.well-known/openid-configuration`` — what msal discovers;
* ``GET  discovery/v2.0/keys`` — the JWKS of the token signing key;
* ``POST oauth2/v2.0/token`` — ``client_credentials`` (client secret in the body or
  HTTP Basic, or a certificate ``client_assertion`` checked against the registered
  certificate), ``urn:ietf:params:oauth:grant-type:device_code`` and ``refresh_token``;
* ``POST oauth2/v2.0/devicecode`` — starts a device code flow.

Errors come in the STS's OAuth shape with AADSTS codes, trace and correlation ids.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import jwt
from werkzeug.wrappers import Request, Response

from .tokens import GRAPH_APP_ID, GRAPH_RESOURCE, AppRegistration, signing_key

if TYPE_CHECKING:  # pragma: no cover
    from .server import GraphSimulator

CLIENT_CREDENTIALS = "client_credentials"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN = "refresh_token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})


class AADError(Exception):
    """An STS error: OAuth ``error`` plus an AADSTS number and message."""

    def __init__(self, status: int, error: str, code: int, message: str):
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message


@dataclass
class DeviceFlow:
    """One pending device code: who asked, for what, and what the "user" did."""

    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires_at: float
    polls: int = 0
    state: str = "pending"  # pending | approved | declined
    user: dict[str, Any] = field(default_factory=dict)


@dataclass
class RefreshGrant:
    client_id: str
    user: dict[str, Any]
    scopes: list[str]


def _user_code() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(9))


class LoginService:
    """The STS half of the simulator; state lives on the :class:`GraphSimulator`."""

    def __init__(self, sim: "GraphSimulator"):
        self.sim = sim
        self._lock = threading.Lock()
        self._device_flows: dict[str, DeviceFlow] = {}
        self._refresh_tokens: dict[str, RefreshGrant] = {}
        self.device_code_lifetime = 900
        self.device_code_interval = 5
        #: approve a device code by itself after this many polls (None: only via approve_device_code)
        self.auto_approve_after_polls: int | None = None

    # ------------------------------------------------------------------ plumbing

    def known_tenant(self, segment: str) -> bool:
        tenant = self.sim.tenant
        return segment.lower() in {tenant.tenant_id, tenant.domain.lower(), "organizations", "common"}

    def error_response(self, request: Request, error: AADError) -> Response:
        trace = str(uuid.uuid4())
        correlation = request.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = datetime.fromtimestamp(self.sim.clock.now(), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": error.error,
            "error_description": (
                f"AADSTS{error.code}: {error.message}\r\nTrace ID: {trace}\r\n"
                f"Correlation ID: {correlation}\r\nTimestamp: {stamp}"
            ),
            "error_codes": [error.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{self.sim.url}/error?code={error.code}",
        }
        return self._json(request, body, error.status, trace)

    def _json(self, request: Request, body: dict[str, Any], status: int = 200, trace: str | None = None,
              cache: str = "no-store, no-cache") -> Response:
        response = Response(_dumps(body), status=status, content_type="application/json; charset=utf-8")
        response.headers["Cache-Control"] = cache
        response.headers["Pragma"] = "no-cache"
        response.headers["x-ms-request-id"] = trace or str(uuid.uuid4())
        response.headers["x-ms-ests-server"] = "2.1.19000.4 - SEC ProdSlices"
        response.headers["client-request-id"] = request.headers.get("client-request-id") or response.headers["x-ms-request-id"]
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    # ------------------------------------------------------------------ routing

    def handle(self, request: Request, segment: str, rest: str) -> Response:
        try:
            if not self.known_tenant(segment):
                raise AADError(
                    400, "invalid_tenant", 90002,
                    f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are "
                    "signing into the correct cloud. Check with your subscription administrator, this may happen "
                    "if there are no active subscriptions for the tenant.",
                )
            if rest == "v2.0/.well-known/openid-configuration" and request.method == "GET":
                return self._json(request, self.openid_configuration(), cache="max-age=86400, private")
            if rest == "discovery/v2.0/keys" and request.method == "GET":
                return self._json(request, signing_key().jwks(), cache="max-age=86400, private")
            if rest == "oauth2/v2.0/token" and request.method == "POST":
                return self._json(request, self.token(request))
            if rest == "oauth2/v2.0/devicecode" and request.method == "POST":
                return self._json(request, self.device_code(request))
            raise AADError(404, "invalid_request", 900561, f"The endpoint only accepts POST, OPTIONS requests. Received a {request.method} request." if rest.startswith("oauth2/") else "The requested endpoint was not found.")
        except AADError as error:
            return self.error_response(request, error)

    def openid_configuration(self) -> dict[str, Any]:
        base, tid = self.sim.url, self.sim.tenant.tenant_id
        return {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                                 "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                                 "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": f"{base}/{tid}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": base.split("://", 1)[1],
            "rbac_url": "https://pas.windows.net",
        }

    # ------------------------------------------------------------------ token endpoint

    def _app(self, client_id: str | None) -> AppRegistration:
        if not client_id:
            raise AADError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
        app = self.sim.apps.get(client_id)
        if app is None:
            raise AADError(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.sim.tenant.domain}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent your "
                "authentication request to the wrong tenant.",
            )
        return app

    def _client_credentials_of(self, request: Request) -> tuple[str | None, str | None]:
        """(client_id, secret) from the body or an HTTP Basic header."""
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            client_id = client_id or auth.username
            secret = secret or auth.password
        return client_id, secret

    def _authenticate(self, request: Request, app: AppRegistration, required: bool) -> str | None:
        """Check the client secret or certificate assertion; returns ``appidacr`` ("1" secret, "2" cert)."""
        _, secret = self._client_credentials_of(request)
        assertion = request.form.get("client_assertion")
        if secret is not None:
            if not any(secrets.compare_digest(secret, s) for s in app.secrets):
                raise AADError(
                    401, "invalid_client", 7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
                )
            return "1"
        if assertion is not None:
            if request.form.get("client_assertion_type") != ASSERTION_TYPE:
                raise AADError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion_type'.")
            self._check_assertion(app, assertion)
            return "2"
        if required:
            raise AADError(
                401, "invalid_client", 7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        return None

    def _check_assertion(self, app: AppRegistration, assertion: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise AADError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
        cert = app.certificate_for(header)
        if cert is None:
            raise AADError(
                401, "invalid_client", 700027,
                "The certificate with identifier used to sign the client assertion is not registered on application. "
                f"[Reason - The key was not found., Thumbprint of key used by client: "
                f"'{header.get('x5t') or header.get('x5t#S256')}'",
            )
        audience = f"{self.sim.url}/{self.sim.tenant.tenant_id}/oauth2/v2.0/token"
        try:
            claims = jwt.decode(
                assertion, cert.certificate.public_key(), algorithms=["RS256", "PS256"],
                audience=[audience, f"{self.sim.url}/{self.sim.tenant.domain}/oauth2/v2.0/token"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["aud", "iss", "exp"]},
            )
        except jwt.InvalidSignatureError:
            raise AADError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
        except jwt.InvalidAudienceError:
            raise AADError(
                401, "invalid_client", 700212,
                f"No matching federated identity record found for presented assertion audience '{audience}'.",
            ) from None
        except jwt.PyJWTError:
            raise AADError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
        now = self.sim.clock.now()
        if claims["exp"] < now - 300 or claims.get("nbf", now) > now + 300:
            raise AADError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        if claims.get("iss") != app.client_id or claims.get("sub", app.client_id) != app.client_id:
            raise AADError(401, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer.")

    def token(self, request: Request) -> dict[str, Any]:
        grant = request.form.get("grant_type")
        client_id, _ = self._client_credentials_of(request)
        if grant is None:
            raise AADError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if grant not in (CLIENT_CREDENTIALS, DEVICE_CODE, REFRESH_TOKEN):
            raise AADError(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")
        app = self._app(client_id)
        if grant == CLIENT_CREDENTIALS:
            acr = self._authenticate(request, app, required=True)
            self._check_app_scope(request.form.get("scope", ""))
            return self.issue_app_token(app, acr or "1")
        self._authenticate(request, app, required=not app.public_client)
        if grant == DEVICE_CODE:
            return self._redeem_device_code(request, app)
        return self._redeem_refresh_token(request, app)

    def graph_resources(self) -> set[str]:
        return {GRAPH_RESOURCE, GRAPH_APP_ID, self.sim.url}

    def _check_app_scope(self, scope: str) -> None:
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise AADError(
                400, "invalid_scope", 1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a scope "
                "value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scopes[0][: -len("/.default")].rstrip("/")
        if resource not in self.graph_resources():
            raise AADError(
                400, "invalid_resource", 500011,
                f"The resource principal named {resource} was not found in the tenant named {self.sim.tenant.domain}. "
                "This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
            )

    def delegated_scopes(self, app: AppRegistration, scope: str) -> list[str]:
        """Normalise requested delegated scopes; unconsented ones are AADSTS65001."""
        wanted: list[str] = []
        for item in scope.split():
            if item in RESERVED_SCOPES:
                continue
            for resource in self.graph_resources():
                if item.startswith(resource + "/"):
                    item = item[len(resource) + 1:]
            if item == ".default":
                wanted.extend(sorted(app.delegated_scopes))
                continue
            if item not in wanted:
                wanted.append(item)
        missing = [s for s in wanted if s not in app.delegated_scopes]
        if missing:
            raise AADError(
                400, "invalid_grant", 65001,
                f"The user or administrator has not consented to use the application with ID '{app.client_id}' "
                f"named '{app.display_name}'. Send an interactive authorization request for this user and resource.",
            )
        return wanted

    # ------------------------------------------------------------------ issuing

    def _base_claims(self, app: AppRegistration, lifetime: int) -> dict[str, Any]:
        now = int(self.sim.clock.now())
        tid = self.sim.tenant.tenant_id
        return {
            "aud": GRAPH_RESOURCE,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": secrets.token_urlsafe(24),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "idp": f"https://sts.windows.net/{tid}/",
            "rh": secrets.token_urlsafe(16),
            "tenant_region_scope": "EU",
            "tid": tid,
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }

    def issue_app_token(self, app: AppRegistration, appidacr: str = "1") -> dict[str, Any]:
        """An app-only access token carrying the app's granted ``roles``."""
        lifetime = self.sim.switches.token_lifetime
        claims = self._base_claims(app, lifetime)
        claims.update({"appidacr": appidacr, "idtyp": "app", "oid": app.service_principal_id, "sub": app.service_principal_id})
        if app.roles:
            claims["roles"] = sorted(app.roles)
        self.sim.note_token(claims)
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": signing_key().sign(claims)}

    def issue_user_tokens(self, app: AppRegistration, user: dict[str, Any], scopes: list[str],
                          offline: bool, client_info: bool) -> dict[str, Any]:
        """Access token with ``scp``, id token, client_info and (with offline_access) a refresh token."""
        lifetime = self.sim.switches.token_lifetime
        claims = self._base_claims(app, lifetime)
        claims.update({
            "acr": "1", "amr": ["pwd", "mfa"], "appidacr": "0" if app.public_client else "1", "idtyp": "user",
            "family_name": user.get("surname") or "", "given_name": user.get("givenName") or "",
            "name": user["displayName"], "oid": user["id"], "scp": " ".join(scopes), "sub": user["id"],
            "unique_name": user["userPrincipalName"], "upn": user["userPrincipalName"],
        })
        self.sim.note_token(claims)
        now = int(self.sim.clock.now())
        tid = self.sim.tenant.tenant_id
        id_claims = {
            "aud": app.client_id, "iss": f"{self.sim.url}/{tid}/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
            "name": user["displayName"], "oid": user["id"], "preferred_username": user["userPrincipalName"],
            "sub": user["id"], "tid": tid, "ver": "2.0",
        }
        result: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(f"{GRAPH_RESOURCE}/{s}" for s in scopes) + " openid profile",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": signing_key().sign(claims),
            "id_token": signing_key().sign(id_claims),
        }
        if offline:
            refresh = "0.A" + secrets.token_urlsafe(96)
            with self._lock:
                self._refresh_tokens[refresh] = RefreshGrant(app.client_id, user, list(scopes))
            result["refresh_token"] = refresh
            result["scope"] += " offline_access"
        if client_info:
            info = {"uid": user["id"], "utid": tid}
            result["client_info"] = base64.urlsafe_b64encode(_dumps(info).encode()).rstrip(b"=").decode()
        return result

    # ------------------------------------------------------------------ device code

    def device_code(self, request: Request) -> dict[str, Any]:
        app = self._app(request.form.get("client_id"))
        scope = request.form.get("scope", "")
        if not scope.strip():
            raise AADError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        flow = DeviceFlow(
            device_code="DAQABAAEAAAD" + secrets.token_urlsafe(120),
            user_code=_user_code(),
            client_id=app.client_id,
            scopes=scope.split(),
            expires_at=self.sim.clock.now() + self.device_code_lifetime,
        )
        with self._lock:
            self._device_flows[flow.device_code] = flow
        uri = f"{self.sim.url}/devicelogin"
        return {
            "user_code": flow.user_code,
            "device_code": flow.device_code,
            "verification_uri": uri,
            "expires_in": self.device_code_lifetime,
            "interval": self.device_code_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code {flow.user_code} to authenticate.",
        }

    def resolve_device_flow(self, user_code: str | None, approve: bool, user: dict[str, Any]) -> str:
        """Approve or decline a pending flow (the newest when ``user_code`` is None); returns its user code."""
        with self._lock:
            pending = [f for f in self._device_flows.values() if f.state == "pending"]
            if user_code is not None:
                pending = [f for f in pending if f.user_code == user_code.upper()]
            if not pending:
                raise LookupError(f"no pending device code{' ' + user_code if user_code else ''}")
            flow = pending[-1]
            flow.state = "approved" if approve else "declined"
            flow.user = user
            return flow.user_code

    def pending_user_codes(self) -> list[str]:
        with self._lock:
            return [f.user_code for f in self._device_flows.values() if f.state == "pending"]

    def _redeem_device_code(self, request: Request, app: AppRegistration) -> dict[str, Any]:
        code = request.form.get("device_code") or request.form.get("code")
        with self._lock:
            flow = self._device_flows.get(code or "")
            if flow is None or flow.client_id != app.client_id:
                raise AADError(400, "invalid_grant", 70000, "The provided value for the input parameter 'device_code' is not valid.")
            if self.sim.clock.now() > flow.expires_at:
                self._device_flows.pop(flow.device_code, None)
                raise AADError(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
            flow.polls += 1
            if flow.state == "pending" and self.auto_approve_after_polls is not None and flow.polls > self.auto_approve_after_polls:
                flow.state, flow.user = "approved", self.sim.default_signed_in_user()
            if flow.state == "pending":
                raise AADError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
            if flow.state == "declined":
                self._device_flows.pop(flow.device_code, None)
                raise AADError(400, "authorization_declined", 70000, "The user has declined the authorization request.")
            self._device_flows.pop(flow.device_code, None)
        scopes = self.delegated_scopes(app, " ".join(flow.scopes))
        return self.issue_user_tokens(app, flow.user, scopes, "offline_access" in flow.scopes, request.form.get("client_info") == "1")

    def _redeem_refresh_token(self, request: Request, app: AppRegistration) -> dict[str, Any]:
        token = request.form.get("refresh_token", "")
        with self._lock:
            grant = self._refresh_tokens.get(token)
        if grant is None:
            raise AADError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if grant.client_id != app.client_id:
            raise AADError(400, "invalid_grant", 700003, "Device object was not found in the tenant directory.")
        requested = request.form.get("scope", "")
        scopes = self.delegated_scopes(app, requested) if requested.strip() else grant.scopes
        return self.issue_user_tokens(app, grant.user, scopes or grant.scopes, True, request.form.get("client_info") == "1")

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))
