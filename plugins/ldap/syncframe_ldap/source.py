"""The LDAP source: users from OpenLDAP or Active Directory.

How it reads (the plugin README says why):

- **full read**: a paged subtree search (RFC 2696) of ``base_dn`` with the
  flavour's filter AND the profile's; then, with ``groups``, group scope.
- **incremental read** (OpenLDAP with ``syncprov``): an RFC 4533 refreshOnly
  round from the saved cookie: changed entries and deleted entryUUIDs only.
  A full read instead on the first run, after the settings changed, when the
  server cannot continue from the cookie, or when it offers no content sync.
- **Active Directory**: a full paged read every run (DirSync and uSNChanged are
  not implemented yet).

Anything that stops a read after users were read gives ``complete=False`` with
the reason (the engine then removes nobody) and keeps the old bookmark.

python-ldap is optional (``pip install 'syncframe[ldap]'``): this module imports
without it, and opening the source says how to install it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from syncframe import CheckResult, ConfigError, ConnectorContext, Identity, Progress, ReadResult, Source, SyncError, no_progress

from .entries import EntryMapper
from .flavours import FLAVOURS
from .scope import Scope

log = logging.getLogger("syncframe.ldap")

BOOKMARK_VERSION = 1
INSTALL_HINT = "pip install 'syncframe[ldap]'"


def require_python_ldap() -> None:
    """Raise a ConfigError naming the install command when python-ldap is missing."""
    try:
        # not a bare "import ldap": any directory named ldap on sys.path imports as that
        import ldap.ldapobject  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the LDAP source needs python-ldap, which is not installed ({exc}): {INSTALL_HINT} "
            "(it builds against OpenLDAP's client library: apt-get install libldap2-dev libsasl2-dev)"
        ) from None


def user_filter(flavour_filter: str, profile_filter: str | None) -> str:
    """The flavour's filter AND the profile's."""
    if not profile_filter:
        return flavour_filter
    return f"(&{flavour_filter}{profile_filter.strip()})"


@dataclass(frozen=True)
class Bookmark:
    """The content-sync cookie, tied to the settings it was made with."""

    cookie: str | None
    fingerprint: str

    def encode(self) -> str:
        return json.dumps({"v": BOOKMARK_VERSION, "cookie": self.cookie, "fingerprint": self.fingerprint}, sort_keys=True)

    @classmethod
    def decode(cls, text: str | None) -> "Bookmark | None":
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.get("v") != BOOKMARK_VERSION:
                return None
            return cls(data.get("cookie"), str(data["fingerprint"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


class LdapSource(Source):
    """Users from an LDAP directory (OpenLDAP or Active Directory).

    :param config: The validated ``[source]`` section.
    :param context: The connector.
    :raises ConfigError: python-ldap is missing, or the bind password is not where the profile says.
    """

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        super().__init__(config, context)
        require_python_ldap()
        # python-ldap is optional: these modules import it, so only now
        from .connection import bind_password
        from .reader import DirectoryReader

        self.flavour = FLAVOURS[str(config.get("flavour", "openldap"))]
        self.mapper = EntryMapper(self.flavour, config.get("attributes"))
        self.scope = Scope(self.flavour, bool(config.get("include_disabled", False)), list(config.get("groups") or []))
        self.user_filter = user_filter(self.flavour.object_filter, config.get("filter"))
        password, where = bind_password(config)
        self.reader = DirectoryReader(config, password, where, self.flavour, self.mapper, self.scope, self.user_filter)

    def fingerprint(self) -> str:
        """What a cookie's changes are relative to: server, base, filter, mapping and scope."""
        key = json.dumps(
            [self.config["url"], self.config["base_dn"], self.user_filter, sorted(self.mapper.mapping.items()), self.scope.groups, self.scope.include_disabled, self.flavour.name]
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    # -- reading --------------------------------------------------------------------

    def read(self, bookmark: str | None, previous: Mapping[str, Identity], progress: Progress = no_progress) -> ReadResult:
        from .reader import SyncUnavailable
        from .search import SearchStats

        self.reader.stats = SearchStats()  # what this read cost
        mark = Bookmark.decode(bookmark)
        why_full = self._why_full(mark, previous)
        batch = None
        if why_full is None and mark is not None and mark.cookie:
            try:
                batch = self.reader.changes(mark.cookie, previous, progress)
            except SyncUnavailable as exc:
                log.info("reading in full: %s", exc)
                why_full = str(exc)
        if batch is None:
            batch = self.reader.full(progress)
            batch.stats["why"] = why_full
        complete = batch.stopped is None
        incremental = batch.stats.get("read") == "syncrepl"
        # no cookie (no syncprov) is worth keeping too: the next run then says why it reads in full
        new_bookmark = Bookmark(batch.cookie, self.fingerprint()).encode() if complete and self.flavour.syncrepl else None
        return ReadResult(
            tuple(batch.identities.values()),
            complete=complete,
            bookmark=new_bookmark if complete else bookmark,
            incremental=incremental,
            removed=tuple(sorted(batch.removed)),
            reason=batch.stopped,
            stats={**batch.stats, **self.reader.stats.as_dict()},
        )

    def _why_full(self, mark: Bookmark | None, previous: Mapping[str, Identity]) -> str | None:
        if not self.flavour.syncrepl:
            return "Active Directory is read in full every run"
        if mark is None:
            return "first read"
        if mark.fingerprint != self.fingerprint():
            return "the settings changed since the last read"
        if not mark.cookie:
            return "the server offered no content synchronisation"
        if not previous:
            # changes alone would read as "these are all the users": rebuild the view instead
            return "there is no previous view to apply changes to"
        return None

    # -- checks -----------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """Bind, base DN, one user, the groups, and whether incremental reads are possible."""
        # python-ldap is there (checked in __init__)
        from .search import ReadStopped, base_entry, paged_search
        from .syncrepl import current_cookie

        url = self.config["url"]
        tls = "ldaps" if str(url).startswith("ldaps:") else ("StartTLS" if self.config.get("start_tls") else "no TLS (loopback)")
        results: list[CheckResult] = []
        try:
            conn = self.reader.connection()
        except SyncError as exc:
            return [CheckResult("bind", False, str(exc))]
        who = self.config.get("bind_dn") or "anonymous"
        results.append(CheckResult("bind", True, f"bound to {url} as {who} ({tls})"))
        stats = self.reader.stats
        steps = [("base_dn", lambda: "exists" if base_entry(conn, str(self.config["base_dn"]), "(objectClass=*)", ["1.1"], stats, "base_dn lookup") else None)]

        def users() -> str:
            first = next(iter(paged_search(conn, str(self.config["base_dn"]), self.user_filter, self.mapper.attributes(), 1, stats)), [])
            if not first:
                raise SyncError(f"no entry under base_dn matches {self.user_filter}")
            identity = self.mapper.identity(*first[0])
            if identity is None:
                raise SyncError(f"{first[0][0]} has no {self.flavour.id_attribute}; is the flavour right?")
            return f"users match {self.user_filter} (e.g. {first[0][0]}, username {identity.username!r})"

        def groups() -> str:
            for group in self.scope.groups:
                if base_entry(conn, group, self.flavour.group_filter(), ["1.1"], stats, "group lookup") is None:
                    raise SyncError(f"the group {group!r} was not found, or is not a group")
            return f"{len(self.scope.groups)} group(s) found"

        def incremental() -> str:
            if not self.flavour.syncrepl:
                return "Active Directory: every run reads in full (no incremental reads yet)"
            if current_cookie(self.config, self.reader.password, self.reader.where, self.user_filter, stats):
                return "content synchronisation (RFC 4533) offered: runs after the first read only changes"
            return "the server offers no content synchronisation (syncprov) here: every run reads in full"

        steps += [("users", users)]
        if self.scope.groups:
            steps.append(("groups", groups))
        steps.append(("incremental", incremental))
        for name, step in steps:
            try:
                detail = step()
                results.append(CheckResult(name, detail is not None, detail or "not found"))
            except (SyncError, ConfigError, ReadStopped) as exc:
                results.append(CheckResult(name, False, str(exc)))
        return results

    def close(self) -> None:
        self.reader.close()
