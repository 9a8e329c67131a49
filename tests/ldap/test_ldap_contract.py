"""What any source owes the host, checked for the LDAP source against the real slapd.

There is no conformance kit in ``syncframe.testing`` yet; these are its checks, written
for this source: identities the host accepts, stable unique ids, scope reasons in the
host's words, bookmarks that round-trip, an incremental view equal to a fresh full read,
and ``check``/``close`` that behave. (Public imports only: tests/host/test_neutral_host.py
checks every plugin.)
"""

from __future__ import annotations

from typing import Any, Callable

from syncframe import Identity, ReadResult, Source
from syncframe.engine.validate import validate
from syncframe_ldap.source import LdapSource

from ldap_support import BULK, GROUPS, PEOPLE, person, python_ldap
from test_ldap_syncrepl import patched, read

def test_it_is_a_source() -> None:
    assert issubclass(LdapSource, Source)


def test_every_identity_is_one_the_host_accepts(make_source: Callable[..., Any]) -> None:
    for source in (make_source(), make_source(base_dn=BULK)):
        result = read(source)
        ids = [i.source_id for i in result.identities]
        assert len(ids) == len(set(ids)) and all(ids)
        for identity in result.identities:
            valid, errors = validate(identity)
            assert valid is not None, (identity.username, errors)
            assert identity.out_of_scope is None or identity.out_of_scope.startswith("out of scope: ")


def test_ids_are_stable_from_read_to_read(make_source: Callable[..., Any]) -> None:
    first = {i.source_id: i.username for i in read(make_source()).identities}
    again = {i.source_id: i.username for i in read(make_source()).identities}
    assert first == again


def test_an_incremental_view_equals_a_fresh_full_read(make_source: Callable[..., Any], admin: Any, own_ou: str) -> None:
    """Whatever happens between two runs, the view patched with a round is what a full read says."""
    ldap = python_ldap()
    for n in range(8):
        dn, attrs = person(f"p{n}", "Person", str(n), own_ou)
        admin.add_s(dn, list(attrs.items()))
    group = f"cn=desk,{own_ou}"
    admin.add_s(group, [("objectClass", [b"groupOfNames"]), ("cn", [b"desk"]), ("member", [f"uid=p{n},{own_ou}".encode() for n in range(4)])])
    settings = {"base_dn": own_ou, "groups": [group]}
    view = read(make_source(**settings))

    admin.modify_s(f"uid=p1,{own_ou}", [(ldap.MOD_REPLACE, "telephoneNumber", [b"+49 40 111"])])
    admin.modify_s(f"uid=p2,{own_ou}", [(ldap.MOD_ADD, "pwdAccountLockedTime", [b"000001010000Z"])])
    admin.rename_s(f"uid=p3,{own_ou}", "uid=p3.new", delold=1)
    admin.delete_s(f"uid=p4,{own_ou}")
    admin.modify_s(group, [(ldap.MOD_ADD, "member", [f"uid=p5,{own_ou}".encode()])])
    dn, attrs = person("p9", "Person", "9", own_ou)
    admin.add_s(dn, list(attrs.items()))

    changes = read(make_source(**settings), view)
    assert changes.incremental and changes.complete
    fresh = read(make_source(**settings))
    assert as_view(patched(view, changes)) == as_view(fresh)


def as_view(result: ReadResult) -> dict[str, Identity]:
    return {i.source_id: i for i in result.identities}


def test_check_passes_and_close_can_be_called_twice(make_source: Callable[..., Any]) -> None:
    source = make_source(groups=[f"cn=telephony,{GROUPS}"], base_dn=PEOPLE)
    results = source.check()
    assert [r.name for r in results] == ["bind", "base_dn", "users", "groups", "incremental"]
    assert all(r.ok for r in results), results
    source.close()
    source.close()
