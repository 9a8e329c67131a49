"""Saved plans: what a person reviewed is what gets applied, or nothing when it went stale."""

from __future__ import annotations

import json

from .conftest import Workspace, ident


def _registered(ws: Workspace) -> None:
    ws.write_profile(guard={"max_per_run": 5, "min_allowed": 1})
    assert ws.cli("connector", "add", ws.name, "--profile", str(ws.profile)).exit_code == 0
    ws.set_users([ident(n) for n in range(1, 6)])
    ws.cli("run", ws.name, "--yes")


def test_a_saved_plan_is_reviewed_and_applied_exactly(ws: Workspace, tmp_path) -> None:
    _registered(ws)
    ws.set_users([ident(1, display_name="Eins"), ident(2), ident(3), ident(4), ident(6)])  # update 1, create 6, remove 5
    out = tmp_path / "review.json"
    planned = ws.cli("plan", ws.name, "--out", str(out), "--as", "alice")
    assert planned.exit_code == 3 and planned.json["plan_file"] == str(out)
    document = json.loads(out.read_text())
    assert document["format"] == "syncframe-plan" and document["version"] == 1 and document["created_by"] == "alice"
    assert set(document) >= {"connector", "mode", "created_at", "fingerprints", "bookmark", "counts", "items"}
    assert sorted((i["kind"], i["login"]) for i in document["items"]) == [
        ("create", "user6@contoso.com"), ("delete", "user5@contoso.com"), ("update", "user1@contoso.com")
    ]
    assert out.read_text().startswith("{\n  ")  # pretty, for people

    shown = ws.cli("show-plan", str(out), json_output=False, env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "user6@contoso.com" in shown.stdout and "display_name: User 1 → Eins" in shown.stdout

    ran = ws.cli("run", ws.name, "--plan", str(out), "--yes", "--as", "bob")
    assert ran.exit_code == 0, ran.stdout
    assert ran.json["counts"] == {**ran.json["counts"], "create": 1, "update": 1, "delete": 1}
    assert sorted(ws.logins()) == [f"user{n}@contoso.com" for n in (1, 2, 3, 4, 6)]
    applied = [e for e in ws.cli("history", ws.name).json if e["entry"] == "decision"]
    assert [(d["kind"], d["operator"], d["detail"]["created_by"]) for d in applied] == [("apply_plan", "bob", "alice")]


def test_a_stale_plan_is_refused_and_writes_nothing(ws: Workspace, tmp_path) -> None:
    _registered(ws)
    ws.set_users([ident(1, display_name="Eins"), ident(2), ident(3), ident(4), ident(5), ident(6)])
    out = tmp_path / "review.json"
    ws.cli("plan", ws.name, "--out", str(out))
    ws.set_users([ident(1, display_name="Uno"), ident(2), ident(3), ident(4), ident(5), ident(6)])  # changed since
    before = ws.accounts()
    stale = ws.cli("run", ws.name, "--plan", str(out), "--yes")
    assert stale.exit_code == 6 and stale.json["status"] == "stale"
    assert any("update user1@contoso.com: changed since the plan was saved (changes, desired)" in s for s in stale.json["stale"])
    assert ws.accounts() == before
    # the phone system changed under the plan too: someone deleted user 1's account by hand
    ws.set_users([ident(1, display_name="Eins"), ident(2), ident(3), ident(4), ident(5), ident(6)])
    import sqlite3

    with sqlite3.connect(ws.accounts_db) as db:
        db.execute("DELETE FROM accounts WHERE login = 'user1@contoso.com'")
    again = ws.cli("run", ws.name, "--plan", str(out), "--yes")
    assert again.exit_code == 6 and any(s.startswith("update user1@contoso.com: now create") for s in again.json["stale"])


def test_changes_beyond_the_saved_plan_are_not_applied_and_wait_for_review(ws: Workspace, tmp_path) -> None:
    _registered(ws)
    ws.set_users([ident(n) for n in range(1, 7)])  # create 6
    out = tmp_path / "review.json"
    ws.cli("plan", ws.name, "--out", str(out))
    ws.set_users([ident(n) for n in range(1, 8)])  # and now 7 too, unreviewed
    ran = ws.cli("run", ws.name, "--plan", str(out), "--yes").json
    assert ran["counts"]["create"] == 1 and "user7@contoso.com" not in ws.logins() and "user6@contoso.com" in ws.logins()
    assert "not in the saved plan" in next(i for i in ran["items"] if i["login"] == "user7@contoso.com")["reason"]
    assert ws.cli("plan", ws.name).json["counts"]["create"] == 1  # user 7 comes up for review


def test_a_file_that_is_no_plan_gets_one_clear_line(ws: Workspace, tmp_path) -> None:
    _registered(ws)
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    result = ws.cli("run", ws.name, "--plan", str(bogus), "--yes", json_output=False)
    assert result.exit_code == 2 and "is not a plan file" in result.stderr
    newer = tmp_path / "newer.json"
    newer.write_text('{"format": "syncframe-plan", "version": 99}')
    assert "format version 99" in ws.cli("show-plan", str(newer), json_output=False).stderr
