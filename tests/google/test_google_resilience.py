"""Throttling, server trouble and reads that stop half way: retried with Google's
backoff, or reported as incomplete (so the engine removes nobody)."""

from __future__ import annotations

import pytest

from syncframe import no_progress
from syncframe_google.directory import DirectoryUnavailable
from syncframe_google.simulator import DROP


@pytest.mark.parametrize("kind", ["429", "rateLimitExceeded", "userRateLimitExceeded", "503"])
def test_throttling_is_retried_with_googles_backoff(sim, make_source, waits, kind) -> None:
    sim.workspace.generate_users(3, seed=1, suspended_ratio=0)
    sim.switches.throttle(next_n=3, kind=kind)
    result = make_source().read(None, {}, no_progress)
    assert result.complete and len(result.identities) == 3
    # 2**n seconds plus up to one second of jitter: 1-2, 2-3, 4-5
    assert len(waits) == 3 and all(low <= w <= low + 1 for w, low in zip(waits, (1, 2, 4)))
    assert result.stats["retries"] == 3 and result.stats["requests"] == 4


def test_retry_after_is_honoured_when_google_sends_it(sim, make_source, waits) -> None:
    sim.workspace.generate_users(2, seed=1)
    sim.switches.throttle(next_n=1, retry_after=7)
    assert make_source().read(None, {}, no_progress).complete
    assert list(waits) == [7.0]


def test_backoff_stops_at_its_maximum(sim, make_source, waits) -> None:
    sim.workspace.generate_users(2, seed=1)
    sim.switches.throttle(next_n=5, kind="rateLimitExceeded")
    source = make_source()
    source.client.policy.backoff_max = 3.0
    assert source.read(None, {}, no_progress).complete
    assert max(waits) == 3.0 and len(waits) == 5


def test_a_page_failing_mid_read_makes_the_read_incomplete(sim, make_source, waits) -> None:
    sim.workspace.generate_users(12, seed=1)
    sim.switches.fail_page(2, status=503, times=99, endpoint="users")
    result = make_source(page_size=5).read(None, {}, no_progress)
    assert not result.complete and len(result.identities) == 5
    assert result.reason.startswith("the read stopped after 5 users (1 pages): the Directory API kept answering 503 backendError")
    assert len(waits) == 5  # the policy's six attempts, then it gave up


def test_a_dropped_connection_mid_read_makes_the_read_incomplete(sim, make_source) -> None:
    sim.workspace.generate_users(12, seed=1)
    sim.switches.fail_page(3, status=DROP, times=99, endpoint="users")
    result = make_source(page_size=5).read(None, {}, no_progress)
    assert not result.complete and len(result.identities) == 10
    assert "cannot reach the Directory API" in result.reason
    assert "closed or reset by the other side" in result.reason or "cut off" in result.reason


def test_one_failed_page_is_retried(sim, make_source, waits) -> None:
    sim.workspace.generate_users(12, seed=1)
    sim.switches.fail_page(2, status=500, endpoint="users")
    result = make_source(page_size=5).read(None, {}, no_progress)
    assert result.complete and len(result.identities) == 12 and len(waits) == 1


def test_a_failing_group_read_is_incomplete_and_reads_no_user(sim, make_source) -> None:
    ws = sim.workspace
    ws.add_group("a@example.com")
    ws.add_group("b@example.com")
    for uid in ws.generate_users(3, seed=1):
        ws.add_member("a@example.com", uid)
        ws.add_member("b@example.com", uid)
    source = make_source(groups=["a@example.com", "b@example.com"])
    sim.switches.reset()
    sim.switches.fail_page(1, status=503, times=99, endpoint="members")
    with pytest.raises(DirectoryUnavailable):  # nothing at all was read: an error
        source.read(None, {}, no_progress)
    sim.switches.reset()
    sim.switches.fail_page(1, status=503, times=1, endpoint="members")  # the first group's page, once
    assert source.read(None, {}, no_progress).complete


def test_nothing_read_at_all_is_an_error(sim, make_source) -> None:
    sim.switches.fail_page(1, status=503, times=99, endpoint="users")
    with pytest.raises(DirectoryUnavailable, match="kept answering 503"):
        make_source().read(None, {}, no_progress)


def test_a_revoked_token_is_renewed_once(sim, make_source) -> None:
    sim.workspace.generate_users(4, seed=1)
    source = make_source(page_size=2)
    assert source.read(None, {}, no_progress).complete
    sim.revoke_tokens()
    result = source.read(None, {}, no_progress)
    assert result.complete and result.stats["token_requests"] == 1


def test_an_expired_token_is_fetched_again(sim, make_source) -> None:
    sim.workspace.generate_users(2, seed=1)
    sim.switches.set_token_lifetime(600)
    source = make_source()
    source.read(None, {}, no_progress)
    sim.advance_time(900)
    # google-auth still holds its token by its own clock; the simulator's moved ahead: a 401, renewed
    result = source.read(None, {}, no_progress)
    assert result.complete and result.stats["token_requests"] == 1
