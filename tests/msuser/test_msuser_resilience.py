"""What a read does when Graph throttles, fails, drops or cuts answers short."""

from __future__ import annotations

import pytest

from msuser_helpers import graph_paths, view
from syncframe import AuthenticationError, RetriableSyncError
from syncframe.sdk import RetryPolicy
from syncframe_msuser.simulator import BAD_JSON, TRUNCATE
from syncframe_msuser.source import shortfall

USERS = 2100  # three pages of 999 on /users


@pytest.fixture
def tenant(sim) -> list[str]:
    return sim.tenant.generate_users(USERS, seed=11)


def read(source, bookmark=None, previous=None):
    return source.read(bookmark, previous or {}, lambda *a: None)


def test_429_honours_retry_after(sim, make_source, tenant, waits) -> None:
    sim.switches.throttle(next_n=2, retry_after=7)
    result = read(make_source())
    assert result.complete and len(result.identities) == USERS
    assert list(waits) == [7.0, 7.0]
    assert result.stats["retries"] == 2 and result.stats["waited"] == 14.0
    assert result.stats["requests"] == 4 + 2


def test_429_without_retry_after_backs_off_patiently_up_to_about_a_minute(sim, make_source, tenant, waits) -> None:
    """Most directory throttling answers carry no Retry-After: 2, 4, 8, ... seconds with
    jitter, never more than 60, and the read goes on once Graph lets it."""
    sim.switches.throttle(next_n=7, retry_after=None)
    result = read(make_source(policy=RetryPolicy(sleep=waits)))
    assert result.complete and len(result.identities) == USERS and result.stats["retries"] == 7
    floors = (2, 4, 8, 16, 32, 60, 60)
    assert all(floor <= w <= min(60.0, floor + 2) for w, floor in zip(waits, floors)), list(waits)


def test_429_without_retry_after_gives_up_within_the_request_budget(sim, make_source, tenant, waits) -> None:
    sim.switches.throttle(next_n=1000, retry_after=None)
    with pytest.raises(RetriableSyncError, match="429"):
        read(make_source(policy=RetryPolicy(budget_seconds=200, sleep=waits)))
    assert sum(waits) <= 200 and max(waits) >= 30  # patient, but bounded


def test_a_retry_after_beyond_the_budget_is_not_slept(sim, make_source, tenant, waits) -> None:
    """A huge Retry-After is not waited in full: the budget bounds it, and the error says why."""
    sim.switches.throttle(next_n=1, retry_after=3600)
    with pytest.raises(RetriableSyncError, match="asked to wait 3600s"):
        read(make_source(policy=RetryPolicy(budget_seconds=300, sleep=waits)))
    assert list(waits) == []


def test_the_reads_budget_bounds_the_waits_of_all_its_requests(sim, make_source, tenant, waits) -> None:
    """Every request may wait 40 s, but the read as a whole only 100 s: page 3 is not reached."""
    source = make_source(policy=RetryPolicy(budget_seconds=300, total_budget_seconds=100, sleep=waits))
    sim.switches.throttle(every=2, retry_after=40)
    result = read(source)
    assert not result.complete and "429" in result.reason
    assert list(waits) == [40.0, 40.0] and result.stats["waited"] == 80.0
    sim.switches.throttle()  # the budget is per read: the next read starts afresh
    waits.clear()
    assert read(source).complete


@pytest.mark.parametrize("status", [500, 503, 504])
def test_a_server_error_on_a_page_is_retried(sim, make_source, tenant, waits, status) -> None:
    sim.switches.fail_page(2, status=status, times=2, endpoint="users")
    result = read(make_source())
    assert result.complete and len(result.identities) == USERS and result.stats["retries"] == 2
    assert graph_paths(sim)["/v1.0/users"] == 3 + 2


def test_a_dropped_connection_is_retried(sim, make_source, tenant) -> None:
    sim.switches.fail_page(2, status="drop", endpoint="users")
    result = read(make_source())
    assert result.complete and len(result.identities) == USERS and result.stats["retries"] == 1


@pytest.mark.parametrize("mode", [TRUNCATE, BAD_JSON])
def test_a_truncated_body_is_fetched_again(sim, make_source, tenant, mode) -> None:
    sim.switches.truncate_page(2, endpoint="users", mode=mode)
    result = read(make_source())
    assert result.complete and len(result.identities) == USERS and result.stats["retries"] == 1


def test_a_page_that_keeps_failing_makes_the_read_incomplete(sim, make_source, tenant) -> None:
    source = make_source()
    first = read(source)
    sim.switches.fail_page(3, status=503, times=100, endpoint="users")
    sim.invalidate_delta_tokens()  # force a full read again
    result = read(source, first.bookmark, view(first))
    assert not result.complete and result.bookmark == first.bookmark
    assert "stopped after 1998 users" in result.reason and "503" in result.reason
    assert len(result.identities) == 1998


def test_nothing_read_at_all_is_an_error_not_an_empty_read(sim, make_source, tenant) -> None:
    sim.switches.fail_page(1, status=503, times=100, endpoint="users")
    with pytest.raises(RetriableSyncError, match="503"):
        read(make_source())


def test_an_empty_page_with_a_next_link_is_not_the_end(sim, make_source, tenant) -> None:
    source = make_source()
    page_two = sim.tenant.live_ids()[999:1998]
    seen: list[int] = []

    def progress(n, total):
        seen.append(n)
        if len(seen) == 1:  # after page 1: everyone on page 2 leaves
            for uid in page_two:
                sim.tenant.hard_delete(uid)

    result = source.read(None, {}, progress)
    assert seen == [999, 0, USERS - 1998]
    assert len(result.identities) == USERS - 999
    # 999 users left while the list was read: fewer than Graph counted, so no removal trusts it
    assert not result.complete and result.reason == f"Graph counted {USERS} users but the pages held {USERS - 999}; the read is incomplete"


def test_a_page_without_next_link_although_users_remain_is_incomplete(sim, make_source, tenant) -> None:
    sim.switches.short_page(2, endpoint="users")
    result = read(make_source())
    assert not result.complete and len(result.identities) == 1998
    assert result.reason == f"Graph counted {USERS} users but the pages held 1998; the read is incomplete"
    users = [r for r in sim.requests if r.path == "/v1.0/users"]
    assert all("%24count=true" in r.query or "$count=true" in r.query for r in users)


def test_a_listing_whose_next_link_expired_is_read_again_from_page_1(sim, make_source, tenant) -> None:
    source = make_source()
    pages: list[int] = []

    def progress(n, total):
        pages.append(n)
        if len(pages) == 1:  # page 2's link outlives the listing before it is followed
            sim.advance_time(sim.graph.skiptoken_lifetime + 1)

    result = source.read(None, {}, progress)
    assert result.complete and len(result.identities) == USERS
    assert pages == [999, 999, 999, 102]  # page 1, the refusal, then all three pages again
    assert [r.status for r in sim.requests if r.path == "/v1.0/users"] == [200, 400, 200, 200, 200]


def test_a_listing_that_keeps_expiring_is_incomplete(sim, make_source, tenant) -> None:
    sim.graph.skiptoken_lifetime = -1  # every next link is already too old
    result = read(make_source())
    assert not result.complete and "Directory_ExpiredPageToken" in result.reason
    assert len(result.identities) == 999


def test_a_listing_without_a_count_cannot_be_proven_complete() -> None:
    assert shortfall(None, 10) == "Graph did not count the users (no @odata.count), so the read cannot be proven complete"
    assert shortfall(10, 10) is None and shortfall(10, 11) is None


def test_a_delta_round_cut_short_is_incomplete_and_keeps_the_bookmark(sim, make_source, tenant) -> None:
    source = make_source()
    first = read(source)
    sim.tenant.update_user(tenant[0], jobTitle="Changed")
    sim.switches.short_page(1, endpoint="delta")
    result = read(source, first.bookmark, view(first))
    assert result.incremental and not result.complete and result.bookmark == first.bookmark
    assert result.reason == "the delta round ended without a delta link"


def test_a_short_group_page_against_the_count_is_incomplete(sim, make_source, tenant) -> None:
    group = sim.tenant.add_group("Telephony")
    for uid in tenant[:1500]:
        sim.tenant.add_member(group, uid)
    sim.switches.short_page(1, endpoint="members")
    result = read(make_source(groups=["Telephony"]))
    assert not result.complete
    assert result.reason == "Graph announced 1500 members of group 'Telephony' but the pages held 999"


def test_an_expired_token_mid_run_is_renewed_once(sim, make_source, tenant) -> None:
    source = make_source()
    first = read(source)
    sim.revoke_tokens()  # the cached token now answers 401 InvalidAuthenticationToken
    sim.tenant.update_user(tenant[0], jobTitle="After revoke")
    result = read(source, first.bookmark, view(first))
    assert result.complete and [i.job_title for i in result.identities] == ["After revoke"]
    assert [r.status for r in sim.requests if r.path.startswith("/v1.0/")][-2:] == [401, 200]


def test_a_persistent_401_is_an_authentication_error(sim, make_source, tenant) -> None:
    sim.switches.set_token_lifetime(-600)  # every token is born expired
    with pytest.raises(AuthenticationError, match="401 InvalidAuthenticationToken.*even after renewing") as info:
        read(make_source())
    assert sim.client_secret not in str(info.value)


def test_a_throttled_login_is_retried_like_graph(sim, make_source, tenant, waits) -> None:
    sim.switches.throttle(next_n=2, retry_after=3, scope="login")
    result = read(make_source())
    assert result.complete and list(waits) == [3.0, 3.0] and result.stats["retries"] == 2


def test_a_login_service_that_stays_busy_is_retriable_not_a_wrong_setting(sim, make_source, tenant) -> None:
    sim.switches.throttle(next_n=100, retry_after=1, scope="login")
    with pytest.raises(RetriableSyncError, match="sign-in service .* is unavailable \\(HTTP 429\\)") as info:
        read(make_source())
    assert not isinstance(info.value, AuthenticationError)


def test_an_access_token_that_expired_between_runs_is_renewed(sim, make_source, tenant) -> None:
    source = make_source()
    first = read(source)
    sim.advance_time(2 * 3600)  # msal's cache still trusts the token; Graph says it expired
    second = read(source, first.bookmark, view(first))
    assert second.complete and second.incremental and second.stats["requests"] == 2  # 401, then 200
    assert len([r for r in sim.requests if r.path.endswith("/oauth2/v2.0/token")]) == 2
    assert [r.status for r in sim.requests if r.path == "/v1.0/users/delta"][-2:] == [401, 200]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_login_service_nobody_answers_says_connection_refused(sim, make_source, tenant) -> None:
    closed = f"https://127.0.0.1:{_closed_port()}"
    with pytest.raises(RetriableSyncError) as info:
        read(make_source(authority_host=closed, policy=RetryPolicy(attempts=2, budget_seconds=5, sleep=lambda s: None)))
    message = str(info.value)
    assert "connection refused (nothing listens at that address and port)" in message
    assert "ConnectionError" not in message
