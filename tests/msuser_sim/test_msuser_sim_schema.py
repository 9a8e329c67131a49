"""Every user, group and presence the simulator serves validates against Microsoft's schema
(``data/v1.0-user-presence-group-schema.json``, extracted from the Graph v1.0 CSDL)."""

from __future__ import annotations

import json

import pytest

from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import DATA, EdmValidator

SCHEMA = json.loads((DATA / "v1.0-user-presence-group-schema.json").read_text())
VALIDATOR = EdmValidator(SCHEMA)
SINGLE_ONLY = {"aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
               "responsibilities", "schools", "skills", "mailboxSettings"}
ALL_LISTABLE = sorted(set(VALIDATOR.properties("user")) - SINGLE_ONLY)


@pytest.fixture
def tenant_with_everyone(sim: GraphSimulator) -> GraphSimulator:
    t = sim.tenant
    t.generate_users(300, seed=40, guest_ratio=0.2, disabled_ratio=0.2)
    t.add_user(userPrincipalName="max.mustermann@contoso.onmicrosoft.com", givenName="Max", surname="Mustermann",
               businessPhones=["+49 30 1234567"], mobilePhone="+49 171 2345678", jobTitle="Vertrieb",
               department="Sales", preferredLanguage="de-DE", employeeId="4711", otherMails=["max@example.org"],
               onPremisesSamAccountName="mmustermann", companyName="Contoso GmbH", city="Berlin", country="DE")
    t.add_user(userPrincipalName="room.a@contoso.onmicrosoft.com", displayName="Room A", mail=None)
    return sim


def _assert_valid(entity: str, items: list[dict]) -> None:
    problems = [p for item in items for p in VALIDATOR.errors(entity, item)]
    assert not problems, problems[:10]


def test_default_listing_validates(tenant_with_everyone: GraphSimulator, follow) -> None:
    users, _ = follow("/users?$top=999")
    assert len(users) == 302
    _assert_valid("user", users)


def test_every_listable_property_validates(tenant_with_everyone: GraphSimulator, follow) -> None:
    users, _ = follow("/users?$top=999&$select=" + ",".join(ALL_LISTABLE))
    assert set(users[0]) == set(ALL_LISTABLE)
    _assert_valid("user", users)
    guests = [u for u in users if u["userType"] == "Guest"]
    assert guests and all("#EXT#" in u["userPrincipalName"] for u in guests)
    assert any(u["accountEnabled"] is False for u in users)


def test_single_user_with_every_property_validates(tenant_with_everyone: GraphSimulator, graph) -> None:
    everything = ",".join(sorted(VALIDATOR.properties("user")))
    body = graph("/users/max.mustermann@contoso.onmicrosoft.com", params={"$select": everything}).json()
    _assert_valid("user", [body])
    assert body["employeeId"] == "4711" and body["businessPhones"] == ["+49 30 1234567"]


def test_delta_items_validate(tenant_with_everyone: GraphSimulator, graph) -> None:
    sim = tenant_with_everyone
    url = "/users/delta?$select=" + ",".join(ALL_LISTABLE)
    items = []
    while url:
        body = graph(url).json()
        items += body["value"]
        url = body.get("@odata.nextLink")
    users = sim.tenant.users()
    sim.tenant.update_user(users[0]["id"], jobTitle=None)
    sim.tenant.soft_delete(users[1]["id"])
    changes = graph(body["@odata.deltaLink"]).json()["value"]
    assert {"jobTitle": None, "id": users[0]["id"]} in changes
    _assert_valid("user", items + changes)


def test_groups_and_members_validate(tenant_with_everyone: GraphSimulator, graph) -> None:
    t = tenant_with_everyone.tenant
    group = t.add_group("Support", description="2nd level")
    inner = t.add_group("Support Nights")
    t.add_member(group, inner)
    for user in t.users()[:5]:
        t.add_member(inner, user["id"])
    _assert_valid("group", graph("/groups").json()["value"])
    members = graph(f"/groups/{group}/transitiveMembers").json()["value"]
    _assert_valid("user", [m for m in members if m["@odata.type"] == "#microsoft.graph.user"])
    _assert_valid("group", [m for m in members if m["@odata.type"] == "#microsoft.graph.group"])


def test_presence_validates(tenant_with_everyone: GraphSimulator, graph) -> None:
    ids = [u["id"] for u in tenant_with_everyone.tenant.users()[:40]]
    tenant_with_everyone.tenant.set_presence(ids[0], "DoNotDisturb", "Presenting", out_of_office=True, message="Urlaub")
    batch = graph("/communications/getPresencesByUserId", method="POST", json={"ids": ids}).json()["value"]
    single = graph(f"/users/{ids[0]}/presence").json()
    _assert_valid("presence", batch + [single])
    assert {p["availability"] for p in batch} - {"PresenceUnknown"}


def test_the_validator_catches_mistakes() -> None:
    assert VALIDATOR.errors("user", {"accountEnabled": "yes"})
    assert VALIDATOR.errors("user", {"businessPhones": None})
    assert VALIDATOR.errors("user", {"favouriteColour": "blue"})
    assert VALIDATOR.errors("user", {"createdDateTime": "yesterday"})
    assert VALIDATOR.errors("presence", {"outOfOfficeSettings": {"isOutOfOffice": "no"}})
    assert not VALIDATOR.errors("user", {"@odata.id": "x", "id": "1", "businessPhones": []})


def test_the_simulator_refuses_invalid_values(sim: GraphSimulator) -> None:
    with pytest.raises(ValueError):
        sim.tenant.add_user(userPrincipalName="a@contoso.onmicrosoft.com", accountEnabled="yes")
    with pytest.raises(ValueError):
        sim.tenant.add_user(userPrincipalName="b@contoso.onmicrosoft.com", favouriteColour="blue")
    with pytest.raises(ValueError):
        sim.tenant.add_user(userPrincipalName="c@contoso.onmicrosoft.com", businessPhones=None)
