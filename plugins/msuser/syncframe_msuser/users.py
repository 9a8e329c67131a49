"""Graph ``user`` objects <-> syncframe identities.

Only the properties the mapping needs are read (:data:`SELECT`); the same list is
used for ``/users``, ``/users/delta`` (where it also decides which changes surface)
and single-user fetches.
"""

from __future__ import annotations

from typing import Any, Mapping

from syncframe import SANDBOX_GUEST, Identity

#: exactly what the mapping needs; delta tracks only these
SELECT = (
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "businessPhones",
    "mobilePhone",
    "jobTitle",
    "department",
    "preferredLanguage",
    "accountEnabled",
    "userType",
)
SELECT_PARAM = ",".join(SELECT)
#: without these a user cannot become an identity (a delta record may lack them)
REQUIRED = ("id", "userPrincipalName", "accountEnabled")


def is_guest(user: Mapping[str, Any]) -> bool:
    """Guests: ``userType == "Guest"``, or a B2B UPN (``...#EXT#@tenant``)."""
    return str(user.get("userType") or "").lower() == "guest" or "#ext#" in str(user.get("userPrincipalName") or "").lower()


def is_guest_identity(identity: Identity) -> bool:
    """A guest as :func:`is_guest` sees it, from an identity this module made (or a test built)."""
    return bool(dict(identity.extra).get(SANDBOX_GUEST)) or "#ext#" in identity.username.lower()


def out_of_scope(identity: Identity, include_guests: bool, include_disabled: bool) -> str | None:
    """Why a user is not managed under these settings, or None."""
    # external members carry #EXT# with userType Member: is_guest_identity checks both
    if not include_guests and is_guest_identity(identity):
        return "out of scope: guest or external user (include_guests = false)"
    if not include_disabled and not identity.enabled:
        return "out of scope: disabled account (include_disabled = false)"
    return None


def to_identity(user: Mapping[str, Any], groups: tuple[str, ...] = (), extra: Mapping[str, Any] | None = None) -> Identity:
    """One Graph user as an :class:`Identity` (the engine validates it afterwards).

    ``extra["guest"]`` keeps whether Graph calls the user a guest (``userType`` or a
    B2B UPN) so that scope (:func:`out_of_scope`) and the way back to Graph
    (:func:`to_graph`) see it; sandboxes read the same key (``SANDBOX_GUEST``).
    """
    return Identity(
        source_id=str(user["id"]),
        username=str(user.get("userPrincipalName") or ""),
        display_name=str(user.get("displayName") or ""),
        given_name=user.get("givenName"),
        surname=user.get("surname"),
        email=user.get("mail"),
        phones=tuple(str(p) for p in (user.get("businessPhones") or ()) if p),
        mobile_phone=user.get("mobilePhone"),
        job_title=user.get("jobTitle"),
        department=user.get("department"),
        preferred_language=user.get("preferredLanguage"),
        # only an explicit false disables: Graph answers true/false when it is selected
        enabled=user.get("accountEnabled") is not False,
        groups=tuple(groups),
        extra={**dict(extra or {}), SANDBOX_GUEST: is_guest(user)},
    )


def to_graph(identity: Identity) -> dict[str, Any]:
    """An identity back in Graph's shape, the base a delta record is merged onto."""
    return {
        "id": identity.source_id,
        "userPrincipalName": identity.username,
        "displayName": identity.display_name,
        "givenName": identity.given_name,
        "surname": identity.surname,
        "mail": identity.email,
        "businessPhones": list(identity.phones),
        "mobilePhone": identity.mobile_phone,
        "jobTitle": identity.job_title,
        "department": identity.department,
        "preferredLanguage": identity.preferred_language,
        "accountEnabled": identity.enabled,
        "userType": "Guest" if is_guest_identity(identity) else "Member",
    }


def properties(record: Mapping[str, Any]) -> dict[str, Any]:
    """A delta record's properties without OData annotations (``@odata.type``, ``x@delta``)."""
    return {k: v for k, v in record.items() if "@" not in k}


def is_whole(user: Mapping[str, Any]) -> bool:
    """Whether a record carries every selected property (else it must be fetched)."""
    return all(key in user for key in SELECT)
