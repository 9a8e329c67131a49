"""A run killed between a target write and its journal outcome, then run again,
converges with exactly one account per user (no duplicate creates)."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from syncframe.testing import KILL_AFTER_WRITES_ENV

from .conftest import Workspace, ident


@pytest.mark.slow  # child processes
def test_killed_after_a_write_landed_then_rerun_leaves_exactly_one_user_each(ws: Workspace) -> None:
    ws.write_profile(concurrency=1)
    ws.set_users([ident(1), ident(2), ident(3)])

    killed = ws.subprocess("--json", "run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert ws.logins() == ["user1@contoso.com", "user2@contoso.com"]  # the second create landed...
    store = ws.store()
    unfinished = store.unfinished_intents("contoso")
    assert "user2@contoso.com" in [j.login for j in unfinished]  # ...but its outcome was never journaled
    assert "id-2" not in store.links("contoso")  # (user 1's outcome may or may not be recorded: two writes in flight)

    rerun = ws.run()
    report = rerun.json
    assert rerun.exit_code == 0, rerun.stdout
    assert Counter(a["login"] for a in ws.accounts()) == {f"user{i}@contoso.com": 1 for i in (1, 2, 3)}
    assert report["counts"]["create"] == 1 and report["counts"]["noop"] == 2
    notes = {r["login"]: r["note"] for r in report["recovered"]}
    assert "had landed in the target; linked it" in notes["user2@contoso.com"]
    assert store.unfinished_intents("contoso") == []
    links = store.links("contoso")
    assert sorted(links) == ["id-1", "id-2", "id-3"] and links["id-2"].origin == "created"
    # the killed run is history now, marked as such
    assert [r.status for r in store.runs("contoso")] == ["ok", "aborted"]


@pytest.mark.slow  # child processes
def test_intents_go_out_a_batch_ahead_of_the_writes_and_a_kill_leaves_each_one_resolved(ws: Workspace) -> None:
    ws.write_profile(concurrency=3, adaptive_concurrency=False)  # a fixed limit: one batch of 6 intents, every user's
    users = {f"user{n}@contoso.com" for n in range(1, 7)}
    ws.set_users([ident(n) for n in range(1, 7)])

    killed = ws.subprocess("--json", "run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "2"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    landed = set(ws.logins())
    assert len(landed) == 2
    store = ws.store()
    # the batch's intents were recorded before its first write went out: the writes that
    # never started are in the journal too, and so is the write the kill cut off
    unfinished = {j.login for j in store.unfinished_intents("contoso")}
    assert users - landed <= unfinished and unfinished & landed

    rerun = ws.run()
    assert rerun.exit_code == 0, rerun.stdout
    assert Counter(a["login"] for a in ws.accounts()) == dict.fromkeys(users, 1)
    notes = {r["login"]: r["note"] for r in rerun.json["recovered"]}
    assert all("had landed in the target; linked it" in notes[login] for login in unfinished & landed)
    assert all("never reached the target" in notes[login] for login in users - landed)
    assert rerun.json["counts"]["create"] == 4
    assert store.unfinished_intents("contoso") == []
    assert {sid: link.origin for sid, link in store.links("contoso").items()} == {f"id-{n}": "created" for n in range(1, 7)}


def test_killed_during_an_adoption_converges_too(ws: Workspace) -> None:
    ws.write_profile(concurrency=1)
    ws.seed({"login": "user1", "email": "old@example.org"})
    ws.set_users([ident(1)])
    killed = ws.subprocess("run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "1"})
    assert killed.returncode == -signal.SIGKILL
    assert ws.logins() == ["user1@contoso.com"]  # renamed, but not linked
    rerun = ws.run()
    assert rerun.exit_code == 0
    # recovery finds the renamed account, links it as adopted and reports the rename the
    # killed run never reported; the plan has nothing left to adopt
    assert rerun.json["counts"]["adopt"] == 0 and [r["kind"] for r in rerun.json["recovered"]] == ["adopt"]
    assert rerun.json["notices"].get("renamed", []) == ["user1@contoso.com"]
    assert len(ws.accounts()) == 1 and ws.store().links("contoso")["id-1"].origin == "adopted"


@pytest.mark.slow  # child processes
def test_killed_after_a_disable_landed_the_rerun_records_the_leaver(ws: Workspace) -> None:
    """The state store never falls behind the target: a disable whose outcome a killed run
    never journaled is recorded as a leaver (its due date kept), not disabled blindly again."""
    ws.write_profile(concurrency=1, removal="disable, delete after 30d")
    ws.set_users([ident(1), ident(2), ident(3)])
    assert ws.run().exit_code == 0
    ws.set_users([ident(2), ident(3)])
    now = {"SYNCFRAME_NOW": "2027-01-01T09:00:00Z"}
    killed = ws.subprocess("run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "1", **now})
    assert killed.returncode == -signal.SIGKILL
    user1 = next(a for a in ws.accounts() if a["login"] == "user1@contoso.com")
    assert user1["fields"]["enabled"] is False  # the disable landed...
    assert ws.store().links("contoso")["id-1"].disabled_at is None  # ...its outcome was never journaled

    rerun = ws.cli("run", "--profile", str(ws.profile), "--yes", env=now)
    assert rerun.exit_code == 0, rerun.stdout
    assert [(r["kind"], r["login"]) for r in rerun.json["recovered"]] == [("disable", "user1@contoso.com")]
    assert "recorded it as a leaver" in rerun.json["recovered"][0]["note"]
    assert rerun.json["counts"]["disable"] == 0
    link = ws.store().links("contoso")["id-1"]
    assert link.disabled_at is not None and link.delete_due is not None and link.delete_due.isoformat().startswith("2027-01-31T09:00")
