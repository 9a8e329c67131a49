"""One directory entry as an :class:`~syncframe.Identity` (before scope is decided).

``extra["dn"]`` keeps the entry's DN: group scope is decided by DN, also in
incremental rounds that only see the entries that changed.
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

from syncframe import Identity

from .flavours import Flavour

log = logging.getLogger("syncframe.ldap")

#: the attribute a display name falls back to
COMMON_NAME = "cn"


def values_of(attrs: Mapping[str, Sequence[bytes]], name: str) -> list[bytes]:
    """An attribute's values; names are case-insensitive (servers answer in their own case)."""
    if name in attrs:
        return list(attrs[name])
    lowered = name.lower()
    for key, values in attrs.items():
        if key.lower() == lowered:
            return list(values)
    return []


def texts(values: Sequence[bytes]) -> list[str]:
    """Values as text (LDAP strings are UTF-8), blanks dropped."""
    out = []
    for value in values:
        text = bytes(value).decode("utf-8", "replace").strip()
        if text:
            out.append(text)
    return out


def first_text(values: Sequence[bytes]) -> str | None:
    found = texts(values)
    return found[0] if found else None


class EntryMapper:
    """Turns entries into identities with one flavour and one attribute mapping.

    :param flavour: The directory's defaults.
    :param overrides: The profile's ``[source.attributes]``.
    """

    def __init__(self, flavour: Flavour, overrides: Mapping[str, str] | None = None):
        self.flavour = flavour
        self.mapping = flavour.mapping(overrides)

    def attributes(self) -> list[str]:
        """Every attribute a search must ask for (operational ones are only sent when named)."""
        wanted = {self.flavour.id_attribute, self.flavour.disabled_attribute, COMMON_NAME, *self.mapping.values()}
        return sorted(wanted, key=str.lower)

    def source_id(self, attrs: Mapping[str, Sequence[bytes]]) -> str | None:
        return self.flavour.format_id(values_of(attrs, self.flavour.id_attribute))

    def identity(self, dn: str, attrs: Mapping[str, Sequence[bytes]]) -> Identity | None:
        """The entry as an identity, or None when it has no usable id (logged)."""
        source_id = self.source_id(attrs)
        if not source_id:
            log.warning("skipping %s: it has no usable %s", dn, self.flavour.id_attribute)
            return None

        def one(field: str) -> str | None:
            return first_text(values_of(attrs, self.mapping[field]))

        username = one("username") or ""
        display_name = one("display_name") or first_text(values_of(attrs, COMMON_NAME)) or ""
        return Identity(
            source_id=source_id,
            username=username,
            display_name=display_name,
            given_name=one("given_name"),
            surname=one("surname"),
            email=one("email"),
            phones=tuple(texts(values_of(attrs, self.mapping["phones"]))),
            mobile_phone=one("mobile_phone"),
            job_title=one("job_title"),
            department=one("department"),
            preferred_language=one("preferred_language"),
            enabled=not self.flavour.is_disabled(values_of(attrs, self.flavour.disabled_attribute)),
            extra={"dn": dn},
        )
