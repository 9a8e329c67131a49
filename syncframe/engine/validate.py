"""Validate identities fast enough for 100,000 users per plan.

:func:`syncframe.schemas.validate_identity` (marshmallow) is the authority, but it
costs ~50 µs a record. Most records a directory returns are already in normal form,
so :func:`fast_validate` recognises those with a few cheap checks that are
*stricter* than the schema, and applies the schema's only common normalisation
(phone formatting) itself: what it returns is what the schema would return.
Everything else goes through marshmallow, which also produces the per-field reasons.
A property test (tests/engine/test_validate.py) holds the two together.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..model import Identity
from ..schemas import BIDI_CONTROLS, MAX_NAME, PHONE_FORMATTING, PHONE_RE, EMAIL_RE, MAX_USERNAME, validate_identity

_NAME_FIELDS = ("given_name", "surname", "job_title", "department")


def _plain_text(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > MAX_NAME or not value.isprintable():
        # isprintable: no control characters (stricter than the schema: no other non-printables either)
        return False
    if value.isascii():  # ASCII is NFC and holds no bidi controls
        return True
    return BIDI_CONTROLS.isdisjoint(value) and unicodedata.is_normalized("NFC", value)


def _phone(value: Any) -> str | None:
    """The schema's phone normalisation, or None when the schema would refuse it."""
    if not isinstance(value, str):
        return None
    compact = PHONE_FORMATTING.sub("", value)
    return compact if PHONE_RE.match(compact) else None


def fast_validate(identity: Identity) -> Identity | None:
    """The identity as the schema would return it, or None to ask the schema.

    Handles the common cases only: text already in normal form, phone numbers with
    readability formatting (normalised as the schema does), empty phones and e-mail.
    """
    i = identity
    if not (isinstance(i.source_id, str) and 1 <= len(i.source_id) <= 256):
        return None
    username = i.username
    if not (_plain_text(username) and username and username == username.strip() and len(username) <= MAX_USERNAME):
        return None
    if not _plain_text(i.display_name):
        return None
    for name in _NAME_FIELDS:
        value = getattr(i, name)
        if value is not None and not _plain_text(value):
            return None
    email = i.email or None
    if email is not None and not (isinstance(email, str) and EMAIL_RE.match(email)):
        return None
    if not isinstance(i.phones, tuple):
        return None
    phones = tuple(_phone(p) for p in i.phones if p != "")
    if None in phones:
        return None
    mobile = i.mobile_phone if i.mobile_phone != "" else None
    if mobile is not None:
        mobile = _phone(mobile)
        if mobile is None:
            return None
    if i.preferred_language is not None and not (isinstance(i.preferred_language, str) and len(i.preferred_language) <= 32):
        return None
    if not (
        type(i.enabled) is bool
        and (i.out_of_scope is None or isinstance(i.out_of_scope, str))
        and isinstance(i.groups, tuple)
        and all(isinstance(g, str) for g in i.groups)
        and isinstance(i.extra, dict)
    ):
        return None
    if phones != i.phones or mobile != i.mobile_phone or email != i.email:
        return i.replace(phones=phones, mobile_phone=mobile, email=email)
    return i


def is_plainly_valid(identity: Identity) -> bool:
    """True when the schema would accept ``identity`` and return it unchanged."""
    return fast_validate(identity) is identity


def validate(identity: Identity) -> tuple[Identity | None, dict[str, Any]]:
    """``(normalised identity, {})`` or ``(None, {field: [errors]})``, as the schema says."""
    fast = fast_validate(identity)
    if fast is not None:
        return fast, {}
    return validate_identity(identity)
