"""The removal guard: incomplete reads, zero-user reads, the count and percentage
limits, and releasing held removals with ``--allow-removals N``."""

from __future__ import annotations

import pytest

from syncframe.engine import removal_limit
from syncframe.engine.guard import check_listing

from .conftest import Workspace, ident


def _linked(ws: Workspace, n: int, guard: dict | None = None) -> None:
    ws.write_profile(guard=guard)
    ws.set_users([ident(i) for i in range(n)])
    assert ws.run().exit_code == 0
    assert len(ws.store().links("contoso")) == n


@pytest.mark.parametrize(
    ("linked", "settings", "limit"),
    [
        (10, {}, 5),  # min_allowed wins over 10% of 10
        (100, {}, 10),  # 10% of 100
        (5000, {}, 100),  # max_per_run caps 10% of 5000
        (37, {"max_percent": 50, "min_allowed": 0, "max_per_run": 100}, 18),
        (100, {"max_percent": 0, "min_allowed": 0, "max_per_run": 0}, 0),
    ],
)
def test_removal_limit(linked: int, settings: dict, limit: int) -> None:
    assert removal_limit(settings, linked) == limit


def test_removals_within_the_limit_apply(ws: Workspace) -> None:
    _linked(ws, 10)
    ws.set_users([ident(i) for i in range(5)])  # 5 removals, limit max(5, 1) = 5
    result = ws.run()
    assert result.exit_code == 0 and result.json["counts"]["delete"] == 5 and result.json["counts"]["held"] == 0
    assert len(ws.logins()) == 5


def test_over_the_count_limit_holds_every_removal(ws: Workspace) -> None:
    _linked(ws, 10, guard={"max_per_run": 3, "max_percent": 100, "min_allowed": 0})
    ws.set_users([ident(0)])
    result = ws.run()
    report = result.json
    assert result.exit_code == 4 and report["status"] == "held"
    assert report["counts"]["held"] == 9 and report["counts"]["delete"] == 0  # all or nothing
    assert "9 removals exceed the removal guard's limit of 3" in report["held"]["reason"]
    assert report["held"]["release"].endswith("--allow-removals 9")
    assert report["bookmark"] is False  # a read that tripped the guard never becomes the baseline
    assert len(ws.logins()) == 10
    again = ws.plan()
    assert again.exit_code == 4 and again.json["counts"]["held"] == 9


def test_over_the_percentage_holds(ws: Workspace) -> None:
    _linked(ws, 20, guard={"max_percent": 10, "min_allowed": 1})
    ws.set_users([ident(i) for i in range(17)])  # 3 removals > 10% of 20
    result = ws.run()
    assert result.exit_code == 4
    assert "max_percent=10% of 20 linked users" in result.json["held"]["reason"]


def test_allow_removals_releases_up_to_n(ws: Workspace) -> None:
    _linked(ws, 10, guard={"max_per_run": 2, "min_allowed": 0})
    ws.set_users([ident(0), ident(1), ident(2), ident(3), ident(4), ident(5)])  # 4 removals, limit 1
    partial = ws.run("--allow-removals", "3")
    assert partial.exit_code == 4
    assert partial.json["counts"]["delete"] == 3 and partial.json["counts"]["held"] == 1
    assert "released with --allow-removals" in partial.item(kind="delete", login="user6@contoso.com")["reason"]
    assert len(ws.logins()) == 7
    rest = ws.run("--allow-removals", "1")
    assert rest.exit_code == 0 and rest.json["counts"]["delete"] == 1
    assert len(ws.logins()) == 6


def test_plan_can_preview_a_release(ws: Workspace) -> None:
    _linked(ws, 10, guard={"max_per_run": 1})
    ws.set_users([])
    ws.set_users([ident(0)])
    assert ws.plan().json["counts"]["held"] == 9
    preview = ws.plan("--allow-removals", "9")
    assert preview.exit_code == 3 and preview.json["counts"]["delete"] == 9
    assert len(ws.logins()) == 10


def test_an_incomplete_read_removes_nobody_even_when_allowed(ws: Workspace) -> None:
    _linked(ws, 6)
    ws.set_users([ident(0), ident(1), ident(2), ident(3), ident(4, display_name="New"), ident(5), ident(6)], stop_after=3)
    result = ws.run("--allow-removals", "100")
    report = result.json
    assert result.exit_code == 1 and report["status"] == "failed" and report["complete"] is False
    assert report["counts"]["held"] == 3 and report["counts"]["delete"] == 0
    assert "incomplete (simulated outage after 3 users)" in report["held"]["reason"]
    assert report["held"]["releasable"] is False and report["held"]["release"] is None
    assert report["counts"]["create"] == 0  # user 6 was not in the part that was read
    assert report["bookmark"] is False
    assert len(ws.logins()) == 6


def test_an_incomplete_read_still_applies_creates_and_updates_it_saw(ws: Workspace) -> None:
    _linked(ws, 2)
    ws.set_users([ident(0, display_name="Zero"), ident(9), ident(1)], stop_after=2)
    result = ws.run()
    assert result.json["counts"]["update"] == 1 and result.json["counts"]["create"] == 1
    assert result.json["counts"]["held"] == 1 and result.exit_code == 1
    assert ws.store().get_bookmark("contoso") is None and ws.store().load_view("contoso").get("id-9") is None


def test_a_zero_user_read_holds_everything_until_allowed_explicitly(ws: Workspace) -> None:
    _linked(ws, 3)  # 3 removals would be within min_allowed = 5
    ws.set_users([])
    held = ws.run()
    assert held.exit_code == 4
    assert "the source returned no users while 3 are linked" in held.json["held"]["reason"]
    assert len(ws.logins()) == 3
    released = ws.run("--allow-removals", "3")
    assert released.exit_code == 0 and released.json["counts"]["delete"] == 3
    assert ws.logins() == []


@pytest.mark.parametrize(
    ("lost", "linked", "allow", "doubted"),
    [
        (0, 200, 0, False),
        (20, 200, 0, False),  # the limit: max(5, 10% of 200)
        (21, 200, 0, True),
        (200, 200, 0, True),  # "200 []"
        (200, 200, 200, False),  # accepted with --allow-removals 200
        (5, 5, 0, False),  # min_allowed: a small store losing everything is believed
    ],
)
def test_a_target_list_is_doubted_when_it_lost_more_linked_accounts_than_the_limit(lost: int, linked: int, allow: int, doubted: bool) -> None:
    doubt = check_listing(lost=lost, listed=linked - lost, linked=linked, settings={}, allow_removals=allow)
    assert (doubt is not None) is doubted
    if doubt:
        assert doubt.lost == lost and f"{lost} of the {linked} accounts this connector linked are missing" in doubt.reason


def test_a_removal_held_once_waits_for_a_release(ws: Workspace) -> None:
    _linked(ws, 20)
    ws.set_users([ident(i) for i in range(12)])  # 8 removals > 5
    assert ws.run("--allow-removals", "5").exit_code == 4  # 5 removed, 3 held
    assert ws.run().exit_code == 4  # 3 fit under the limit now, but nobody released them
    assert len(ws.logins()) == 15
    with ws.store() as store:
        assert sorted(sid for sid, link in store.links("contoso").items() if link.held_since) == ["id-17", "id-18", "id-19"]
    assert ws.run("--allow-removals", "3").exit_code == 0
    with ws.store() as store:
        assert not any(link.held_since for link in store.links("contoso").values())
