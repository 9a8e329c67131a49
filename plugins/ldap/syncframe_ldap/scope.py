"""Who is managed: the source decides, and says why someone is not.

A disabled account is out of scope unless ``include_disabled``; with ``groups``,
so is everyone outside them (nested groups count). The host skips out-of-scope
users and removes them where an earlier import linked them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from syncframe import Identity

from .flavours import Flavour

if TYPE_CHECKING:  # groups imports python-ldap, which is optional
    from .groups import Membership


class Scope:
    """The profile's scope settings.

    :param flavour: For the words a disabled account's reason uses.
    :param include_disabled: Manage disabled accounts too.
    :param groups: The profile's ``groups`` (empty: no group scope).
    """

    def __init__(self, flavour: Flavour, include_disabled: bool, groups: Sequence[str]):
        self.flavour = flavour
        self.include_disabled = include_disabled
        self.groups = list(groups)

    def reason(self, identity: Identity, groups: Sequence[str], membership: Membership | None) -> str | None:
        """Why ``identity`` is not managed, or None."""
        if not identity.enabled and not self.include_disabled:
            return f"out of scope: {self.flavour.disabled_words} (include_disabled = false)"
        if self.groups and membership is None:
            return "out of scope: the read stopped before group membership was known"
        if self.groups and not groups:
            names = ", ".join(repr(g) for g in self.groups)
            return f"out of scope: not a member of {names} (groups), nested groups included"
        return None

    def apply(self, identity: Identity, membership: Membership | None) -> Identity:
        """``identity`` with its groups and out-of-scope reason decided afresh."""
        dn = str(dict(identity.extra).get("dn") or "")
        groups = membership.of(dn) if (membership is not None and dn) else ()
        return identity.replace(groups=groups, out_of_scope=self.reason(identity, groups, membership))
