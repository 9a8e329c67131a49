"""Modes sync and upsert, scope, the ownership boundary, vanished accounts, and
incremental reads, through ``syncframe plan`` / ``syncframe run``."""

from __future__ import annotations

from .conftest import Workspace, ident


def _seeded(ws: Workspace, n: int = 3) -> None:
    ws.set_users([ident(i) for i in range(1, n + 1)])
    assert ws.run().exit_code == 0
    assert ws.logins() == [f"user{i}@contoso.com" for i in range(1, n + 1)]


def test_first_run_creates_then_the_connector_is_in_sync(ws: Workspace) -> None:
    ws.set_users([ident(1), ident(2)])
    first = ws.run()
    assert first.exit_code == 0, first.stdout
    report = first.json
    assert report["counts"]["create"] == 2 and report["status"] == "ok" and report["bookmark"] is True
    again = ws.plan()
    assert again.exit_code == 0 and again.json["status"] == "in_sync" and again.json["counts"]["noop"] == 2


def test_sync_removes_a_linked_user_missing_from_the_source(ws: Workspace) -> None:
    _seeded(ws)
    ws.set_users([ident(1), ident(2)])
    plan = ws.plan()
    assert plan.exit_code == 3
    item = plan.item(kind="delete")
    assert item["login"] == "user3@contoso.com" and "missing from the source" in item["reason"]
    assert ws.run().exit_code == 0
    assert ws.logins() == ["user1@contoso.com", "user2@contoso.com"]
    assert "id-3" not in ws.store().links("contoso")


def test_upsert_never_removes(ws: Workspace) -> None:
    _seeded(ws)
    ws.write_profile(mode="upsert")
    ws.set_users([ident(1, display_name="Renamed One")])
    result = ws.run()
    assert result.exit_code == 0
    assert result.json["counts"]["delete"] == 0 and result.json["counts"]["update"] == 1
    assert "mode upsert never removes users" in result.item(source_id="id-3")["reason"]
    assert len(ws.logins()) == 3


def test_accounts_the_connector_never_linked_are_never_removed(ws: Workspace) -> None:
    ws.seed({"login": "reception"}, {"login": "boss@contoso.com", "email": "boss@contoso.com"})
    ws.set_users([ident(1)])
    result = ws.run()
    assert result.exit_code == 0 and result.json["counts"]["delete"] == 0
    assert ws.logins() == ["boss@contoso.com", "reception", "user1@contoso.com"]


def test_adopted_users_count_as_linked_and_are_removed_in_sync(ws: Workspace) -> None:
    ws.seed({"login": "user1", "email": "old@example.org"})
    ws.set_users([ident(1), ident(2)])
    adopted = ws.run()
    assert adopted.json["counts"]["adopt"] == 1 and adopted.json["notices"].get("renamed", []) == ["user1@contoso.com"]
    assert ws.store().links("contoso")["id-1"].origin == "adopted"
    ws.set_users([ident(2)])
    assert ws.run().json["counts"]["delete"] == 1
    assert ws.logins() == ["user2@contoso.com"]


def test_out_of_scope_users_are_skipped_and_linked_ones_removed(ws: Workspace) -> None:
    guest = ident(3, extra={"guest": True})
    ws.set_users([ident(1), ident(2, enabled=False), guest, ident(4, extra={"guest": True})])
    first = ws.run()
    assert first.json["counts"]["create"] == 1 and first.json["counts"]["skip"] == 3
    assert "disabled" in first.item(source_id="id-2")["reason"]
    assert "guest" in first.item(source_id="id-3")["reason"]
    ws.set_users([ident(1, enabled=False)])
    second = ws.run()
    assert "disabled account" in second.item(kind="delete")["reason"]
    assert ws.logins() == []


def test_include_flags_and_group_scope(ws: Workspace) -> None:
    ws.source_extra = {"include_guests": True, "include_disabled": True, "groups": ["Phone Users"]}
    ws.write_profile()
    ws.set_users([ident(1, groups=("phone users",)), ident(2, extra={"guest": True}, enabled=False, groups=("Phone Users",)), ident(3, groups=("Other",))])
    result = ws.run()
    assert result.json["counts"]["create"] == 2
    assert "not a member of the configured groups" in result.item(source_id="id-3")["reason"]


def test_a_linked_account_that_vanished_is_unlinked_and_created_again(ws: Workspace) -> None:
    _seeded(ws, 2)
    import sqlite3

    with sqlite3.connect(ws.accounts_db) as db:  # someone deleted user1 and user2 by hand
        db.execute("DELETE FROM accounts")
    ws.set_users([ident(1)])
    result = ws.run()
    assert result.exit_code == 0
    assert "no longer exists in the target" in result.item(kind="create")["reason"]
    assert "the link is dropped" in result.item(source_id="id-2")["reason"]
    assert result.json["links_dropped"] == 2
    assert ws.logins() == ["user1@contoso.com"]
    links = ws.store().links("contoso")
    assert sorted(links) == ["id-1"] and links["id-1"].target_id == ws.accounts()[0]["target_id"]


def test_invalid_records_are_skipped_with_reasons_and_keep_their_accounts(ws: Workspace) -> None:
    _seeded(ws, 2)
    ws.set_users([ident(1), ident(2, mobile_phone="call me maybe")])
    result = ws.run()
    item = result.item(source_id="id-2")
    assert item["kind"] == "skip" and item["reason"].startswith("invalid record: mobile_phone:")
    assert result.json["counts"]["delete"] == 0  # invalid is present, not absent
    assert len(ws.logins()) == 2


def test_incremental_reads_plan_on_the_full_view(ws: Workspace) -> None:
    ws.source_extra = {"incremental": True}
    ws.write_profile()
    _seeded(ws, 3)
    store = ws.store()
    first_bookmark = store.get_bookmark("contoso")
    assert first_bookmark and sorted(store.load_view("contoso")) == ["id-1", "id-2", "id-3"]
    ws.set_users([ident(1), ident(2, display_name="Two")])  # user 3 left, user 2 changed
    result = ws.run()
    report = result.json
    assert report["incremental"] is True
    assert report["counts"]["update"] == 1 and report["counts"]["delete"] == 1 and report["counts"]["noop"] == 1
    assert store.get_bookmark("contoso") != first_bookmark
    assert sorted(store.load_view("contoso")) == ["id-1", "id-2"]
