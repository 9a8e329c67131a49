"""The hidden capacity switch (issue 19, item 5): past K requests in progress at once the
simulator answers 429 at once (with or without Retry-After), or queues them (slows down)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from syncframe.backpressure import listening
from syncframe.http import CASession, RetryPolicy, send_with_retries
from syncframe_pascom.simulator import Instance, PascomSimulator

from .conftest import Api, error


def parallel_gets(sim: PascomSimulator, instance: Instance, n: int) -> list[requests.Response]:
    """``n`` GETs sent at the same time, each on its own connection."""

    def get(_: int) -> requests.Response:
        session = CASession(sim.ca_bundle)
        session.auth = ("moby", instance.password)
        with session:
            return session.get(sim.services_url(instance.name) + "identity/admin", timeout=30)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(get, range(n)))


@pytest.mark.parametrize("retry_after, header", [(1, "1"), (None, None)])
def test_past_the_capacity_it_answers_429_at_once(sim: PascomSimulator, instance: Instance, retry_after: float | None, header: str | None) -> None:
    instance.switches.latency = 0.5  # the admitted requests are still in progress when the others arrive
    instance.switches.limit_capacity(2, retry_after=retry_after)
    answers = parallel_gets(sim, instance, 6)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429, 429, 429, 429]
    refused = [a for a in answers if a.status_code == 429]
    assert all(error(a) == (429, "RATE_LIMITED", None) for a in refused)
    assert {a.headers.get("Retry-After") for a in refused} == {header}
    assert instance.switches.over_capacity == 4
    # once the capacity is free again, a request goes through
    instance.switches.latency = 0
    assert parallel_gets(sim, instance, 2)[0].status_code == 200


def test_slow_capacity_queues_instead_of_refusing(sim: PascomSimulator, instance: Instance) -> None:
    instance.switches.latency = 0.2
    instance.switches.limit_capacity(2, over="slow")
    started = time.monotonic()
    answers = parallel_gets(sim, instance, 6)
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 6
    assert instance.switches.over_capacity == 0
    assert elapsed >= 3 * 0.2  # six requests, two at a time: three latencies at least (a lower bound)


def test_capacity_off_again(api: Api, instance: Instance) -> None:
    instance.switches.limit_capacity(1)
    instance.switches.limit_capacity(None)
    assert all(api.get("identity/admin").status_code == 200 for _ in range(3))
    with pytest.raises(ValueError):
        instance.switches.limit_capacity(2, over="later")


def test_send_with_retries_reports_every_attempt_and_its_push_back(api: Api, instance: Instance) -> None:
    instance.switches.throttle_next(2, retry_after=0.05)
    heard: list[tuple[float, bool]] = []
    with listening(lambda seconds, throttled: heard.append((seconds, throttled))):
        response = send_with_retries(api.session, "GET", api.base + "identity/admin", RetryPolicy())
    assert response.status_code == 200
    assert [throttled for _, throttled in heard] == [True, True, False]  # two 429s, then the answer
    assert all(seconds >= 0 for seconds, _ in heard)
    send_with_retries(api.session, "GET", api.base + "identity/admin", RetryPolicy())  # no listener: nobody hears
    assert len(heard) == 3


def test_an_outage_503_counts_as_push_back(api: Api, instance: Instance) -> None:
    instance.switches.outage(503)
    heard: list[bool] = []
    with listening(lambda seconds, throttled: heard.append(throttled)):
        response = send_with_retries(api.session, "GET", api.base + "identity/admin", RetryPolicy(attempts=2, sleep=lambda s: None))
    instance.switches.outage(None)
    assert response.status_code == 503 and heard == [True, True]
