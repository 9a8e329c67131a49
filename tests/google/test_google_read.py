"""Reading users from the Workspace simulator: paging, mapping, and the scope rules
(suspended, archived, org units, nested groups)."""

from __future__ import annotations

import pytest

from google_helpers import api_queries, by_username, in_scope
from syncframe import FatalSyncError, no_progress
from syncframe_google.users import LIST_FIELDS


def test_1200_users_are_read_in_three_pages(sim, make_source) -> None:
    sim.workspace.generate_users(1200, seed=3, suspended_ratio=0, archived_ratio=0)
    seen: list[int] = []
    result = make_source().read(None, {}, lambda n, total=None: seen.append(n))
    assert result.complete and result.reason is None and not result.incremental and result.bookmark is None
    assert len(result.identities) == 1200 and len({i.source_id for i in result.identities}) == 1200
    assert result.stats["pages"] == 3 and result.stats["requests"] == 3 and result.stats["token_requests"] == 1
    assert seen == [500, 500, 200]
    first, second, third = api_queries(sim)
    assert first == {"customer": "my_customer", "maxResults": "500", "projection": "basic", "fields": LIST_FIELDS}
    assert second["pageToken"] and third["pageToken"] and "showDeleted" not in third


def test_a_user_becomes_an_identity(sim, make_source) -> None:
    sim.workspace.add_user(
        "anna.schmidt@example.com", "Anna", "Schmidt", id="100000000000000000001",
        phones=[{"value": "+49 89 1111", "type": "home"}, {"value": "+49 89 2222", "type": "work"},
                {"value": "+49 89 3333", "type": "work", "primary": True}, {"value": "+49 170 4444", "type": "mobile"}],
        organizations=[{"title": "Intern", "department": "Old", "customType": ""}, {"title": "Head of Sales", "department": "Sales", "primary": True, "customType": ""}],
        languages=[{"languageCode": "de", "preference": "preferred"}],
        orgUnitPath="/Sales",
    )
    anna = by_username(make_source().read(None, {}, no_progress))["anna.schmidt@example.com"]
    assert anna.source_id == "100000000000000000001" and anna.email == "anna.schmidt@example.com"
    assert (anna.display_name, anna.given_name, anna.surname) == ("Anna Schmidt", "Anna", "Schmidt")
    assert anna.phones == ("+49 89 3333", "+49 89 2222") and anna.mobile_phone == "+49 170 4444"
    assert (anna.job_title, anna.department, anna.preferred_language) == ("Head of Sales", "Sales", "de")
    assert anna.enabled and anna.out_of_scope is None and anna.extra["org_unit"] == "/Sales"


def test_a_renamed_user_keeps_its_id(sim, make_source) -> None:
    user = sim.workspace.add_user("ben@example.com", "Ben", "Weber")
    source = make_source()
    source.read(None, {}, no_progress)
    sim.workspace.rename(user["id"], "ben.weber@example.com")
    (ben,) = source.read(None, {}, no_progress).identities
    assert (ben.source_id, ben.username) == (user["id"], "ben.weber@example.com")


def test_suspended_and_archived_users_are_out_of_scope_unless_included(sim, make_source) -> None:
    sim.workspace.add_user("active@example.com", "A", "Ctive")
    sim.workspace.add_user("gone@example.com", "Sus", "Pended", suspended=True)
    sim.workspace.add_user("old@example.com", "Ar", "Chived", archived=True)
    users = by_username(make_source().read(None, {}, no_progress))
    assert users["gone@example.com"].out_of_scope == "out of scope: suspended account (include_suspended = false)"
    assert users["old@example.com"].out_of_scope == "out of scope: archived account (include_archived = false)"
    assert not users["gone@example.com"].enabled and not users["old@example.com"].enabled
    assert users["active@example.com"].out_of_scope is None
    included = make_source(include_suspended=True, include_archived=True).read(None, {}, no_progress)
    assert in_scope(included) == {"active@example.com", "gone@example.com", "old@example.com"}


def test_org_units_include_their_sub_units(sim, make_source) -> None:
    for email, unit in (("root@example.com", "/"), ("sales@example.com", "/Sales"), ("berlin@example.com", "/Sales/Berlin"),
                        ("salesforce@example.com", "/Salesforce"), ("support@example.com", "/Support"), ("dev@example.com", "/Engineering")):
        sim.workspace.add_user(email, "X", "Y", orgUnitPath=unit)
    result = make_source(org_units=["/Sales", "/Support/"]).read(None, {}, no_progress)
    assert in_scope(result) == {"sales@example.com", "berlin@example.com", "support@example.com"}
    assert by_username(result)["salesforce@example.com"].out_of_scope == "out of scope: org unit /Salesforce is outside org_units (/Sales, /Support/)"
    assert in_scope(make_source(org_units=["/"]).read(None, {}, no_progress)) == {i.username for i in result.identities}


def test_nested_groups_are_expanded_and_cycles_tolerated(sim, make_source) -> None:
    ws = sim.workspace
    anna, ben, carla, _dora = (ws.add_user(f"{n}@example.com", n.title(), "X")["id"] for n in ("anna", "ben", "carla", "dora"))
    ws.add_group("telephony@example.com")
    ws.add_group("sales@example.com")
    ws.add_group("berlin@example.com")
    ws.add_member("telephony@example.com", anna)
    ws.add_member("telephony@example.com", "sales@example.com")
    ws.add_member("sales@example.com", ben)
    ws.add_member("sales@example.com", "berlin@example.com")
    ws.add_member("berlin@example.com", carla)
    ws.add_member("berlin@example.com", "telephony@example.com")  # a cycle
    ws.add_member("berlin@example.com", "partner@elsewhere.example")  # outside the account
    result = make_source(groups=["telephony@example.com"]).read(None, {}, no_progress)
    assert result.complete
    assert in_scope(result) == {"anna@example.com", "ben@example.com", "carla@example.com"}
    users = by_username(result)
    assert users["dora@example.com"].out_of_scope == "out of scope: not a member of groups (telephony@example.com)"
    assert users["carla@example.com"].groups == ("telephony@example.com",)
    # every group read once, the cycle included
    assert sorted(r.path for r in sim.requests if r.path.endswith("/members")) == sorted(
        f"/admin/directory/v1/groups/{ws.find_group(g)['id'] if g != 'telephony@example.com' else g}/members"
        for g in ("telephony@example.com", "sales@example.com", "berlin@example.com")
    )


def test_a_group_of_everyone_and_several_groups(sim, make_source) -> None:
    ws = sim.workspace
    anna = ws.add_user("anna@example.com", "Anna", "X")["id"]
    ws.add_user("ben@example.com", "Ben", "X")
    ws.add_group("all@example.com")
    ws.add_member("all@example.com", "customer")
    ws.add_group("phones@example.com")
    ws.add_member("phones@example.com", anna)
    result = make_source(groups=["phones@example.com", "all@example.com"]).read(None, {}, no_progress)
    assert in_scope(result) == {"anna@example.com", "ben@example.com"}
    assert by_username(result)["anna@example.com"].groups == ("phones@example.com", "all@example.com")


def test_group_members_are_paged(sim, make_source) -> None:
    ws = sim.workspace
    ws.add_group("big@example.com")
    for uid in ws.generate_users(450, seed=1, suspended_ratio=0, archived_ratio=0):
        ws.add_member("big@example.com", uid)
    ws.add_user("outside@example.com", "Out", "Side")
    result = make_source(groups=["big@example.com"]).read(None, {}, no_progress)
    assert len(in_scope(result)) == 450 and result.stats["pages"] == 3 + 1


def test_a_missing_group_stops_the_read(sim, make_source) -> None:
    sim.workspace.add_user("anna@example.com", "Anna", "X")
    with pytest.raises(FatalSyncError, match="the group 'nope@example.com' \\(groups\\) was not found"):
        make_source(groups=["nope@example.com"]).read(None, {}, no_progress)


def test_a_domain_reads_only_that_domain(sim, make_source) -> None:
    sim.workspace.add_user("anna@example.com", "Anna", "X")
    sim.workspace.add_user("ben@other.example", "Ben", "X")
    result = make_source(domain="example.com").read(None, {}, no_progress)
    assert [i.username for i in result.identities] == ["anna@example.com"]
    assert api_queries(sim)[0]["domain"] == "example.com" and "customer" not in api_queries(sim)[0]
