"""Who the connector manages: guests, disabled users and users outside the
configured groups are out of scope unless the profile includes them.

The scope keys live in the profile's ``[source]`` section (see
:attr:`syncframe.connector.Connector.scope`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..model import Identity


@dataclass(frozen=True)
class Scope:
    include_guests: bool = False
    include_disabled: bool = False
    #: group ids or names; empty means every group
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "Scope":
        data = data or {}
        return cls(
            include_guests=bool(data.get("include_guests", False)),
            include_disabled=bool(data.get("include_disabled", False)),
            groups=frozenset(str(g).casefold() for g in data.get("groups") or ()),
        )

    def excludes(self, identity: Identity) -> str | None:
        """Why ``identity`` is out of scope, or None when it is in scope."""
        # external members carry #EXT# with userType Member: check both (reliability §0.6)
        if not self.include_guests and (identity.kind == "guest" or "#ext#" in identity.principal_name.casefold()):
            return "out of scope: guest or external user (include_guests = false)"
        if not self.include_disabled and not identity.enabled:
            return "out of scope: disabled account (include_disabled = false)"
        if self.groups and not self.groups.intersection(g.casefold() for g in identity.groups):
            return "out of scope: not a member of the configured groups"
        return None
