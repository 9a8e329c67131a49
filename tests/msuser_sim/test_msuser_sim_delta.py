"""GET /users/delta: rounds, deltaLinks, changed properties only, @removed, 410."""

from __future__ import annotations

from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syncframe_msuser.simulator import GraphSimulator

SELECT = "displayName,userPrincipalName,accountEnabled,jobTitle"


@pytest.fixture
def delta_round(graph: Callable[..., requests.Response]) -> Callable[[str], tuple[list[dict], list[dict], str]]:
    """Run one delta round from ``url`` to its deltaLink: (items, page bodies, deltaLink)."""

    def run(url: str) -> tuple[list[dict], list[dict], str]:
        items, bodies = [], []
        while True:
            response = graph(url)
            assert response.status_code == 200, response.text
            body = response.json()
            bodies.append(body)
            items.extend(body["value"])
            assert ("@odata.nextLink" in body) != ("@odata.deltaLink" in body)
            if "@odata.deltaLink" in body:
                return items, bodies, body["@odata.deltaLink"]
            url = body["@odata.nextLink"]

    return run


def test_initial_round_pages_then_delta_link(sim: GraphSimulator, delta_round) -> None:
    sim.tenant.generate_users(450, seed=5)
    items, bodies, delta_link = delta_round(f"/users/delta?$select={SELECT}")
    assert [len(b["value"]) for b in bodies] == [200, 200, 50]
    assert bodies[0]["@odata.context"] == f"{sim.graph_url}/$metadata#users({SELECT})"
    assert bodies[1]["@odata.context"] == f"{sim.graph_url}/$metadata#users"
    assert list(items[0]) == ["displayName", "userPrincipalName", "accountEnabled", "jobTitle", "id"]
    assert len({i["id"] for i in items}) == 450
    next_link = urlsplit(bodies[0]["@odata.nextLink"])
    assert next_link.path == "/v1.0/users/delta" and list(parse_qs(next_link.query)) == ["$skiptoken"]
    link = urlsplit(delta_link)
    assert link.path == "/v1.0/users/delta" and list(parse_qs(link.query)) == ["$deltatoken"]
    # nothing changed: an empty page with a new deltaLink
    again, _, _ = delta_round(delta_link)
    assert again == []


def test_changes_come_as_changed_properties_and_removals(sim: GraphSimulator, delta_round) -> None:
    t = sim.tenant
    ids = t.generate_users(20, seed=6)
    _, _, delta_link = delta_round(f"/users/delta?$select={SELECT}")
    t.update_user(ids[0], jobTitle="Head of Sales")
    t.rename(ids[1], "renamed.person@contoso.onmicrosoft.com")
    t.disable(ids[2])
    t.soft_delete(ids[3])
    t.hard_delete(ids[4])
    t.soft_delete(ids[5])
    t.restore(ids[5])
    t.update_user(ids[6], mobilePhone="+49 170 0000000")  # not selected: not reported
    t.update_user(ids[7], jobTitle=t.get_user(ids[7])["jobTitle"])  # no real change
    new = t.add_user(userPrincipalName="neu.person@contoso.onmicrosoft.com", displayName="Neu Person")
    items, _, next_delta = delta_round(delta_link)
    by_id = {item["id"]: item for item in items}
    assert by_id[ids[0]] == {"jobTitle": "Head of Sales", "id": ids[0]}
    assert by_id[ids[1]] == {"userPrincipalName": "renamed.person@contoso.onmicrosoft.com", "id": ids[1]}
    assert by_id[ids[2]] == {"accountEnabled": False, "id": ids[2]}
    assert by_id[ids[3]] == {"id": ids[3], "@removed": {"reason": "changed"}}
    assert by_id[ids[4]] == {"id": ids[4], "@removed": {"reason": "deleted"}}
    assert by_id[new["id"]]["displayName"] == "Neu Person"
    # a restore is no change to a selected property (microsoftgraph/microsoft-graph-docs#5821)
    assert ids[5] not in by_id and ids[6] not in by_id and ids[7] not in by_id
    assert len(items) == 6
    # soft-deleted then purged: the next round says deleted
    t.hard_delete(ids[3])
    items, _, _ = delta_round(next_delta)
    assert items == [{"id": ids[3], "@removed": {"reason": "deleted"}}]


def test_default_properties_when_no_select(sim: GraphSimulator, delta_round) -> None:
    ids = sim.tenant.generate_users(3, seed=7)
    items, bodies, delta_link = delta_round("/users/delta")
    assert list(items[0]) == ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                              "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]
    assert bodies[0]["@odata.context"] == f"{sim.graph_url}/$metadata#users"
    sim.tenant.disable(ids[0])  # accountEnabled is not in the default set: not tracked
    sim.tenant.update_user(ids[1], officeLocation="Atlantis 4.12")
    items, _, _ = delta_round(delta_link)
    assert items == [{"officeLocation": "Atlantis 4.12", "id": ids[1]}]


def test_long_forms_of_the_function(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(2, seed=8)
    for path in ("/users/delta()", "/users/microsoft.graph.delta", "/users/microsoft.graph.delta()"):
        body = graph(path).json()
        assert len(body["value"]) == 2 and "@odata.deltaLink" in body


def test_deltatoken_latest_skips_the_initial_enumeration(sim: GraphSimulator, delta_round) -> None:
    ids = sim.tenant.generate_users(300, seed=9)
    items, bodies, delta_link = delta_round("/users/delta?$deltatoken=latest&$select=displayName")
    assert items == [] and len(bodies) == 1
    sim.tenant.update_user(ids[10], displayName="Changed Name")
    items, _, _ = delta_round(delta_link)
    assert items == [{"displayName": "Changed Name", "id": ids[10]}]


def test_id_filter(sim: GraphSimulator, graph, delta_round) -> None:
    ids = sim.tenant.generate_users(10, seed=10)
    clause = " or ".join(f"id eq '{i}'" for i in ids[:3])
    items, _, delta_link = delta_round(f"/users/delta?$select=displayName&$filter={clause}")
    assert [i["id"] for i in items] == ids[:3]
    sim.tenant.update_user(ids[1], displayName="X")
    sim.tenant.update_user(ids[5], displayName="Y")
    items, _, _ = delta_round(delta_link)
    assert [i["id"] for i in items] == [ids[1]]
    other = graph("/users/delta", params={"$filter": "accountEnabled eq true"})
    assert other.status_code == 400 and other.json()["error"]["code"] == "Request_UnsupportedQuery"


def _assert_gone(response: requests.Response) -> None:
    assert response.status_code == 410
    error = response.json()["error"]
    assert error["code"] == "syncStateNotFound"
    assert error["message"].startswith("The sync state generation is not found.")
    assert urlsplit(response.headers["Location"]).path == "/v1.0/users/delta"


def test_expired_unknown_and_invalidated_tokens_are_gone(sim: GraphSimulator, graph, delta_round, app_token) -> None:
    sim.tenant.generate_users(5, seed=11)
    _, _, delta_link = delta_round("/users/delta?$select=displayName")
    _assert_gone(graph("/users/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_rPe8o9M54L45qEXQGmvQC6T"))
    _assert_gone(graph("/users/delta?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjtQ5LOhVoS7qQG"))
    # invalidation from code
    _, _, fresh = delta_round("/users/delta")
    assert graph(fresh).status_code == 200
    sim.invalidate_delta_tokens()
    _assert_gone(graph(fresh))
    # past the retention (7 days by default); the access token expired too, so take a fresh one
    sim.advance_time(7 * 24 * 3600 + 1)
    gone = graph(delta_link, token=app_token())
    _assert_gone(gone)
    assert gone.headers["Location"].endswith("$select=displayName")


def test_configurable_retention(sim: GraphSimulator, graph, delta_round) -> None:
    sim.graph.delta_token_retention = 60
    _, _, delta_link = delta_round("/users/delta")
    assert graph(delta_link).status_code == 200
    sim.advance_time(61)
    # access tokens live an hour: still valid, so the 410 is the delta token's
    _assert_gone(graph(delta_link))


def test_changes_during_a_round_replay_in_the_next(sim: GraphSimulator, graph, delta_round) -> None:
    ids = sim.tenant.generate_users(250, seed=12)
    first = graph("/users/delta?$select=displayName").json()
    sim.tenant.update_user(ids[0], displayName="During The Round")
    sim.tenant.hard_delete(ids[249])
    rest, _, delta_link = delta_round(first["@odata.nextLink"])
    seen = [i["id"] for i in first["value"] + rest]
    assert ids[249] not in seen and len(seen) == 249
    items, _, _ = delta_round(delta_link)
    assert {"displayName": "During The Round", "id": ids[0]} in items
    assert {"id": ids[249], "@removed": {"reason": "deleted"}} in items


def test_prefer_maxpagesize(sim: GraphSimulator, graph) -> None:
    sim.tenant.generate_users(30, seed=13)
    body = graph("/users/delta", headers={"Prefer": "odata.maxpagesize=10"}).json()
    assert len(body["value"]) == 10 and "@odata.nextLink" in body


def test_delta_rejects_expand_and_orderby(graph) -> None:
    for option in ("$expand=manager", "$orderby=displayName"):
        assert graph(f"/users/delta?{option}").status_code == 400
