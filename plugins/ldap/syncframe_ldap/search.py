"""Simple paged results (RFC 2696), and telling a finished search from one cut short.

A search that stops before its last page (a size or time limit, a referral, the
server gone) raises :class:`ReadStopped` with the reason; the source turns that
into an incomplete read, so nobody is removed. A mistake in the profile (a bad
filter, a base DN that does not exist) raises at once instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import ldap
from ldap.controls import SimplePagedResultsControl
from ldap.ldapobject import SimpleLDAPObject

from syncframe import AuthenticationError, ConfigError, FatalSyncError

from .connection import REQUEST_TIMEOUT, error_text

#: (dn, attribute -> values); values are the raw octets
Entry = tuple[str, dict[str, list[bytes]]]


class ReadStopped(Exception):
    """A search ended early; ``str()`` says why."""


@dataclass
class SearchStats:
    """What the reads cost, for the run's report."""

    requests: int = 0
    pages: int = 0
    entries: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "pages": self.pages, "entries": self.entries}


def stopped(exc: ldap.LDAPError, what: str) -> Exception:
    """The exception a failed request becomes: a profile mistake, a refused right, or an early stop."""
    if isinstance(exc, ldap.FILTER_ERROR):
        return ConfigError(f"the LDAP filter of the {what} is not valid: {error_text(exc)}")
    if isinstance(exc, ldap.NO_SUCH_OBJECT):
        return FatalSyncError(f"the {what} found no such entry: {error_text(exc)}; check base_dn")
    if isinstance(exc, ldap.INSUFFICIENT_ACCESS):
        return AuthenticationError(f"the bind account may not run the {what}: {error_text(exc)}")
    if isinstance(exc, ldap.SIZELIMIT_EXCEEDED):
        return ReadStopped("the server's size limit ended the search; give the bind account an unlimited size limit (see the plugin README)")
    if isinstance(exc, (ldap.TIMELIMIT_EXCEEDED, ldap.TIMEOUT)):
        return ReadStopped(f"the search ran into a time limit: {error_text(exc)}")
    if isinstance(exc, ldap.ADMINLIMIT_EXCEEDED):
        return ReadStopped(f"an administrative limit of the server ended the search: {error_text(exc)}")
    if isinstance(exc, ldap.REFERRAL):
        return ReadStopped(f"the server referred the search elsewhere ({error_text(exc)}); referrals are not followed: point url at a server holding base_dn")
    if isinstance(exc, (ldap.SERVER_DOWN, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY)):
        return ReadStopped(f"the LDAP server went away: {error_text(exc)}")
    return ReadStopped(f"the {what} failed: {error_text(exc)}")


def split_references(data: Sequence[tuple[str | None, object]]) -> tuple[list[Entry], list[str]]:
    """Entries, and the URLs of search references (continuations the server sent instead)."""
    entries: list[Entry] = []
    references: list[str] = []
    for dn, value in data:
        if dn is None:
            references.extend(str(url) for url in value or ())  # type: ignore[union-attr]
        else:
            entries.append((dn, value))  # type: ignore[arg-type]
    return entries, references


def paged_search(
    conn: SimpleLDAPObject, base: str, filterstr: str, attrs: Sequence[str], page_size: int, stats: SearchStats, what: str = "user search"
) -> Iterator[list[Entry]]:
    """Yield the entries of a subtree search page by page.

    :raises ReadStopped: after the pages already yielded, when the search ended early.
    """
    control = SimplePagedResultsControl(criticality=False, size=page_size, cookie=b"")
    while True:
        try:
            stats.requests += 1
            msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, filterstr, list(attrs), serverctrls=[control])
            _, data, _, controls = conn.result3(msgid, timeout=REQUEST_TIMEOUT)
        except ldap.LDAPError as exc:
            raise stopped(exc, what) from exc
        stats.pages += 1
        entries, references = split_references(data)
        stats.entries += len(entries)
        yield entries
        if references:
            raise ReadStopped(f"the server referred part of the search to {references[0]}; referrals are not followed")
        cookie = next((c.cookie for c in controls if c.controlType == SimplePagedResultsControl.controlType), None)
        if not cookie:
            return
        control.cookie = cookie


def base_entry(conn: SimpleLDAPObject, dn: str, filterstr: str, attrs: Sequence[str], stats: SearchStats, what: str) -> Entry | None:
    """The entry ``dn`` if it exists and matches ``filterstr``, else None."""
    try:
        stats.requests += 1
        found = conn.search_ext_s(dn, ldap.SCOPE_BASE, filterstr, list(attrs), timeout=REQUEST_TIMEOUT)
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.LDAPError as exc:
        raise stopped(exc, what) from exc
    entries, _ = split_references(found)
    return entries[0] if entries else None
