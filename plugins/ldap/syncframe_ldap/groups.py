"""Group scope: which users are members of the configured groups, nested groups included.

Two ways, one answer (a set of user DNs per configured group):

- **walking** (OpenLDAP, and AD's fallback): read the group, then every member
  that is not a user we already read and is itself a group, breadth first. A DN
  seen once is never read again, so cycles (A in B, B in A) end.
- **in chain** (Active Directory): one paged search for
  ``(memberOf:1.2.840.113556.1.4.1941:=<group>)``, AD's transitive-membership
  rule. A server that does not implement the rule either rejects the filter or,
  like slapd, treats the unknown rule as "no match" and answers with nobody. So
  the answer is checked against the group's direct members: it must contain every
  direct member we read as a user, and be empty only when the group is. Otherwise
  the members are walked instead, and the read says so in its stats.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import ldap
import ldap.dn
from ldap.filter import escape_filter_chars
from ldap.ldapobject import SimpleLDAPObject

from syncframe import ConfigError, FatalSyncError

from .entries import values_of
from .flavours import IN_CHAIN_RULE, Flavour
from .search import Entry, ReadStopped, SearchStats, base_entry, paged_search

log = logging.getLogger("syncframe.ldap")

#: a uniqueMember value may end in an optional UID: ``cn=x,dc=y#'0101'B``
OPTIONAL_UID = re.compile(r"#'[01]*'B$")
#: how a server that does not know the in-chain rule may refuse it
REFUSED_RULE = (ldap.INAPPROPRIATE_MATCHING, ldap.UNWILLING_TO_PERFORM, ldap.PROTOCOL_ERROR, ldap.FILTER_ERROR, ldap.UNDEFINED_TYPE)


def normalize_dn(dn: str) -> str:
    """A DN in one spelling (case and spacing folded), for comparing DNs."""
    try:
        rdns = ldap.dn.str2dn(dn.strip())
    except ldap.DECODING_ERROR:
        return dn.strip().lower()
    return ",".join("+".join(f"{name.lower()}={value.lower()}" for name, value, _ in rdn) for rdn in rdns)


def member_dns(attrs: Mapping[str, Sequence[bytes]], member_attributes: Iterable[str]) -> list[str]:
    """The DNs a group entry lists as members."""
    out = []
    for name in member_attributes:
        for raw in values_of(attrs, name):
            text = bytes(raw).decode("utf-8", "replace").strip()
            if text:
                out.append(OPTIONAL_UID.sub("", text))
    return out


@dataclass
class Membership:
    """Normalised user DN -> the configured groups (as written in the profile) it is in."""

    groups: dict[str, set[str]] = field(default_factory=dict)
    #: configured group -> "in chain" or "walked"
    how: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, users: Iterable[str]) -> None:
        for user in users:
            self.groups.setdefault(user, set()).add(label)

    def of(self, dn: str) -> tuple[str, ...]:
        return tuple(sorted(self.groups.get(normalize_dn(dn), ())))


class GroupScope:
    """Resolves the configured groups against one bound connection.

    :param conn: A bound connection.
    :param flavour: Which group classes and member attributes, and whether to try in-chain.
    :param base_dn: Where users live (the in-chain search's base).
    :param user_filter: The whole user filter (the in-chain search's users).
    :param page_size: Page size of the in-chain search.
    :param stats: Request counters of the read.
    """

    def __init__(self, conn: SimpleLDAPObject, flavour: Flavour, base_dn: str, user_filter: str, page_size: int, stats: SearchStats):
        self.conn = conn
        self.flavour = flavour
        self.base_dn = base_dn
        self.user_filter = user_filter
        self.page_size = page_size
        self.stats = stats

    def resolve(self, groups: Sequence[str], known_users: set[str]) -> Membership:
        """Members of every configured group.

        :param groups: The profile's ``groups`` (DNs).
        :param known_users: Normalised DNs of every user this read knows: a member
            in it is a user, any other member may be a nested group.
        :raises FatalSyncError: a configured group does not exist or is no group.
        :raises ReadStopped: a search ended early.
        """
        membership = Membership()
        for group in groups:
            root = self._group(group)
            if root is None:
                raise FatalSyncError(
                    f"the group {group!r} (groups) was not found, or is not a group ({', '.join(self.flavour.group_classes)}); check the DN"
                )
            users = self._in_chain(group, root, known_users) if self.flavour.in_chain else None
            if users is None:
                users = self._walk(group, root, known_users)
                membership.how[group] = "walked"
            else:
                membership.how[group] = "in chain"
            membership.add(group, users)
        return membership

    def _group(self, dn: str) -> Entry | None:
        return base_entry(self.conn, dn, self.flavour.group_filter(), self.flavour.member_attributes, self.stats, "group lookup")

    def _walk(self, label: str, root: Entry, known_users: set[str]) -> set[str]:
        found: set[str] = set()
        seen = {normalize_dn(root[0])}
        queue = [root]
        while queue:
            _, attrs = queue.pop(0)
            for member in member_dns(attrs, self.flavour.member_attributes):
                key = normalize_dn(member)
                if key in seen:
                    continue  # a cycle, or a member listed by two groups
                seen.add(key)
                if key in known_users:
                    found.add(key)
                    continue
                nested = self._group(member)
                if nested is not None:
                    queue.append(nested)
                # else: a member outside base_dn or the filter, or a dangling DN: not ours
        log.debug("group %s: %d members (walked, %d entries seen)", label, len(found), len(seen))
        return found

    def _in_chain(self, label: str, root: Entry, known_users: set[str]) -> set[str] | None:
        """The members by AD's in-chain rule, or None when the server did not evaluate it."""
        filterstr = f"(&{self.user_filter}(memberOf:{IN_CHAIN_RULE}:={escape_filter_chars(root[0])}))"
        try:
            found = {
                normalize_dn(dn)
                for page in paged_search(self.conn, self.base_dn, filterstr, ["1.1"], self.page_size, self.stats, "group search")
                for dn, _ in page
            }
        except (ReadStopped, ConfigError, FatalSyncError) as exc:
            if isinstance(exc.__cause__, REFUSED_RULE):
                log.warning("the server refused the in-chain rule for %s (%s); walking the members instead", label, exc)
                return None
            raise
        members = [normalize_dn(m) for m in member_dns(root[1], self.flavour.member_attributes)]
        direct_users = {m for m in members if m in known_users}
        if direct_users - found or (members and not found):
            log.warning(
                "the server did not evaluate LDAP_MATCHING_RULE_IN_CHAIN for %s (%d direct members, %d found); walking the members instead",
                label, len(members), len(found),
            )
            return None
        return found
