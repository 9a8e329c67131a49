"""Decisions a person makes through the CLI: release and hold by name, link and unlink, all in history."""

from __future__ import annotations

from .conftest import Workspace, ident


def _registered(ws: Workspace, users: int = 10, **guard: int) -> None:
    ws.write_profile(guard=guard or {"max_per_run": 1, "min_allowed": 0})
    assert ws.cli("connector", "add", ws.name, "--profile", str(ws.profile)).exit_code == 0
    ws.set_users([ident(n) for n in range(1, users + 1)])
    assert ws.cli("run", ws.name, "--yes").json["counts"]["create"] == users


def test_a_released_removal_is_applied_and_the_others_stay_held(ws: Workspace) -> None:
    _registered(ws)
    ws.set_users([ident(n) for n in range(5, 11)])  # users 1-4 left: 4 removals, the guard allows 1
    assert ws.cli("plan", ws.name).json["counts"]["held"] == 4

    released = ws.cli("release", ws.name, "user2@contoso.com", "--as", "alice")
    assert released.exit_code == 0 and released.json["decisions"][0]["operator"] == "alice"
    planned = ws.cli("plan", ws.name).json
    assert planned["counts"]["delete"] == 1 and planned["counts"]["held"] == 3
    assert "released by name (alice" in next(i for i in planned["items"] if i["kind"] == "delete")["reason"]

    ran = ws.cli("run", ws.name, "--yes").json
    assert ran["counts"]["delete"] == 1 and ran["counts"]["held"] == 3 and ran["exit_code"] == 4
    assert "user2@contoso.com" not in ws.logins() and {"user1@contoso.com", "user3@contoso.com", "user4@contoso.com"} <= set(ws.logins())
    # the release was for that run: the next one holds all three again
    assert ws.cli("plan", ws.name).json["counts"]["held"] == 3


def test_release_refuses_a_login_whose_removal_is_not_held(ws: Workspace) -> None:
    _registered(ws)
    ws.set_users([ident(n) for n in range(5, 11)])
    refused = ws.cli("release", ws.name, "user7@contoso.com", "nobody@contoso.com", json_output=False)
    assert refused.exit_code == 2
    assert "not a held removal of connector 'contoso': user7@contoso.com, nobody@contoso.com" in refused.stderr
    with ws.store() as store:
        assert store.decisions(ws.name) == []  # nothing recorded


def test_release_all_then_hold_one_back(ws: Workspace) -> None:
    _registered(ws)
    ws.set_users([ident(n) for n in range(4, 11)])  # 1-3 leave
    assert len(ws.cli("release", ws.name, "--all").json["decisions"]) == 3
    assert ws.cli("hold", ws.name, "user1@contoso.com", "--as", "bob").exit_code == 0
    ran = ws.cli("run", ws.name, "--yes").json
    assert ran["counts"]["delete"] == 2 and ran["counts"]["held"] == 1
    assert "user1@contoso.com" in ws.logins()
    assert ws.cli("hold", ws.name, "user1@contoso.com", json_output=False).exit_code == 2  # nothing pending now


def test_a_released_user_who_came_back_is_not_removed(ws: Workspace) -> None:
    _registered(ws)
    ws.set_users([ident(n) for n in range(4, 11)])  # 1, 2 and 3 leave
    assert ws.cli("release", ws.name, "user1@contoso.com").exit_code == 0
    ws.set_users([ident(n) for n in range(1, 11) if n not in (2, 3)])  # user 1 is back before the run
    ran = ws.cli("run", ws.name, "--yes").json
    assert ran["counts"]["delete"] == 0 and ran["counts"]["held"] == 2
    assert "user1@contoso.com" in ws.logins()


def test_a_manual_link_fixes_a_conflict_on_the_next_plan(ws: Workspace) -> None:
    ws.write_profile()
    assert ws.cli("connector", "add", ws.name, "--profile", str(ws.profile)).exit_code == 0
    # two accounts could be user 5: its login's local part, and an e-mail
    ws.seed({"login": "user5", "email": "old@example.org"}, {"login": "u5", "email": "user5@contoso.com"})
    ws.set_users([ident(5)])
    conflict = ws.cli("run", ws.name, "--yes").json["conflicts"][0]
    assert f"syncframe link {ws.name} --source-id id-5 --login <u5|user5>" in conflict["reason"]

    linked = ws.cli("link", ws.name, "--source-id", "id-5", "--login", "u5", "--as", "carol")
    assert linked.exit_code == 0, linked.stderr
    item = ws.cli("plan", ws.name).json["items"][0]
    assert item["kind"] == "rename" and item["rename_from"] == "u5" and "linked to 'u5'" in item["reason"]
    ws.cli("run", ws.name, "--yes")
    assert sorted(ws.logins()) == ["user5", "user5@contoso.com"]  # the other account is untouched

    twice = ws.cli("link", ws.name, "--source-id", "id-5", "--login", "user5", json_output=False)
    assert twice.exit_code == 2 and "linked already" in twice.stderr
    missing = ws.cli("link", ws.name, "--source-id", "id-9", "--login", "nobody", json_output=False)
    assert missing.exit_code == 2 and "no account with the login 'nobody'" in missing.stderr


def test_unlink_leaves_the_account_and_every_decision_is_in_history(ws: Workspace) -> None:
    _registered(ws, users=2)
    before = ws.accounts()
    assert ws.cli("unlink", ws.name, "user1@contoso.com", "--as", "dave").exit_code == 0
    assert ws.accounts() == before
    with ws.store() as store:
        assert "id-1" not in store.links(ws.name)
    ws.set_users([ident(2)])  # user 1 leaves: no longer linked, so never removed
    ws.cli("run", ws.name, "--yes")
    assert "user1@contoso.com" in ws.logins()

    entries = ws.cli("history", ws.name).json
    decisions = [e for e in entries if e["entry"] == "decision"]
    assert [(d["kind"], d["subject"], d["operator"]) for d in decisions] == [("unlink", "user1@contoso.com", "dave")]
    assert entries[0]["entry"] == "run"  # newest first: the last run came after the decision
    table = ws.cli("history", ws.name, json_output=False, env={"COLUMNS": "200"}).stdout
    assert "decisions" in table and "unlink" in table and "dave" in table
