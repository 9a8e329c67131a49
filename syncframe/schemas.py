"""marshmallow schemas for identities crossing into the engine and for connector profiles.

An identity that fails validation becomes a SKIP item with the per-field reasons; a
profile that fails is refused with *all* its errors at once, before any request.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates

from .model import Identity
from .removal import parse_removal

MAX_NAME = 256

#: bidirectional overrides and isolates: they make a name display as something else
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: an e-mail address: local@domain, domain with at least one dot
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'#!$&*=?^`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: a username: any printable text without surrounding whitespace (directories differ:
#: UPN, uid, sAMAccountName, e-mail); what a target can hold is the target's rule
MAX_USERNAME = 256

PHONE_RE = re.compile(r"^\+?[0-9]{1,32}$")
#: characters people type into phone numbers for readability; dropped before the check
PHONE_FORMATTING = re.compile(r"[\s\-()./]")

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def nfc(value: str) -> str:
    """Unicode NFC, so a login typed two ways compares equal."""
    return unicodedata.normalize("NFC", value)


def fold_login(value: str) -> str:
    """The form logins and e-mails are compared in: NFKC (folds look-alike compatibility
    forms such as full-width letters) and case-folded."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def check_text(value: str | None) -> None:
    """Reject over-long names and control or bidi-override characters."""
    if value is None:
        return
    if len(value) > MAX_NAME:
        raise ValidationError(f"longer than {MAX_NAME} characters ({len(value)})")
    bad = sorted({f"U+{ord(c):04X}" for c in value if c in BIDI_CONTROLS or unicodedata.category(c) == "Cc"})
    if bad:
        raise ValidationError(f"contains control or bidi-override characters ({', '.join(bad)})")


def normalize_phone(value: str) -> str:
    """Drop readability formatting; the rest must be digits with an optional leading '+'."""
    compact = PHONE_FORMATTING.sub("", value)
    if not PHONE_RE.match(compact):
        raise ValidationError(f"{value!r} is not a phone number (digits with an optional leading '+')")
    return compact


def parse_duration(value: Any) -> int:
    """'90s', '15m', '1h', '1d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValidationError("not a duration")
    if isinstance(value, (int, float)):
        seconds = int(value)
    else:
        match = DURATION_RE.match(str(value))
        if not match:
            raise ValidationError(f"{value!r} is not a duration like '90s', '15m', '1h' or '1d'")
        seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds < 60:
        raise ValidationError("must be at least 60 seconds")
    return seconds


class Text(fields.String):
    """A name: NFC-normalised, at most 256 characters, no control or bidi characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = nfc(super()._deserialize(value, attr, data, **kwargs))
        check_text(text)
        return text


class Phone(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        return normalize_phone(super()._deserialize(value, attr, data, **kwargs))


class IdentitySchema(Schema):
    """Validates an :class:`Identity` (as a dict) and returns it normalised."""

    class Meta:
        unknown = RAISE

    source_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    username = fields.String(required=True)
    display_name = Text(load_default="")
    given_name = Text(allow_none=True, load_default=None)
    surname = Text(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)
    phones = fields.List(Phone(), load_default=list)
    mobile_phone = Phone(allow_none=True, load_default=None)
    job_title = Text(allow_none=True, load_default=None)
    department = Text(allow_none=True, load_default=None)
    preferred_language = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    enabled = fields.Boolean(load_default=True)
    groups = fields.List(fields.String(), load_default=list)
    out_of_scope = fields.String(allow_none=True, load_default=None)
    extra = fields.Dict(load_default=dict)

    @pre_load
    def _empty_phones_are_none(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # directories send "" for an unset phone; that is not an error
        data = dict(data)
        if data.get("mobile_phone") == "":
            data["mobile_phone"] = None
        if data.get("phones"):
            data["phones"] = [p for p in data["phones"] if p]
        return data

    @validates("username")
    def _username(self, value: str, data_key: str | None = None) -> None:
        check_text(value)
        if not value.strip():
            raise ValidationError("is empty")
        if len(value) > MAX_USERNAME:
            raise ValidationError(f"longer than {MAX_USERNAME} characters ({len(value)})")

    @validates("email")
    def _email(self, value: str | None, data_key: str | None = None) -> None:
        if value is not None and value != "" and not EMAIL_RE.match(value):
            raise ValidationError(f"{value!r} is not a valid e-mail address")

    @post_load
    def _to_identity(self, data: dict[str, Any], **kwargs: Any) -> Identity:
        data["username"] = nfc(data["username"]).strip()
        data["email"] = data.get("email") or None
        return Identity.from_dict(data)


_IDENTITY_SCHEMA = IdentitySchema()


def validate_identity(identity: Identity) -> tuple[Identity | None, dict[str, Any]]:
    """Return ``(normalised identity, {})`` or ``(None, {field: [errors]})``."""
    try:
        return _IDENTITY_SCHEMA.load(identity.to_dict()), {}
    except ValidationError as exc:
        return None, dict(exc.messages) if isinstance(exc.messages, dict) else {"_": exc.messages}


def describe_errors(messages: Mapping[str, Any]) -> str:
    """``{field: [errors]}`` -> 'field: error; field: error' for a one-line reason."""
    parts: list[str] = []
    for key, value in messages.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            parts.append(f"{key}: {describe_errors(v) if isinstance(v, Mapping) else v}")
    return "; ".join(parts)


# --- profiles -------------------------------------------------------------------


class Duration(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int:
        return parse_duration(value)


class Removal(fields.Field):
    """``removal``: "delete", "disable" or "disable, delete after <N>d" (kept as written, normalised)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        try:
            return str(parse_removal(value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class GuardSchema(Schema):
    """The removal guard: removals beyond these limits are held, not applied."""

    class Meta:
        unknown = RAISE

    max_per_run = fields.Integer(load_default=100, validate=validate.Range(min=0))
    max_percent = fields.Float(load_default=10.0, validate=validate.Range(min=0, max=100))
    min_allowed = fields.Integer(load_default=5, validate=validate.Range(min=0))


class ProfileSchema(Schema):
    """The host's part of a connector profile; ``[source]`` and ``[target]`` are
    validated by the plugins' schemas (see :func:`syncframe.connector.load_profile`)."""

    class Meta:
        unknown = RAISE

    title = Text(load_default="")
    mode = fields.String(load_default="sync", validate=validate.OneOf(["sync", "upsert"]))
    #: mode upsert: a linked user the source disabled is kept as it is, or disabled
    upsert_disabled = fields.String(load_default="keep", validate=validate.OneOf(["keep", "disable"]))
    interval = Duration(load_default=None, allow_none=True)
    #: the most target writes in flight at once
    concurrency = fields.Integer(load_default=8, validate=validate.Range(min=1, max=64))
    #: start at 2 and find what the target sustains (up to ``concurrency``), or always ``concurrency``
    adaptive_concurrency = fields.Boolean(load_default=True)
    protected_logins = fields.List(fields.String(), load_default=list)
    guard = fields.Nested(GuardSchema, load_default=lambda: GuardSchema().load({}))
    #: what happens to a leaver's account (see :mod:`syncframe.removal`)
    removal = Removal(load_default="delete")
