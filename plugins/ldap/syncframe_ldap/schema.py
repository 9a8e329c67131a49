"""The ``[source]`` section of an LDAP profile, validated with marshmallow.

The keys are a contract (external checks use them)::

    url, start_tls, ca_bundle, bind_dn, bind_password_env | bind_password_file,
    base_dn, flavour, filter, groups, include_disabled, page_size, [source.attributes]

Every error is reported at once (``unknown=RAISE``). The bind password is only
named here (an environment variable or a 0600 file); whether it exists is checked
when the source opens (:func:`syncframe_ldap.connection.bind_password`). Nothing
here needs python-ldap, so a profile validates on a machine without it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from .flavours import FLAVOURS, MAPPABLE

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: an attribute description: a name or an OID, with options (``;binary``)
ATTRIBUTE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$")
MAX_PAGE_SIZE = 10_000


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a server on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def balanced(text: str) -> bool:
    """Whether a filter's parentheses (outside ``\\28``-style escapes) pair up."""
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def looks_like_dn(value: str) -> bool:
    return "=" in value and not value.startswith(("=", ",")) and "\n" not in value


class AttributeMap(fields.Field):
    """``[source.attributes]``: identity field -> the attribute to read it from."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ValidationError('must be a table of field = "attribute"')
        errors: dict[str, list[str]] = {}
        for key, name in value.items():
            if key not in MAPPABLE:
                errors[str(key)] = [f"not a mappable field; use one of: {', '.join(MAPPABLE)}"]
            elif not isinstance(name, str) or not ATTRIBUTE.match(name):
                errors[str(key)] = ["must be an attribute name such as 'mail' or 'sAMAccountName'"]
        if errors:
            raise ValidationError(errors)
        return {str(k): str(v) for k, v in value.items()}


class LdapSchema(Schema):
    """Settings of the LDAP source (OpenLDAP or Active Directory users)."""

    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    start_tls = fields.Boolean(load_default=False)
    ca_bundle = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1))
    bind_dn = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=2048))
    bind_password_env = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(ENV_NAME, error="must be an environment variable name"))
    bind_password_file = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1))
    base_dn = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    flavour = fields.String(load_default="openldap", validate=validate.OneOf(sorted(FLAVOURS)))
    filter = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=3, max=8192))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=2048)), load_default=list)
    include_disabled = fields.Boolean(load_default=False)
    page_size = fields.Integer(load_default=500, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    attributes = AttributeMap(load_default=dict)

    @validates("url")
    def _url(self, value: str, data_key: str | None = None) -> None:
        parts = urlsplit(value)
        if parts.scheme not in ("ldap", "ldaps"):
            raise ValidationError(f"must be an ldap:// or ldaps:// URL (got {parts.scheme or 'no'} scheme)")
        if not parts.hostname:
            raise ValidationError("has no host")
        if parts.path not in ("", "/") or parts.query:
            raise ValidationError("only scheme, host and port; the search base is base_dn")

    @validates("base_dn")
    def _base_dn(self, value: str, data_key: str | None = None) -> None:
        if not looks_like_dn(value):
            raise ValidationError("must be a DN such as 'ou=people,dc=example,dc=com'")

    @validates("bind_dn")
    def _bind_dn(self, value: str | None, data_key: str | None = None) -> None:
        if value is not None and not looks_like_dn(value) and "@" not in value:
            raise ValidationError("must be a DN (or, for Active Directory, user@domain)")

    @validates("groups")
    def _groups(self, value: list[str], data_key: str | None = None) -> None:
        bad = [g for g in value if not looks_like_dn(g)]
        if bad:
            raise ValidationError(f"groups are DNs such as 'cn=telephony,ou=groups,dc=example,dc=com' (not {bad[0]!r})")

    @validates("filter")
    def _filter(self, value: str | None, data_key: str | None = None) -> None:
        if value is None:
            return
        text = value.strip()
        if not (text.startswith("(") and text.endswith(")") and balanced(text)):
            raise ValidationError("must be one parenthesised LDAP filter such as '(department=Sales)'")

    @validates_schema(skip_on_field_errors=False)
    def _combinations(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        has_env, has_file = bool(data.get("bind_password_env")), bool(data.get("bind_password_file"))
        if has_env and has_file:
            errors.setdefault("bind_password_file", []).append("give bind_password_env or bind_password_file, not both")
        if data.get("bind_dn") and not (has_env or has_file):
            errors.setdefault("bind_password_env", []).append("bind_dn needs bind_password_env or bind_password_file (the password never goes in the profile)")
        if (has_env or has_file) and not data.get("bind_dn"):
            errors.setdefault("bind_dn", []).append("a bind password is set but no bind_dn")
        url = str(data.get("url") or "")
        parts = urlsplit(url)
        if parts.scheme == "ldaps" and data.get("start_tls"):
            errors.setdefault("start_tls", []).append("ldaps:// is TLS already; start_tls is for ldap:// URLs")
        if parts.scheme == "ldap" and not data.get("start_tls") and parts.hostname and not is_loopback(parts.hostname):
            errors.setdefault("url", []).append(
                "ldap:// without TLS sends the bind password and every user in clear text; use ldaps:// or start_tls = true"
            )
        if errors:
            raise ValidationError(errors)
