"""The ``[source]`` section of a GOOGLE profile, validated with marshmallow.

Every error is reported at once (``unknown=RAISE``). The service-account key is only
named here (a 0600 file or an environment variable); whether it exists, is private
and is a service-account key is checked when the source opens
(:func:`syncframe_google.credentials.load_key`), so a profile can be added on a
machine that does not hold the key yet.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

API_URL = "https://admin.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
#: users.list answers at most this many users per page
MAX_PAGE = 500
ENV_NAME = validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$", error="must be the name of an environment variable")


def https_problem(url: str, what: str) -> str | None:
    """Why ``url`` is refused as an endpoint, or None."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{what} must be an https:// URL (got {parts.scheme or 'no'} scheme)"
    if not parts.hostname:
        return f"{what} has no host"
    return None


class GoogleSchema(Schema):
    """Settings of the GOOGLE source (Google Workspace users via the Directory API)."""

    class Meta:
        unknown = RAISE

    customer = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    domain = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255))
    subject = fields.String(required=True, validate=validate.Email(error="must be an administrator's e-mail address"))
    credentials_file = fields.String(load_default=None, allow_none=True)
    credentials_env = fields.String(load_default=None, allow_none=True, validate=ENV_NAME)
    org_units = fields.List(fields.String(validate=validate.Length(min=1, max=1024)), load_default=list)
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=256)), load_default=list)
    include_suspended = fields.Boolean(load_default=False)
    include_archived = fields.Boolean(load_default=False)
    api_url = fields.String(load_default=API_URL)
    token_url = fields.String(load_default=TOKEN_URL)
    ca_bundle = fields.String(load_default=None, allow_none=True)
    #: users per page (Google's maximum; smaller only for tests and slow links)
    page_size = fields.Integer(load_default=MAX_PAGE, validate=validate.Range(min=1, max=MAX_PAGE))
    timeout = fields.Float(load_default=60.0, validate=validate.Range(min=1, max=600))

    @validates("org_units")
    def _org_units(self, value: list[str], data_key: str | None = None) -> None:
        for unit in value:
            if not unit.startswith("/"):
                raise ValidationError(f"{unit!r} is not an org unit path; paths start with '/' (e.g. '/Sales')")

    @validates("domain")
    def _domain(self, value: str | None, data_key: str | None = None) -> None:
        if value and ("@" in value or "/" in value or " " in value):
            raise ValidationError("a domain name such as 'example.com'")

    @validates_schema(skip_on_field_errors=False)
    def _combinations(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("customer") and data.get("domain"):
            errors.setdefault("domain", []).append("give customer or domain, not both (customer reads every domain of the account)")
        has_file, has_env = bool(data.get("credentials_file")), bool(data.get("credentials_env"))
        if has_file and has_env:
            errors.setdefault("credentials_file", []).append("give credentials_file or credentials_env, not both")
        if not (has_file or has_env):
            errors.setdefault("credentials_file", []).append(
                "the service account's JSON key is needed: credentials_file (mode 0600) or credentials_env"
            )
        for key in ("api_url", "token_url"):
            if data.get(key):
                problem = https_problem(str(data[key]), key)
                if problem:
                    errors.setdefault(key, []).append(problem)
        if errors:
            raise ValidationError(errors)


def scope_of(config: dict[str, Any] | Any) -> dict[str, str]:
    """The ``customer=`` or ``domain=`` parameter of users.list for these settings."""
    if config.get("domain"):
        return {"domain": str(config["domain"])}
    return {"customer": str(config.get("customer") or "my_customer")}
