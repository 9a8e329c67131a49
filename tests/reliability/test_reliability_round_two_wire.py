"""Reliability, round two, on the wire (issue 20, items 1 and 3), through the real CLI.

1. A full read proves it is complete: Graph's ``@odata.count`` against the users the
   pages held. A page without ``@odata.nextLink`` although more users exist is an
   incomplete read, whatever the removal guard would have allowed.
3. A device creation whose answer is lost is read back before it is tried again, and a
   run repairs duplicate devices and adds missing ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability_lab import Lab, person


def imported(lab: Lab, users: int, page_size: int) -> Path:
    """``users`` directory users imported by a complete full read (a full read every run)."""
    lab.instance.extensions.pool = range(100, 10000)  # the sandbox's 900 numbers are too few here
    lab.directory(*[person(i) for i in range(1, users + 1)])
    profile = lab.profile(source={"page_size": page_size, "reconcile_every": 0}, target={"create_mobile": False})
    first = lab.run(profile)
    assert first["status"] == "ok" and first["counts"]["create"] == users
    lab.pascom.simulator.reset_counters()
    return profile


@pytest.mark.slow
@pytest.mark.parametrize(
    ("users", "page_size"),
    [
        pytest.param(200, 180, id="200-users-20-lost-exactly-the-guards-limit"),
        pytest.param(1003, 999, id="1003-users-at-top-999-page-2-lost"),
    ],
)
def test_a_lost_last_page_is_an_incomplete_read_and_removes_nobody(lab: Lab, users: int, page_size: int) -> None:
    profile = imported(lab, users, page_size)
    lab.sim.switches.short_page(1, times=1, endpoint="users")  # page 1 ends without @odata.nextLink
    report = lab.run(profile, expect=1)
    assert report["complete"] is False and report["status"] == "failed"
    assert report["read_reason"] == f"Graph counted {users} users but the pages held {page_size}; the read is incomplete"
    assert report["counts"]["delete"] == 0
    assert [w for w in lab.pascom_writes() if w[0] == "DELETE"] == []
    assert len(lab.links()) == users
    # the next run reads every page again and finds nothing to do
    again = lab.run(profile)
    assert again["status"] == "ok" and again["complete"] and again["counts"]["delete"] == 0


# -- 3. device creations ------------------------------------------------------------------


def mobiles(lab: Lab, login: str) -> list[dict]:
    return [d for d in lab.accounts()[login]["devices"] if d["type"] == "mobile"]


def adoptable(lab: Lab, users: int) -> Path:
    """``users`` directory users whose logins exist in pascom already, made by hand with a
    softphone but no mobile device: adopting them adds one (``POST .../devices``)."""
    for n in range(1, users + 1):
        lab.directory(person(n))
        lab.instance.seed_user(person(n).username, display_name=f"User {n}", email=person(n).email, mobile=False)
    return lab.profile(concurrency=1)


@pytest.mark.parametrize("mode", ["drop", "502"])
def test_a_device_creation_whose_answer_is_lost_is_read_back_not_repeated(lab: Lab, mode: str) -> None:
    """Every adopted user's POST .../devices is performed but its answer lost (the 2nd write
    of each: PUT, then POST). The client reads the user back, finds the new device, and
    does not send the POST again: one mobile device each."""
    profile = adoptable(lab, 3)
    for k in (2, 4, 6):
        lab.instance.switches.lose_write(k, mode)
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["adopt"] == 3, report["errors"]
    posts = [w for w in lab.pascom_writes() if w[0] == "POST" and w[1].endswith("/devices")]
    assert len(posts) == 3  # lost, read back, never repeated
    for n in (1, 2, 3):
        assert len(mobiles(lab, person(n).username)) == 1
    again = lab.run(profile)
    assert again["status"] == "ok" and sum(again["counts"][k] for k in ("create", "update", "rename", "adopt")) == 0


def test_a_device_creation_that_did_not_land_is_sent_again(lab: Lab) -> None:
    """A 503 before the write is performed: the read-back finds no new device, so it is sent again."""
    profile = adoptable(lab, 1)
    lab.instance.switches.fail_write(2, 503)
    report = lab.run(profile)
    assert report["status"] == "ok", report["errors"]
    assert len(mobiles(lab, person(1).username)) == 1


def test_a_run_repairs_duplicate_mobile_devices_and_adds_missing_ones(lab: Lab) -> None:
    """Left over from a retried creation: user 1 has two mobile devices syncframe made, user 2
    lost its mobile device. The next run removes the unpaired extra and adds the missing one;
    the run after has nothing to do."""
    lab.directory(person(1), person(2), person(3))
    profile = lab.profile()
    assert lab.run(profile)["counts"]["create"] == 3
    one, two = person(1).username, person(2).username
    lab.instance.add_device(one, {"type": "mobile", "010dev_bez": "pascom Mobile [User 1]"})
    (lost,) = mobiles(lab, two)
    lab.instance.remove_device(two, lost["id"])
    lab.instance.pair_mobile(person(3).username)
    lab.instance.add_device(person(3).username, {"type": "mobile", "010dev_bez": "pascom Mobile [User 3]"})
    lab.instance.pair_mobile(person(3).username)  # user 3 uses both: a paired device is never removed
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["update"] == 2, report
    assert len(mobiles(lab, one)) == 1 and len(mobiles(lab, two)) == 1 and len(mobiles(lab, person(3).username)) == 2
    again = lab.run(profile)
    assert again["status"] == "ok" and again["counts"]["update"] == 0
