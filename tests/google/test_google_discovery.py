"""The simulator and the source checked against Google's discovery document
(``admin.directory_v1.json`` from google-api-python-client): every request the source
makes is a valid call of the documented method, and every answer the simulator
gives validates against the documented response schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from discovery import discovery
from syncframe import no_progress
from syncframe_google.auth import READ_GROUP_MEMBERS, READ_USERS
from syncframe_google.simulator.api import MEMBERS_LIST_PARAMETERS, SYSTEM_PARAMETERS, USERS_LIST_PARAMETERS

ROOT = "/admin/directory/v1"


def replay(sim: Any, token: str) -> list[tuple[dict[str, Any], dict[str, str], requests.Response]]:
    """Send every Directory API request the simulator logged again; (method, query, answer) each."""
    out = []
    with requests.Session() as session:
        for record in sim.requests:
            if not record.path.startswith(ROOT) or record.status != 200:
                continue
            method = discovery().method("GET", "admin/directory/v1" + record.path[len(ROOT):])
            query = dict(parse_qsl(record.query))
            answer = session.get(sim.url + record.path, params=query, headers={"Authorization": f"Bearer {token}"}, verify=sim.ca_bundle)
            out.append((method, query, answer))
    return out


def seed(sim: Any) -> None:
    ws = sim.workspace
    ids = ws.generate_users(23, seed=5, suspended_ratio=0.2, archived_ratio=0.1)
    ws.add_user("anna@example.com", "Anna", "Schmidt", languages=[{"languageCode": "de", "preference": "preferred"}],
                organizations=[{"title": "CEO", "department": "Board", "primary": True, "customType": ""}])
    ws.rename(ids[0], "renamed@example.com")  # carries an alias
    ws.add_group("phones@example.com")
    ws.add_group("nested@example.com")
    ws.add_member("phones@example.com", "nested@example.com")
    ws.add_member("phones@example.com", "customer")
    ws.add_member("phones@example.com", "guest@elsewhere.example")
    for uid in ids[:7]:
        ws.add_member("nested@example.com", uid)


def test_the_sources_requests_are_documented_calls(sim, make_source) -> None:
    seed(sim)
    source = make_source(page_size=10, groups=["phones@example.com"], org_units=["/Sales"])
    assert source.read(None, {}, no_progress).complete
    source.check()
    ids = set()
    for record in sim.requests:
        if record.path.startswith(ROOT):
            method = discovery().method("GET", "admin/directory/v1" + record.path[len(ROOT):])
            assert discovery().check_query(method, dict(parse_qsl(record.query))) == []
            ids.add(method["id"])
            assert "showDeleted" not in record.query
    assert ids == {"directory.users.list", "directory.members.list"}
    assert READ_USERS in discovery().method_by_id("directory.users.list")["scopes"]
    assert READ_GROUP_MEMBERS in discovery().method_by_id("directory.members.list")["scopes"]


def test_the_simulators_answers_validate(sim, make_source) -> None:
    seed(sim)
    source = make_source(page_size=10, groups=["phones@example.com"])
    source.read(None, {}, no_progress)
    answers = replay(sim, source.auth.access_token())
    assert {m["id"] for m, _, _ in answers} == {"directory.users.list", "directory.members.list"}
    for method, query, answer in answers:
        assert answer.status_code == 200
        assert discovery().validate(answer.json(), method["response"]) == [], (method["id"], query)


@pytest.mark.parametrize("projection", ["basic", "full"])
def test_whole_resources_validate(sim, make_source, projection) -> None:
    """Without ``fields`` the simulator sends every property it has: all documented."""
    seed(sim)
    token = make_source(groups=["phones@example.com"]).auth.access_token()
    headers = {"Authorization": f"Bearer {token}"}
    users = requests.get(f"{sim.url}{ROOT}/users", params={"customer": "my_customer", "projection": projection, "maxResults": "500"},
                         headers=headers, verify=sim.ca_bundle).json()
    assert len(users["users"]) == 24 and discovery().validate(users, "Users") == []
    assert any(u.get("aliases") for u in users["users"]) and any(u.get("languages") for u in users["users"])
    members = requests.get(f"{sim.url}{ROOT}/groups/phones@example.com/members", params={"includeDerivedMembership": "true"},
                           headers=headers, verify=sim.ca_bundle).json()
    assert {m["type"] for m in members["members"]} == {"USER", "GROUP", "CUSTOMER"}
    assert discovery().validate(members, "Members") == []


def test_the_simulator_takes_exactly_the_documented_parameters() -> None:
    for method_id, ours in (("directory.users.list", USERS_LIST_PARAMETERS), ("directory.members.list", MEMBERS_LIST_PARAMETERS)):
        assert set(discovery().method_by_id(method_id)["parameters"]) == ours
    assert set(discovery().document["parameters"]) == SYSTEM_PARAMETERS


def test_the_validator_catches_departures() -> None:
    """The checks above would fail on a wrong answer or request."""
    assert discovery().validate({"users": [{"id": 1, "colour": "red", "phones": [{"value": "1", "kind": "x"}]}]}, "Users") == [
        "$.users[0].id: expected a string, got int",
        "$.users[0].colour: not a property of User",
        "$.users[0].phones[0].kind: not a property of UserPhone",
    ]
    method = discovery().method_by_id("directory.users.list")
    assert discovery().check_query(method, {"maxResults": "501", "orderBy": "id", "top": "1"}) == [
        "directory.users.list: maxResults='501' is outside 1..500",
        "directory.users.list: orderBy='id' is not one of ['email', 'familyName', 'givenName']",
        "directory.users.list: unknown query parameter top",
    ]
