"""The ``[source]`` section of an MSUSER profile, validated with marshmallow.

Every error is reported at once (``unknown=RAISE``). Secrets are only ever named
here (an environment variable or a file), never written into the profile; whether
they exist and are private is checked when the source is opened
(:func:`syncframe_msuser.auth.load_credential`), so a profile can be added on a
machine that does not hold the secret yet.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from .clouds import CLOUDS, clouds_of, known_graph_hosts, known_login_hosts, resolve

AUTH_WAYS = ("client_secret", "certificate", "delegated")
LOOPBACK_HOSTS = frozenset({"localhost"})
#: the daily backstop: a full read at least this often even when delta works
MAX_RECONCILE_SECONDS = 86400


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a simulator on this machine."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, known_hosts: frozenset[str], lab: bool, what: str) -> str | None:
    """Why ``url`` is refused as a login or Graph endpoint, or None when it is fine."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{what} must be an https:// URL (got {parts.scheme or 'no'} scheme)"
    host = parts.hostname or ""
    if not host:
        return f"{what} has no host"
    if host.lower() in known_hosts or is_loopback(host) or lab:
        return None
    return f"{what} host {host!r} is not a Microsoft cloud host; set lab = true to allow a lab endpoint"


class Duration(fields.Field):
    """Seconds, or '12h' / '1d' / '30m'."""

    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("not a duration")
        if isinstance(value, (int, float)):
            return int(value)
        text = str(value).strip().lower()
        unit = self.UNITS.get(text[-1:]) if text else None
        number = text[:-1] if unit else text
        if not number.isdigit():
            raise ValidationError(f"{value!r} is not a duration like '12h' or '1d'")
        return int(number) * (unit or 1)


class MsuserSchema(Schema):
    """Settings of the MSUSER source (Microsoft 365 / Entra ID users via Graph)."""

    class Meta:
        unknown = RAISE

    tenant = fields.String(required=True, validate=validate.Length(min=1, max=256))
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    auth = fields.String(load_default="client_secret", validate=validate.OneOf(AUTH_WAYS))
    client_secret_env = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$"))
    client_secret_file = fields.String(load_default=None, allow_none=True)
    certificate_file = fields.String(load_default=None, allow_none=True)
    certificate_thumbprint = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9A-Fa-f:]{40,59}$", error="must be the certificate's SHA-1 thumbprint in hex")
    )
    #: a 0600 file for the sign-in cache when the host gives no token store
    token_cache_file = fields.String(load_default=None, allow_none=True)
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=256)), load_default=list)
    include_guests = fields.Boolean(load_default=False)
    include_disabled = fields.Boolean(load_default=False)
    presence = fields.Boolean(load_default=False)
    cloud = fields.String(load_default="global", validate=validate.OneOf(sorted(CLOUDS)))
    authority_host = fields.String(load_default=None, allow_none=True)
    graph_url = fields.String(load_default=None, allow_none=True)
    ca_bundle = fields.String(load_default=None, allow_none=True)
    lab = fields.Boolean(load_default=False)
    reconcile_every = Duration(load_default=MAX_RECONCILE_SECONDS, validate=validate.Range(min=0, max=MAX_RECONCILE_SECONDS))
    #: users per page of /users and group members (Graph's maximum; smaller only for tests and slow links)
    page_size = fields.Integer(load_default=999, validate=validate.Range(min=1, max=999))
    timeout = fields.Float(load_default=60.0, validate=validate.Range(min=1, max=600))

    @validates("tenant")
    def _tenant(self, value: str, data_key: str | None = None) -> None:
        if value.lower() in {"common", "organizations", "consumers"}:
            raise ValidationError("name your tenant (its id or domain); app-only sign-in cannot use 'common'")
        if "/" in value or " " in value:
            raise ValidationError("a tenant id or domain, without '/' or spaces")

    @validates_schema(skip_on_field_errors=False)
    def _combinations(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        auth = data.get("auth", "client_secret")
        has_env, has_file = bool(data.get("client_secret_env")), bool(data.get("client_secret_file"))
        if has_env and has_file:
            errors.setdefault("client_secret_file", []).append("give client_secret_env or client_secret_file, not both")
        if auth == "client_secret" and not (has_env or has_file):
            errors.setdefault("client_secret_env", []).append("auth = 'client_secret' needs client_secret_env or client_secret_file")
        if auth == "certificate" and not data.get("certificate_file"):
            errors.setdefault("certificate_file", []).append("auth = 'certificate' needs certificate_file (a PEM with the private key)")
        if auth != "certificate" and (data.get("certificate_file") or data.get("certificate_thumbprint")):
            errors.setdefault("certificate_file", []).append(f"certificate settings are only used with auth = 'certificate' (auth is {auth!r})")
        lab = bool(data.get("lab"))
        for key, hosts, what in (
            ("authority_host", known_login_hosts(), "authority_host"),
            ("graph_url", known_graph_hosts(), "graph_url"),
        ):
            if data.get(key):
                problem = check_endpoint(data[key], hosts, lab, what)
                if problem:
                    errors.setdefault(key, []).append(problem)
        if not errors and data.get("tenant") and data.get("cloud", "global") in CLOUDS:
            endpoints = resolve(data)
            login, graph = clouds_of(endpoints.authority_host), clouds_of(endpoints.graph_url)
            if login and graph and not set(login) & set(graph):
                errors.setdefault("graph_url", []).append(
                    f"the login host is in the {' or '.join(login)} cloud but the Graph URL in the {' or '.join(graph)} cloud; "
                    f"a token only works in its own cloud"
                )
        if errors:
            raise ValidationError(errors)
