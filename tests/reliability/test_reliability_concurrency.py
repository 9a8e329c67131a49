"""Concurrency (issue 9, item 4): two runs of one connector at once, and ``serve`` with a
manual ``run``. The first run is held *inside* its second pascom write (a trap in front of
the simulator waits) until the other process has finished, so the two really overlap.
The other one must exit "locked" (code 5) or, if it waited, find nothing left to do;
either way no user is written twice."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

from reliability_lab import CONNECTOR, Lab, person

USERS = 6


def six_users(lab: Lab, **extra: object) -> Path:
    lab.directory(*[person(i) for i in range(1, USERS + 1)])
    return lab.profile(concurrency=1, **extra)  # type: ignore[arg-type]


def hold_second_write(lab: Lab) -> tuple[threading.Event, threading.Event]:
    """Arm the trap: the 2nd write waits until ``release`` is set; ``entered`` says it got there."""
    entered, release = threading.Event(), threading.Event()

    def wait() -> None:
        entered.set()
        release.wait(60)

    lab.trap.arm(2, wait, when="before")
    return entered, release


def assert_written_once(lab: Lab) -> None:
    posts = [(m, s) for m, _p, s in lab.pascom_writes() if m == "POST" and _p.endswith("/identity/")]
    assert Counter(s for _m, s in posts) == {201: USERS}, posts  # one create per user, no 409 retry
    counts = Counter(a["login"] for a in lab.pascom.accounts() if a["login"] != "admin")
    assert counts == {person(i).username: 1 for i in range(1, USERS + 1)}


def test_a_second_run_of_the_same_connector_exits_locked_and_writes_nothing(lab: Lab) -> None:
    profile = six_users(lab)
    entered, release = hold_second_write(lab)
    first = lab.spawn_run(profile)
    assert entered.wait(60), "the first run never reached its second write"
    second = lab.spawn_run(profile)
    out2, err2 = second.communicate(timeout=60)
    release.set()
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    if second.returncode == 5:
        assert "lock" in err2.lower() or "lock" in out2.lower()
        assert f"pid {first.pid}" in err2 + out2  # it names who holds the lock
    else:  # it waited the first one out: then there was nothing left to do
        assert second.returncode == 0 and json.loads(out2)["counts"]["create"] == 0
    assert_written_once(lab)
    assert sorted(lab.links()) == sorted(person(i).source_id for i in range(1, USERS + 1))


def test_a_manual_run_during_serve_exits_locked(lab: Lab) -> None:
    profile = six_users(lab, extra={"interval": "1h"})
    added = lab.invoke("connector", "add", CONNECTOR, "--profile", str(profile))
    assert added.exit_code == 0, added.output
    entered, release = hold_second_write(lab)
    serve = lab.spawn("serve", "--once")
    assert entered.wait(60), "serve never reached its second write"
    manual = lab.invoke("run", CONNECTOR, "--yes")
    release.set()
    out, err = serve.communicate(timeout=60)
    assert manual.exit_code == 5, manual.output
    assert "lock" in (manual.stderr + manual.stdout).lower()
    assert serve.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [e["status"] for e in events if e.get("event") == "run"] == ["ok"]
    assert_written_once(lab)


def test_serve_skips_a_connector_a_manual_run_holds(lab: Lab) -> None:
    profile = six_users(lab, extra={"interval": "1h"})
    assert lab.invoke("connector", "add", CONNECTOR, "--profile", str(profile)).exit_code == 0
    entered, release = hold_second_write(lab)
    manual = lab.spawn_run(profile)
    assert entered.wait(60)
    serve = lab.spawn("serve", "--once")
    out, err = serve.communicate(timeout=60)
    release.set()
    manual_out, manual_err = manual.communicate(timeout=60)
    assert manual.returncode == 0, manual_err
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert any(e.get("event") == "skipped" and "lock" in str(e.get("reason", "")).lower() for e in events), events
    assert not any(e.get("event") == "run" for e in events)
    assert_written_once(lab)
