"""Each misbehaviour switch, seen from a real client, and the request log."""

from __future__ import annotations

import json
import time

import pytest
import requests

from syncframe.http import RetryPolicy, RetryStats, send_with_retries
from syncframe_msuser.simulator import GraphSimulator


@pytest.fixture
def seeded(sim: GraphSimulator) -> GraphSimulator:
    sim.tenant.generate_users(25, seed=30)
    sim.graph.users_page_size = 10
    return sim


def test_latency(sim: GraphSimulator, graph) -> None:
    graph("/users")  # token and first connection out of the way
    sim.switches.set_latency(0.25)
    started = time.monotonic()
    assert graph("/users").status_code == 200
    assert time.monotonic() - started >= 0.25
    assert sim.requests[-1].seconds >= 0.25


def test_throttle_next_requests(sim: GraphSimulator, graph) -> None:
    graph("/users")
    sim.switches.throttle(next_n=2, retry_after=3)
    for _ in range(2):
        response = graph("/users")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        error = response.json()["error"]
        assert error["code"] == "TooManyRequests"
        assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
        assert response.headers["request-id"]
    assert graph("/users").status_code == 200
    assert sim.stats()["throttled"] == 2


def test_throttle_every_kth_and_without_retry_after(sim: GraphSimulator, graph) -> None:
    graph("/users")
    sim.switches.throttle(every=3, retry_after=None)
    responses = [graph("/users") for _ in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 429, 200, 200, 429]
    assert "Retry-After" not in responses[2].headers
    sim.switches.throttle()  # off
    assert all(graph("/users").status_code == 200 for _ in range(4))


def test_throttle_rate(sim: GraphSimulator, graph) -> None:
    graph("/users")
    sim.switches.throttle(rate=3)
    statuses = [graph("/users").status_code for _ in range(6)]
    assert statuses.count(200) == 3 and statuses.count(429) == 3


def test_throttle_the_login_service(sim: GraphSimulator, session) -> None:
    sim.switches.throttle(next_n=1, scope="login")
    response = session.get(f"{sim.authority}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert session.get(f"{sim.authority}/v2.0/.well-known/openid-configuration").status_code == 200


def test_retries_honour_retry_after(sim: GraphSimulator, session, app_token) -> None:
    token = app_token()
    sim.switches.throttle(next_n=2, retry_after=7)
    waits: list[float] = []
    stats = RetryStats()
    response = send_with_retries(session, "GET", f"{sim.graph_url}/users", RetryPolicy(sleep=waits.append), stats,
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert waits == [7.0, 7.0] and stats.retries == 2


@pytest.mark.parametrize("status", [500, 503, 504])
def test_status_fault_on_page_k(seeded: GraphSimulator, graph, status: int) -> None:
    seeded.switches.fail_page(2, status, endpoint="users")
    first = graph("/users").json()
    failed = graph(first["@odata.nextLink"])
    assert failed.status_code == status
    assert "code" in failed.json()["error"]
    retried = graph(first["@odata.nextLink"])  # once only
    assert retried.status_code == 200 and len(retried.json()["value"]) == 10


def test_dropped_connection_on_page_k(seeded: GraphSimulator, graph) -> None:
    seeded.switches.fail_page(2, "drop")
    first = graph("/users").json()
    with pytest.raises(requests.ConnectionError):
        graph(first["@odata.nextLink"])
    assert seeded.requests[-1].status == 0
    assert graph(first["@odata.nextLink"]).status_code == 200


def test_truncated_body_on_page_k(seeded: GraphSimulator, graph) -> None:
    seeded.switches.truncate_page(1, endpoint="users")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        graph("/users")
    assert graph("/users").status_code == 200


def test_bad_json_on_page_k(seeded: GraphSimulator, graph) -> None:
    seeded.switches.truncate_page(1, mode="bad_json")
    response = graph("/users")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_short_page_ends_paging_early(seeded: GraphSimulator, follow) -> None:
    seeded.switches.short_page(2, endpoint="users")
    users, pages = follow("/users")
    assert len(pages) == 2 and len(users) == 20  # 25 exist
    assert "@odata.nextLink" not in pages[-1]


def test_short_page_in_delta_has_neither_link(seeded: GraphSimulator, graph) -> None:
    seeded.graph.delta_page_size = 10
    seeded.switches.short_page(1, endpoint="delta")
    body = graph("/users/delta").json()
    assert len(body["value"]) == 10
    assert "@odata.nextLink" not in body and "@odata.deltaLink" not in body


def test_fault_on_a_delta_page(seeded: GraphSimulator, graph) -> None:
    seeded.graph.delta_page_size = 10
    seeded.switches.fail_page(3, 503, endpoint="delta")
    page = graph("/users/delta").json()
    page = graph(page["@odata.nextLink"]).json()
    assert graph(page["@odata.nextLink"]).status_code == 503
    last = graph(page["@odata.nextLink"]).json()
    assert len(last["value"]) == 5 and "@odata.deltaLink" in last


def test_short_token_lifetime_expires_mid_run(sim: GraphSimulator, graph, app_token) -> None:
    sim.switches.set_token_lifetime(60)
    token = app_token()
    assert graph("/users", token=token).status_code == 200
    sim.advance_time(61)
    assert graph("/users", token=token).status_code == 401


def test_request_log(sim: GraphSimulator, graph) -> None:
    graph("/users?$top=5")
    graph("/users/delta")
    graph("/nothing")
    records = sim.requests
    token_path = f"/{sim.tenant_id}/oauth2/v2.0/token"
    assert [(r.method, r.path, r.status) for r in records[-3:]] == [
        ("GET", "/v1.0/users", 200), ("GET", "/v1.0/users/delta", 200), ("GET", "/v1.0/nothing", 400)]
    assert records[-3].query == "$top=5"
    counts = sim.path_counts()
    assert counts[token_path] == 1 and counts["/v1.0/users"] == 1
    assert sim.request_count == len(records) == sim.stats()["requests"]
    sim.log.clear()
    assert sim.request_count == 0


def test_reset(sim: GraphSimulator, graph) -> None:
    graph("/users")
    sim.switches.set_latency(5)
    sim.switches.throttle(next_n=100)
    sim.switches.fail_page(1, 500)
    sim.switches.reset()
    assert graph("/users").status_code == 200
