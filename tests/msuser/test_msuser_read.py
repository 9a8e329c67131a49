"""Reading users from the Graph simulator: full reads, delta rounds, expiry, reconcile."""

from __future__ import annotations

import json

from msuser_helpers import graph_paths, view

from syncframe_msuser.source import Bookmark


def test_a_2500_user_tenant_reads_in_3_requests_to_users(sim, make_source) -> None:
    ids = sim.tenant.generate_users(2500, seed=3)
    progress: list[tuple[int, object]] = []
    result = make_source().read(None, {}, lambda n, total: progress.append((n, total)))
    assert result.complete and not result.incremental and result.reason is None
    assert {i.source_id for i in result.identities} == set(ids)
    assert graph_paths(sim) == {"/v1.0/users": 3, "/v1.0/users/delta": 1}
    assert result.stats["requests"] == 4 and result.stats["pages"] == 4 and result.stats["retries"] == 0
    assert sum(n for n, _ in progress) == 2500
    # every request asked for exactly the 13 properties, and /users for pages of 999
    users_queries = [r.query for r in sim.requests if r.path == "/v1.0/users"]
    assert "%24top=999" in users_queries[0] or "$top=999" in users_queries[0]
    assert json.loads(result.bookmark)["delta_link"].startswith(sim.graph_url + "/users/delta?")


def test_guests_and_disabled_users_are_returned_and_marked(sim, make_source) -> None:
    member = sim.tenant.add_user(userPrincipalName="anna@contoso.onmicrosoft.com", displayName="Anna", accountEnabled=True)
    guest = sim.tenant.add_user(userPrincipalName="bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", displayName="Bob")
    disabled = sim.tenant.add_user(userPrincipalName="carl@contoso.onmicrosoft.com", displayName="Carl", accountEnabled=False)
    found = {i.source_id: i for i in make_source().read(None, {}, lambda *a: None).identities}
    assert (found[member["id"]].out_of_scope, found[member["id"]].enabled) == (None, True)
    assert "guest" in found[guest["id"]].out_of_scope
    assert found[disabled["id"]].enabled is False and "disabled" in found[disabled["id"]].out_of_scope


def test_a_round_without_changes_is_one_request(sim, make_source) -> None:
    sim.tenant.generate_users(300, seed=1)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    sim.log.clear()
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert second.complete and second.incremental
    assert second.identities == () and second.removed == ()
    assert graph_paths(sim) == {"/v1.0/users/delta": 1} and second.stats["requests"] == 1


def test_delta_merges_changed_properties_onto_the_last_view(sim, make_source) -> None:
    ids = sim.tenant.generate_users(50, seed=2)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    before = view(first)[ids[0]]
    sim.tenant.update_user(ids[0], jobTitle="Head of Telephony")
    sim.tenant.rename(ids[1], "renamed.person@contoso.onmicrosoft.com")
    sim.tenant.disable(ids[2])
    sim.log.clear()
    second = source.read(first.bookmark, view(first), lambda *a: None)
    changed = {i.source_id: i for i in second.identities}
    assert set(changed) == {ids[0], ids[1], ids[2]}
    # only jobTitle came over the wire; everything else is the last view's
    assert changed[ids[0]] == before.replace(job_title="Head of Telephony")
    assert changed[ids[1]].username == "renamed.person@contoso.onmicrosoft.com"
    assert changed[ids[2]].enabled is False
    assert graph_paths(sim) == {"/v1.0/users/delta": 1}  # nothing had to be fetched


def test_delta_reports_deleted_and_soft_deleted_users_as_removed(sim, make_source) -> None:
    ids = sim.tenant.generate_users(20, seed=4)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    sim.tenant.soft_delete(ids[3])
    sim.tenant.hard_delete(ids[4])
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert second.complete and set(second.removed) == {ids[3], ids[4]}
    assert second.stats["soft_deleted"] == 1


def test_a_restored_user_comes_back_with_the_next_full_read(sim, make_source) -> None:
    """With $select a restore is no change to delta (microsoftgraph/microsoft-graph-docs#5821):
    the incremental read cannot see the user back; the daily full read does."""
    ids = sim.tenant.generate_users(20, seed=4)
    now = [1_800_000_000.0]
    source = make_source(clock=lambda: now[0])
    first = source.read(None, {}, lambda *a: None)
    sim.tenant.soft_delete(ids[3])
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert second.removed == (ids[3],)
    sim.tenant.restore(ids[3])
    now[0] += 3600
    third = source.read(second.bookmark, view(second, view(first)), lambda *a: None)
    assert third.incremental and third.identities == () and third.removed == ()
    now[0] += 86400  # the backstop: a full read at least once a day
    daily = source.read(third.bookmark, view(third, view(second, view(first))), lambda *a: None)
    assert not daily.incremental and daily.stats["why"] == "the daily full reconcile is due"
    assert {i.source_id: i for i in daily.identities}[ids[3]] == view(first)[ids[3]]


def test_a_changed_user_missing_from_the_view_is_fetched_whole(sim, make_source) -> None:
    ids = sim.tenant.generate_users(10, seed=5)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    previous = view(first)
    lost = previous.pop(ids[0])  # e.g. the engine's view predates this user
    sim.tenant.update_user(ids[0], department="Support")
    sim.log.clear()
    second = source.read(first.bookmark, previous, lambda *a: None)
    assert second.identities == (lost.replace(department="Support"),)
    assert graph_paths(sim) == {"/v1.0/users/delta": 1, "/v1.0/$batch": 1}


def test_a_new_user_arrives_whole_through_delta(sim, make_source) -> None:
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    new = sim.tenant.add_user(userPrincipalName="neu@contoso.onmicrosoft.com", displayName="Neu", jobTitle="Trainee")
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert [(i.source_id, i.username, i.job_title) for i in second.identities] == [(new["id"], "neu@contoso.onmicrosoft.com", "Trainee")]


def onboarded(sim, n: int) -> list[str]:
    """``n`` new users as a bulk onboarding makes them: no job title, department or phones yet."""
    return [sim.tenant.add_user(userPrincipalName=f"new{i}@contoso.onmicrosoft.com", displayName=f"New {i}", givenName="New")["id"]
            for i in range(n)]


def test_new_users_of_a_delta_round_are_completed_in_batches_of_20(sim, make_source) -> None:
    """Delta leaves out what new users never had; they are completed 20 per $batch, not one GET each."""
    sim.tenant.generate_users(5, seed=19)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    new = onboarded(sim, 45)
    sim.log.clear()
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert second.complete and {i.source_id for i in second.identities} == set(new)
    assert graph_paths(sim) == {"/v1.0/users/delta": 1, "/v1.0/$batch": 3}  # 20 + 20 + 5
    stored = {u["id"]: u for u in sim.tenant.users()}
    for identity in second.identities:
        user = stored[identity.source_id]
        assert (identity.job_title, identity.mobile_phone) == (user.get("jobTitle"), user.get("mobilePhone"))


def test_a_batch_item_throttled_or_gone_is_retried_or_dropped(sim, make_source, waits) -> None:
    sim.tenant.generate_users(5, seed=20)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    new = onboarded(sim, 30)

    def after_the_round(n, total):  # the delta page was read: one new user leaves, batches get throttled
        sim.tenant.hard_delete(new[0])
        sim.switches.throttle(every=4, retry_after=3)

    second = source.read(first.bookmark, view(first), after_the_round)
    assert second.complete and {i.source_id for i in second.identities} == set(new[1:])
    assert second.stats["retries"] >= 1 and set(waits) == {3.0}


def test_an_expired_delta_link_falls_back_to_a_full_read(sim, make_source) -> None:
    ids = sim.tenant.generate_users(30, seed=6)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    sim.invalidate_delta_tokens()  # 410 Gone syncStateNotFound
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert second.complete and not second.incremental and second.stats["why"] == "the delta link expired"
    assert {i.source_id for i in second.identities} == set(ids)
    # and a delta token older than its 7-day retention too
    sim.advance_time(8 * 86400)
    third = source.read(second.bookmark, view(second), lambda *a: None)
    assert not third.incremental and third.stats["why"] == "the delta link expired" and len(third.identities) == 30


def test_a_full_reconcile_runs_at_least_daily(sim, make_source) -> None:
    sim.tenant.generate_users(5, seed=7)
    now = [1_800_000_000.0]
    source = make_source(clock=lambda: now[0])
    first = source.read(None, {}, lambda *a: None)
    now[0] += 23 * 3600
    assert source.read(first.bookmark, view(first), lambda *a: None).incremental
    now[0] += 3600
    daily = source.read(first.bookmark, view(first), lambda *a: None)
    assert not daily.incremental and daily.stats["why"] == "the daily full reconcile is due"
    assert json.loads(daily.bookmark)["full_read_at"] == now[0]


def test_a_bookmark_made_with_other_settings_forces_a_full_read(sim, make_source) -> None:
    sim.tenant.generate_users(5, seed=8)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    mark = Bookmark.decode(first.bookmark)
    foreign = Bookmark(mark.delta_link, mark.full_read_at, "another-tenant").encode()
    again = source.read(foreign, view(first), lambda *a: None)
    assert not again.incremental and again.stats["why"] == "the settings changed since the last read"
    assert make_source(groups=["Sales"]).fingerprint() != source.fingerprint()


def test_a_bookmark_without_a_previous_view_means_a_full_read(sim, make_source) -> None:
    sim.tenant.generate_users(7, seed=12)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    again = source.read(first.bookmark, {}, lambda *a: None)
    assert not again.incremental and len(again.identities) == 7
    assert again.stats["why"] == "there is no previous view to apply changes to"


def test_a_batch_item_asking_for_a_wait_beyond_the_budget_stops_the_read(sim, make_source, waits) -> None:
    sim.tenant.generate_users(5, seed=21)
    source = make_source()
    first = source.read(None, {}, lambda *a: None)
    onboarded(sim, 3)

    def after_the_round(n, total):
        sim.switches.throttle(every=2, retry_after=3600)  # the batch passes, some of its items are throttled

    second = source.read(first.bookmark, view(first), after_the_round)
    assert not second.complete and "past the retry budget" in second.reason
    assert 3600.0 not in waits
