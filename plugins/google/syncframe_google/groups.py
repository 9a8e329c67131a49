"""Group scope: the users in the configured groups, nested groups expanded.

``members.list`` answers a group's direct members: users, groups and, for a group
that holds "everyone in the organisation", a ``CUSTOMER`` member. Groups inside
groups are read in turn; a group met twice (a cycle, or two paths to it) is read
once. Members outside the Workspace (external addresses) match no directory user
and so never come into scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from syncframe import FatalSyncError

from .auth import READ_GROUP_MEMBERS
from .directory import DirectoryClient, DirectoryError

MEMBER_FIELDS = "nextPageToken,members(id,email,type,status)"
#: members.list answers at most this many members per page
MAX_MEMBERS_PAGE = 200


@dataclass
class Membership:
    """Who the configured groups hold: user id -> the configured groups (labels) they are in."""

    users: dict[str, list[str]] = field(default_factory=dict)
    #: a configured group that holds the whole organisation (a CUSTOMER member)
    everyone: list[str] = field(default_factory=list)
    groups_read: int = 0

    def labels(self, user_id: str) -> tuple[str, ...] | None:
        """The configured groups a user is in, or None when in none of them."""
        found = list(self.users.get(user_id, ()))
        found += [label for label in self.everyone if label not in found]
        return tuple(found) if found else None


def read_membership(client: DirectoryClient, groups: list[str], page_size: int = MAX_MEMBERS_PAGE) -> Membership:
    """Expand every configured group (email, alias or id) to its users.

    :raises FatalSyncError: a configured group does not exist.
    """
    membership = Membership()
    for label in groups:
        # a group is known by its id and its e-mail: the configured key may be either
        seen: set[str] = set()
        pending: list[tuple[str, ...]] = [(label,)]
        while pending:
            names = pending.pop()
            if seen.intersection(n.lower() for n in names):
                continue  # a cycle, or a group reached twice
            seen.update(n.lower() for n in names)
            for member in _members(client, names[0], label, page_size):
                kind = str(member.get("type") or "").upper()
                if kind == "GROUP":
                    pending.append(tuple(str(member[k]) for k in ("id", "email") if member.get(k)))
                elif kind == "CUSTOMER":
                    if label not in membership.everyone:
                        membership.everyone.append(label)
                elif kind == "USER" and member.get("id"):
                    labels = membership.users.setdefault(str(member["id"]), [])
                    if label not in labels:
                        labels.append(label)
            membership.groups_read += 1
    return membership


def _members(client: DirectoryClient, key: str, label: str, page_size: int) -> Any:
    params = {"maxResults": str(page_size), "fields": MEMBER_FIELDS}
    try:
        for page in client.pages(f"groups/{quote(key, safe='@')}/members", params, scope=READ_GROUP_MEMBERS):
            yield from (m for m in page.get("members") or () if isinstance(m, dict))
    except DirectoryError as exc:
        if exc.status == 404:
            where = "" if key == label else f" (a group nested in {label!r})"
            raise FatalSyncError(f"the group {key!r}{where} (groups) was not found; use its e-mail address or id") from None
        raise
