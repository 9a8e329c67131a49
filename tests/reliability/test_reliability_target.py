"""Target faults (issue 9, item 2): pascom 5xx on a write, a create whose answer is lost,
429 storms, and 401. Real CLI, real Graph + login and pascom simulators."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from reliability_lab import Lab, person

USERS = 10


def directory(lab: Lab, n: int = USERS, **profile: object) -> Path:
    lab.directory(*[person(i) for i in range(1, n + 1)])
    return lab.profile(**profile)  # type: ignore[arg-type]


def assert_converged(lab: Lab, n: int = USERS) -> None:
    """Every directory user exactly once, linked to the account that holds its login."""
    accounts = lab.pascom.accounts()
    counts = Counter(a["login"] for a in accounts)
    assert {login: c for login, c in counts.items() if login != "admin"} == {person(i).username: 1 for i in range(1, n + 1)}
    by_id = {str(a["id"]): a for a in accounts}
    links = lab.links()
    assert sorted(links) == sorted(person(i).source_id for i in range(1, n + 1))
    for link in links.values():
        assert by_id[str(link.target_id)]["login"] == link.login
    for a in accounts:
        if a["login"] != "admin":
            assert [d["type"] for d in a["devices"]].count("softphone") == 1 and [d["type"] for d in a["devices"]].count("mobile") == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("k", [1, 4])
def test_a_5xx_on_the_kth_write_is_retried_and_converges_without_duplicates(lab: Lab, status: int, k: int) -> None:
    profile = directory(lab)
    lab.instance.switches.fail_write(k, status)
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["create"] == USERS
    assert (status, "POST") in {(s, m) for m, _p, s in lab.pascom_writes()}  # the fault was served
    assert_converged(lab)
    # and the next run has nothing to do
    assert lab.run(profile)["counts"]["noop"] == USERS


@pytest.mark.parametrize("mode", ["drop", "502"])
@pytest.mark.parametrize("k", [1, 6])
def test_a_create_whose_answer_is_lost_is_found_and_linked_not_duplicated(lab: Lab, mode: str, k: int) -> None:
    """The k-th POST is performed but its answer is lost (connection closed, or a 502 after
    the fact). The retry meets 'login exists', finds the user, and links it."""
    profile = directory(lab)
    lab.instance.switches.lose_write(k, mode)
    report = lab.run(profile)
    assert report["status"] == "ok", report["errors"]
    statuses = [s for m, _p, s in lab.pascom_writes() if m == "POST"]
    assert (0 if mode == "drop" else 502) in statuses and 409 in statuses  # lost, then "exists"
    assert_converged(lab)


def test_a_lost_answer_on_an_update_converges(lab: Lab) -> None:
    profile = directory(lab)
    lab.run(profile)
    lab.directory(*[person(i, display_name=f"Renamed {i}") for i in range(1, USERS + 1)])
    lab.instance.switches.lose_write(3, "drop")
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["update"] == USERS
    assert {a["display_name"] for a in lab.pascom.accounts() if a["login"] != "admin"} == {f"Renamed {i}" for i in range(1, USERS + 1)}
    assert_converged(lab)


def test_a_429_storm_waits_what_retry_after_says_and_converges(lab: Lab) -> None:
    profile = directory(lab, concurrency=1)
    lab.instance.switches.throttle_next(3, retry_after=0.4)
    started = time.monotonic()
    report = lab.run(profile)
    elapsed = time.monotonic() - started
    assert report["status"] == "ok"
    assert elapsed >= 3 * 0.4  # every Retry-After was waited out, one request at a time
    assert Counter(r.status for r in lab.pascom.simulator.requests)[429] == 3
    assert_converged(lab)


def test_a_429_storm_that_never_ends_is_bounded_and_removes_nobody(lab: Lab) -> None:
    """pascom throttles everything: the run gives up within its retry budget, writes nothing."""
    profile = directory(lab, target={"max_retries": 2})
    lab.run(profile)
    lab.graph.remove_identity(person(3).source_id)
    lab.pascom.simulator.reset_counters()
    lab.instance.switches.throttle_every(1, retry_after=0.3)
    started = time.monotonic()
    report = lab.run(profile, expect=1)
    assert time.monotonic() - started < 20
    assert report["status"] == "failed" and ("429" in report["error"] or "throttl" in report["error"].lower())
    assert Counter(r.status for r in lab.pascom.simulator.requests) == {429: 3}  # the listing: 1 try + 2 retries
    assert [w for w in lab.pascom_writes() if w[2] not in (429,)] == []
    lab.instance.switches.reset()
    assert person(3).username in lab.logins()


def test_a_401_before_the_run_aborts_it_with_one_clear_line(lab: Lab) -> None:
    profile = directory(lab)
    lab.run(profile)
    lab.graph.remove_identity(person(3).source_id)
    lab.instance.switches.reject_credentials = True
    lab.pascom.simulator.reset_counters()
    result = lab.invoke("run", "rel", "--profile", str(profile), "--yes")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "401" in error and "credentials" in error and "\n" not in error
    assert lab.instance.password not in result.stdout + result.stderr
    assert lab.pascom_writes() == []
    lab.instance.switches.reject_credentials = False
    assert len(lab.logins()) == USERS + 1


def test_a_401_in_the_middle_of_the_apply_stops_the_run_and_removes_nobody(lab: Lab) -> None:
    """The password is changed while the run writes: the run stops at the first 401,
    reports it, does not advance the bookmark; a later run finishes the job."""
    profile = directory(lab, concurrency=1)
    lab.run(profile)
    with lab.store() as store:
        before = store.get_bookmark("rel")
    lab.graph.remove_identity(person(3).source_id)
    lab.directory(*[person(i) for i in range(USERS + 1, USERS + 6)])  # 5 new users
    lab.pascom.simulator.reset_counters()
    lab.trap.arm(2, lambda: setattr(lab.instance.switches, "reject_credentials", True), when="before")
    report = lab.run(profile, expect=1)
    assert report["status"] in ("aborted", "failed") and "401" in (report["error"] or "")
    assert lab.instance.password not in str(report)
    writes = lab.pascom_writes()
    assert [s for _m, _p, s in writes].count(401) == 1, writes  # it stopped at the first refusal
    assert len([w for w in writes if w[2] < 300]) == 1
    with lab.store() as store:
        assert store.get_bookmark("rel") == before
    lab.instance.switches.reject_credentials = False
    report = lab.run(profile)
    assert report["status"] == "ok"
    assert person(3).username not in lab.logins()
    assert_converged_with(lab, [i for i in range(1, USERS + 6) if i != 3])


def assert_converged_with(lab: Lab, numbers: list[int]) -> None:
    counts = Counter(a["login"] for a in lab.pascom.accounts() if a["login"] != "admin")
    assert counts == {person(i).username: 1 for i in numbers}
    assert sorted(lab.links()) == sorted(person(i).source_id for i in numbers)
