"""What differs between OpenLDAP and Active Directory: filter, attributes, id, enabled, groups.

A :class:`Flavour` holds the defaults a profile's ``flavour`` picks; ``filter`` is
AND-ed with :attr:`Flavour.object_filter` and ``[source.attributes]`` overrides
entries of :attr:`Flavour.attributes`. Nothing here talks to a server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

#: Identity fields an ``[source.attributes]`` table may map to another attribute
MAPPABLE = ("username", "display_name", "given_name", "surname", "email", "phones", "mobile_phone", "job_title", "department", "preferred_language")

#: Active Directory's userAccountControl flag ACCOUNTDISABLE
UAC_ACCOUNTDISABLE = 0x2
#: Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: transitive membership in one filter
IN_CHAIN_RULE = "1.2.840.113556.1.4.1941"


def entry_uuid(values: Sequence[bytes]) -> str | None:
    """OpenLDAP's ``entryUUID`` (already the standard string form), lower-cased."""
    if not values:
        return None
    return values[0].decode("ascii", "replace").strip().lower() or None


def object_guid(values: Sequence[bytes]) -> str | None:
    """AD's ``objectGUID`` (16 octets, the first three fields little-endian) as the
    standard GUID string, the form AD's own tools and Entra Connect show."""
    if not values or len(values[0]) != 16:
        return None
    return str(uuid.UUID(bytes_le=bytes(values[0])))


def locked_by_ppolicy(values: Sequence[bytes]) -> bool:
    """ppolicy's ``pwdAccountLockedTime``: present means locked (``000001010000Z`` for good)."""
    return bool(values)


def uac_disabled(values: Sequence[bytes]) -> bool:
    """AD's ``userAccountControl`` with bit 0x2 (ACCOUNTDISABLE) set."""
    if not values:
        return False
    try:
        return bool(int(values[0]) & UAC_ACCOUNTDISABLE)
    except ValueError:
        return False


@dataclass(frozen=True)
class Flavour:
    """One directory product's defaults."""

    name: str
    #: which entries are users (AND-ed with the profile's ``filter``)
    object_filter: str
    #: the stable, immutable id and how its raw value becomes a string
    id_attribute: str
    format_id: Callable[[Sequence[bytes]], str | None]
    #: identity field -> attribute
    attributes: Mapping[str, str]
    #: the attribute that says an account is disabled, and how
    disabled_attribute: str
    is_disabled: Callable[[Sequence[bytes]], bool]
    #: what a disabled account's out-of-scope reason says
    disabled_words: str
    #: objectClass values of groups, and the attributes holding their members
    group_classes: tuple[str, ...]
    member_attributes: tuple[str, ...]
    #: whether RFC 4533 content synchronisation is tried for incremental reads
    syncrepl: bool
    #: whether group scope first asks the server for transitive members in one filter
    in_chain: bool

    def mapping(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """Identity field -> attribute, with the profile's ``[source.attributes]`` applied."""
        return {**self.attributes, **dict(overrides or {})}

    def group_filter(self) -> str:
        return "(|" + "".join(f"(objectClass={c})" for c in self.group_classes) + ")"


COMMON = {
    "display_name": "displayName",
    "given_name": "givenName",
    "surname": "sn",
    "email": "mail",
    "phones": "telephoneNumber",
    "mobile_phone": "mobile",
    "job_title": "title",
    "preferred_language": "preferredLanguage",
}

OPENLDAP = Flavour(
    name="openldap",
    object_filter="(objectClass=inetOrgPerson)",
    id_attribute="entryUUID",
    format_id=entry_uuid,
    attributes={**COMMON, "username": "uid", "department": "departmentNumber"},
    disabled_attribute="pwdAccountLockedTime",
    is_disabled=locked_by_ppolicy,
    disabled_words="locked by the password policy (pwdAccountLockedTime)",
    group_classes=("groupOfNames", "groupOfUniqueNames"),
    member_attributes=("member", "uniqueMember"),
    syncrepl=True,
    in_chain=False,
)

ACTIVE_DIRECTORY = Flavour(
    name="ad",
    # computers are objectClass=user too
    object_filter="(&(objectClass=user)(!(objectClass=computer)))",
    id_attribute="objectGUID",
    format_id=object_guid,
    attributes={**COMMON, "username": "userPrincipalName", "department": "department"},
    disabled_attribute="userAccountControl",
    is_disabled=uac_disabled,
    disabled_words="disabled account (userAccountControl 0x2)",
    group_classes=("group",),
    member_attributes=("member",),
    # AD offers DirSync and uSNChanged, not RFC 4533: full paged reads this round
    syncrepl=False,
    in_chain=True,
)

FLAVOURS = {f.name: f for f in (OPENLDAP, ACTIVE_DIRECTORY)}
