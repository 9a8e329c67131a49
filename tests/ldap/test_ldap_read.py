"""Full reads against the real slapd: pages, the identity of an entry, scope of disabled
accounts, filters, attribute overrides and TLS."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from syncframe import AuthenticationError, FatalSyncError, Identity, ReadResult, SyncError
from syncframe_ldap import slapd

from ldap_support import ALICE, BULK, BULK_USERS, CAROL, JDOE, JUERGEN, LOCKED, ZOE


def read(source: Any, bookmark: str | None = None, previous: dict[str, Identity] | None = None) -> ReadResult:
    return source.read(bookmark, previous or {}, lambda n, total=None: None)


def by_id(result: ReadResult) -> dict[str, Identity]:
    return {i.source_id: i for i in result.identities}


def test_full_read_of_2000_users_in_pages(make_source: Callable[..., Any]) -> None:
    """2,000 users at 500 a page: four pages, every user once, complete, with a cookie."""
    pages: list[int] = []
    source = make_source(base_dn=BULK, page_size=500)
    result = source.read(None, {}, lambda n, total=None: pages.append(n))
    assert result.complete and result.reason is None
    assert not result.incremental
    assert len(result.identities) == BULK_USERS
    assert len({i.username for i in result.identities}) == BULK_USERS
    assert pages == [500, 500, 500, 500]
    assert result.stats["pages"] == 4
    assert result.stats["why"] == "first read"
    assert '"cookie": "rid=' in (result.bookmark or "")
    user = next(i for i in result.identities if i.username == "user01999")
    assert user.email == "user01999@example.org" and user.phones == ("+49 30 0001999",)


def test_an_entry_becomes_an_identity(make_source: Callable[..., Any]) -> None:
    """entryUUID is the id; uid the username; names, phones, title, department, language."""
    users = by_id(read(make_source()))
    jdoe = users[JDOE]
    assert jdoe.username == "jdoe"
    assert (jdoe.display_name, jdoe.given_name, jdoe.surname) == ("John Doe", "John", "Doe")
    assert jdoe.email == "john.doe@example.org"
    assert jdoe.phones == ("+49 89 1234 100", "+49 89 1234 101")
    assert jdoe.mobile_phone == "+49 170 1234100"
    assert (jdoe.job_title, jdoe.department, jdoe.preferred_language) == ("Head of Support", "Support", "de")
    assert jdoe.enabled and jdoe.out_of_scope is None
    assert jdoe.extra["dn"] == "uid=jdoe,ou=people,dc=example,dc=org"
    # no displayName: the common name stands in
    assert users[CAROL].display_name == "Carol Cooper"


def test_a_non_ascii_name_reads_as_written(make_source: Callable[..., Any]) -> None:
    users = by_id(read(make_source()))
    assert users[ZOE].display_name == "Zoë Ångström"
    assert (users[ZOE].given_name, users[ZOE].surname) == ("Zoë", "Ångström")
    assert users[JUERGEN].username == "jürgen"


def test_a_locked_account_is_out_of_scope_unless_included(make_source: Callable[..., Any]) -> None:
    """ppolicy's pwdAccountLockedTime marks the account disabled; the source says why it is skipped."""
    locked = by_id(read(make_source()))[LOCKED]
    assert not locked.enabled
    assert locked.out_of_scope == "out of scope: locked by the password policy (pwdAccountLockedTime) (include_disabled = false)"
    included = by_id(read(make_source(include_disabled=True)))[LOCKED]
    assert not included.enabled and included.out_of_scope is None


def test_the_filter_is_anded_with_the_flavours(make_source: Callable[..., Any]) -> None:
    source = make_source(filter="(departmentNumber=Support)")
    assert source.user_filter == "(&(objectClass=inetOrgPerson)(departmentNumber=Support))"
    assert [i.username for i in read(source).identities] == ["jdoe"]


def test_attributes_override_the_flavours_mapping(make_source: Callable[..., Any]) -> None:
    users = by_id(read(make_source(attributes={"username": "mail", "department": "title"})))
    assert users[ALICE].username == "alice@example.org"
    assert users[JDOE].department == "Head of Support"


def test_start_tls_on_the_plain_port(make_source: Callable[..., Any], directory: slapd.ThrowawaySlapd) -> None:
    result = read(make_source(url=directory.url, start_tls=True))
    assert result.complete and JDOE in by_id(result)


def test_a_certificate_from_an_unknown_ca_is_refused(make_source: Callable[..., Any], tmp_path: Any) -> None:
    """A CA bundle that did not sign the server's certificate: no bind, no read."""
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(SyncError, match=r"cannot reach the LDAP server ldaps://127\.0\.0\.1:\d+"):
        read(make_source(ca_bundle=str(other)))


def test_a_wrong_bind_password_is_one_clear_line(make_source: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from ldap_support import PASSWORD_ENV

    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(AuthenticationError) as raised:
        read(make_source())
    message = str(raised.value)
    assert "\n" not in message
    assert "refused the bind as 'cn=syncframe,ou=service,dc=example,dc=org': invalid credentials" in message
    assert f"the environment variable {PASSWORD_ENV}" in message
    assert "not-the-password" not in message


def test_a_base_dn_that_does_not_exist_stops_the_run(make_source: Callable[..., Any]) -> None:
    with pytest.raises(FatalSyncError, match="check base_dn"):
        read(make_source(base_dn="ou=nowhere,dc=example,dc=org"))


def test_the_servers_size_limit_makes_the_read_incomplete(make_source: Callable[..., Any]) -> None:
    """The "limited" account keeps slapd's 500-entry limit: 2,000 users cannot all be read."""
    result = read(make_source(bind_dn=slapd.LIMITED_DN, base_dn=BULK, page_size=200))
    assert not result.complete
    assert result.reason is not None and "size limit" in result.reason
    assert 0 < len(result.identities) < BULK_USERS
    assert result.bookmark is None  # the old bookmark (none) stays


def test_a_referral_makes_the_read_incomplete(make_source: Callable[..., Any]) -> None:
    """ou=remote lives on another server: its users cannot be read, so the read is not whole."""
    result = read(make_source(base_dn=slapd.OPENLDAP_SUFFIX, page_size=1000))
    assert not result.complete
    assert "ldap://ldap.elsewhere.example/ou=remote,dc=example,dc=org" in (result.reason or "")
    assert "referrals are not followed" in (result.reason or "")
