"""POST /v1.0/$batch."""

from __future__ import annotations

from syncframe_msuser.simulator import GraphSimulator


def test_batch_runs_inner_requests(sim: GraphSimulator, graph) -> None:
    ids = sim.tenant.generate_users(3, seed=70)
    requests_ = [
        {"id": "1", "method": "GET", "url": f"/users/{ids[0]}?$select=id,displayName"},
        {"id": "2", "method": "GET", "url": "/users?$count=true&$select=id", "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "3", "method": "GET", "url": "/users/00000000-0000-4000-8000-000000000000"},
        {"id": "4", "method": "GET", "url": "/users", "dependsOn": ["3"]},
        {"id": "5", "method": "POST", "url": "/communications/getPresencesByUserId", "body": {"ids": ids[:2]},
         "headers": {"Content-Type": "application/json"}},
    ]
    response = graph("/$batch", method="POST", json={"requests": requests_})
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()["responses"]}
    assert by_id["1"]["status"] == 200 and by_id["1"]["body"]["id"] == ids[0]
    assert by_id["2"]["body"]["@odata.count"] == 3
    assert by_id["3"]["status"] == 404 and by_id["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert by_id["4"]["status"] == 424
    assert len(by_id["5"]["body"]["value"]) == 2


def test_batch_limits_and_inner_throttling(sim: GraphSimulator, graph) -> None:
    too_many = [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]
    assert graph("/$batch", method="POST", json={"requests": too_many}).status_code == 400
    duplicate = [{"id": "1", "method": "GET", "url": "/users"}] * 2
    assert graph("/$batch", method="POST", json={"requests": duplicate}).status_code == 400
    graph("/users")  # the token first
    sim.switches.throttle(every=2, retry_after=2)
    response = graph("/$batch", method="POST", json={"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(3)]})
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()["responses"]]
    assert 429 in statuses and 200 in statuses
    throttled = next(r for r in response.json()["responses"] if r["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "2"
