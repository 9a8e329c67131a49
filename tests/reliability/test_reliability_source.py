"""Source faults never remove anyone (issue 9, item 1).

Each test imports 30 directory users (3 pages of 10), deletes 2 of them in the
directory (a legitimate removal, within the guard), then runs again with a Graph
fault armed. A complete read would remove those 2 (the control test proves it);
a faulty read must remove nobody, leave every phone-system user in place, and keep
the bookmark where it was. The runs go through the real CLI against the Graph +
login and pascom simulators.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reliability_lab import Lab, person

USERS = 30
PAGE = 10
GONE = (7, 23)  # deleted in the directory after the import


def imported(lab: Lab, **source: Any) -> Path:
    """30 users imported (complete read, 30 links); users 7 and 23 then deleted in the directory."""
    lab.directory(*[person(i) for i in range(1, USERS + 1)])
    profile = lab.profile(source={"page_size": PAGE, **source})
    first = lab.run(profile)
    assert first["counts"]["create"] == USERS and first["status"] == "ok"
    for n in GONE:
        lab.graph.remove_identity(person(n).source_id)
    lab.pascom.simulator.reset_counters()
    lab.sim.log.clear()
    return profile


def bookmark(lab: Lab) -> str | None:
    with lab.store() as store:
        return store.get_bookmark("rel")


def assert_nobody_removed(lab: Lab) -> None:
    deletes = [w for w in lab.pascom_writes() if w[0] == "DELETE"]
    assert deletes == [], f"a faulty read removed users: {deletes}"
    assert len([login for login in lab.logins() if login != "admin"]) == USERS
    assert len(lab.links()) == USERS


def test_a_complete_read_removes_the_deleted_users(lab: Lab) -> None:
    """The control: without a fault, the same setup removes exactly users 7 and 23."""
    profile = imported(lab, reconcile_every=0)
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["delete"] == 2
    assert sorted(w[1].rsplit("/", 1)[1] for w in lab.pascom_writes() if w[0] == "DELETE") == sorted(person(n).username for n in GONE)


@pytest.mark.parametrize("fault", [503, 500, "drop", "truncate", "bad_json"])
def test_a_transient_fault_on_page_2_is_retried_and_the_read_completes(lab: Lab, fault: Any) -> None:
    """One 5xx or dropped connection on page 2 of 3: retried, the read completes, the 2 removals apply."""
    profile = imported(lab, reconcile_every=0)
    lab.sim.switches.fail_page(2, fault, times=1, endpoint="users")
    report = lab.run(profile)
    assert report["complete"] and report["counts"]["delete"] == 2
    assert lab.sim.switches.faults_fired == 1


@pytest.mark.slow  # the source's retry budget (6 attempts with backoff) runs out first
@pytest.mark.parametrize(
    "arm",
    [
        pytest.param(lambda s: s.fail_page(2, 503, times=50, endpoint="users"), id="503-on-page-2"),
        pytest.param(lambda s: s.fail_page(3, "drop", times=50, endpoint="users"), id="dropped-connection-on-page-3"),
        pytest.param(lambda s: s.truncate_page(2, times=50, endpoint="users", mode="bad_json"), id="cut-json-on-page-2"),
    ],
)
def test_a_persistent_fault_on_page_k_of_n_removes_nobody(lab: Lab, arm: Any) -> None:
    profile = imported(lab, reconcile_every=0)
    before = bookmark(lab)
    arm(lab.sim.switches)
    report = lab.run(profile, expect=1)
    assert report["status"] == "failed" and report["complete"] is False
    assert "stopped after" in report["read_reason"]
    assert report["counts"]["delete"] == 0
    assert_nobody_removed(lab)
    assert bookmark(lab) == before  # the watermark did not advance


@pytest.mark.slow
def test_a_fault_on_the_first_page_fails_the_run_and_removes_nobody(lab: Lab) -> None:
    profile = imported(lab, reconcile_every=0)
    lab.sim.switches.fail_page(1, 500, times=50, endpoint="users")
    report = lab.run(profile, expect=1)
    assert report["status"] == "failed" and report["error"]
    assert_nobody_removed(lab)


def test_a_page_without_next_link_is_an_incomplete_read(lab: Lab) -> None:
    """Page 1 of 3 ends without @odata.nextLink: 10 users read where Graph counted 28, so the
    read is incomplete (issue 20, item 1) and no removal is applied, not even the 2 real ones."""
    profile = imported(lab, reconcile_every=0)
    lab.sim.switches.short_page(1, times=1, endpoint="users")
    report = lab.run(profile, expect=1)
    assert report["complete"] is False and report["counts"]["delete"] == 0
    assert report["read_reason"] == f"Graph counted {USERS - len(GONE)} users but the pages held {PAGE}; the read is incomplete"
    assert_nobody_removed(lab)


def test_an_empty_tenant_removes_nobody(lab: Lab) -> None:
    """Every directory user gone at once (or a tenant that reads empty): held as an outage."""
    profile = imported(lab, reconcile_every=0)
    for n in range(1, USERS + 1):
        if n not in GONE:
            lab.graph.remove_identity(person(n).source_id)
    report = lab.run(profile, expect=4)
    assert report["held"]["count"] == USERS
    assert "looks like an outage" in report["held"]["reason"]
    assert_nobody_removed(lab)


@pytest.mark.parametrize("how", ["401", "403"])
def test_persistent_401_or_403_fails_the_run_and_removes_nobody(lab: Lab, how: str) -> None:
    profile = imported(lab, reconcile_every=0)
    if how == "401":
        lab.sim.switches.set_token_lifetime(-600)  # every new token is born expired: Graph answers 401
        lab.sim.revoke_tokens()  # and the cached one stops working
    else:
        lab.sim.grant_roles(lab.sim.client_id, [])  # consent withdrawn: Graph answers 403
        lab.sim.revoke_tokens()
    report = lab.run(profile, expect=1)
    assert report["status"] == "failed" and report["error"]
    assert "\n" not in report["error"] and lab.sim.client_secret not in report["error"]
    assert_nobody_removed(lab)
    statuses = {r.status for r in lab.sim.requests if r.path.startswith("/v1.0/users")}
    assert int(how) in statuses


def test_an_expired_delta_link_falls_back_to_a_full_read_through_the_same_guard(lab: Lab) -> None:
    """The next run would be incremental; its delta link is gone (410). The full read it falls
    back to is cut short by a page without nextLink: as incomplete as any other full read."""
    profile = imported(lab)  # default reconcile: the second run reads the delta link
    lab.sim.invalidate_delta_tokens()
    lab.sim.switches.short_page(1, times=1, endpoint="users")
    report = lab.run(profile, expect=1)
    assert report["read_stats"]["read"] == "full" and "expired" in report["read_stats"]["why"]
    assert any(r.status == 410 for r in lab.sim.requests)
    assert report["complete"] is False and "the pages held 10" in report["read_reason"]
    assert_nobody_removed(lab)


def test_a_held_drop_does_not_become_the_baseline_of_the_next_read(lab: Lab) -> None:
    """20 users are soft-deleted and come back: a drop the guard holds. The next run must see
    all 28 users again and apply exactly the 2 real removals. If the held read were saved as
    the view and its delta link as the bookmark, the next incremental read would patch that
    view and never see the 20 again (with $select delta does not report a restore), holding
    their removals forever (or removing them once someone releases "the held removals")."""
    profile = imported(lab)
    away = [n for n in range(1, USERS + 1) if n not in GONE][:20]
    for n in away:
        lab.sim.tenant.soft_delete(person(n).source_id)
    assert lab.run(profile, expect=4)["held"]["count"] == len(away) + len(GONE)
    for n in away:
        lab.sim.tenant.restore(person(n).source_id)
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["held"] == 0
    assert report["counts"]["delete"] == 2
    assert sorted(lab.logins()) == sorted(["admin", *(person(i).username for i in range(1, USERS + 1) if i not in GONE)])


def test_a_token_that_expires_mid_run_is_refreshed_once_and_the_run_completes(lab: Lab) -> None:
    profile = imported(lab, reconcile_every=0)
    expired = []

    def expire_on_page_2(environ: dict[str, Any]) -> None:
        if environ["PATH_INFO"] == "/v1.0/users" and "skiptoken" in environ.get("QUERY_STRING", "") and not expired:
            expired.append(True)
            lab.sim.advance_time(2 * 3600)  # the token in hand is now two hours old

    lab.sim.before = expire_on_page_2
    report = lab.run(profile)
    assert expired and report["status"] == "ok" and report["complete"]
    assert report["counts"]["delete"] == 2
    token_requests = [r for r in lab.sim.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(token_requests) == 2  # the run's first token, and the one refresh
    assert [r.status for r in lab.sim.requests if r.status == 401] == [401]
