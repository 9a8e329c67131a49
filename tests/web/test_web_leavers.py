"""The connector page lists the accounts disabled and waiting for deletion (issue 21)."""

from __future__ import annotations

import re

from syncframe.testing import target_accounts
from web_support import ADMIN, NAME, csrf_of, memory_profile


def test_the_connector_page_lists_accounts_waiting_for_deletion(admin_client, world, monkeypatch):
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-01T09:00:00Z")
    profile = memory_profile(world.root).replace('mode = "sync"', 'mode = "sync"\nremoval = "disable, delete after 30d"')
    world.store.add_connector(NAME, profile.replace("max_per_run = 0", "max_per_run = 10"), replace=True)
    page = admin_client.get(f"/connectors/{NAME}").text
    assert "waiting for deletion" not in page  # nobody disabled yet

    report = world.run()  # user3 and user4 left the directory
    assert report["counts"]["disable"] == 2, report
    accounts = {a["login"]: a for a in target_accounts(world.root / "accounts.db")}
    assert accounts["user3@contoso.com"]["fields"]["enabled"] is False

    page = admin_client.get(f"/connectors/{NAME}").text
    table = re.search(r'<table id="waiting">(.*?)</table>', page, re.S)
    assert table, page
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", table.group(1))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("user3@contoso.com", "2027-01-31 09:00 UTC", "waiting"),
        ("user4@contoso.com", "2027-01-31 09:00 UTC", "waiting"),
    ]


def _waiting_rows(page: str) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table id="waiting">(.*?)</table>', page, re.S)
    assert table, page
    return {r[0]: (r[2], r[3]) for r in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", table.group(1))}


def test_the_console_deletes_a_leaver_with_the_next_run_or_keeps_one(admin_client, world, monkeypatch):
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-01T09:00:00Z")
    profile = memory_profile(world.root).replace('mode = "sync"', 'mode = "sync"\nremoval = "disable, delete after 30d"')
    world.store.add_connector(NAME, profile.replace("max_per_run = 0", "max_per_run = 10"), replace=True)
    assert world.run()["counts"]["disable"] == 2
    page = admin_client.get(f"/connectors/{NAME}").text
    token = csrf_of(page)
    assert page.count('class="delete-now secondary"') == 2 and page.count('class="keep secondary"') == 2

    deleted = admin_client.post(f"/connectors/{NAME}/leavers/delete", data={"login": "user3@contoso.com", "csrf_token": token})
    assert deleted.status_code == 200 and "due for deletion now" in deleted.text
    kept = admin_client.post(f"/connectors/{NAME}/leavers/keep", data={"login": "user4@contoso.com", "csrf_token": token})
    assert kept.status_code == 200 and "kept disabled indefinitely" in kept.text
    decisions = [(d.kind, d.subject, d.operator) for d in world.store.decisions(NAME)]
    assert ("keep", "user4@contoso.com", ADMIN) in decisions and any(k == "release" and s == "user3@contoso.com" and o == ADMIN for k, s, o in decisions)

    rows = _waiting_rows(admin_client.get(f"/connectors/{NAME}").text)
    assert rows["user3@contoso.com"][0] == "2027-01-01 09:00 UTC"  # due now
    assert rows["user4@contoso.com"] == ("2027-01-31 09:00 UTC", "kept")

    report = world.run()  # the next run deletes the one made due, keeps the other
    assert report["counts"]["delete"] == 1, report
    logins = {a["login"] for a in target_accounts(world.root / "accounts.db")}
    assert "user3@contoso.com" not in logins and "user4@contoso.com" in logins

    unknown = admin_client.post(f"/connectors/{NAME}/leavers/delete", data={"login": "user1@contoso.com", "csrf_token": token})
    assert unknown.status_code == 400 and "no disabled leaver" in unknown.text
