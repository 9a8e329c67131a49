"""Directory API ``User`` resources <-> syncframe identities, and the scope rules.

Only what the mapping needs is asked for (:data:`USER_FIELDS`, sent as ``fields=``),
with ``projection=basic``: no custom schemas are read.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from syncframe import Identity

#: the User properties the mapping reads
USER_FIELDS = ("id", "primaryEmail", "name", "phones", "organizations", "languages", "suspended", "archived", "orgUnitPath")
#: users.list's ``fields`` parameter (Google's partial-response syntax)
LIST_FIELDS = f"nextPageToken,users({','.join(USER_FIELDS)})"
#: the org unit a user sits in, passed on in ``Identity.extra`` (the sandbox reads it back)
ORG_UNIT = "org_unit"
#: mobile numbers: Google's ``mobile`` type first, ``work_mobile`` when there is none
MOBILE_TYPES = ("mobile", "work_mobile")


def _primary_first(entries: Any) -> list[Mapping[str, Any]]:
    items = [e for e in entries or () if isinstance(e, Mapping)]
    return sorted(items, key=lambda e: not e.get("primary"))


def _typed(phones: Sequence[Mapping[str, Any]], kind: str) -> list[str]:
    return [str(p["value"]).strip() for p in phones if str(p.get("type") or "").lower() == kind and str(p.get("value") or "").strip()]


def display_name(user: Mapping[str, Any]) -> str:
    name = user.get("name") if isinstance(user.get("name"), Mapping) else {}
    for value in (name.get("displayName"), name.get("fullName")):
        if value:
            return str(value)
    joined = " ".join(str(part) for part in (name.get("givenName"), name.get("familyName")) if part)
    return joined or str(user.get("primaryEmail") or "")


def preferred_language(user: Mapping[str, Any]) -> str | None:
    for entry in user.get("languages") or ():
        if isinstance(entry, Mapping) and entry.get("languageCode") and entry.get("preference", "preferred") == "preferred":
            return str(entry["languageCode"])
    return None


def to_identity(user: Mapping[str, Any], groups: Iterable[str] = ()) -> Identity:
    """One Directory user as an :class:`Identity` (the engine validates it afterwards)."""
    name = user.get("name") if isinstance(user.get("name"), Mapping) else {}
    phones = _primary_first(user.get("phones"))
    mobiles = [number for kind in MOBILE_TYPES for number in _typed(phones, kind)]
    orgs = _primary_first(user.get("organizations"))
    org = orgs[0] if orgs else {}
    suspended, archived = bool(user.get("suspended")), bool(user.get("archived"))
    return Identity(
        source_id=str(user["id"]),
        username=str(user.get("primaryEmail") or ""),
        display_name=display_name(user),
        given_name=name.get("givenName") or None,
        surname=name.get("familyName") or None,
        email=user.get("primaryEmail") or None,
        phones=tuple(_typed(phones, "work")),
        mobile_phone=mobiles[0] if mobiles else None,
        job_title=org.get("title") or None,
        department=org.get("department") or None,
        preferred_language=preferred_language(user),
        enabled=not (suspended or archived),
        groups=tuple(groups),
        extra={ORG_UNIT: str(user.get("orgUnitPath") or "/"), "suspended": suspended, "archived": archived},
    )


def in_org_units(path: str, units: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``units`` or below one (``/Sales/Berlin`` is in ``/Sales``)."""
    path = path.rstrip("/") or "/"
    for unit in units:
        unit = unit.rstrip("/") or "/"
        if unit == "/" or path.lower() == unit.lower() or path.lower().startswith(unit.lower() + "/"):
            return True
    return False


def out_of_scope(identity: Identity, settings: Mapping[str, Any], in_groups: bool | None) -> str | None:
    """Why a user is not managed under these settings, or None.

    :param in_groups: whether the user is in one of the configured groups (directly
        or through nested groups); None when no groups are configured.
    """
    extra = dict(identity.extra)
    if extra.get("suspended") and not settings.get("include_suspended"):
        return "out of scope: suspended account (include_suspended = false)"
    if extra.get("archived") and not settings.get("include_archived"):
        return "out of scope: archived account (include_archived = false)"
    units = list(settings.get("org_units") or ())
    if units and not in_org_units(str(extra.get(ORG_UNIT) or "/"), units):
        return f"out of scope: org unit {extra.get(ORG_UNIT)} is outside org_units ({', '.join(units)})"
    if in_groups is False:
        return f"out of scope: not a member of groups ({', '.join(settings.get('groups') or ())})"
    return None


def to_user(identity: Identity) -> dict[str, Any]:
    """An identity in the Directory API's shape (the sandbox seeds its simulator with it)."""
    given = identity.given_name or ""
    family = identity.surname or ""
    phones = [{"value": number, "type": "work", **({"primary": True} if i == 0 else {})} for i, number in enumerate(identity.phones)]
    if identity.mobile_phone:
        phones.append({"value": identity.mobile_phone, "type": "mobile"})
    extra = dict(identity.extra)
    archived = bool(extra.get("archived", False))
    user: dict[str, Any] = {
        "id": identity.source_id,
        "primaryEmail": identity.username,
        "name": {"givenName": given, "familyName": family, "fullName": identity.display_name or f"{given} {family}".strip()},
        # a disabled identity is a suspended user, unless it says it is archived
        "suspended": not identity.enabled and not archived,
        "archived": archived,
        "orgUnitPath": str(extra.get(ORG_UNIT) or "/"),
    }
    if phones:
        user["phones"] = phones
    if identity.job_title or identity.department:
        org = {"primary": True, "customType": ""}
        if identity.job_title:
            org["title"] = identity.job_title
        if identity.department:
            org["department"] = identity.department
        user["organizations"] = [org]
    if identity.preferred_language:
        user["languages"] = [{"languageCode": identity.preferred_language, "preference": "preferred"}]
    return user
