"""The wire adapter: every *assumed* (A) part of the pascom REST contract, in one place.

pascom documents its user endpoints only inside each instance (``/services/apidoc``),
so paths, some field names, body shapes and the error format are assumptions (see
``pascom-contract.md`` and this plugin's README). They all live here, so a correction
after a recording against a real instance touches this module and the simulator only.

The rest of the plugin speaks a small vocabulary (the keys of :attr:`Account.fields`
and of ``Target.desired``):

========================  ======================================  ====
vocabulary                wire                                     mark
========================  ======================================  ====
``login``                 ``003use_name``                          D
``display_name``          ``003use_bez``                           D
``auth``                  ``003use_auth_method`` (``SSO``)         D/A
``enabled``               ``003use_enabled``                       D
``email``                 ``016voi_email``                         D
``extension``             ``009ext_extension``                     D
``roles``                 ``user_roles`` (without the base role)   D
``first_name``            ``phonebook[0].028pho_firstname``        D/A
``last_name``             ``phonebook[0].028pho_lastname``         D/A
``business_phone``        ``phonebook[0].028pho_phone``            A
``mobile_phone``          ``phonebook[0].028pho_mobile``           D/A
``devices``               ``devices[].type`` (read; added by POST) A
========================  ======================================  ====

What a GET answer does not carry is *unknown*, not empty: :func:`account_fields` leaves
the key out and the target never compares it (else an instance that answers without,
say, ``phonebook`` would get the same UPDATE on every run). Booleans are read strictly:
a value that is not a form of true or false stops the run (:class:`UnexpectedAnswer`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from syncframe import FatalSyncError

# --- transport ----------------------------------------------------------------

#: the REST root below ``https://<host>/<instance>`` (D)
SERVICES = "/services/"
#: every request asks for JSON (D)
ACCEPT = "application/json"


def identities_path() -> str:
    """List and create: ``identity/`` (D path / A shape)."""
    return "identity/"


def identity_path(login: str) -> str:
    """One user: ``identity/<login>`` (D); the login is percent-encoded."""
    return "identity/" + quote(login, safe="@._-")


def devices_path(login: str) -> str:
    """Add a device to a user (A)."""
    return identity_path(login) + "/devices"


def device_path(login: str, device_id: int) -> str:
    """Remove one device of a user (A)."""
    return f"{devices_path(login)}/{int(device_id)}"


def sessions_path(login: str) -> str:
    """List or end a user's sessions (A); DELETE also removes the mobile pairing (S)."""
    return identity_path(login) + "/sessions"


# --- field names ----------------------------------------------------------------

ID = "003use_id"
LOGIN = "003use_name"
DISPLAY_NAME = "003use_bez"
AUTH = "003use_auth_method"
ENABLED = "003use_enabled"
EMAIL = "016voi_email"
EXTENSION = "009ext_extension"
ROLES = "user_roles"
DEVICES = "devices"
PHONEBOOK = "phonebook"

#: what pascom accepts as a login (A: the simulator enforces the same rule), and the
#: longest display name (A); identities outside them are skipped while planning
LOGIN_RULE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")
LOGIN_CHARS = re.compile(r"[a-z0-9._@-]")
MAX_LOGIN = 128
MAX_DISPLAY_NAME = 100


def login_problem(login: str) -> str | None:
    """Why pascom cannot hold ``login``, naming the characters, or None."""
    if not login:
        return "the login is empty"
    if len(login) > MAX_LOGIN:
        return f"the login {login!r} is longer than {MAX_LOGIN} characters ({len(login)})"
    bad = sorted({c for c in login if not LOGIN_CHARS.fullmatch(c)})
    if bad:
        return f"the login {login!r} contains characters pascom does not allow in a login: {' '.join(repr(c) for c in bad)} (allowed: a-z 0-9 . _ @ -)"
    if not LOGIN_RULE.match(login):
        return f"the login {login!r} must start with a letter or digit"
    return None


#: the value that switches a user to single sign-on with the Microsoft account (A)
AUTH_SSO = "SSO"
#: the base role every user has; implicit, so never compared (D)
BASE_ROLE = "All"
#: role names that make a user an administrator (A); the profile may add more
ADMIN_ROLES = ("Administrator", "Administrators", "Admin")

SOFTPHONE = "softphone"
MOBILE = "mobile"
DEVICE_ID = "010dev_id"
DEVICE_NAME = "010dev_bez"
#: the vocabulary keys about devices: compared and acted on by the target, never sent in a PUT
DEVICE_KEYS = frozenset({"devices"})
#: the names syncframe gives the mobile devices it creates (A): only these are ever removed
_OUR_MOBILE = re.compile(r"^pascom Mobile \[.*\]$")
#: IO-Framework ``post`` children that create devices with the user (D softphone / A mobile)
POST_SOFTPHONE = "ipdevice.mdsoftphone"
POST_MOBILE = "ipdevice.mobile"

#: vocabulary key -> top-level identity field
_TOP_LEVEL = {
    "display_name": DISPLAY_NAME,
    "auth": AUTH,
    "enabled": ENABLED,
    "email": EMAIL,
    "extension": EXTENSION,
}
#: vocabulary key -> phonebook entry column (``028pho_phone`` is A)
_PHONEBOOK = {
    "first_name": "028pho_firstname",
    "last_name": "028pho_lastname",
    "business_phone": "028pho_phone",
    "mobile_phone": "028pho_mobile",
}
#: every key the plugin can write
WRITABLE = frozenset(_TOP_LEVEL) | frozenset(_PHONEBOOK) | {"login", "roles"}
#: changes to these rewrite the user's phonebook entry (it repeats name and e-mail)
PHONEBOOK_INPUTS = frozenset(_PHONEBOOK) | {"display_name", "email"}

# --- error codes ------------------------------------------------------------------

#: 409 codes meaning "the login is taken" / "the extension is taken" (A)
LOGIN_TAKEN = frozenset({"LOGIN_EXISTS"})
EXTENSION_TAKEN = frozenset({"EXTENSION_EXISTS"})


# --- reading ------------------------------------------------------------------------


class UnexpectedAnswer(FatalSyncError):
    """pascom answered a value this adapter's assumptions do not cover; guessing could
    write the wrong thing, so the run stops (and removes nobody)."""


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_bool(value: Any, field: str, login: Any) -> bool:
    """A pascom boolean: JSON true/false, 1/0, or those as text (any case). Anything else
    is an error, never truthy: ``"no"`` would otherwise read as an enabled user."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise UnexpectedAnswer(
        f"pascom answered {field} = {value!r} for user {login!r}; syncframe expects true or false "
        f"(an assumption of the pascom plugin, see its README)"
    )


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def account_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An identity object as the vocabulary the planner diffs.

    A key whose wire field the answer does not carry is left out (unknown, never
    compared); an empty ``phonebook`` list is known to be empty.
    """
    login = obj.get(LOGIN)
    fields: dict[str, Any] = {"login": login}
    if DISPLAY_NAME in obj:
        fields["display_name"] = obj[DISPLAY_NAME] or ""
    if AUTH in obj:
        fields["auth"] = obj[AUTH]
    if ENABLED in obj:
        fields["enabled"] = parse_bool(obj[ENABLED], ENABLED, login)
    if EMAIL in obj:
        fields["email"] = _blank_to_none(obj[EMAIL])
    if EXTENSION in obj:
        fields["extension"] = _blank_to_none(_text(obj[EXTENSION]))
    if ROLES in obj:
        fields["roles"] = sorted(r for r in obj[ROLES] or [] if r != BASE_ROLE)
    if isinstance(obj.get(DEVICES), list):
        fields["devices"] = device_summary(obj)
    entries = obj.get(PHONEBOOK)
    if isinstance(entries, list):
        entry = entries[0] if entries and isinstance(entries[0], Mapping) else {}
        for key, column in _PHONEBOOK.items():
            if column in entry or not entries:
                fields[key] = _blank_to_none(entry.get(column))
    return fields


def _text(value: Any) -> Any:
    # an extension may come back as a JSON number
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _devices(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [d for d in obj.get(DEVICES) or [] if isinstance(d, Mapping) and d.get("type")]


def _paired(device: Mapping[str, Any], login: Any) -> bool:
    return parse_bool(device.get("paired", False), "devices[].paired", login)


def device_types(obj: Mapping[str, Any]) -> set[str]:
    """Which kinds of device (``softphone``, ``mobile``) a user has."""
    return {str(d["type"]) for d in _devices(obj)}


def device_ids(obj: Mapping[str, Any]) -> set[Any]:
    """The ids of the user's devices (to tell a device a request just made from older ones)."""
    return {d.get(DEVICE_ID) for d in _devices(obj)}


def spare_devices(obj: Mapping[str, Any]) -> list[Any]:
    """Ids of the mobile devices syncframe made twice: beyond the first mobile device, the
    unpaired ones named as syncframe names them. A paired device is in use, and one an
    administrator named is theirs: neither is ever a spare. Softphones never are (pascom
    names every softphone itself, so a second one cannot be told from a deliberate one)."""
    login = obj.get(LOGIN)
    def keep_first(device: Mapping[str, Any]) -> tuple[bool, bool, Any]:
        # a paired device first, then the oldest (device ids are numbers, A)
        device_id = device.get(DEVICE_ID)
        number = isinstance(device_id, int) and not isinstance(device_id, bool)
        return (not _paired(device, login), not number, device_id if number else str(device_id))

    mobiles = sorted((d for d in _devices(obj) if d["type"] == MOBILE), key=keep_first)
    return [
        d.get(DEVICE_ID) for d in mobiles[1:]
        if not _paired(d, login) and _OUR_MOBILE.match(str(d.get(DEVICE_NAME) or ""))
    ]


def device_summary(obj: Mapping[str, Any]) -> list[str]:
    """The ``devices`` vocabulary value: the kinds the user has, sorted, a kind listed once
    more for each spare (``["mobile", "mobile", "softphone"]`` reads "one mobile too many")."""
    spares = len(spare_devices(obj))
    return sorted([*device_types(obj), *([MOBILE] * spares)])


def new_device(obj: Mapping[str, Any], known: Iterable[Any], kind: str) -> dict[str, Any] | None:
    """A device of ``kind`` the user has that is not among ``known`` ids (one a request made), or None."""
    seen = set(known)
    return next((dict(d) for d in _devices(obj) if d["type"] == kind and d.get(DEVICE_ID) not in seen), None)


def unpaired(obj: Mapping[str, Any]) -> bool:
    """True when none of the user's mobile devices is paired."""
    login = obj.get(LOGIN)
    return not any(_paired(d, login) for d in _devices(obj) if d["type"] == MOBILE)


def created_identity(body: Any) -> dict[str, Any]:
    """The created user from a ``POST identity/`` answer ``{"identity": [obj]}``."""
    if isinstance(body, Mapping) and isinstance(body.get("identity"), list) and body["identity"]:
        return dict(body["identity"][0])
    if isinstance(body, Mapping) and LOGIN in body:  # tolerate a bare object
        return dict(body)
    raise ValueError("the create answer holds no identity")


# --- writing ------------------------------------------------------------------------


def softphone_name(display_name: str) -> str:
    """pascom names softphones after the user and overwrites what we send (D)."""
    return f"pascom Softphone [{display_name}]"


def mobile_name(display_name: str) -> str:
    """The name we give a mobile device (A)."""
    return f"pascom Mobile [{display_name}]"


def phonebook_entry(values: Mapping[str, Any]) -> dict[str, Any]:
    """The user's phonebook entry (IO-Framework ``phonebook``) from vocabulary values."""
    entry: dict[str, Any] = {"028pho_bez": values.get("display_name") or ""}
    for key, column in _PHONEBOOK.items():
        entry[column] = values.get(key)
    entry["028pho_email"] = values.get("email")
    return entry


def _top_level(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - WRITABLE - DEVICE_KEYS)
    if unknown:
        raise ValueError(f"pascom has no field for {', '.join(unknown)}")
    body: dict[str, Any] = {}
    if "login" in values:
        body[LOGIN] = values["login"]
    for key, wire_key in _TOP_LEVEL.items():
        if key in values:
            body[wire_key] = values[key]
    if "roles" in values:
        body[ROLES] = list(values["roles"] or [])
    return body


def create_document(desired: Mapping[str, Any], *, softphone: bool, mobile: bool) -> dict[str, Any]:
    """The IO-Framework ``POST identity/`` document for one new user (D format).

    Children under ``post``: the phonebook entry, and the devices asked for. No
    password is ever sent: the user signs in with single sign-on.
    """
    identity = _top_level({k: v for k, v in desired.items() if k not in _PHONEBOOK})
    if identity.get(EXTENSION) in (None, ""):
        identity.pop(EXTENSION, None)  # empty = next free number of the pool (D)
    post: dict[str, list[dict[str, Any]]] = {PHONEBOOK: [phonebook_entry(desired)]}
    display = desired.get("display_name") or desired.get("login") or ""
    if softphone:
        post[POST_SOFTPHONE] = [{"010dev_bez": softphone_name(display)}]
    if mobile:
        device: dict[str, Any] = {"010dev_bez": mobile_name(display)}
        if desired.get("mobile_phone"):
            device["mobile"] = desired["mobile_phone"]
        post[POST_MOBILE] = [device]
    identity["post"] = post
    return {"identity": [identity]}


def update_body(changed: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """A partial ``PUT identity/<login>`` body (A) with only the changed fields.

    :param changed: Vocabulary key -> new value, for the fields that differ
        (``login`` renames the user).
    :param current: The user's current vocabulary values; a phonebook change sends
        the whole entry, built from ``current`` overlaid with ``changed``.
    """
    body = _top_level({k: v for k, v in changed.items() if k not in _PHONEBOOK})
    if PHONEBOOK_INPUTS & set(changed):
        merged = {**current, **changed}
        body[PHONEBOOK] = [phonebook_entry(merged)]
    return body


def device_body(kind: str, display_name: str, mobile_number: str | None = None) -> dict[str, Any]:
    """``POST identity/<login>/devices`` (A)."""
    body: dict[str, Any] = {"type": kind, "010dev_bez": softphone_name(display_name) if kind == SOFTPHONE else mobile_name(display_name)}
    if kind == MOBILE and mobile_number:
        body["mobile"] = mobile_number
    return body


DISABLE = {ENABLED: False}


# --- errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class WireError:
    """pascom's error answer: ``{"error": {"code", "message", "field"}}`` (A)."""

    status: int
    code: str
    message: str
    field: str | None = None

    def describe(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.status} {self.code}: {self.message}{where}"


def parse_error(status: int, text: str, reason: str = "") -> WireError:
    """Read an error answer; a body that is not the assumed shape still gives a line."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        code = str(error.get("code") or f"HTTP_{status}")
        message = str(error.get("message") or reason or "no message")
        field = error.get("field")
        return WireError(status, code, message[:500], str(field) if field else None)
    # not JSON (a proxy's HTML page, say): keep one short line of it
    snippet = " ".join((text or "").split())[:200]
    return WireError(status, f"HTTP_{status}", snippet or reason or "no message")


def is_login_taken(error: WireError) -> bool:
    return error.status == 409 and (error.code in LOGIN_TAKEN or error.field == LOGIN)


def is_extension_taken(error: WireError) -> bool:
    return error.status == 409 and (error.code in EXTENSION_TAKEN or error.field == EXTENSION)


def roles_of(obj: Mapping[str, Any]) -> Iterable[str]:
    return obj.get(ROLES) or []
