"""Signing in to Entra ID with msal: app-only (secret or certificate) or delegated.

- ``client_secret`` / ``certificate``: a daemon signs in as the app itself
  (client credentials) with ``ConfidentialClientApplication``; an administrator
  granted the *application* permissions once.
- ``delegated``: the product page's way. An administrator signs in once with the
  device code flow (``syncframe auth NAME``) and consents; msal's token cache keeps
  the refresh token, stored through the host's token store (or a 0600 file), and
  later runs sign in silently with it.

Secrets are read from the environment variable or file the profile names, checked
before any request, and never appear in a message (:meth:`GraphAuth.redact`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

import msal
import requests
from msal.exceptions import MsalServiceError

from syncframe import AuthenticationError, ConfigError, FatalSyncError, RetriableSyncError, SyncError, TokenStore
from syncframe.sdk import CASession, RetryPolicy, RetryStats, check_private, connection_problem, read_secret_file, send_with_retries

from .clouds import Endpoints

log = logging.getLogger("syncframe.msuser.auth")
# msal's DEBUG log can print token responses: keep it at INFO however verbose the run is
logging.getLogger("msal").setLevel(logging.INFO)

READ_USERS = "User.Read.All"
READ_GROUP_MEMBERS = "GroupMember.Read.All"
READ_PRESENCE = "Presence.Read.All"


def tls_failure(url: str, exc: BaseException) -> FatalSyncError:
    """A certificate that did not verify, named as such (retrying cannot fix it)."""
    text = str(getattr(exc.args[0], "reason", None) or exc.args[0]) if exc.args else type(exc).__name__
    found = re.search(r"certificate verify failed: ([^(]+)", text)
    reason = f"certificate verify failed: {found.group(1).strip()}" if found else text[:200]
    return FatalSyncError(
        f"TLS verification of {url} failed ({reason}); set [source] ca_bundle to the CA that signs it "
        f"(a proxy that inspects TLS signs with its own CA)"
    )


def required_permissions(config: Mapping[str, Any]) -> list[str]:
    """Least privilege: what this profile's reads need, nothing more."""
    needed = [READ_USERS]
    if config.get("groups"):
        needed.append(READ_GROUP_MEMBERS)
    if config.get("presence"):
        needed.append(READ_PRESENCE)
    return needed


# --- secrets --------------------------------------------------------------------


def certificate_credential(pem: str, thumbprint: str | None, path: str) -> dict[str, str]:
    """msal's certificate credential from a PEM holding the private key (and the certificate).

    Without an explicit thumbprint it is computed from the certificate in the PEM
    (SHA-1, as Entra ID shows it).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if "PRIVATE KEY-----" not in pem:
        raise ConfigError(f"certificate_file {path!r} holds no private key (it must be a PEM with the key)")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"certificate_file {path!r}: the private key cannot be loaded (encrypted keys are not supported)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"certificate_file {path!r}: the private key must be RSA (Entra ID signs app assertions with RS256)")
    if not thumbprint:
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            raise ConfigError(
                f"certificate_file {path!r} holds no certificate; add it to the PEM or set certificate_thumbprint"
            ) from None
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra ID's thumbprint is SHA-1
    return {"private_key": pem, "thumbprint": thumbprint.replace(":", "").upper()}


def load_credential(config: Mapping[str, Any]) -> tuple[str | dict[str, str] | None, str]:
    """The msal ``client_credential`` and a label naming where it came from.

    :raises ConfigError: a missing variable, a missing/unreadable/too-open file.
    """
    auth = config.get("auth", "client_secret")
    if auth == "certificate":
        path = str(config["certificate_file"])
        pem = read_secret_file(path, "certificate_file")
        return certificate_credential(pem, config.get("certificate_thumbprint"), path), f"certificate_file {path!r}"
    if config.get("client_secret_env"):
        name = str(config["client_secret_env"])
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"the environment variable {name} (client_secret_env) is not set or empty")
        return value.strip(), f"environment variable {name}"
    if config.get("client_secret_file"):
        path = str(config["client_secret_file"])
        return read_secret_file(path, "client_secret_file").strip(), f"client_secret_file {path!r}"
    return None, "no client credential (public client)"


# --- the token cache ------------------------------------------------------------


class FileTokenStore:
    """A token store in a file only its owner can read (mode 0600)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        if self.path.exists():
            # checked when the source opens, before any request: app-only sign-in never
            # loads the cache, but writes tokens into it
            check_private(self.path, "token cache file")

    def load(self) -> str | None:
        if not self.path.exists():
            return None
        check_private(self.path, "token cache file")
        return self.path.read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.chmod(self.path, 0o600)


# --- sign-in --------------------------------------------------------------------


class RetryingHttpClient:
    """msal's ``http_client``: every login request through :func:`send_with_retries`.

    msal retries nothing itself when given a client, and reads a 429 on discovery as
    "tenant not found"; this honours ``Retry-After`` like Graph calls do, and remembers
    the last status so a busy login service is not mistaken for a wrong setting.
    """

    def __init__(self, session: requests.Session, policy: RetryPolicy | None = None, timeout: float = 60.0):
        self.session = session
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        #: shared with the Graph client's stats, so a read's retries include the login's
        self.stats = RetryStats()
        self.last_status: int | None = None

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        response = send_with_retries(self.session, method, url, self.policy, self.stats, **kwargs)
        self.last_status = response.status_code
        return response

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> requests.Response:
        return self._send("GET", url, params=params, headers=headers, **kwargs)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> requests.Response:
        return self._send("POST", url, params=params, data=data, headers=headers, **kwargs)

    def close(self) -> None:
        self.session.close()

    @property
    def busy(self) -> bool:
        return self.last_status is not None and (self.last_status == 429 or self.last_status >= 500)


#: AADSTS codes -> what they mean for the administrator
_AADSTS_HINTS = {
    7000215: "the client secret was refused (wrong or expired secret)",
    7000222: "the client secret has expired",
    700027: "the certificate was refused (unknown thumbprint, or not uploaded to the app registration)",
    700016: "the application (client_id) was not found in this tenant",
    90002: "the tenant was not found",
    900023: "the tenant name is not valid",
    65001: "the permissions have not been consented to",
    500011: "the Graph resource is not registered in this tenant",
    50126: "the sign-in name or password is wrong",
    7000218: "the app is not a public client: allow public client flows in the app registration, or use app-only sign-in",
}


class GraphAuth:
    """Access tokens for Microsoft Graph, one msal application per source.

    msal's application does network I/O when it is built (authority discovery), so it
    is built on first use, and its errors become :class:`AuthenticationError`.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        endpoints: Endpoints,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
        connector_name: str = "NAME",
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
    ):
        self.config = config
        self.connector_name = connector_name
        self.endpoints = endpoints
        self.way = str(config.get("auth", "client_secret"))
        self.client_id = str(config["client_id"])
        self.permissions = required_permissions(config)
        # read now: a missing or too-open secret fails before any request
        self._credential, self.credential_label = load_credential(config)
        if self.way == "delegated" and self._credential is not None:
            log.info("delegated sign-in uses the device code flow of a public client; the client secret is not used")
        self.session = session or CASession(config.get("ca_bundle"))
        self.http = RetryingHttpClient(self.session, policy, timeout)
        self.token_store = token_store
        self.cache = msal.SerializableTokenCache()
        if self.way == "delegated" and token_store is not None:
            data = token_store.load()
            if data:
                self.cache.deserialize(data)
        self._app: msal.ClientApplication | None = None
        self._lock = threading.Lock()

    # -- messages ---------------------------------------------------------------

    @property
    def consent_url(self) -> str:
        return self.endpoints.admin_consent_url(self.client_id)

    def permission_text(self, permissions: list[str] | None = None) -> str:
        kind = "delegated" if self.way == "delegated" else "application"
        return ", ".join(permissions or self.permissions) + f" ({kind})"

    def redact(self, text: str) -> str:
        """Remove the secret from a text, should any service ever echo it."""
        secret = self._credential if isinstance(self._credential, str) else None
        if isinstance(self._credential, dict):
            secret = self._credential.get("private_key")
        if secret and secret in text:
            text = text.replace(secret, "***")
        return text

    def error_from_result(self, result: Mapping[str, Any], doing: str) -> AuthenticationError:
        """An msal error answer as one clear line (the AADSTS code, what it means, where to consent)."""
        code = str(result.get("error") or "error")
        description = str(result.get("error_description") or "").splitlines()[0:1]
        first = description[0] if description else ""
        codes = [int(c) for c in (result.get("error_codes") or []) if str(c).isdigit()]
        if not codes and first.startswith("AADSTS"):
            digits = first[6:].split(":", 1)[0]
            codes = [int(digits)] if digits.isdigit() else []
        hint = next((_AADSTS_HINTS[c] for c in codes if c in _AADSTS_HINTS), None)
        parts = [f"sign-in to {self.endpoints.authority} failed while {doing}: {code}"]
        if codes:
            parts[0] += f" (AADSTS{codes[0]})"
        if hint:
            parts.append(hint)
        if any(c in (7000215, 7000222, 700027) for c in codes):
            parts.append(f"check the {self.credential_label} of app {self.client_id}")
        parts.append(self.grant_hint())
        if first and not hint:
            parts.append(first[:200])
        return AuthenticationError(self.redact("; ".join(parts)))

    def grant_hint(self, permissions: list[str] | None = None) -> str:
        return f"the app needs {self.permission_text(permissions)} with admin consent: {self.consent_url}"

    # -- the msal application ---------------------------------------------------

    def _build(self) -> msal.ClientApplication:
        common: dict[str, Any] = {
            "authority": self.endpoints.authority,
            "http_client": self.http,
            "token_cache": self.cache,
            "app_name": "syncframe",
        }
        if not self.endpoints.public_cloud:
            # sovereign clouds, simulators and labs: no central instance discovery
            common["instance_discovery"] = False
        try:
            if self.way == "delegated":
                return msal.PublicClientApplication(self.client_id, **common)
            return msal.ConfidentialClientApplication(self.client_id, client_credential=self._credential, **common)
        except ValueError as exc:
            # msal raises ValueError when the authority's discovery answers 4xx (unknown tenant)
            log.debug("authority discovery failed: %s", exc)
            if self.http.busy:
                raise self.unavailable() from None
            raise AuthenticationError(
                self.redact(
                    f"sign-in to {self.endpoints.authority} failed: the tenant {self.endpoints.tenant!r} was not found "
                    f"there (AADSTS90002: check the tenant id and the cloud); {self.grant_hint()}"
                )
            ) from None
        except (requests.RequestException, MsalServiceError) as exc:
            raise self.unavailable(exc) from None

    def unavailable(self, exc: BaseException | None = None) -> SyncError:
        if isinstance(exc, requests.exceptions.SSLError):
            return tls_failure(self.endpoints.authority_host, exc)
        what = f"HTTP {self.http.last_status}" if self.http.busy else (connection_problem(exc) if exc else "no answer")
        return RetriableSyncError(f"the sign-in service {self.endpoints.authority_host} is unavailable ({what}) past the retry budget")

    @property
    def app(self) -> msal.ClientApplication:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def _persist(self) -> None:
        if self.way == "delegated" and self.token_store is not None and self.cache.has_state_changed:
            self.token_store.save(self.cache.serialize())
            self.cache.has_state_changed = False

    def scopes(self) -> list[str]:
        if self.way == "delegated":
            return [self.endpoints.scope(p) for p in self.permissions]
        return [self.endpoints.default_scope]

    # -- tokens -----------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token (from msal's cache when still good)."""
        try:
            if self.way == "delegated":
                result = self._silent(force_refresh=False)
            else:
                result = self.app.acquire_token_for_client(scopes=self.scopes())  # type: ignore[attr-defined]
        except (requests.RequestException, MsalServiceError) as exc:
            raise self.unavailable(exc) from None
        if not result or "access_token" not in result:
            if self.http.busy:
                raise self.unavailable()
            raise self.error_from_result(result or {}, "acquiring a token")
        self._persist()
        return str(result["access_token"])

    def renew(self) -> None:
        """Forget the cached access token, so the next :meth:`access_token` asks the STS."""
        if self.way == "delegated":
            result = self._silent(force_refresh=True)
            if not result or "access_token" not in result:
                raise self.error_from_result(result or {}, "renewing a token")
            self._persist()
            return
        # app-only tokens live only in our in-memory cache: dropping them forces a new request
        for at in list(self.cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"client_id": self.client_id})):
            self.cache.remove_at(at)

    def _silent(self, force_refresh: bool) -> dict[str, Any] | None:
        accounts = self.app.get_accounts()
        if not accounts:
            raise AuthenticationError(
                f"no administrator has signed in for this connector yet: run 'syncframe auth {self._connector_hint()}' "
                f"(device code sign-in); {self.grant_hint()}"
            )
        result = self.app.acquire_token_silent(self.scopes(), account=accounts[0], force_refresh=force_refresh)
        if result is None:
            raise AuthenticationError(
                f"the stored sign-in has expired or was revoked: run 'syncframe auth {self._connector_hint()}' again; {self.grant_hint()}"
            )
        return result

    def _connector_hint(self) -> str:
        return self.connector_name

    # -- delegated sign-in (syncframe auth) --------------------------------------

    def device_sign_in(self, echo: Callable[[str], None]) -> str:
        """The device code flow: show the URL and code, wait for the administrator.

        :return: The signed-in account's user name.
        """
        if self.way != "delegated":
            raise ConfigError("device code sign-in is for auth = 'delegated'")
        app = self.app
        try:
            flow = app.initiate_device_flow(scopes=self.scopes())  # type: ignore[attr-defined]
        except (requests.RequestException, MsalServiceError) as exc:
            raise self.unavailable(exc) from None
        if "user_code" not in flow:
            raise self.error_from_result(flow, "starting the device code sign-in")
        echo(
            f"To sign in, open {flow.get('verification_uri') or flow.get('verification_url')} "
            f"and enter the code {flow['user_code']} (as a tenant administrator)."
        )
        echo(f"An administrator grants the permissions {self.permission_text()} for the whole organization at: {self.consent_url}")
        result = app.acquire_token_by_device_flow(flow)  # type: ignore[attr-defined]
        if "access_token" not in result:
            raise self.error_from_result(result, "completing the device code sign-in")
        self._persist()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("name") or "the administrator")
