"""Crash safety (issue 9, item 3): ``syncframe run`` SIGKILLed at random points of an
apply, then run again, always converges.

Hypothesis draws a schedule: a small directory (8-14 users), phone-system users that
exist already (some adoptable by their UPN's local part, some signed in under their
UPN already, some unrelated "outsiders"),
optionally a set of directory changes after a clean import (renames, updates,
removals, new users), the number of target writes after which the child dies, whether
it dies just before that write reaches pascom ("instead") or just after pascom
performed it (before the answer reaches the child), and the write concurrency. The run is a real child process
(``python -m syncframe run``) against the real simulators in this process; a trap in
front of the pascom simulator SIGKILLs it at the k-th write (or the k-th rename, or
the k-th session reset: a rename is two writes, the login change and ending the
user's sessions, and the kill may fall between them). Then the CLI runs again and
the invariants are checked:

- every in-scope directory user exists exactly once, with login = UPN;
- the connector's links are exactly the directory users, each pointing at the account
  that holds its login (adopted accounts keep their id: nothing was recreated);
- nothing outside the connector's links was touched (outsiders and the admin are
  identical to before, devices and sessions included);
- every user syncframe renamed (an adoption by local part, or a changed UPN) has no
  session left and no paired mobile, and the rerun's report lists exactly those
  users as having to pair the mobile app again (the killed run never reported);
- no journal intent is left unfinished, and one more run changes nothing.

Three tests of 25, 25 and 20 schedules (70 in all), derandomized so CI repeats them exactly.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability_lab import CONNECTOR, DOMAIN, Lab, WriteFilter, lab_at, person, session_resets

SETTINGS = settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
#: each test runs its 20-25 schedules (child processes, three CLI runs each) in one
#: pytest test: on a busy 2-core machine that takes longer than the suite's 300 s default
SCHEDULES_TIMEOUT = pytest.mark.timeout(1800)


@dataclass(frozen=True)
class Schedule:
    users: int
    adoptable: tuple[int, ...]  # user numbers whose local part already exists as a pascom login
    outsiders: int
    renamed: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    added: int = 0
    kill_at: int = 1
    when: str = "after"
    concurrency: int = 1
    #: user numbers whose phone account exists already under their UPN, signed in
    #: (adopted without a rename, so their sessions stay until a later rename)
    signed_in: tuple[int, ...] = ()
    #: the writes the k of ``kill_at`` counts: "any", "rename" (the login changes of the
    #: renamed users) or "reset" (the session resets)
    trap: str = "any"


@st.composite
def import_schedules(draw: Any) -> Schedule:
    users = draw(st.integers(8, 14))
    adoptable = tuple(sorted(draw(st.sets(st.integers(1, users), max_size=3))))
    return Schedule(
        users=users,
        adoptable=adoptable,
        outsiders=draw(st.integers(0, 3)),
        kill_at=draw(st.integers(1, users)),  # every user is at least one write
        when=draw(st.sampled_from(["instead", "after"])),
        concurrency=draw(st.sampled_from([1, 4])),
    )


@st.composite
def change_schedules(draw: Any) -> Schedule:
    base = draw(import_schedules())
    numbers = list(range(1, base.users + 1))
    changed = draw(st.permutations(numbers))
    n_renamed, n_updated, n_removed = draw(st.integers(0, 3)), draw(st.integers(0, 4)), draw(st.integers(0, 2))
    renamed = tuple(sorted(changed[:n_renamed]))
    updated = tuple(sorted(changed[n_renamed : n_renamed + n_updated]))
    removed = tuple(sorted(changed[n_renamed + n_updated : n_renamed + n_updated + n_removed]))
    added = draw(st.integers(0, 3))
    items = len(renamed) + len(updated) + len(removed) + added
    if items == 0:
        added, items = 1, 1
    return Schedule(
        users=base.users,
        adoptable=base.adoptable,
        outsiders=base.outsiders,
        renamed=renamed,
        updated=updated,
        removed=removed,
        added=added,
        kill_at=draw(st.integers(1, items)),
        when=base.when,
        concurrency=base.concurrency,
    )


@st.composite
def rename_schedules(draw: Any) -> Schedule:
    """After a clean import, 1-3 signed-in users are renamed; the child dies at the k-th
    rename or session reset (before it reaches pascom, or after pascom performed it)."""
    users = draw(st.integers(6, 10))
    numbers = draw(st.permutations(list(range(1, users + 1))))
    renamed = tuple(sorted(numbers[: draw(st.integers(1, 3))]))
    signed_in = tuple(sorted(set(renamed) | set(numbers[len(renamed) : len(renamed) + draw(st.integers(0, 2))])))
    updated = tuple(sorted(n for n in numbers[len(signed_in) :][: draw(st.integers(0, 2))]))
    trap = draw(st.sampled_from(["rename", "reset"]))
    return Schedule(
        users=users,
        adoptable=(),
        outsiders=draw(st.integers(0, 2)),
        renamed=renamed,
        updated=updated,
        kill_at=draw(st.integers(1, len(renamed))),
        when="after" if trap == "rename" else draw(st.sampled_from(["instead", "after"])),
        concurrency=draw(st.sampled_from([1, 4])),
        signed_in=signed_in,
        trap=trap,
    )


def final_directory(s: Schedule, changed: bool) -> dict[int, Any]:
    """User number -> Identity as the directory holds it at the end."""
    users = {n: person(n) for n in range(1, s.users + 1)}
    if not changed:
        return users
    for n in s.renamed:
        users[n] = person(n, local=f"moved{n}")
    for n in s.updated:
        users[n] = person(n, display_name=f"Updated {n}", phones=(f"+49 30 999{n:04d}",))
    for n in s.removed:
        del users[n]
    for n in range(s.users + 1, s.users + 1 + s.added):
        users[n] = person(n)
    return users


def seed(lab: Lab, s: Schedule) -> dict[str, dict[str, Any]]:
    """The directory and the phone system before any run; returns the untouchables by login."""
    lab.directory(*final_directory(s, changed=False).values())
    for n in s.adoptable:
        lab.existing(f"user{n}", email=f"user{n}@{DOMAIN}", display_name=f"User {n}")
    for n in s.signed_in:
        lab.existing(f"user{n}@{DOMAIN}", email=f"user{n}@{DOMAIN}", display_name=f"User {n}")
    for j in range(s.outsiders):
        lab.existing(f"outsider{j}", email=f"outsider{j}@example.org", display_name=f"Outsider {j}")
    return {login: a for login, a in lab.accounts().items() if login == "admin" or login.startswith("outsider")}


def counted_writes(s: Schedule) -> WriteFilter | None:
    """The writes ``kill_at`` counts (None: all of them)."""
    if s.trap == "reset":
        return session_resets
    if s.trap == "rename":
        old = tuple(f"/identity/user{n}@{DOMAIN}" for n in s.renamed)
        return lambda method, path: method == "PUT" and path.endswith(old)
    return None


def killed_run(lab: Lab, profile: Path, s: Schedule) -> None:
    """Run the CLI as a child and SIGKILL it at its k-th pascom write."""
    child_pid: list[int] = []
    lab.trap.arm(s.kill_at, lambda: os.kill(child_pid[0], signal.SIGKILL), when=s.when, matching=counted_writes(s))
    child = lab.spawn_run(profile)
    child_pid.append(child.pid)
    out, err = child.communicate(timeout=120)
    lab.trap.disarm()
    assert lab.trap.fired, f"the run made fewer than {s.kill_at} writes (exit {child.returncode}): {err[-2000:]}"
    assert child.returncode == -signal.SIGKILL, (child.returncode, err[-2000:])


def renamed_by_the_runs(s: Schedule, changed: bool) -> list[int]:
    """The users whose login the killed run and its rerun change (they must pair again)."""
    return sorted(s.renamed) if changed else sorted(s.adoptable)


def check_invariants(lab: Lab, s: Schedule, changed: bool, untouchables: dict[str, dict[str, Any]], adopted_ids: dict[str, Any]) -> None:
    wanted = final_directory(s, changed)
    accounts = lab.pascom.accounts()
    counts = Counter(a["login"] for a in accounts)
    expected = {i.username.lower(): 1 for i in wanted.values()} | {login: 1 for login in untouchables}
    assert counts == expected, "missing, duplicate or stray accounts"
    by_login = {a["login"]: a for a in accounts}
    for login, before in untouchables.items():
        assert by_login[login] == before, f"{login} is not the connector's and was touched"
    links = lab.links()
    assert sorted(links) == sorted(i.source_id for i in wanted.values())
    for n, identity in wanted.items():
        link = links[identity.source_id]
        account = by_login[identity.username.lower()]
        assert str(account["id"]) == str(link.target_id) and link.login == account["login"]
        if n in adopted_ids:
            assert account["id"] == adopted_ids[n], f"user {n}'s existing account was recreated, not adopted"
        assert [d["type"] for d in account["devices"]].count("softphone") == 1
        if changed and n in s.updated:
            assert account["display_name"] == f"Updated {n}"
    # an adopted user who then left the directory was removed: nobody left to check
    for n in [n for n in renamed_by_the_runs(s, changed) + sorted(s.adoptable) if n in wanted]:
        account = by_login[wanted[n].username.lower()]
        assert account["sessions"] == [], f"user {n} was renamed but kept a session: {account['sessions']}"
        assert not any(d["paired"] for d in account["devices"] if d["type"] == "mobile"), f"user {n}'s mobile stayed paired"
    with lab.store() as store:
        assert store.unfinished_intents(CONNECTOR) == []


def crash_and_recover(s: Schedule, changed: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="syncframe-crash-") as tmp, lab_at(Path(tmp)) as lab:
        untouchables = seed(lab, s)
        adopted_ids = {n: lab.accounts()[f"user{n}"]["id"] for n in s.adoptable}
        adopted_ids |= {n: lab.accounts()[f"user{n}@{DOMAIN}"]["id"] for n in s.signed_in}
        profile = lab.profile(concurrency=s.concurrency)
        if changed:
            assert lab.run(profile)["status"] == "ok"
            lab.directory(*[i for n, i in final_directory(s, True).items() if n not in s.removed])
            for n in s.removed:
                lab.graph.remove_identity(person(n).source_id)
        killed_run(lab, profile, s)
        report = lab.run(profile)
        assert report["status"] == "ok", report["errors"]
        check_invariants(lab, s, changed, untouchables, adopted_ids)
        must_pair = sorted(final_directory(s, changed)[n].username.lower() for n in renamed_by_the_runs(s, changed))
        assert report["notices"].get("repair_mobile", []) == must_pair, "the rerun did not report every renamed user"
        again = lab.run(profile)
        writes = {k: v for k, v in again["counts"].items() if v and k not in ("noop",)}
        assert writes == {}, f"the run after recovery still had work: {writes}"


@pytest.mark.slow
@SCHEDULES_TIMEOUT
@SETTINGS
@given(import_schedules())
def test_killed_during_the_first_import_then_rerun_converges(schedule: Schedule) -> None:
    crash_and_recover(schedule, changed=False)


@pytest.mark.slow
@SCHEDULES_TIMEOUT
@SETTINGS
@given(change_schedules())
def test_killed_during_renames_updates_and_removals_then_rerun_converges(schedule: Schedule) -> None:
    crash_and_recover(schedule, changed=True)


@pytest.mark.slow
@SCHEDULES_TIMEOUT
@settings(SETTINGS, max_examples=20)
@given(rename_schedules())
def test_killed_between_a_rename_and_its_session_reset_then_rerun_finishes_it(schedule: Schedule) -> None:
    crash_and_recover(schedule, changed=True)


@pytest.mark.slow  # one child process
def test_killed_after_a_rename_landed_the_rerun_relinks_the_new_login(tmp_path: Path) -> None:
    """The rename's PUT lands, the child dies before journaling it. The rerun finds the
    account already renamed (nothing to write) and must still record the new login in
    the connector's link, or the link names a login no account holds."""
    s = Schedule(users=3, adoptable=(), outsiders=1, renamed=(1,), kill_at=1, when="after")
    with lab_at(tmp_path) as lab:
        untouchables = seed(lab, s)
        profile = lab.profile(concurrency=1)
        lab.run(profile)
        lab.directory(person(1, local="moved1"))
        killed_run(lab, profile, s)
        assert f"moved1@{DOMAIN}" in lab.logins()  # the rename had landed
        report = lab.run(profile)
        assert report["status"] == "ok"
        check_invariants(lab, s, True, untouchables, {})
