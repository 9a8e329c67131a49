"""Group scope against the real slapd: nested groups, cycles, both group classes, and the
Active Directory flavour's fallback from the in-chain rule to walking members."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from syncframe import FatalSyncError, Identity

from ldap_support import ALICE, BOB, CAROL, DAVE, GROUPS, JDOE, LOCKED

TELEPHONY = f"cn=telephony,{GROUPS}"
OTHER = f"cn=other,{GROUPS}"
AD_PHONES = "cn=phones,ou=groups,dc=corp,dc=example,dc=com"
AD_BASE = "dc=corp,dc=example,dc=com"
#: the objectGUIDs of tests/ldap/data/ad.ldif, as AD's tools print them
MAX = "c0ffee00-1234-4abc-8def-000000000001"
ERIKA = "c0ffee00-1234-4abc-8def-000000000002"
KARL = "c0ffee00-1234-4abc-8def-000000000003"
LENA = "c0ffee00-1234-4abc-8def-000000000004"


def users(source: Any) -> dict[str, Identity]:
    result = source.read(None, {}, lambda n, total=None: None)
    assert result.complete, result.reason
    return {i.source_id: i for i in result.identities}


def test_members_of_nested_groups_are_in_scope(make_source: Callable[..., Any]) -> None:
    """telephony holds alice and sales; sales holds bob, telephony again (a cycle) and the
    groupOfUniqueNames support, which holds carol (with an optional UID) and a dangling DN."""
    found = users(make_source(groups=[TELEPHONY]))
    assert {sid for sid, i in found.items() if i.out_of_scope is None} == {ALICE, BOB, CAROL}
    assert found[ALICE].groups == (TELEPHONY,)
    assert found[CAROL].groups == (TELEPHONY,)
    assert found[DAVE].out_of_scope == f"out of scope: not a member of {TELEPHONY!r} (groups), nested groups included"
    assert found[DAVE].groups == ()
    # a disabled member stays out for being disabled, whatever its groups
    assert found[LOCKED].out_of_scope is not None and "pwdAccountLockedTime" in found[LOCKED].out_of_scope


def test_every_configured_group_counts(make_source: Callable[..., Any]) -> None:
    found = users(make_source(groups=[TELEPHONY, OTHER]))
    assert found[DAVE].out_of_scope is None and found[DAVE].groups == (OTHER,)
    assert found[BOB].groups == (TELEPHONY,)
    assert found[JDOE].out_of_scope is not None


def test_a_group_that_does_not_exist_stops_the_run(make_source: Callable[..., Any]) -> None:
    """Reading on would remove every member of a group that is only misspelt."""
    with pytest.raises(FatalSyncError, match="cn=telefony.*was not found"):
        users(make_source(groups=[f"cn=telefony,{GROUPS}"]))


def test_a_user_is_not_a_group(make_source: Callable[..., Any]) -> None:
    with pytest.raises(FatalSyncError, match="not a group"):
        users(make_source(groups=["uid=jdoe,ou=people,dc=example,dc=org"]))


def test_ad_group_scope_walks_the_members_when_the_server_ignores_the_in_chain_rule(make_source: Callable[..., Any]) -> None:
    """slapd does not implement LDAP_MATCHING_RULE_IN_CHAIN: it answers the filter with nobody.
    The direct members show that answer is wrong, so the members are walked, and the read says so."""
    from syncframe_ldap import slapd

    source = make_source(flavour="ad", bind_dn=slapd.AD_SERVICE_DN, base_dn=AD_BASE, groups=[AD_PHONES])
    result = source.read(None, {}, lambda n, total=None: None)
    assert result.complete
    found = {i.source_id: i for i in result.identities}
    # Max directly, Karl through the nested group "field"
    assert {sid for sid, i in found.items() if i.out_of_scope is None} == {MAX, KARL}
    assert found[LENA].out_of_scope is not None and "not a member" in found[LENA].out_of_scope
    assert result.stats["groups"] == {AD_PHONES: "walked"}
