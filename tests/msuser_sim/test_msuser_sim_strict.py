"""Where Graph refuses or behaves in a way a client must cope with, the simulator does too.

Sources: "Advanced query capabilities on directory objects" (aad-advanced-queries: `$count`
without `ConsistencyLevel` is silently ignored as a query option and refused as a URL
segment; an OData cast needs both advanced query parameters); the user delta page ("a
property never set is not included in the response at all"); the docs' issue
microsoftgraph/microsoft-graph-docs#5821 (with `$select`, a restored user is not a change
delta reports); microsoftgraph/microsoft-graph-docs-contrib#1238 (`in` takes at most 15
values without advanced query parameters); `Directory_ExpiredPageToken` for a skip token
that is no longer valid.
"""

from __future__ import annotations

from syncframe_msuser.simulator import GraphSimulator

EVENTUAL = {"ConsistencyLevel": "eventual"}


def _group_of_three(sim: GraphSimulator) -> str:
    group = sim.tenant.add_group("Phones")
    for n in range(3):
        user = sim.tenant.add_user(userPrincipalName=f"p{n}@contoso.onmicrosoft.com")
        sim.tenant.add_member(group, user["id"])
    return group


def test_count_as_a_query_option_without_the_header_is_silently_ignored(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(5, seed=1)
    ignored = graph("/users", params={"$count": "true"})
    assert ignored.status_code == 200 and "@odata.count" not in ignored.json()
    counted = graph("/users", params={"$count": "true", "$select": "id", "$top": "2"}, headers=EVENTUAL).json()
    assert counted["@odata.count"] == 5 and len(counted["value"]) == 2


def test_count_as_a_segment_without_the_header_is_refused(sim: GraphSimulator, graph) -> None:
    refused = graph("/users/$count")
    error = refused.json()["error"]
    assert refused.status_code == 400
    assert (error["code"], error["message"]) == ("Request_BadRequest", "$count is not currently supported.")


def test_a_cast_to_users_needs_consistency_level_and_count(sim: GraphSimulator, graph) -> None:
    group = _group_of_three(sim)
    path = f"/groups/{group}/transitiveMembers/microsoft.graph.user"
    for params, headers in (({}, {}), ({"$count": "true"}, {}), ({}, EVENTUAL)):
        refused = graph(path, params=params, headers=headers)
        assert refused.status_code == 400, (params, headers)
        assert refused.json()["error"]["code"] == "Request_UnsupportedQuery"
    allowed = graph(path, params={"$count": "true"}, headers=EVENTUAL).json()
    assert allowed["@odata.count"] == 3 and len(allowed["value"]) == 3
    # without the cast the plain listing needs neither
    assert graph(f"/groups/{group}/transitiveMembers").status_code == 200


def test_an_expired_skip_token_answers_directory_expired_page_token(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(30, seed=2)
    first = graph("/users", params={"$top": "10"}).json()
    assert graph(first["@odata.nextLink"]).status_code == 200  # still fresh
    sim.advance_time(sim.graph.skiptoken_lifetime + 1)
    expired = graph(first["@odata.nextLink"])
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "Directory_ExpiredPageToken"
    # and a page whose listing the service no longer holds
    fresh = graph("/users", params={"$top": "10"}).json()
    sim.graph.forget_listings()
    assert graph(fresh["@odata.nextLink"]).json()["error"]["code"] == "Directory_ExpiredPageToken"


def test_delta_omits_properties_a_new_user_never_had(sim: GraphSimulator, graph) -> None:
    select = "id,userPrincipalName,displayName,jobTitle,department,mobilePhone,accountEnabled"
    link = graph("/users/delta", params={"$select": select, "$deltatoken": "latest"}).json()["@odata.deltaLink"]
    new = sim.tenant.add_user(userPrincipalName="neu@contoso.onmicrosoft.com", displayName="Neu", jobTitle="Trainee")
    (record,) = graph(link).json()["value"]
    assert record == {"id": new["id"], "userPrincipalName": "neu@contoso.onmicrosoft.com", "displayName": "Neu",
                      "jobTitle": "Trainee", "accountEnabled": True}
    # the initial round of a new delta query too
    initial = graph("/users/delta", params={"$select": select}).json()["value"]
    assert "department" not in initial[0] and "mobilePhone" not in initial[0]
    # a property set to null is set: it comes as null
    sim.tenant.update_user(new["id"], jobTitle=None)
    initial = graph("/users/delta", params={"$select": select}).json()["value"]
    assert initial[0]["jobTitle"] is None


def test_a_restored_user_is_not_a_change_for_a_delta_with_select(sim: GraphSimulator, graph) -> None:
    user = sim.tenant.add_user(userPrincipalName="back@contoso.onmicrosoft.com", displayName="Back")
    selected = graph("/users/delta", params={"$select": "id,displayName", "$deltatoken": "latest"}).json()["@odata.deltaLink"]
    default = graph("/users/delta", params={"$deltatoken": "latest"}).json()["@odata.deltaLink"]
    sim.tenant.soft_delete(user["id"])
    sim.tenant.restore(user["id"])
    assert graph(selected).json()["value"] == []
    assert [r["id"] for r in graph(default).json()["value"]] == [user["id"]]


def test_in_takes_at_most_15_values_without_advanced_query_parameters(sim: GraphSimulator, graph) -> None:
    ids = sim.tenant.generate_users(16, seed=3)
    values = ",".join(f"'{i}'" for i in ids)
    refused = graph("/users", params={"$filter": f"id in ({values})"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Request_UnsupportedQuery"
    assert "Max allowed: 15" in refused.json()["error"]["message"]
    fifteen = ",".join(f"'{i}'" for i in ids[:15])
    assert len(graph("/users", params={"$filter": f"id in ({fifteen})"}).json()["value"]) == 15
    advanced = graph("/users", params={"$filter": f"id in ({values})", "$count": "true"}, headers=EVENTUAL).json()
    assert advanced["@odata.count"] == 16
