"""Incremental reads through RFC 4533 content synchronisation (slapd's syncprov), refreshOnly:
a round returns only what changed, deletions as entryUUIDs, and falls back to a full read
where it cannot go on from the cookie."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from syncframe import Identity, ReadResult
from syncframe_ldap import slapd
from syncframe_ldap.source import Bookmark

import ldap_support
from ldap_support import entry_uuid, person, python_ldap


def read(source: Any, previous: ReadResult | dict[str, Identity] | None = None) -> ReadResult:
    """A read from where ``previous`` (a result, or a view) left off."""
    if isinstance(previous, ReadResult):
        bookmark, view = previous.bookmark, {i.source_id: i for i in previous.identities}
    else:
        bookmark, view = None, dict(previous or {})
    return source.read(bookmark, view, lambda n, total=None: None)


def patched(view: ReadResult, result: ReadResult) -> ReadResult:
    """The next round's starting point: the view patched with an incremental result (as the engine does)."""
    users = {i.source_id: i for i in view.identities}
    users.update({i.source_id: i for i in result.identities})
    for sid in result.removed:
        users.pop(sid, None)
    return ReadResult(tuple(users.values()), complete=True, bookmark=result.bookmark)


def populate(conn: Any, ou: str, count: int) -> None:
    for n in range(count):
        dn, attrs = person(f"u{n}", "User", str(n), ou)
        conn.add_s(dn, list(attrs.items()))


def test_a_round_returns_only_changes_and_deletions(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    ldap = python_ldap()
    populate(admin, own_ou, 20)
    source = make_source(base_dn=own_ou)
    first = read(source)
    assert len(first.identities) == 20 and not first.incremental

    admin.modify_s(f"uid=u3,{own_ou}", [(ldap.MOD_REPLACE, "mail", [b"u3.new@example.org"])])
    gone = entry_uuid(admin, f"uid=u5,{own_ou}")
    admin.delete_s(f"uid=u5,{own_ou}")
    dn, attrs = person("newcomer", "New", "Comer", own_ou)
    admin.add_s(dn, list(attrs.items()))

    second = read(source, first)
    assert second.complete and second.incremental
    assert sorted(i.username for i in second.identities) == ["newcomer", "u3"]
    assert next(i for i in second.identities if i.username == "u3").email == "u3.new@example.org"
    assert second.removed == (gone,)
    assert second.stats["phase"] == "deletions"
    assert second.bookmark != first.bookmark

    quiet = read(source, patched(first, second))
    assert quiet.incremental and quiet.identities == () and quiet.removed == ()


def test_a_renamed_entry_keeps_its_id(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    """modrdn: the same entryUUID arrives with its new DN and uid."""
    populate(admin, own_ou, 3)
    source = make_source(base_dn=own_ou)
    first = read(source)
    before = entry_uuid(admin, f"uid=u1,{own_ou}")
    admin.rename_s(f"uid=u1,{own_ou}", "uid=u1.renamed", delold=1)
    second = read(source, first)
    [renamed] = second.identities
    assert (renamed.source_id, renamed.username, renamed.extra["dn"]) == (before, "u1.renamed", f"uid=u1.renamed,{own_ou}")
    assert second.removed == ()


def test_an_entry_that_leaves_the_filter_or_the_base_is_removed(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    """syncprov reports an entry that no longer matches, or moved away, as deleted."""
    ldap = python_ldap()
    for n in range(3):
        dn, attrs = person(f"u{n}", "User", str(n), own_ou, departmentNumber="Support")
        admin.add_s(dn, list(attrs.items()))
    source = make_source(base_dn=own_ou, filter="(departmentNumber=Support)")
    first = read(source)
    left = entry_uuid(admin, f"uid=u1,{own_ou}")
    moved = entry_uuid(admin, f"uid=u2,{own_ou}")
    admin.modify_s(f"uid=u1,{own_ou}", [(ldap.MOD_REPLACE, "departmentNumber", [b"Sales"])])
    admin.rename_s(f"uid=u2,{own_ou}", "uid=u2", newsuperior=f"ou=service,{slapd.OPENLDAP_SUFFIX}")
    second = read(source, first)
    assert second.incremental and second.identities == ()
    assert set(second.removed) == {left, moved}
    admin.delete_s(f"uid=u2,ou=service,{slapd.OPENLDAP_SUFFIX}")


def test_a_membership_change_rescopes_users_whose_entries_did_not_change(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    ldap = python_ldap()
    populate(admin, own_ou, 3)
    group = f"cn=phones,{own_ou}"
    admin.add_s(group, [("objectClass", [b"groupOfNames"]), ("cn", [b"phones"]), ("member", [f"uid=u0,{own_ou}".encode()])])
    source = make_source(base_dn=own_ou, groups=[group])
    first = read(source)
    assert sorted(i.username for i in first.identities if i.out_of_scope is None) == ["u0"]

    admin.modify_s(group, [(ldap.MOD_ADD, "member", [f"uid=u2,{own_ou}".encode()]), (ldap.MOD_DELETE, "member", [f"uid=u0,{own_ou}".encode()])])
    second = read(source, first)
    assert second.incremental
    changed = {i.username: i for i in second.identities}
    assert set(changed) == {"u0", "u2"}
    assert changed["u2"].out_of_scope is None and changed["u2"].groups == (group,)
    assert changed["u0"].out_of_scope is not None and "not a member" in changed["u0"].out_of_scope
    assert second.stats["rescoped"] == 2


def test_changed_settings_read_in_full(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    populate(admin, own_ou, 2)
    first = read(make_source(base_dn=own_ou))
    again = read(make_source(base_dn=own_ou, filter="(uid=u1)"), first)
    assert not again.incremental and [i.username for i in again.identities] == ["u1"]
    assert again.stats["why"] == "the settings changed since the last read"


def test_a_cookie_the_server_refuses_reads_in_full(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    """A cookie newer than the server (restored from a backup): start over, do not fail forever."""
    populate(admin, own_ou, 2)
    source = make_source(base_dn=own_ou)
    first = read(source)
    future = Bookmark("rid=000,csn=20991231000000.000000Z#000000#000#000000", source.fingerprint()).encode()
    again = source.read(future, {i.source_id: i for i in first.identities}, lambda n, total=None: None)
    assert again.complete and not again.incremental and len(again.identities) == 2
    assert "consumer state is newer than provider" in again.stats["why"]
    assert '"cookie": "rid=000' in (again.bookmark or "")


@pytest.fixture
def small_server() -> Iterator[Callable[..., slapd.ThrowawaySlapd]]:
    """Throwaway servers of their own, with other syncprov settings than the shared one."""
    ldap_support.require()
    started: list[slapd.ThrowawaySlapd] = []

    def start(**options: Any) -> slapd.ThrowawaySlapd:
        server = slapd.ThrowawaySlapd(data={slapd.OPENLDAP_SUFFIX: ldap_support.bulk_ldif(12, SMALL)}, **options)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


SMALL = f"ou=small,{slapd.OPENLDAP_SUFFIX}"


def test_deletions_beyond_the_session_log_come_as_a_present_phase(make_source: Callable[..., Any], small_server: Callable[..., slapd.ThrowawaySlapd]) -> None:
    """syncprov remembers 2 writes here: after 5 deletions it names every entry still there,
    and the users it did not name are the ones removed."""
    server = small_server(sessionlog=2)
    conn = ldap_support.admin(server)
    gone = {entry_uuid(conn, f"uid=user{n:05d},{SMALL}") for n in range(5)}
    source = make_source(server=server, base_dn=SMALL)
    first = read(source)
    for n in range(5):
        conn.delete_s(f"uid=user{n:05d},{SMALL}")
    conn.unbind_s()
    second = read(source, first)
    assert second.complete and second.incremental
    assert second.stats["phase"] == "present"
    assert set(second.removed) == gone and second.identities == ()


def test_a_server_without_syncprov_is_read_in_full_every_run(make_source: Callable[..., Any], small_server: Callable[..., slapd.ThrowawaySlapd]) -> None:
    server = small_server(syncprov=False)
    source = make_source(server=server, base_dn=SMALL)
    first = read(source)
    assert first.complete and '"cookie": null' in (first.bookmark or "")
    again = read(source, first)
    assert not again.incremental and len(again.identities) == 12
    assert again.stats["why"] == "the server offered no content synchronisation"


def test_a_view_without_dns_reads_in_full_when_groups_are_set(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    """Group scope is decided by DN; a saved view without them would make everyone a non-member."""
    populate(admin, own_ou, 2)
    group = f"cn=g,{own_ou}"
    admin.add_s(group, [("objectClass", [b"groupOfNames"]), ("cn", [b"g"]), ("member", [f"uid=u0,{own_ou}".encode()])])
    source = make_source(base_dn=own_ou, groups=[group])
    first = read(source)
    stripped = {i.source_id: i.replace(extra={}) for i in first.identities}
    again = source.read(first.bookmark, stripped, lambda n, total=None: None)
    assert not again.incremental and again.stats["why"] == "the saved view does not hold every user's DN"
    assert [i.username for i in again.identities if i.out_of_scope is None] == ["u0"]
