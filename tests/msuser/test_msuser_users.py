"""Graph users -> identities, and the bookmark the source keeps between runs."""

from __future__ import annotations

from syncframe_msuser.source import Bookmark
from syncframe_msuser.users import SELECT, is_whole, out_of_scope, properties, to_graph, to_identity

MEMBER = {
    "id": "4f1d2c7e-0000-4000-8000-000000000001",
    "userPrincipalName": "mmustermann@contoso.onmicrosoft.com",
    "displayName": "Max Mustermann",
    "givenName": "Max",
    "surname": "Mustermann",
    "mail": "max@contoso.com",
    "businessPhones": ["+49 991 29691 100"],
    "mobilePhone": None,
    "jobTitle": "Sales",
    "department": "Vertrieb",
    "preferredLanguage": "de-DE",
    "accountEnabled": True,
    "userType": "Member",
}


def test_a_member_becomes_an_identity_field_by_field() -> None:
    identity = to_identity(MEMBER, groups=("Telephony",))
    assert identity.source_id == MEMBER["id"]
    assert identity.username == "mmustermann@contoso.onmicrosoft.com"
    assert (identity.display_name, identity.given_name, identity.surname) == ("Max Mustermann", "Max", "Mustermann")
    assert identity.phones == ("+49 991 29691 100",) and identity.mobile_phone is None
    assert (identity.job_title, identity.department, identity.preferred_language) == ("Sales", "Vertrieb", "de-DE")
    assert identity.enabled is True and identity.extra["guest"] is False and identity.groups == ("Telephony",)


def test_guests_are_marked_by_user_type_or_by_ext_upn() -> None:
    assert to_identity({**MEMBER, "userType": "Guest"}).extra["guest"] is True
    ext = {**MEMBER, "userType": None, "userPrincipalName": "anna_fabrikam.com#EXT#@contoso.onmicrosoft.com"}
    assert to_identity(ext).extra["guest"] is True


def test_the_source_decides_scope_with_a_reason() -> None:
    guest = to_identity({**MEMBER, "userType": "Guest"})
    disabled = to_identity({**MEMBER, "accountEnabled": False})
    assert "guest" in out_of_scope(guest, include_guests=False, include_disabled=False)
    assert out_of_scope(guest, include_guests=True, include_disabled=False) is None
    assert "disabled" in out_of_scope(disabled, include_guests=False, include_disabled=False)
    assert out_of_scope(disabled, include_guests=False, include_disabled=True) is None
    assert out_of_scope(to_identity(MEMBER), include_guests=False, include_disabled=False) is None


def test_disabled_users_are_marked_not_dropped() -> None:
    assert to_identity({**MEMBER, "accountEnabled": False}).enabled is False


def test_an_identity_round_trips_to_graph_shape() -> None:
    assert to_graph(to_identity(MEMBER)) == MEMBER
    assert is_whole(MEMBER) and set(SELECT) == set(MEMBER)
    assert not is_whole({"id": MEMBER["id"], "jobTitle": "CEO"})
    assert properties({"id": "x", "@odata.type": "#microsoft.graph.user", "manager@delta": [], "mail": None}) == {"id": "x", "mail": None}


def test_a_bookmark_round_trips_and_bad_ones_are_ignored() -> None:
    mark = Bookmark("https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc", 1700000000.5, "f00d")
    assert Bookmark.decode(mark.encode()) == mark
    for bad in (None, "", "not json", "{}", '{"v": 99, "full_read_at": 1, "fingerprint": "x"}', "[1]"):
        assert Bookmark.decode(bad) is None
