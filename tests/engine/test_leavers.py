"""Planning leavers (issue 21): disable first, delete when due, re-enable on a comeback,
never in mode upsert; the guard counts disables with deletions."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from syncframe import Identity, ItemKind
from syncframe.state import Link
from .planning import in_step, link, make_plan, only

GRACE = "disable, delete after 30d"
DAY0 = datetime(2027, 1, 1, 9, tzinfo=timezone.utc)


def person(n: int) -> Identity:
    return Identity(source_id=f"s{n}", username=f"user{n}@contoso.com", display_name=f"User {n}")


def world(n: int = 10) -> tuple[list[Identity], list, dict[str, Link]]:
    people = [person(i) for i in range(1, n + 1)]
    accounts = [in_step(f"t{p.source_id}", p) for p in people]
    links = {p.source_id: link(p.source_id, a) for p, a in zip(people, accounts)}
    return people, accounts, links


def leaver(l: Link, disabled_at: datetime, due: datetime | None, kept: bool = False) -> Link:
    return dataclasses.replace(l, disabled_at=disabled_at, delete_due=due, kept=kept)


def disabled(a):  # type: ignore[no-untyped-def]
    return dataclasses.replace(a, enabled=False, fields={**a.fields, "enabled": False})


def test_a_leaver_is_disabled_with_its_due_date_and_counted_by_the_guard() -> None:
    people, accounts, links = world()
    plan = make_plan(people[1:], accounts, links, removal=GRACE, now=DAY0)
    item = only(plan, "s1")
    assert item.kind is ItemKind.DISABLE and item.delete_due == (DAY0 + timedelta(days=30)).isoformat()
    assert "deleted on 2027-01-31 09:00 UTC unless the user comes back" in item.reason
    assert [(l.login, l.state) for l in plan.leavers] == [("user1@contoso.com", "disabling")]
    # over the guard's limit, disables are held like deletions
    held = make_plan(people[4:], accounts, links, removal=GRACE, now=DAY0, guard={"max_per_run": 3})
    assert held.counts()["held"] == 4 and held.counts()["disable"] == 0


def test_removal_delete_deletes_and_removal_disable_never_dates_a_deletion() -> None:
    people, accounts, links = world()
    assert only(make_plan(people[1:], accounts, links, now=DAY0), "s1").kind is ItemKind.DELETE
    item = only(make_plan(people[1:], accounts, links, removal="disable", now=DAY0), "s1")
    assert item.kind is ItemKind.DISABLE and item.delete_due is None


def test_a_disabled_leaver_waits_until_due_then_is_deleted_unless_kept() -> None:
    people, accounts, links = world()
    due = DAY0 + timedelta(days=30)
    links["s1"] = leaver(links["s1"], DAY0, due)
    accounts[0] = disabled(accounts[0])
    waiting = make_plan(people[1:], accounts, links, removal=GRACE, now=due - timedelta(seconds=1))
    assert only(waiting, "s1").kind is ItemKind.SKIP and "waiting for deletion on 2027-01-31" in only(waiting, "s1").reason
    assert [(l.login, l.state) for l in waiting.leavers] == [("user1@contoso.com", "waiting")]
    assert not waiting.writes
    assert only(make_plan(people[1:], accounts, links, removal=GRACE, now=due), "s1").kind is ItemKind.DELETE
    links["s1"] = leaver(links["s1"], DAY0, due, kept=True)
    kept = make_plan(people[1:], accounts, links, removal=GRACE, now=due + timedelta(days=365))
    assert only(kept, "s1").kind is ItemKind.SKIP and kept.leavers[0].state == "kept"


def test_a_leaver_who_comes_back_is_re_enabled_on_the_same_account() -> None:
    people, accounts, links = world()
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=30))
    accounts[0] = disabled(accounts[0])
    plan = make_plan(people, accounts, links, removal=GRACE, now=DAY0 + timedelta(days=3))
    item = only(plan, "s1")
    assert item.kind is ItemKind.UPDATE and item.target_id == accounts[0].target_id
    assert item.changes == {"enabled": [False, True]} and "back in the directory" in item.reason
    assert plan.counts()["create"] == 0 and plan.leavers == []


def test_mode_upsert_never_disables_or_deletes_a_leaver() -> None:
    people, accounts, links = world()
    assert only(make_plan(people[1:], accounts, links, mode="upsert", removal=GRACE, now=DAY0), "s1").kind is ItemKind.SKIP
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=30))
    late = make_plan(people[1:], accounts, links, mode="upsert", removal=GRACE, now=DAY0 + timedelta(days=400))
    assert only(late, "s1").kind is ItemKind.SKIP and not late.writes


def test_a_doubtful_target_list_holds_disables_too() -> None:
    people, accounts, links = world(20)
    # the target lists only 5 of 20 linked accounts: its list is doubted, nothing removed
    plan = make_plan(people[1:], accounts[:5], links, removal=GRACE, now=DAY0)
    assert plan.listing_doubt and not [i for i in plan.items if i.kind in (ItemKind.DISABLE, ItemKind.DELETE)]


# --- review of issue 21: cases where an account could be enabled or deleted wrongly ---


def test_a_leaver_back_but_disabled_in_the_source_is_not_enabled() -> None:
    """include_disabled: a leaver reappears disabled in the directory; the account must
    stay disabled (re-enabling it would let a disabled directory user sign in)."""
    people, accounts, links = world()
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=30))
    accounts[0] = disabled(accounts[0])
    back_disabled = dataclasses.replace(people[0], enabled=False)
    plan = make_plan([back_disabled, *people[1:]], accounts, links, removal=GRACE, scope={"include_disabled": True}, now=DAY0 + timedelta(days=3))
    item = only(plan, "s1")
    assert "enabled" not in item.changes, item.changes
    assert item.kind is not ItemKind.CREATE and item.target_id == accounts[0].target_id
    # it is no leaver any more (its link is active again), and its account is not deleted
    assert plan.leavers == [] and plan.counts()["delete"] == 0


def test_removal_switched_to_disable_never_deletes_a_leaver_dated_before() -> None:
    """removal = "disable" means no deletion without a person; a leaver dated under an
    earlier grace period must wait for a release, not be deleted when its old date comes."""
    people, accounts, links = world()
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=30))
    accounts[0] = disabled(accounts[0])
    plan = make_plan(people[1:], accounts, links, removal="disable", now=DAY0 + timedelta(days=31))
    assert only(plan, "s1").kind is ItemKind.SKIP and not plan.writes
    assert [l.state for l in plan.leavers] == ["undated"]


def test_an_incomplete_read_deletes_no_due_leaver_and_disables_nobody() -> None:
    people, accounts, links = world()
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=30))
    accounts[0] = disabled(accounts[0])
    plan = make_plan(people[2:], accounts, links, removal=GRACE, complete=False, reason="paging failed", now=DAY0 + timedelta(days=40))
    assert only(plan, "s1").kind is ItemKind.HELD and only(plan, "s2").kind is ItemKind.HELD
    assert not [i for i in plan.writes if i.kind in (ItemKind.DELETE, ItemKind.DISABLE)]
    assert plan.guard.releasable is False


def test_a_due_leaver_who_comes_back_in_that_run_is_re_enabled_not_deleted() -> None:
    people, accounts, links = world()
    due = DAY0 + timedelta(days=30)
    links["s1"] = leaver(links["s1"], DAY0, due)
    accounts[0] = disabled(accounts[0])
    plan = make_plan(people, accounts, links, removal=GRACE, now=due + timedelta(days=1))
    item = only(plan, "s1")
    assert item.kind is ItemKind.UPDATE and item.changes == {"enabled": [False, True]}
    assert plan.counts()["delete"] == 0 and plan.counts()["create"] == 0


def test_under_removal_disable_a_released_leaver_is_still_deleted() -> None:
    people, accounts, links = world()
    links["s1"] = leaver(links["s1"], DAY0, DAY0 + timedelta(days=1))  # the release made it due
    accounts[0] = disabled(accounts[0])
    plan = make_plan(people[1:], accounts, links, removal="disable", now=DAY0 + timedelta(days=2), released_logins={"user1@contoso.com": "alice"})
    assert only(plan, "s1").kind is ItemKind.DELETE


def test_a_leaver_enabled_again_by_hand_is_not_deleted_when_due_unless_released() -> None:
    people, accounts, links = world()
    due = DAY0 + timedelta(days=30)
    links["s1"] = leaver(links["s1"], DAY0, due)  # the account in the target is enabled again
    plan = make_plan(people[1:], accounts, links, removal=GRACE, now=due + timedelta(days=1))
    assert only(plan, "s1").kind is ItemKind.SKIP and "enabled again by hand" in only(plan, "s1").reason
    assert [l.state for l in plan.leavers] == ["enabled"] and not plan.writes
    released = make_plan(people[1:], accounts, links, removal=GRACE, now=due + timedelta(days=1), released_logins={"user1@contoso.com": "alice"})
    assert only(released, "s1").kind is ItemKind.DELETE


def test_removal_switched_to_delete_lets_waiting_leavers_wait_for_their_date() -> None:
    people, accounts, links = world()
    due = DAY0 + timedelta(days=30)
    links["s1"] = leaver(links["s1"], DAY0, due)
    accounts[0] = disabled(accounts[0])
    before = make_plan(people[1:], accounts, links, removal="delete", now=due - timedelta(days=1))
    assert only(before, "s1").kind is ItemKind.SKIP and not before.writes
    assert only(make_plan(people[1:], accounts, links, removal="delete", now=due), "s1").kind is ItemKind.DELETE
