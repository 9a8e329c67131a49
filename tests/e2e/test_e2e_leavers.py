"""Leavers through the CLI against the Graph and pascom simulators (issue 21).

With ``removal = "disable, delete after 30d"`` a user who leaves the directory has
the pascom account disabled (devices kept) and recorded with its due date; a run on
or after that date deletes it, through the removal guard; a user who comes back
before is enabled again on the same account. ``SYNCFRAME_NOW`` moves the clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from e2e_support import CONNECTOR, Lab, live_lab, logins, person
from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile

DAY0 = "2027-01-01T09:00:00Z"
GRACE = "disable, delete after 30d"

ANNA = person(1, "anna", "Anna Arnold")
BEN = person(2, "ben", "Ben Baker")
CARL = person(3, "carl", "Carl Clark")


@pytest.fixture
def lab(tmp_path: Path) -> Any:
    with live_lab(tmp_path, concurrency=2) as lab:
        yield lab


def profile(lab: Lab, removal: str = GRACE, mode: str = "sync", guard: str = "") -> Path:
    text = render_profile("MSUSER", "pascom", lab.source_section(), lab.target_section(), title="Leavers", extra={"mode": mode, "concurrency": 2, "removal": removal})
    path = lab.root / f"{CONNECTOR}.toml"
    path.write_text(text + (f"\n[guard]\n{guard}\n" if guard else ""), encoding="utf-8")
    return path


def at(lab: Lab, when: str, *args: str, expect: int | None = 0) -> Any:
    """``syncframe --json ARGS`` with the clock at ``when`` (``SYNCFRAME_NOW``); its JSON."""
    result = CliRunner().invoke(cli, ["--state", str(lab.state), "--json", *args], env={**lab.environment(), "SYNCFRAME_NOW": when}, catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, f"syncframe {' '.join(args)} exited {result.exit_code}:\n{result.output}\n{result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def run(lab: Lab, path: Path, when: str, *extra: str, expect: int | None = 0) -> dict[str, Any]:
    return at(lab, when, "run", CONNECTOR, "--profile", str(path), "--yes", *extra, expect=expect)


def imported(lab: Lab, path: Path) -> dict[str, dict[str, Any]]:
    lab.directory(ANNA, BEN, CARL)
    report = run(lab, path, DAY0)
    assert report["counts"]["create"] == 3
    accounts = lab.accounts()
    assert accounts is not None
    return accounts


def test_a_leaver_is_disabled_then_deleted_after_the_grace_period(lab: Lab) -> None:
    path = profile(lab)
    before = imported(lab, path)["anna@contoso.onmicrosoft.com"]
    lab.remove(ANNA)

    first = run(lab, path, DAY0)
    assert logins(first, "disable") == ["anna@contoso.onmicrosoft.com"] and first["counts"]["disable"] == 1
    assert first["counts"]["delete"] == 0
    (waiting,) = first["waiting_for_deletion"]
    assert waiting["login"] == "anna@contoso.onmicrosoft.com" and waiting["delete_due"].startswith("2027-01-31T09:00")
    anna = lab.accounts()["anna@contoso.onmicrosoft.com"]  # type: ignore[index]
    assert anna["enabled"] is False and anna["id"] == before["id"] and anna["devices"] == before["devices"]

    # within the grace period: nothing is written, the account waits
    day10 = run(lab, path, "2027-01-11T09:00:00Z")
    assert day10["status"] == "ok" and not day10["changes"]
    assert [(w["login"], w["state"]) for w in day10["waiting_for_deletion"]] == [("anna@contoso.onmicrosoft.com", "waiting")]
    history = at(lab, "2027-01-11T09:00:00Z", "history", CONNECTOR)
    assert {"entry": "waiting_for_deletion", "login": "anna@contoso.onmicrosoft.com", "state": "waiting"}.items() <= history[0].items()

    # due: the plan says so, the run deletes
    plan = at(lab, "2027-01-31T09:00:00Z", "plan", CONNECTOR, "--profile", str(path), expect=3)
    assert logins(plan, "delete") == ["anna@contoso.onmicrosoft.com"]
    deleted = run(lab, path, "2027-01-31T09:00:00Z")
    assert deleted["counts"]["delete"] == 1 and deleted["waiting_for_deletion"] == []
    assert "anna@contoso.onmicrosoft.com" not in lab.accounts()  # type: ignore[operator]
    assert at(lab, "2027-02-01T09:00:00Z", "history", CONNECTOR)[0]["entry"] == "run"

    # after the deletion, a comeback is a new account
    lab.directory(ANNA)
    again = run(lab, path, "2027-02-01T09:00:00Z")
    assert logins(again, "create") == ["anna@contoso.onmicrosoft.com"]
    assert lab.accounts()["anna@contoso.onmicrosoft.com"]["id"] != before["id"]  # type: ignore[index]


def test_a_leaver_restored_within_the_period_gets_the_same_account_back(lab: Lab) -> None:
    path = profile(lab)
    before = imported(lab, path)["ben@contoso.onmicrosoft.com"]
    lab.remove(BEN)
    assert logins(run(lab, path, DAY0), "disable") == ["ben@contoso.onmicrosoft.com"]

    lab.directory(BEN)  # restored in Entra within the 30 days
    back = run(lab, path, "2027-01-06T09:00:00Z")
    assert back["counts"]["create"] == 0 and logins(back, "update") == ["ben@contoso.onmicrosoft.com"]
    (item,) = [i for i in back["items"] if i["kind"] == "update"]
    assert item["changes"]["enabled"] == [False, True] and "back in the directory" in item["reason"]
    assert back["waiting_for_deletion"] == []
    ben = lab.accounts()["ben@contoso.onmicrosoft.com"]  # type: ignore[index]
    assert ben["enabled"] is True and ben["id"] == before["id"]
    assert [d["id"] for d in ben["devices"]] == [d["id"] for d in before["devices"]]

    # long after the old due date, nothing deletes him: he is an active user again
    later = run(lab, path, "2027-03-01T09:00:00Z")
    assert later["counts"]["delete"] == 0 and later["counts"]["disable"] == 0 and not later["changes"]


def test_the_guard_counts_disables_and_deletions(lab: Lab) -> None:
    path = profile(lab, guard="max_per_run = 1")
    imported(lab, path)
    lab.remove(ANNA)
    lab.remove(BEN)

    held = run(lab, path, DAY0, expect=4)
    assert held["counts"]["held"] == 2 and held["counts"]["disable"] == 0
    assert "2 removals exceed the removal guard's limit of 1" in held["held"]["reason"]
    assert all(a["enabled"] for a in lab.accounts().values())  # type: ignore[union-attr]

    released = run(lab, path, DAY0, "--allow-removals", "2")
    assert released["counts"]["disable"] == 2
    due = run(lab, path, "2027-02-01T09:00:00Z", expect=4)
    assert due["counts"]["held"] == 2 and due["counts"]["delete"] == 0
    accounts = lab.accounts()
    assert accounts is not None and not accounts["anna@contoso.onmicrosoft.com"]["enabled"] and not accounts["ben@contoso.onmicrosoft.com"]["enabled"]


def test_mode_upsert_never_disables_or_deletes(lab: Lab) -> None:
    path = profile(lab, mode="upsert")
    imported(lab, path)
    lab.remove(ANNA)
    report = run(lab, path, DAY0)
    assert report["counts"]["disable"] == 0 and report["counts"]["delete"] == 0 and not report["changes"]
    assert lab.accounts()["anna@contoso.onmicrosoft.com"]["enabled"] is True  # type: ignore[index]

    # a leaver disabled in mode sync is not deleted once the profile says upsert
    lab.remove(BEN)
    assert logins(run(lab, profile(lab), DAY0), "disable") == ["anna@contoso.onmicrosoft.com", "ben@contoso.onmicrosoft.com"]
    late = run(lab, profile(lab, mode="upsert"), "2027-06-01T09:00:00Z")
    assert late["counts"]["delete"] == 0 and not late["changes"]
    assert {"anna@contoso.onmicrosoft.com", "ben@contoso.onmicrosoft.com"} <= set(lab.accounts())  # type: ignore[arg-type]


def test_release_deletes_one_now_and_keep_keeps_one_indefinitely(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    lab.remove(BEN)
    assert logins(run(lab, path, DAY0), "disable") == ["anna@contoso.onmicrosoft.com", "ben@contoso.onmicrosoft.com"]

    released = at(lab, "2027-01-02T09:00:00Z", "release", CONNECTOR, "anna@contoso.onmicrosoft.com", "--as", "alice")
    assert [(d["kind"], d["subject"], d["operator"]) for d in released["decisions"]] == [("release", "anna@contoso.onmicrosoft.com", "alice")]
    kept = at(lab, "2027-01-02T09:00:00Z", "keep", CONNECTOR, "ben@contoso.onmicrosoft.com", "--as", "bob")
    assert [(d["kind"], d["operator"]) for d in kept["decisions"]] == [("keep", "bob")]
    # a release taken back ('hold') gives the leaver its earlier state back: ben stays kept
    at(lab, "2027-01-02T09:00:00Z", "release", CONNECTOR, "ben@contoso.onmicrosoft.com", "--as", "alice")
    taken_back = at(lab, "2027-01-02T09:00:00Z", "hold", CONNECTOR, "ben@contoso.onmicrosoft.com", "--as", "bob")
    assert [(d["kind"], d["operator"]) for d in taken_back["decisions"]] == [("hold", "bob")]
    refused = at(lab, DAY0, "keep", CONNECTOR, "carl@contoso.onmicrosoft.com", expect=None)
    assert refused is not None and "no disabled leaver" in json.dumps(refused)

    next_day = run(lab, path, "2027-01-02T10:00:00Z")
    assert logins(next_day, "delete") == ["anna@contoso.onmicrosoft.com"]
    assert [(w["login"], w["state"]) for w in next_day["waiting_for_deletion"]] == [("ben@contoso.onmicrosoft.com", "kept")]
    much_later = run(lab, path, "2027-06-01T09:00:00Z")
    assert much_later["counts"]["delete"] == 0 and "ben@contoso.onmicrosoft.com" in lab.accounts()  # type: ignore[operator]

    history = at(lab, "2027-06-01T09:00:00Z", "history", CONNECTOR)
    decisions = [(e["kind"], e["subject"], e["operator"]) for e in history if e["entry"] == "decision"]
    assert ("release", "anna@contoso.onmicrosoft.com", "alice") in decisions and ("keep", "ben@contoso.onmicrosoft.com", "bob") in decisions

    at(lab, "2027-06-01T09:00:00Z", "keep", CONNECTOR, "ben@contoso.onmicrosoft.com", "--undo", "--as", "bob")
    gone = run(lab, path, "2027-06-01T10:00:00Z")
    assert logins(gone, "delete") == ["ben@contoso.onmicrosoft.com"] and "ben@contoso.onmicrosoft.com" not in lab.accounts()  # type: ignore[operator]


# --- review of issue 21: accounts enabled, deleted or lost when they must not be -------


def test_a_leaver_back_but_disabled_in_the_directory_stays_disabled(lab: Lab) -> None:
    """include_disabled = true: a leaver restored in Entra but still disabled there keeps
    the account disabled (same id), is no leaver any more, and is not created again."""
    text = render_profile("MSUSER", "pascom", {**lab.source_section(), "include_disabled": True}, lab.target_section(), title="Leavers", extra={"mode": "sync", "concurrency": 2, "removal": GRACE})
    path = lab.root / f"{CONNECTOR}.toml"
    path.write_text(text, encoding="utf-8")
    before = imported(lab, path)["ben@contoso.onmicrosoft.com"]
    lab.remove(BEN)
    assert logins(run(lab, path, DAY0), "disable") == ["ben@contoso.onmicrosoft.com"]

    lab.directory(person(2, "ben", "Ben Baker", enabled=False))
    back = run(lab, path, "2027-01-06T09:00:00Z")
    assert back["counts"]["create"] == 0 and back["waiting_for_deletion"] == []
    ben = lab.accounts()["ben@contoso.onmicrosoft.com"]  # type: ignore[index]
    assert ben["enabled"] is False and ben["id"] == before["id"]
    # past the old due date nothing deletes him: he is in the directory
    later = run(lab, path, "2027-03-01T09:00:00Z")
    assert later["counts"]["delete"] == 0 and lab.accounts()["ben@contoso.onmicrosoft.com"]["enabled"] is False  # type: ignore[index]


def test_switching_removal_to_disable_keeps_waiting_leavers_until_released(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    assert logins(run(lab, path, DAY0), "disable") == ["anna@contoso.onmicrosoft.com"]

    disable_only = profile(lab, removal="disable")
    late = run(lab, disable_only, "2027-03-01T09:00:00Z")
    assert late["counts"]["delete"] == 0 and "anna@contoso.onmicrosoft.com" in lab.accounts()  # type: ignore[operator]
    assert [(w["login"], w["state"]) for w in late["waiting_for_deletion"]] == [("anna@contoso.onmicrosoft.com", "undated")]
    # a person's release still deletes it
    at(lab, "2027-03-01T09:00:00Z", "release", CONNECTOR, "anna@contoso.onmicrosoft.com", "--as", "alice")
    gone = run(lab, disable_only, "2027-03-01T10:00:00Z")
    assert logins(gone, "delete") == ["anna@contoso.onmicrosoft.com"] and "anna@contoso.onmicrosoft.com" not in lab.accounts()  # type: ignore[operator]


def test_a_leaver_renamed_by_hand_while_waiting_is_deleted_by_id_when_due(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    run(lab, path, DAY0)
    lab.pascom.instance.update("anna@contoso.onmicrosoft.com", {"003use_name": "anna.old@contoso.onmicrosoft.com"})  # type: ignore[union-attr]

    waiting = run(lab, path, "2027-01-11T09:00:00Z")
    assert not waiting["changes"] and [w["state"] for w in waiting["waiting_for_deletion"]] == ["waiting"]
    due = run(lab, path, "2027-01-31T09:00:00Z")
    assert due["counts"]["delete"] == 1 and due["counts"]["create"] == 0
    assert set(lab.accounts()) == {"admin", "ben@contoso.onmicrosoft.com", "carl@contoso.onmicrosoft.com"}  # type: ignore[arg-type]


def test_a_leaver_re_enabled_by_hand_while_waiting_is_not_deleted(lab: Lab) -> None:
    """A person who enables the account again in pascom wants it: the due date does not
    delete it (a release does)."""
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    run(lab, path, DAY0)
    lab.pascom.instance.update("anna@contoso.onmicrosoft.com", {"003use_enabled": True})  # type: ignore[union-attr]

    due = run(lab, path, "2027-01-31T09:00:00Z")
    assert due["counts"]["delete"] == 0 and lab.accounts()["anna@contoso.onmicrosoft.com"]["enabled"] is True  # type: ignore[index]
    assert [(w["login"], w["state"]) for w in due["waiting_for_deletion"]] == [("anna@contoso.onmicrosoft.com", "enabled")]
    at(lab, "2027-02-01T09:00:00Z", "release", CONNECTOR, "anna@contoso.onmicrosoft.com", "--as", "alice")
    assert logins(run(lab, path, "2027-02-01T10:00:00Z"), "delete") == ["anna@contoso.onmicrosoft.com"]


def test_a_leaver_whose_account_vanished_while_waiting_is_forgotten_and_created_anew_on_return(lab: Lab) -> None:
    path = profile(lab)
    before = imported(lab, path)["anna@contoso.onmicrosoft.com"]
    lab.remove(ANNA)
    run(lab, path, DAY0)
    lab.pascom.instance.delete("anna@contoso.onmicrosoft.com")  # type: ignore[union-attr]

    after = run(lab, path, "2027-01-05T09:00:00Z")
    assert after["counts"]["delete"] == 0 and after["waiting_for_deletion"] == []
    assert at(lab, "2027-01-05T09:00:00Z", "keep", CONNECTOR, "anna@contoso.onmicrosoft.com", expect=None) is not None
    lab.directory(ANNA)
    back = run(lab, path, "2027-01-06T09:00:00Z")
    assert logins(back, "create") == ["anna@contoso.onmicrosoft.com"]
    assert lab.accounts()["anna@contoso.onmicrosoft.com"]["id"] != before["id"]  # type: ignore[index]


def test_an_incomplete_read_deletes_and_disables_nobody_while_leavers_are_due(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    run(lab, path, DAY0)
    lab.remove(BEN)
    lab.graph.simulator.switches.fail_page(1, 400, times=1_000_000)  # type: ignore[union-attr]  # every listing fails
    broken = run(lab, path, "2027-02-01T09:00:00Z", expect=None)
    accounts = lab.accounts()
    assert accounts is not None and "anna@contoso.onmicrosoft.com" in accounts and accounts["ben@contoso.onmicrosoft.com"]["enabled"] is True
    assert broken is not None and broken["status"] != "ok" and broken["counts"]["delete"] == 0 and broken["counts"]["disable"] == 0, broken["status"]


def test_a_malformed_syncframe_now_is_a_clear_error_and_writes_nothing(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    lab.remove(ANNA)
    result = CliRunner().invoke(cli, ["--state", str(lab.state), "--json", "run", CONNECTOR, "--profile", str(path), "--yes"], env={**lab.environment(), "SYNCFRAME_NOW": "31.01.2027"})
    assert result.exit_code != 0 and "SYNCFRAME_NOW" in result.output + result.stderr and "Traceback" not in result.output + result.stderr
    assert lab.accounts()["anna@contoso.onmicrosoft.com"]["enabled"] is True  # type: ignore[index]
    history = CliRunner().invoke(cli, ["--state", str(lab.state), "history", CONNECTOR], env={**lab.environment(), "SYNCFRAME_NOW": "soon"})
    assert history.exit_code != 0 and "SYNCFRAME_NOW" in history.output + history.stderr


def test_release_of_a_login_that_is_no_leaver_nor_held_records_nothing(lab: Lab) -> None:
    path = profile(lab)
    imported(lab, path)
    result = CliRunner().invoke(cli, ["--state", str(lab.state), "--json", "release", CONNECTOR, "carl@contoso.onmicrosoft.com", "--as", "alice"], env={**lab.environment(), "SYNCFRAME_NOW": DAY0})
    assert result.exit_code != 0
    history = at(lab, DAY0, "history", CONNECTOR)
    assert not [e for e in history if e["entry"] == "decision"]
    assert logins(run(lab, path, DAY0), "delete") == []
