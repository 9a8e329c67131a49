"""A short or empty user list from the phone system (issue 20, item 5).

30 users are imported. Then one leaves the directory and one joins, and the pascom
user list answers ``200`` with nobody in it (or with only 5 of the 30 linked users).
Taken at its word, that list says the linked accounts were deleted by hand: every
link would be dropped, the linked users "created" again into ``LOGIN_EXISTS``, the
next run would adopt everyone anew and the leaver's account would be orphaned. The
run must hold instead: no link changed, nothing created or removed, exit 4 with the
reason; the next run with a whole list applies exactly the two real changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from reliability_lab import Lab, person

USERS = 30
LEAVER, JOINER = 5, 31


def imported(lab: Lab) -> Path:
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile()
    assert lab.run(profile)["counts"]["create"] == USERS
    lab.graph.remove_identity(person(LEAVER).source_id)
    lab.directory(person(JOINER))
    return profile


def only_admin(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [u for u in users if u["003use_name"] == "admin"]


def first_five(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return users[:6]  # the admin and 5 of the 30


@pytest.mark.parametrize("keep", [lambda users: [], only_admin, first_five], ids=["empty", "admin-only", "5-of-30"])
def test_a_listing_that_lost_linked_accounts_holds_the_run_and_changes_no_link(lab: Lab, keep: Callable[..., Any]) -> None:
    profile = imported(lab)
    links = lab.links()
    ids = {a["login"]: a["id"] for a in lab.pascom.accounts()}
    lab.pascom.simulator.reset_counters()
    lab.listing.keep = keep

    held = lab.run(profile, expect=4)
    assert held["status"] == "held" and held["bookmark"] is False
    assert "linked" in held["held"]["reason"] and "listed" in held["held"]["reason"], held["held"]
    assert held["links_dropped"] == 0 and held["counts"]["create"] == 0 and held["counts"]["delete"] == 0
    assert lab.pascom_writes() == [], "a run on a short listing wrote to the phone system"
    assert lab.links() == links

    lab.listing.keep = None
    report = lab.run(profile)
    assert report["status"] == "ok"
    assert {k: v for k, v in report["counts"].items() if v and k != "noop"} == {"create": 1, "delete": 1}
    assert [(m, s) for m, _p, s in lab.pascom_writes()] == [("POST", 201), ("DELETE", 204)]
    assert person(LEAVER).username not in lab.logins() and person(JOINER).username in lab.logins()
    assert all(lab.accounts()[login]["id"] == i for login, i in ids.items() if login != person(LEAVER).username)


def test_a_few_accounts_deleted_by_hand_are_dropped_and_recreated_as_before(lab: Lab) -> None:
    """The control: losing fewer linked accounts than the guard's limit is taken at its
    word (someone deleted them in the phone system): their links drop, they are created again."""
    profile = imported(lab)
    for n in (1, 2):
        lab.instance.remove_user(person(n).username)
    report = lab.run(profile)
    assert report["status"] == "ok" and report["links_dropped"] == 2
    assert report["counts"]["create"] == 3 and report["counts"]["delete"] == 1


def test_allow_removals_accepts_a_listing_that_really_lost_its_accounts(lab: Lab) -> None:
    """Someone really deleted 20 linked users in the phone system: the administrator
    releases the hold after review, and they are created again."""
    profile = imported(lab)
    for n in range(6, 26):
        lab.instance.remove_user(person(n).username)
    held = lab.run(profile, expect=4)
    assert held["held"]["release"].endswith("--allow-removals 20"), held["held"]
    report = lab.run(profile, "--allow-removals", "20")
    assert report["status"] == "ok" and report["links_dropped"] == 20
    assert report["counts"]["create"] == 21 and report["counts"]["delete"] == 1
