"""The ``[target]`` section of a connector profile, and reading the REST password.

```toml
[target]
url = "https://pascom.cloud/mycompany"     # https://<host>/<instance>
username = "moby"                          # the REST user (default)
password_env = "PASCOM_PASSWORD"           # or password_file = "/run/secrets/pascom" (mode 0600)
ca_bundle = "/etc/ssl/private-ca.pem"      # optional: a private CA
protected_logins = ["operator"]            # never touched (plus `username` and administrators)
extension = "auto"                         # or "business_phone" / "mobile_phone" / "extra.<key>"
extension_digits = 3                       # with a source attribute: its last N digits
roles = ["Users"]                          # every synced user gets these roles
group_roles = { "Sales" = "Sales Team" }   # source group -> role(s)
create_softphone = true                    # a softphone for every created or adopted user
create_mobile = true                       # a mobile (app) device for every created or adopted user
timeout = 30                               # seconds per request
max_retries = 5                            # per request, on 429 / 5xx / connection errors
```

The schema checks the shape; :func:`read_password` resolves the reference when the
target opens, before any request, so a profile can be checked on a machine that
does not hold the secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from syncframe import ConfigError
from syncframe.sdk import read_secret_file

EXTENSION_SOURCES = ("business_phone", "mobile_phone")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def normalize_url(value: str, insecure: bool = False) -> str:
    """``https://<host>[:port]/<instance>`` without a trailing slash or ``/services``.

    :raises ValidationError: on another scheme, credentials in the URL, a query, or a
        path that is not exactly one instance segment.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http"):
        raise ValidationError("must start with https://")
    if parts.scheme == "http" and not insecure:
        raise ValidationError("plain http:// sends the REST password unencrypted; use https:// (or set insecure = true for a lab)")
    if not parts.hostname:
        raise ValidationError("has no host name")
    if parts.username or parts.password:
        raise ValidationError("must not contain credentials; use username and password_env / password_file")
    if parts.query or parts.fragment:
        raise ValidationError("must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationError("has an invalid port") from None
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1] == "services":
        segments.pop()
    if len(segments) != 1:
        raise ValidationError("must name the instance: https://<host>/<instance> (e.g. https://pascom.cloud/mycompany)")
    return f"{parts.scheme}://{parts.netloc}/{segments[0]}"


class RoleList(fields.Field):
    """A role name or a list of role names."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> list[str]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ValidationError("must be a role name or a list of role names")
        return [v.strip() for v in values]


class PascomTargetSchema(Schema):
    """Validates the ``[target]`` section; every error is reported at once."""

    class Meta:
        unknown = RAISE

    url = fields.String(required=True)
    insecure = fields.Boolean(load_default=False)
    username = fields.String(load_default="moby", validate=validate.Length(min=1, max=128))
    password_env = fields.String(load_default=None, validate=validate.Regexp(_ENV_RE, error="must be an environment variable name"))
    password_file = fields.String(load_default=None, validate=validate.Length(min=1))
    ca_bundle = fields.String(load_default=None, allow_none=True)
    protected_logins = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    admin_roles = fields.List(fields.String(validate=validate.Length(min=1)), load_default=None)
    extension = fields.String(load_default="auto")
    extension_digits = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10))
    roles = RoleList(load_default=list)
    group_roles = fields.Dict(keys=fields.String(validate=validate.Length(min=1)), values=RoleList(), load_default=dict)
    create_softphone = fields.Boolean(load_default=True)
    create_mobile = fields.Boolean(load_default=True)
    timeout = fields.Float(load_default=30.0, validate=validate.Range(min=1, max=600))
    max_retries = fields.Integer(load_default=5, validate=validate.Range(min=0, max=20))

    @validates("extension")
    def _extension(self, value: str, data_key: str | None = None) -> None:
        if value == "auto" or value in EXTENSION_SOURCES:
            return
        if value.startswith("extra.") and len(value) > len("extra."):
            return
        raise ValidationError(f"must be 'auto', {', '.join(repr(s) for s in EXTENSION_SOURCES)} or 'extra.<key>'")

    @validates_schema(skip_on_field_errors=False)
    def _together(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if "url" in data:
            try:
                normalize_url(data["url"], bool(data.get("insecure")))
            except ValidationError as exc:
                errors["url"] = list(exc.messages) if isinstance(exc.messages, list) else [str(exc.messages)]
        has_env, has_file = data.get("password_env") is not None, data.get("password_file") is not None
        if has_env == has_file:
            errors["password_env"] = ["give exactly one of password_env or password_file (the password itself never goes in the profile)"]
        extension = data.get("extension", "auto")
        if extension != "auto" and data.get("extension_digits") is None and "extension" in data:
            errors["extension_digits"] = [f"required with extension = {extension!r}: how many trailing digits make the extension"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalize(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["url"] = normalize_url(data["url"], data["insecure"])
        data["protected_logins"] = sorted({login.strip().lower() for login in data["protected_logins"]})
        return data


def password_reference(config: Mapping[str, Any]) -> str:
    """Where the password comes from, for messages: ``$NAME`` or the file path."""
    if config.get("password_env"):
        return f"${config['password_env']}"
    return str(config.get("password_file"))


def read_password(config: Mapping[str, Any]) -> str:
    """Resolve ``password_env`` / ``password_file``.

    :raises ConfigError: one line naming the variable or file: unset or empty
        variable, unreadable or empty file, or a file group or others can access.
    """
    name = config.get("password_env")
    if name:
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"[target] password_env: the environment variable {name} is not set or empty")
        return value
    path = config.get("password_file")
    if not path:
        raise ConfigError("[target] needs password_env or password_file")
    return read_secret_file(path, "[target] password_file").strip()


def check_ca_bundle(config: Mapping[str, Any]) -> str | None:
    """The CA bundle path, checked to be a readable file."""
    path = config.get("ca_bundle")
    if not path:
        return None
    file = Path(path).expanduser()
    if not file.is_file() or not os.access(file, os.R_OK):
        raise ConfigError(f"[target] ca_bundle: {file} is not a readable file")
    return str(file)
