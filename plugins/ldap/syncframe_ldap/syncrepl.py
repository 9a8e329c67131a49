"""RFC 4533 content synchronisation, refreshOnly: what changed since a cookie.

One round is one search with the Sync Request control and the saved cookie. The
server (OpenLDAP's ``syncprov``) answers with the entries added or changed since
then, and either

- the entryUUIDs of deleted entries (its session log covers the cookie), or
- the entryUUIDs of every unchanged entry still there (the *present* phase): then
  whatever the client knew and was not named is gone.

The new cookie arrives with the final result. :func:`current_cookie` asks for a
cookie meaning "from now on" with a filter no entry matches, before a full read,
so a change made during the full read shows up again in the next round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import ldap
from ldap.ldapobject import SimpleLDAPObject
from ldap.syncrepl import SyncreplConsumer

from .connection import REQUEST_TIMEOUT, close, connect, error_text, result_code
from .search import Entry, SearchStats, stopped

#: the server cannot continue from this cookie (e-syncRefreshRequired, RFC 4533 section 2.5)
SYNC_REFRESH_REQUIRED = 0x1000


class SyncUnavailable(Exception):
    """The server offers no content synchronisation here, or not from this cookie; read in full."""


@dataclass
class SyncRound:
    """What one refreshOnly round said."""

    #: entryUUID -> the entry as it is now (added, changed, renamed)
    changed: dict[str, Entry] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)
    #: the server ended with a present phase: entries it did not name are gone
    delete_unpresented: bool = False
    cookie: str | None = None

    def removed(self, known: Sequence[str]) -> set[str]:
        """Of the ids the client knew, those that are gone."""
        gone = set(self.deleted)
        if self.delete_unpresented:
            gone.update(k for k in known if k not in self.present and k not in self.changed)
        return gone - set(self.changed)


class Consumer(SyncreplConsumer, SimpleLDAPObject):
    """A connection that collects one round into :attr:`round` (python-ldap calls the hooks)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.round = SyncRound()

    def syncrepl_set_cookie(self, cookie: str) -> None:
        self.round.cookie = cookie

    def syncrepl_get_cookie(self) -> str | None:
        return None  # the cookie is passed to syncrepl_search

    def syncrepl_entry(self, dn: str, attrs: dict[str, list[bytes]], uuid: str) -> None:
        key = str(uuid).lower()
        self.round.changed[key] = (dn, attrs)
        self.round.deleted.discard(key)

    def syncrepl_delete(self, uuids: Sequence[str]) -> None:
        for uuid in uuids:
            key = str(uuid).lower()
            self.round.deleted.add(key)
            self.round.changed.pop(key, None)

    def syncrepl_present(self, uuids: Sequence[str] | None, refreshDeletes: bool = False) -> None:  # noqa: N803 - python-ldap's name
        if uuids is None:
            self.round.delete_unpresented = not refreshDeletes
            return
        self.round.present.update(str(u).lower() for u in uuids)


def run_round(
    config: Mapping[str, Any], password: str | None, where: str, filterstr: str, attrs: Sequence[str], cookie: str | None, stats: SearchStats
) -> SyncRound:
    """One refreshOnly round over ``base_dn`` from ``cookie`` (None: everything).

    :raises SyncUnavailable: no content sync for this base, or not from this cookie.
    :raises ReadStopped: the round ended early (the cookie then does not advance).
    """
    conn: Consumer = connect(config, password, where, cls=Consumer)  # type: ignore[assignment]
    try:
        stats.requests += 1
        msgid = conn.syncrepl_search(str(config["base_dn"]), ldap.SCOPE_SUBTREE, mode="refreshOnly", cookie=cookie, filterstr=filterstr, attrlist=list(attrs))
        while conn.syncrepl_poll(msgid=msgid, all=1, timeout=REQUEST_TIMEOUT):
            pass
    except ldap.UNAVAILABLE_CRITICAL_EXTENSION as exc:
        raise SyncUnavailable(f"the server offers no content synchronisation for base_dn ({error_text(exc)})") from None
    except (ldap.UNWILLING_TO_PERFORM, ldap.PROTOCOL_ERROR) as exc:
        # e.g. "consumer state is newer than provider" after the server was restored
        # from a backup: a full read starts over, where every round would fail the same way
        raise SyncUnavailable(f"the server refused the saved cookie ({error_text(exc)})") from None
    except ldap.LDAPError as exc:
        if result_code(exc) == SYNC_REFRESH_REQUIRED:
            raise SyncUnavailable("the server cannot continue from the saved cookie and asked for a full refresh") from None
        raise stopped(exc, "content synchronisation") from exc
    finally:
        close(conn)
    stats.entries += len(conn.round.changed)
    return conn.round


def current_cookie(config: Mapping[str, Any], password: str | None, where: str, user_filter: str, stats: SearchStats) -> str | None:
    """A cookie meaning "from now on", or None where the server offers no content sync."""
    nothing = f"(&{user_filter}(!(objectClass=*)))"
    try:
        return run_round(config, password, where, nothing, ["1.1"], None, stats).cookie
    except SyncUnavailable:
        return None
