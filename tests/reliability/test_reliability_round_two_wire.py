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
