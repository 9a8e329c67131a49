"""The two ways a read goes: every user in pages, or what changed since a cookie.

Both end in a :class:`Batch`: identities with scope decided, ids that are gone
(changes only), the cookie for the next round, and why the read stopped early if
it did. :class:`~syncframe_ldap.source.LdapSource` turns a batch into a
``ReadResult``. This module needs python-ldap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ldap.ldapobject import SimpleLDAPObject

from syncframe import Identity, Progress, SyncError

from . import connection
from .entries import EntryMapper
from .flavours import Flavour
from .groups import GroupScope, Membership, normalize_dn
from .scope import Scope
from .search import ReadStopped, SearchStats, paged_search
from .syncrepl import SyncUnavailable, current_cookie, run_round

log = logging.getLogger("syncframe.ldap")

__all__ = ["Batch", "DirectoryReader", "SyncUnavailable"]


@dataclass
class Batch:
    """What one read produced."""

    identities: dict[str, Identity] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    cookie: str | None = None
    #: why the read stopped early; None when it read everything
    stopped: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


class DirectoryReader:
    """Reads users from one directory with one profile's settings.

    :param config: The validated ``[source]`` section.
    :param password: The bind password (None: anonymous), and ``where`` it came from.
    :param flavour: The directory's defaults.
    :param mapper: Entry -> identity.
    :param scope: Who is managed.
    :param user_filter: The whole user filter (flavour default AND profile filter).
    """

    def __init__(self, config: Mapping[str, Any], password: str | None, where: str, flavour: Flavour, mapper: EntryMapper, scope: Scope, user_filter: str):
        self.config = config
        self.password = password
        self.where = where
        self.flavour = flavour
        self.mapper = mapper
        self.scope = scope
        self.user_filter = user_filter
        self.base_dn = str(config["base_dn"])
        self.page_size = int(config.get("page_size", 500))
        self.stats = SearchStats()
        self._conn: SimpleLDAPObject | None = None

    def connection(self) -> SimpleLDAPObject:
        """The bound connection (opened on first use, kept for the source's life)."""
        if self._conn is None:
            self._conn = connection.connect(self.config, self.password, self.where)
        return self._conn

    def close(self) -> None:
        connection.close(self._conn)
        self._conn = None

    # -- full read -----------------------------------------------------------------------

    def full(self, progress: Progress) -> Batch:
        """Every user under base_dn, page by page, then group scope.

        :raises SyncError: the read stopped before a single user was read.
        """
        batch = Batch()
        membership: Membership | None = None
        try:
            # the cookie first: a change made while we page shows up again next round
            if self.flavour.syncrepl:
                batch.cookie = current_cookie(self.config, self.password, self.where, self.user_filter, self.stats)
            pages = paged_search(self.connection(), self.base_dn, self.user_filter, self.mapper.attributes(), self.page_size, self.stats)
            for page in pages:
                for dn, attrs in page:
                    identity = self.mapper.identity(dn, attrs)
                    if identity is not None:
                        batch.identities[identity.source_id] = identity
                progress(len(page), None)
        except ReadStopped as exc:
            if not batch.identities:
                raise SyncError(f"the LDAP read stopped before any user was read: {exc}") from None
            batch.stopped = f"the full read stopped after {len(batch.identities)} users: {exc}"
        else:
            try:
                membership = self._membership(batch.identities.values())
            except ReadStopped as exc:
                batch.stopped = f"the users were read, but not the groups: {exc}"
        batch.identities = {sid: self.scope.apply(i, membership) for sid, i in batch.identities.items()}
        batch.stats = {"read": "full", **self._how(membership)}
        return batch

    # -- changes -------------------------------------------------------------------------

    def changes(self, cookie: str, previous: Mapping[str, Identity], progress: Progress) -> Batch:
        """What changed since ``cookie`` (RFC 4533 refreshOnly), as whole identities.

        Users whose entries did not change can still change scope (group
        membership lives in group entries): every known user's scope is decided
        again and those whose decision changed are sent too.

        :raises SyncUnavailable: the server cannot continue from the cookie.
        """
        if self.scope.groups and any(not i.extra.get("dn") for i in previous.values()):
            # group scope is decided by DN: without them everyone would look like a non-member
            raise SyncUnavailable("the saved view does not hold every user's DN")
        batch = Batch(cookie=cookie)
        try:
            round_ = run_round(self.config, self.password, self.where, self.user_filter, self.mapper.attributes(), cookie, self.stats)
        except ReadStopped as exc:
            batch.stopped = f"the incremental read stopped: {exc}"
            batch.stats = {"read": "syncrepl"}
            return batch
        changed: dict[str, Identity] = {}
        for dn, attrs in round_.changed.values():
            identity = self.mapper.identity(dn, attrs)
            if identity is not None:
                changed[identity.source_id] = identity
        batch.removed = {sid for sid in round_.removed(list(previous)) if sid in previous}
        progress(len(changed) + len(batch.removed), None)
        membership: Membership | None = None
        try:
            kept = [i for sid, i in previous.items() if sid not in batch.removed and sid not in changed]
            membership = self._membership([*kept, *changed.values()])
        except ReadStopped as exc:
            batch.stopped = f"the incremental read stopped while reading groups: {exc}"
            return batch
        batch.identities = {sid: self.scope.apply(i, membership) for sid, i in changed.items()}
        for identity in kept:
            decided = self.scope.apply(identity, membership)
            if decided != identity:
                batch.identities[identity.source_id] = decided
        batch.cookie = round_.cookie or cookie
        batch.stats = {
            "read": "syncrepl",
            "changed": len(changed),
            "removed": len(batch.removed),
            "rescoped": len(batch.identities) - len(changed),
            # how the server told us about deletions: a list of them, or everyone still there
            "phase": "present" if round_.delete_unpresented else "deletions",
            **self._how(membership),
        }
        return batch

    # -- groups ---------------------------------------------------------------------------

    def _membership(self, identities: Iterable[Identity]) -> Membership | None:
        if not self.scope.groups:
            return None
        known = {normalize_dn(str(i.extra.get("dn"))) for i in identities if i.extra.get("dn")}
        resolver = GroupScope(self.connection(), self.flavour, self.base_dn, self.user_filter, self.page_size, self.stats)
        return resolver.resolve(self.scope.groups, known)

    @staticmethod
    def _how(membership: Membership | None) -> dict[str, Any]:
        return {"groups": dict(membership.how)} if membership is not None else {}
