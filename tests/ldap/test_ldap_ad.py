"""The ``ad`` flavour against the Active-Directory-like tree slapd serves under a small AD schema."""

from __future__ import annotations

import uuid
from typing import Any, Callable

from syncframe_ldap import slapd
from syncframe_ldap.flavours import object_guid, uac_disabled

from test_ldap_groups import AD_BASE, ERIKA, KARL, LENA, MAX


def ad_source(make_source: Callable[..., Any], **overrides: Any) -> Any:
    return make_source(flavour="ad", bind_dn=slapd.AD_SERVICE_DN, base_dn=AD_BASE, **overrides)


def test_object_guid_reads_as_the_standard_guid_string() -> None:
    """AD stores the first three fields little-endian; tools print the usual form."""
    raw = bytes.fromhex("00eeffc03412bc328def000000000001")
    assert object_guid([raw]) == "c0ffee00-1234-32bc-8def-000000000001"
    assert object_guid([uuid.UUID(MAX).bytes_le]) == MAX
    assert object_guid([b"short"]) is None


def test_user_account_control_bit_2_is_disabled() -> None:
    assert uac_disabled([b"514"]) and not uac_disabled([b"512"]) and not uac_disabled([b"66048"])
    assert uac_disabled([b"66050"])


def test_ad_users_read_with_guid_upn_and_account_state(make_source: Callable[..., Any]) -> None:
    result = ad_source(make_source).read(None, {}, lambda n, total=None: None)
    users = {i.source_id: i for i in result.identities}
    # the computer account WS0042 is objectClass=user too, and is left out
    assert set(users) == {MAX, ERIKA, KARL, LENA}
    max_ = users[MAX]
    assert max_.username == "mmustermann@corp.example.com"
    assert (max_.display_name, max_.email, max_.department, max_.job_title) == ("Max Mustermann", "max.mustermann@example.com", "Sales", "Account Manager")
    assert max_.phones == ("+49 30 5555 01",)
    assert not users[ERIKA].enabled
    assert users[ERIKA].out_of_scope == "out of scope: disabled account (userAccountControl 0x2) (include_disabled = false)"
    assert users[KARL].enabled  # 66048: a normal account whose password does not expire


def test_sam_account_name_can_be_the_username(make_source: Callable[..., Any]) -> None:
    result = ad_source(make_source, attributes={"username": "sAMAccountName"}).read(None, {}, lambda n, total=None: None)
    assert sorted(i.username for i in result.identities) == ["emusterfrau", "kwinter", "lsommer", "mmustermann"]


def test_active_directory_is_read_in_full_every_run(make_source: Callable[..., Any]) -> None:
    """No DirSync or uSNChanged yet: no bookmark, and the next run reads everything again."""
    source = ad_source(make_source)
    first = source.read(None, {}, lambda n, total=None: None)
    assert first.complete and first.bookmark is None
    again = source.read(first.bookmark, {i.source_id: i for i in first.identities}, lambda n, total=None: None)
    assert not again.incremental and len(again.identities) == 4
    assert again.stats["why"] == "Active Directory is read in full every run"
