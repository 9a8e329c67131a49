"""GET /users, /users/{id}, $select/$top/$filter/$count, and the auth errors of Graph."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import GRAPH_SCOPE, confidential_app

DEFAULT_KEYS = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]


def test_default_page_size_default_properties_and_headers(sim: GraphSimulator, graph, follow) -> None:
    sim.tenant.generate_users(250, seed=3)
    response = graph("/users", headers={"client-request-id": "11111111-2222-3333-4444-555555555555"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == \
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
    assert response.headers["OData-Version"] == "4.0"
    assert uuid.UUID(response.headers["request-id"])
    assert response.headers["client-request-id"] == "11111111-2222-3333-4444-555555555555"
    assert "x-ms-ags-diagnostic" in response.headers
    body = response.json()
    assert list(body) == ["@odata.context", "@odata.nextLink", "value"]
    assert body["@odata.context"] == f"{sim.graph_url}/$metadata#users"
    assert len(body["value"]) == 100
    assert all(list(user) == DEFAULT_KEYS for user in body["value"])
    next_link = urlsplit(body["@odata.nextLink"])
    assert next_link.path == "/v1.0/users" and list(parse_qs(next_link.query)) == ["$skiptoken"]
    assert body["@odata.nextLink"].split("$skiptoken=")[1].startswith("RFNwdAIA")
    users, pages = follow("/users")
    assert [len(p["value"]) for p in pages] == [100, 100, 50]
    assert "@odata.nextLink" not in pages[-1]
    assert len({u["id"] for u in users}) == 250


def test_select_top_and_links_keep_the_query(sim: GraphSimulator, graph, follow) -> None:
    sim.tenant.generate_users(30, seed=1)
    first = graph("/users", params={"$select": "id,userPrincipalName,accountEnabled,userType", "$top": "7"}).json()
    assert first["@odata.context"] == f"{sim.graph_url}/$metadata#users(id,userPrincipalName,accountEnabled,userType)"
    assert list(first["value"][0]) == ["id", "userPrincipalName", "accountEnabled", "userType"]
    query = parse_qs(urlsplit(first["@odata.nextLink"]).query)
    assert query["$select"] == ["id,userPrincipalName,accountEnabled,userType"] and query["$top"] == ["7"]
    users, pages = follow(first["@odata.nextLink"])
    assert [len(p["value"]) for p in pages] == [7, 7, 7, 2]
    assert all(list(u) == ["id", "userPrincipalName", "accountEnabled", "userType"] for u in users)


@pytest.mark.parametrize("top", ["1000", "0", "abc"])
def test_top_out_of_range(graph, top: str) -> None:
    response = graph("/users", params={"$top": top})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]


def test_top_999_is_fine(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(1200, seed=2)
    body = graph("/users", params={"$top": "999", "$select": "id"}).json()
    assert len(body["value"]) == 999 and "@odata.nextLink" in body


def test_unknown_select_property_and_collection_only_properties(graph) -> None:
    unknown = graph("/users", params={"$select": "id,favouriteColour"})
    assert unknown.status_code == 400
    assert "favouriteColour" in unknown.json()["error"]["message"]
    not_in_lists = graph("/users", params={"$select": "id,birthday"})
    assert not_in_lists.status_code == 501 and not_in_lists.json()["error"]["code"] == "NotImplemented"


def _seed_mixed(sim: GraphSimulator) -> dict[str, dict]:
    t = sim.tenant
    return {
        "anna": t.add_user(userPrincipalName="anna.schmidt@contoso.onmicrosoft.com", givenName="Anna", surname="Schmidt"),
        "bert": t.add_user(userPrincipalName="bert.brown@contoso.onmicrosoft.com", accountEnabled=False),
        "guest": t.add_user(userPrincipalName="gail_partner.example#EXT#@contoso.onmicrosoft.com", displayName="Gail"),
        "andi": t.add_user(userPrincipalName="andi.alt@contoso.onmicrosoft.com", department="Sales"),
    }


@pytest.mark.parametrize("expression, expected", [
    ("accountEnabled eq true", {"anna", "guest", "andi"}),
    ("accountEnabled eq false", {"bert"}),
    ("userType eq 'Member'", {"anna", "bert", "andi"}),
    ("userType eq 'guest'", {"guest"}),
    ("startswith(userPrincipalName,'an')", {"anna", "andi"}),
    ("startswith(userPrincipalName,'AN') and accountEnabled eq true", {"anna", "andi"}),
    ("department eq 'Sales' or userType eq 'Guest'", {"andi", "guest"}),
    ("userPrincipalName in ('bert.brown@contoso.onmicrosoft.com', 'nobody@x')", {"bert"}),
])
def test_simple_filters(sim: GraphSimulator, graph, expression: str, expected: set[str]) -> None:
    seeded = _seed_mixed(sim)
    body = graph("/users", params={"$filter": expression, "$select": "id"}).json()
    names = {name for name, user in seeded.items() if any(v["id"] == user["id"] for v in body["value"])}
    assert names == expected


def test_filter_by_id(sim: GraphSimulator, graph) -> None:
    seeded = _seed_mixed(sim)
    body = graph("/users", params={"$filter": f"id eq '{seeded['bert']['id']}'"}).json()
    assert [u["id"] for u in body["value"]] == [seeded["bert"]["id"]]


def test_advanced_filter_needs_consistency_level_and_count(sim: GraphSimulator, graph) -> None:
    _seed_mixed(sim)
    plain = graph("/users", params={"$filter": "userType ne 'Guest'"})
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "Request_UnsupportedQuery"
    advanced = graph("/users", params={"$filter": "userType ne 'Guest'", "$count": "true"},
                     headers={"ConsistencyLevel": "eventual"})
    assert advanced.status_code == 200
    assert advanced.json()["@odata.count"] == 3
    bad = graph("/users", params={"$filter": "nosuchprop eq 1"})
    assert bad.status_code == 400 and "nosuchprop" in bad.json()["error"]["message"]


def test_count_on_first_page_only_and_needs_header(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(15, seed=4)
    without_header = graph("/users", params={"$count": "true"})
    assert without_header.status_code == 200 and "@odata.count" not in without_header.json()  # ignored, as Graph does
    first = graph("/users", params={"$count": "true", "$top": "10"}, headers={"ConsistencyLevel": "eventual"}).json()
    assert list(first)[:3] == ["@odata.context", "@odata.count", "@odata.nextLink"]
    assert first["@odata.count"] == 15
    second = graph(first["@odata.nextLink"], headers={"ConsistencyLevel": "eventual"}).json()
    assert "@odata.count" not in second and len(second["value"]) == 5
    count = graph("/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert count.text == "15" and count.headers["Content-Type"].startswith("text/plain")


def test_get_user_by_id_upn_and_guest_upn(sim: GraphSimulator, graph) -> None:
    seeded = _seed_mixed(sim)
    by_id = graph(f"/users/{seeded['anna']['id']}")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body["@odata.context"] == f"{sim.graph_url}/$metadata#users/$entity"
    assert list(body)[1:] == DEFAULT_KEYS
    assert graph("/users/ANNA.SCHMIDT@contoso.onmicrosoft.com").json()["id"] == seeded["anna"]["id"]
    guest = graph("/users/gail_partner.example%23EXT%23@contoso.onmicrosoft.com",
                  params={"$select": "id,userType,mail"}).json()
    assert guest["userType"] == "Guest" and guest["mail"] == "gail@partner.example"
    assert guest["@odata.context"] == f"{sim.graph_url}/$metadata#users(id,userType,mail)/$entity"
    key_syntax = graph("/users('andi.alt@contoso.onmicrosoft.com')")
    assert key_syntax.json()["id"] == seeded["andi"]["id"]
    missing = graph("/users/5a1b2c3d-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_unauthenticated_and_invalid_tokens(sim: GraphSimulator, session, graph) -> None:
    empty = session.get(f"{sim.graph_url}/users")
    assert empty.status_code == 401
    assert empty.json()["error"] == {**empty.json()["error"], "code": "InvalidAuthenticationToken", "message": "Access token is empty."}
    assert empty.headers["WWW-Authenticate"].startswith('Bearer realm=""')
    garbage = graph("/users", token="not.a.jwt")
    assert garbage.status_code == 401
    assert garbage.json()["error"]["message"].startswith("CompactToken parsing failed")


def test_expired_token_after_the_clock_moves(sim: GraphSimulator, graph) -> None:
    assert graph("/users").status_code == 200
    sim.advance_time(3600)
    expired = graph("/users")
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "Access token has expired or is not yet valid."


def test_revoked_tokens(sim: GraphSimulator, graph, app_token) -> None:
    token = app_token()
    assert graph("/users", token=token).status_code == 200
    sim.revoke_tokens()
    assert graph("/users", token=token).status_code == 401
    assert graph("/users", token=app_token(["User.Read.All"])).status_code == 200


def test_missing_role_is_403(sim: GraphSimulator, graph, app_token) -> None:
    token = app_token(["Presence.Read.All"])
    response = graph("/users", token=token)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert graph("/users/delta", token=token).status_code == 403


def test_granting_a_role_takes_effect_on_the_next_token(sim: GraphSimulator, session, graph) -> None:
    app = sim.register_app(roles=[])
    token = confidential_app(sim, session, app.client_id, app.secret).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    assert graph("/users", token=token).status_code == 403
    sim.grant_roles(app.client_id, ["User.Read.All"])
    fresh = confidential_app(sim, session, app.client_id, app.secret).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
    assert graph("/users", token=fresh).status_code == 200


def test_unknown_segment(graph) -> None:
    response = graph("/devices")
    assert response.status_code == 400
    assert re.match(r"Resource not found for the segment 'devices'", response.json()["error"]["message"])


def test_orderby_and_search(sim: GraphSimulator, graph, follow) -> None:
    seeded = _seed_mixed(sim)
    users, _ = follow("/users?$orderby=userPrincipalName desc&$select=userPrincipalName&$top=2")
    upns = [u["userPrincipalName"] for u in users]
    assert upns == sorted(upns, key=str.lower, reverse=True) and len(upns) == 4
    combined = graph("/users", params={"$orderby": "displayName", "$filter": "accountEnabled eq true"})
    assert combined.status_code == 400 and combined.json()["error"]["code"] == "Request_UnsupportedQuery"
    no_header = graph("/users", params={"$search": '"displayName:gail"'})
    assert no_header.status_code == 400
    found = graph("/users", params={"$search": '"displayName:gail" OR "userPrincipalName:andi"', "$select": "id"},
                  headers={"ConsistencyLevel": "eventual"}).json()["value"]
    assert {u["id"] for u in found} == {seeded["guest"]["id"], seeded["andi"]["id"]}
    schmidt = graph("/users", params={"$search": '"displayName:schm"', "$select": "id"},
                    headers={"ConsistencyLevel": "eventual"}).json()["value"]
    assert [u["id"] for u in schmidt] == [seeded["anna"]["id"]]
    bad = graph("/users", params={"$search": "displayName:gail"}, headers={"ConsistencyLevel": "eventual"})
    assert bad.status_code == 400
