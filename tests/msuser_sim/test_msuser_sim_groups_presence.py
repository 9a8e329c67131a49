"""Groups (name lookup, nested transitive members) and presence (single and batch)."""

from __future__ import annotations

import uuid

from syncframe_msuser.simulator import GraphSimulator


def _org(sim: GraphSimulator) -> dict[str, str]:
    t = sim.tenant
    ids = t.generate_users(12, seed=20)
    sales = t.add_group("Sales")
    emea = t.add_group("Sales EMEA")
    berlin = t.add_group("Sales Berlin")
    t.add_member(sales, ids[0])
    t.add_member(sales, emea)
    t.add_member(emea, ids[1])
    t.add_member(emea, berlin)
    t.add_member(berlin, ids[2])
    t.add_member(berlin, ids[0])  # twice through nesting: listed once
    t.add_member(berlin, sales)   # a cycle does not loop
    return {"sales": sales, "emea": emea, "berlin": berlin, "u0": ids[0], "u1": ids[1], "u2": ids[2], "u3": ids[3]}


def test_group_by_display_name(sim: GraphSimulator, graph) -> None:
    org = _org(sim)
    body = graph("/groups", params={"$filter": "displayName eq 'Sales EMEA'", "$select": "id,displayName"}).json()
    assert body["@odata.context"] == f"{sim.graph_url}/$metadata#groups(id,displayName)"
    assert body["value"] == [{"id": org["emea"], "displayName": "Sales EMEA"}]
    assert graph("/groups", params={"$filter": "displayName eq 'Nope'"}).json()["value"] == []
    assert graph(f"/groups/{org['sales']}").json()["displayName"] == "Sales"


def test_transitive_members_cast_to_users(sim: GraphSimulator, graph, follow) -> None:
    org = _org(sim)
    users, pages = follow(f"/groups/{org['sales']}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$top=2&$count=true",
                          headers={"ConsistencyLevel": "eventual"})
    assert [u["id"] for u in users] == [org["u0"], org["u1"], org["u2"]]
    assert all(u["@odata.type"] == "#microsoft.graph.user" for u in users)
    assert pages[0]["@odata.context"] == f"{sim.graph_url}/$metadata#users(id,userPrincipalName)"
    assert "/transitiveMembers/microsoft.graph.user?" in pages[0]["@odata.nextLink"]


def test_transitive_members_without_cast_include_groups(sim: GraphSimulator, graph) -> None:
    org = _org(sim)
    body = graph(f"/groups/{org['sales']}/transitiveMembers").json()
    kinds = [(m["@odata.type"], m["id"]) for m in body["value"]]
    assert ("#microsoft.graph.group", org["emea"]) in kinds and ("#microsoft.graph.group", org["berlin"]) in kinds
    direct = graph(f"/groups/{org['sales']}/members").json()["value"]
    assert [m["id"] for m in direct] == [org["u0"], org["emea"]]


def test_members_count_and_removed_users(sim: GraphSimulator, graph) -> None:
    org = _org(sim)
    sim.tenant.soft_delete(org["u2"])
    body = graph(f"/groups/{org['sales']}/transitiveMembers/microsoft.graph.user", params={"$count": "true"},
                 headers={"ConsistencyLevel": "eventual"}).json()
    assert body["@odata.count"] == 2


def test_members_need_a_group_permission(sim: GraphSimulator, graph, app_token) -> None:
    org = _org(sim)
    response = graph(f"/groups/{org['sales']}/transitiveMembers", token=app_token(["User.Read.All"]))
    assert response.status_code == 403
    assert graph(f"/groups/{uuid.uuid4()}/members").status_code == 404


def test_presence_batch(sim: GraphSimulator, graph) -> None:
    ids = sim.tenant.generate_users(3, seed=21)
    sim.tenant.set_presence(ids[0], "Busy", "InACall")
    unknown = str(uuid.uuid4())
    response = graph("/communications/getPresencesByUserId", method="POST", json={"ids": ids + [unknown]})
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#Collection(microsoft.graph.presence)")
    by_id = {p["id"]: p for p in body["value"]}
    assert by_id[ids[0]]["availability"] == "Busy" and by_id[ids[0]]["activity"] == "InACall"
    assert by_id[unknown]["availability"] == "PresenceUnknown"
    single = graph(f"/users/{ids[0]}/presence").json()
    assert single["availability"] == "Busy" and single["@odata.context"].endswith("/presence/$entity")


def test_presence_batch_limit_and_permission(sim: GraphSimulator, graph, app_token) -> None:
    ids = [str(uuid.uuid4()) for _ in range(651)]
    too_many = graph("/communications/getPresencesByUserId", method="POST", json={"ids": ids})
    assert too_many.status_code == 400 and "650" in too_many.json()["error"]["message"]
    assert graph("/communications/getPresencesByUserId", method="POST", json={"ids": ids[:650]}).status_code == 200
    assert graph("/communications/getPresencesByUserId", method="POST", json={"nope": 1}).status_code == 400
    denied = graph("/communications/getPresencesByUserId", method="POST", json={"ids": ids[:1]},
                   token=app_token(["User.Read.All"]))
    assert denied.status_code == 403
