"""Graph ``user`` objects <-> syncframe identities.

Only the properties the mapping needs are read (:data:`SELECT`); the same list is
used for ``/users``, ``/users/delta`` (where it also decides which changes surface)
and single-user fetches.
"""

from __future__ import annotations

from typing import Any, Mapping

from syncframe import Identity

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


def to_identity(user: Mapping[str, Any], groups: tuple[str, ...] = (), extra: Mapping[str, Any] | None = None) -> Identity:
    """One Graph user as an :class:`Identity` (the engine validates it afterwards)."""
    return Identity(
        source_id=str(user["id"]),
        principal_name=str(user.get("userPrincipalName") or ""),
        display_name=str(user.get("displayName") or ""),
        given_name=user.get("givenName"),
        surname=user.get("surname"),
        mail=user.get("mail"),
        business_phones=tuple(str(p) for p in (user.get("businessPhones") or ()) if p),
        mobile_phone=user.get("mobilePhone"),
        job_title=user.get("jobTitle"),
        department=user.get("department"),
        preferred_language=user.get("preferredLanguage"),
        # only an explicit false disables: Graph answers true/false when it is selected
        enabled=user.get("accountEnabled") is not False,
        kind="guest" if is_guest(user) else "member",
        groups=tuple(groups),
        extra=dict(extra or {}),
    )


def to_graph(identity: Identity) -> dict[str, Any]:
    """An identity back in Graph's shape, the base a delta record is merged onto."""
    return {
        "id": identity.source_id,
        "userPrincipalName": identity.principal_name,
        "displayName": identity.display_name,
        "givenName": identity.given_name,
        "surname": identity.surname,
        "mail": identity.mail,
        "businessPhones": list(identity.business_phones),
        "mobilePhone": identity.mobile_phone,
        "jobTitle": identity.job_title,
        "department": identity.department,
        "preferredLanguage": identity.preferred_language,
        "accountEnabled": identity.enabled,
        "userType": "Guest" if identity.kind == "guest" else "Member",
    }


def properties(record: Mapping[str, Any]) -> dict[str, Any]:
    """A delta record's properties without OData annotations (``@odata.type``, ``x@delta``)."""
    return {k: v for k, v in record.items() if "@" not in k}


def is_whole(user: Mapping[str, Any]) -> bool:
    """Whether a record carries every selected property (else it must be fetched)."""
    return all(key in user for key in SELECT)
