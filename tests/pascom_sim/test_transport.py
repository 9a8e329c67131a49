"""Transport rows: auth, routing, instances, throttling, faults, lost answers, latency, counters."""

from __future__ import annotations

import time

import pytest
import requests

from syncframe.http import CASession, RetryPolicy, RetryStats, send_with_retries
from syncframe_pascom.simulator import Instance, PascomSimulator

from .conftest import Api, error


def test_basic_auth_required(api: Api, sim: PascomSimulator, instance: Instance) -> None:
    url = api.base + "identity/"
    anonymous = CASession(sim.ca_bundle)
    for auth in (None, ("moby", "wrong"), ("admin", instance.password)):
        response = anonymous.get(url, auth=auth)
        assert error(response) == (401, "UNAUTHORIZED", None)
        assert response.headers["WWW-Authenticate"] == f'Basic realm="pascom {instance.name}"'
    assert api.get("identity/").status_code == 200


def test_reject_credentials_mode(api: Api, instance: Instance) -> None:
    instance.switches.reject_credentials = True
    assert error(api.get("identity/"))[0] == 401
    assert error(api.create(login="x", name="X"))[0] == 401
    assert "x" not in instance.users
    instance.switches.reject_credentials = False
    assert api.get("identity/").status_code == 200


def test_unknown_instance_path_and_method(api: Api, sim: PascomSimulator) -> None:
    session = api.session
    assert error(session.get(sim.services_url("nosuchpbx") + "identity/")) == (404, "NOT_FOUND", None)
    assert error(session.get(sim.url + "/")) == (404, "NOT_FOUND", None)
    assert error(api.get("cdr/")) == (404, "NOT_FOUND", None)
    assert error(api.request("PATCH", "identity/admin", json={})) == (405, "METHOD_NOT_ALLOWED", None)
    assert error(api.delete("identity/")) == (405, "METHOD_NOT_ALLOWED", None)


def test_instances_are_isolated(sim: PascomSimulator) -> None:
    east = sim.add_instance("east", pool=range(200, 300))
    west = sim.add_instance("west", pool=range(200, 300), seed_admin=False)
    assert east.password != west.password
    s_east, s_west = CASession(sim.ca_bundle), CASession(sim.ca_bundle)
    s_east.auth, s_west.auth = ("moby", east.password), ("moby", west.password)
    body = {"identity": [{"003use_name": "same", "003use_bez": "Same"}]}
    first = s_east.post(sim.services_url("east") + "identity/", json=body).json()["identity"][0]
    second = s_west.post(sim.services_url("west") + "identity/", json=body).json()["identity"][0]
    assert (first["009ext_extension"], second["009ext_extension"]) == ("201", "200")  # own pools
    assert [u["003use_name"] for u in s_west.get(sim.services_url("west") + "identity/").json()] == ["same"]
    # one instance's password does not open another
    assert s_east.get(sim.services_url("west") + "identity/").status_code == 401
    s_east.delete(sim.services_url("east") + "identity/same")
    assert "same" in west.users
    assert sim.counters("east")["writes"] == 2 and sim.counters("west")["writes"] == 1


def test_a_copied_instance_starts_equal_and_then_goes_its_own_way(sim: PascomSimulator) -> None:
    east = sim.add_instance("copysrc", pool=range(200, 300))
    session = CASession(sim.ca_bundle)
    session.auth = ("moby", east.password)
    session.post(sim.services_url("copysrc") + "identity/", json={"identity": [{"003use_name": "ann", "003use_bez": "Ann"}]})
    twin = sim.copy_instance("copysrc", "copytwin")
    assert session.get(sim.services_url("copytwin") + "identity/").json() == session.get(sim.services_url("copysrc") + "identity/").json()
    body = {"identity": [{"003use_name": "bob", "003use_bez": "Bob"}]}
    created = session.post(sim.services_url("copytwin") + "identity/", json=body).json()["identity"][0]
    # the copy's pool continues where the original's was, independently of it
    carl = session.post(sim.services_url("copysrc") + "identity/", json={"identity": [{"003use_name": "carl", "003use_bez": "C"}]}).json()["identity"][0]
    assert created["009ext_extension"] == carl["009ext_extension"] not in {u.extension for u in east.snapshot() if u.login != "carl"}
    assert sorted(twin.users) == ["admin", "ann", "bob"] and sorted(east.users) == ["admin", "ann", "carl"]
    assert sim.counters("copytwin")["writes"] == 1
    with pytest.raises(ValueError):
        sim.copy_instance("copysrc", "copytwin")


def test_throttle_next_with_retry_after(api: Api, instance: Instance) -> None:
    instance.switches.throttle_next(2, retry_after=3)
    for _ in range(2):
        response = api.create(login="t", name="T")
        assert error(response) == (429, "RATE_LIMITED", None)
        assert response.headers["Retry-After"] == "3"
    assert "t" not in instance.users
    assert api.create(login="t", name="T").status_code == 201


def test_throttle_every_kth(api: Api, instance: Instance) -> None:
    instance.switches.throttle_every(3, retry_after=0)
    statuses = [api.get("identity/admin").status_code for _ in range(6)]
    assert statuses == [200, 200, 429, 200, 200, 429]


def test_rate_limit_token_bucket(api: Api, instance: Instance) -> None:
    instance.switches.rate_limit(per_second=2, burst=2)
    statuses = [api.get("identity/admin").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    throttled = api.get("identity/admin")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    time.sleep(0.6)
    assert api.get("identity/admin").status_code == 200
    instance.switches.rate_limit(None)
    assert all(api.get("identity/admin").status_code == 200 for _ in range(5))


def test_retries_honour_retry_after(api: Api, instance: Instance) -> None:
    instance.switches.throttle_next(2, retry_after=0.05)
    waits: list[float] = []
    stats = RetryStats()
    response = send_with_retries(api.session, "GET", api.base + "identity/", RetryPolicy(sleep=waits.append), stats)
    assert response.status_code == 200
    assert waits == [0.05, 0.05] and stats.retries == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_on_kth_write_is_not_performed(api: Api, instance: Instance, status: int) -> None:
    instance.switches.fail_write(2, status=status, retry_after=1)
    assert api.create(login="w1", name="W1").status_code == 201
    assert api.get("identity/w1").status_code == 200  # reads do not count
    failed = api.create(login="w2", name="W2")
    assert failed.status_code == status
    assert failed.json()["error"]["code"] in {"INTERNAL_ERROR", "BAD_GATEWAY", "SERVICE_UNAVAILABLE"}
    assert failed.headers["Retry-After"] == "1"
    assert "w2" not in instance.users
    assert api.create(login="w2", name="W2").status_code == 201


def test_fail_every_write(api: Api, instance: Instance) -> None:
    instance.switches.fail_every_write(2, status=503)
    codes = [api.create(login=f"e{i}", name="E").status_code for i in range(4)]
    assert codes == [201, 503, 201, 503]
    assert sorted(u for u in instance.users if u.startswith("e")) == ["e0", "e2"]


def test_lost_response_502_after_the_write(api: Api, instance: Instance) -> None:
    instance.switches.lose_write(1, mode="502")
    lost = api.create(login="ghostwrite", name="G")
    assert error(lost) == (502, "BAD_GATEWAY", None)
    assert "ghostwrite" in instance.users  # it happened; the client could not know
    assert error(api.create(login="ghostwrite", name="G")) == (409, "LOGIN_EXISTS", "003use_name")


def test_lost_response_dropped_connection(api: Api, instance: Instance, sim: PascomSimulator) -> None:
    instance.seed_user("renamed")
    instance.switches.lose_write(1, mode="drop")
    with pytest.raises(requests.ConnectionError):
        api.put("identity/renamed", {"003use_name": "renamed2"})
    assert "renamed2" in instance.users and "renamed" not in instance.users
    mine = [r for r in sim.requests if r.instance == instance.name]
    assert (mine[-1].method, mine[-1].status) == ("PUT", 0)  # logged as unanswered
    assert api.get("identity/renamed2").status_code == 200  # the server is fine afterwards


def test_outage(api: Api, sim: PascomSimulator) -> None:
    sim.switches.outage(503, retry_after=2)
    response = api.get("identity/")
    assert error(response) == (503, "SERVICE_UNAVAILABLE", None) and response.headers["Retry-After"] == "2"
    sim.switches.outage(None)
    assert api.get("identity/").status_code == 200


def test_latency(api: Api, instance: Instance) -> None:
    api.get("identity/admin")
    started = time.perf_counter()
    api.get("identity/admin")
    fast = time.perf_counter() - started
    instance.switches.latency = 0.2
    instance.switches.write_latency = 0.1
    started = time.perf_counter()
    api.get("identity/admin")
    slow_read = time.perf_counter() - started
    started = time.perf_counter()
    api.put("identity/admin", {"003use_bez": "Administrator"})
    slow_write = time.perf_counter() - started
    assert slow_read >= 0.2 and slow_read > fast
    assert slow_write >= 0.3


def test_counters_and_request_log(api: Api, instance: Instance, sim: PascomSimulator) -> None:
    instance.seed_user("counted")  # seeding is not a request
    assert sim.counters(instance.name)["requests"] == 0
    api.get("identity/")
    api.get("identity/nobody")
    api.put("identity/counted", {"003use_bez": "Counted"})
    api.post("identity/counted/devices", {"type": "mobile"})
    api.delete("identity/counted/sessions")
    api.delete("identity/counted")
    counters = sim.counters(instance.name)
    assert counters == {
        "requests": 6,
        "writes": 4,
        "by_method": {"GET": 2, "PUT": 1, "POST": 1, "DELETE": 2},
        "by_status": {200: 2, 404: 1, 201: 1, 204: 2},
    }
    mine = [(r.method, r.path, r.status) for r in sim.requests if r.instance == instance.name]
    base = f"/{instance.name}/services/identity/"
    assert mine == [("GET", base, 200), ("GET", base + "nobody", 404), ("PUT", base + "counted", 200),
                    ("POST", base + "counted/devices", 201), ("DELETE", base + "counted/sessions", 204),
                    ("DELETE", base + "counted", 204)]
    assert sim.counters()["requests"] >= 6
