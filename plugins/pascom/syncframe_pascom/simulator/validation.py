"""Validation of request bodies, field by field, into :class:`ApiError` 400s.

Rules (D = documented by pascom, A = assumed; see ``pascom-contract.md``):

- ``003use_name``: ``^[a-z0-9][a-z0-9._@-]{0,127}$``, lower case (S/A) -> ``INVALID_LOGIN``
- ``003use_bez``: a non-blank string of at most :data:`MAX_DISPLAY_NAME` characters (A)
  -> ``INVALID_DISPLAY_NAME``
- ``003use_auth_method``: ``mobydick`` | ``EXTERN`` | ``SSO`` -> ``INVALID_AUTH_METHOD``
- ``003use_enabled``: a JSON boolean -> ``INVALID_ENABLED``
- ``016voi_email``: null, ``""`` (clears it) or ``local@domain.tld`` -> ``INVALID_EMAIL``
- ``009ext_extension``: digits (1-10; a JSON integer is accepted and turned into a
  string); empty or null on create = next free number of the pool -> ``INVALID_EXTENSION``
- ``011acc_pin``: a string of 4-12 digits (D: >= 4) -> ``INVALID_PIN``
- ``003use_pw``: a string of 8-128 characters -> ``INVALID_PASSWORD``; never together
  with ``SSO`` -> ``PASSWORD_NOT_ALLOWED`` (A)
- ``user_roles``: a list of non-empty strings -> ``INVALID_ROLES``
- unknown keys -> ``UNKNOWN_FIELD``; ``003use_id``/``devices`` -> ``READ_ONLY_FIELD``;
  a missing ``003use_name``/``003use_bez`` on create -> ``MISSING_FIELD``
- ``post``: only ``phonebook``, ``ipdevice.mdsoftphone``, ``ipdevice.mobile`` (lists of
  objects) -> ``UNKNOWN_FIELD`` / ``INVALID_BODY``; phonebook entries take the
  :data:`PHONEBOOK_FIELDS` with string or null values -> ``INVALID_PHONEBOOK``; devices
  ``010dev_bez`` (+ ``mobile`` on mobile devices) -> ``INVALID_DEVICE`` / ``INVALID_PHONE``
- a body that is not the expected JSON object -> ``INVALID_BODY``; an unknown role with
  ``strict_roles`` -> ``UNKNOWN_ROLE`` (checked in :mod:`.instance`)
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request
from .model import DEVICE_TYPES

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EXTENSION_RE = re.compile(r"^[0-9]{1,10}$")
PIN_RE = re.compile(r"^[0-9]{4,12}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,31}$")
MAX_DISPLAY_NAME = 100
AUTH_METHODS = ("mobydick", "EXTERN", "SSO")

#: identity fields a client may write (create and update)
WRITABLE = ("003use_name", "003use_bez", "003use_auth_method", "003use_enabled", "016voi_email",
            "009ext_extension", "011acc_pin", "003use_pw", "user_roles")
READ_ONLY = ("003use_id", "devices")
#: phonebook entry columns (IO-Framework ``phonebook``; ``028pho_phone`` is assumed, A)
PHONEBOOK_FIELDS = ("028pho_bez", "028pho_firstname", "028pho_lastname", "028pho_email", "028pho_organisation",
                    "028pho_phone", "028pho_mobile", "028pho_homephone", "028pho_fax", "028pho_notes")
POST_KEYS = ("phonebook", "ipdevice.mdsoftphone", "ipdevice.mobile")


def check_keys(body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    for key in body:
        if key in allowed:
            continue
        if not prefix and key in READ_ONLY:
            raise bad_request("READ_ONLY_FIELD", f"{key} is read-only", key)
        raise bad_request("UNKNOWN_FIELD", f"unknown field {prefix}{key}", f"{prefix}{key}")


def login(value: Any, field: str = "003use_name") -> str:
    if not isinstance(value, str) or not LOGIN_RE.match(value):
        raise bad_request(
            "INVALID_LOGIN",
            "login name must be 1-128 characters: lower-case letters, digits, '.', '_', '@', '-', "
            "starting with a letter or digit",
            field,
        )
    return value


def display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DISPLAY_NAME:
        raise bad_request("INVALID_DISPLAY_NAME", f"display name must be 1-{MAX_DISPLAY_NAME} characters", "003use_bez")
    return value


def extension(value: Any, *, allow_empty: bool) -> str | None:
    """Digits as a string; None means 'assign from the pool' (create only)."""
    if value is None or value == "":
        if allow_empty:
            return None
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if isinstance(value, str) and EXTENSION_RE.match(value):
        return value
    raise bad_request("INVALID_EXTENSION", "extension must be 1-10 digits", "009ext_extension")


def identity_fields(body: Any, *, create: bool) -> dict[str, Any]:
    """Validate an identity object (create: one entry of ``identity``; update: a PUT body).

    :return: The normalised values by wire key; on create also ``post`` (validated).
    """
    if not isinstance(body, dict):
        raise bad_request("INVALID_BODY", "an identity must be a JSON object")
    allowed = WRITABLE + (("post",) if create else ("phonebook",))
    check_keys(body, allowed)
    out: dict[str, Any] = {}
    if create:
        for key in ("003use_name", "003use_bez"):
            if key not in body:
                raise bad_request("MISSING_FIELD", f"{key} is required", key)
    if "003use_name" in body:
        out["003use_name"] = login(body["003use_name"])
    if "003use_bez" in body:
        out["003use_bez"] = display_name(body["003use_bez"])
    if "003use_auth_method" in body:
        if body["003use_auth_method"] not in AUTH_METHODS:
            raise bad_request("INVALID_AUTH_METHOD", "auth method must be one of " + ", ".join(AUTH_METHODS),
                              "003use_auth_method")
        out["003use_auth_method"] = body["003use_auth_method"]
    if "003use_enabled" in body:
        if not isinstance(body["003use_enabled"], bool):
            raise bad_request("INVALID_ENABLED", "003use_enabled must be true or false", "003use_enabled")
        out["003use_enabled"] = body["003use_enabled"]
    if "016voi_email" in body:
        email = body["016voi_email"]
        shaped = isinstance(email, str) and (email == "" or (len(email) <= 254 and EMAIL_RE.match(email)))
        if email is not None and not shaped:
            raise bad_request("INVALID_EMAIL", "e-mail address must look like name@domain.tld", "016voi_email")
        out["016voi_email"] = email or None
    if "009ext_extension" in body:
        out["009ext_extension"] = extension(body["009ext_extension"], allow_empty=create)
    if "011acc_pin" in body:
        if not isinstance(body["011acc_pin"], str) or not PIN_RE.match(body["011acc_pin"]):
            raise bad_request("INVALID_PIN", "PIN must be a string of 4-12 digits", "011acc_pin")
        out["011acc_pin"] = body["011acc_pin"]
    if "003use_pw" in body:
        pw = body["003use_pw"]
        if not isinstance(pw, str) or not 8 <= len(pw) <= 128:
            raise bad_request("INVALID_PASSWORD", "password must be 8-128 characters", "003use_pw")
        out["003use_pw"] = pw
    if "user_roles" in body:
        roles = body["user_roles"]
        if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
            raise bad_request("INVALID_ROLES", "user_roles must be a list of role names", "user_roles")
        out["user_roles"] = roles
    if "phonebook" in body:
        out["phonebook"] = phonebook(body["phonebook"], "phonebook")
    if create:
        out["post"] = post(body.get("post", {}))
    return out


def phonebook(entries: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise bad_request("INVALID_PHONEBOOK", f"{where} must be a list of objects", where)
    for entry in entries:
        check_keys(entry, PHONEBOOK_FIELDS, f"{where}.")
        for key, value in entry.items():
            if value is not None and not isinstance(value, str):
                raise bad_request("INVALID_PHONEBOOK", f"{where}.{key} must be a string or null", f"{where}.{key}")
    return [dict(e) for e in entries]


def mobile_number(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not PHONE_RE.match(value):
        raise bad_request("INVALID_PHONE", "mobile number must be a phone number (international format)", field)
    return value


def _device_entries(entries: Any, where: str, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise bad_request("INVALID_DEVICE", f"{where} must be a list of objects", where)
    for entry in entries:
        check_keys(entry, allowed, f"{where}.")
        name = entry.get("010dev_bez")
        if name is not None and not isinstance(name, str):
            raise bad_request("INVALID_DEVICE", "010dev_bez must be a string", f"{where}.010dev_bez")
        if "mobile" in entry:
            mobile_number(entry["mobile"], f"{where}.mobile")
    return [dict(e) for e in entries]


def post(value: Any) -> dict[str, list[dict[str, Any]]]:
    """The IO-Framework ``post`` children of a created identity."""
    if not isinstance(value, dict):
        raise bad_request("INVALID_BODY", "post must be an object", "post")
    check_keys(value, POST_KEYS, "post.")
    return {
        "phonebook": phonebook(value.get("phonebook", []), "post.phonebook"),
        "ipdevice.mdsoftphone": _device_entries(value.get("ipdevice.mdsoftphone", []), "post.ipdevice.mdsoftphone",
                                                ("010dev_bez",)),
        "ipdevice.mobile": _device_entries(value.get("ipdevice.mobile", []), "post.ipdevice.mobile",
                                           ("010dev_bez", "mobile")),
    }


def device_body(body: Any) -> dict[str, Any]:
    """``POST identity/<login>/devices``: ``{"type", "010dev_bez"?, "mobile"?}``."""
    if not isinstance(body, dict):
        raise bad_request("INVALID_BODY", "a device must be a JSON object")
    check_keys(body, ("type", "010dev_bez", "mobile"))
    if body.get("type") not in DEVICE_TYPES:
        raise bad_request("INVALID_DEVICE", "type must be softphone or mobile", "type")
    name = body.get("010dev_bez")
    if name is not None and not isinstance(name, str):
        raise bad_request("INVALID_DEVICE", "010dev_bez must be a string", "010dev_bez")
    if "mobile" in body and body["type"] != "mobile":
        raise bad_request("UNKNOWN_FIELD", "mobile is only for mobile devices", "mobile")
    return {"type": body["type"], "010dev_bez": name, "mobile": mobile_number(body.get("mobile"), "mobile")}
