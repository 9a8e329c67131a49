"""The connector page lists the accounts disabled and waiting for deletion (issue 21)."""

from __future__ import annotations

import re

from syncframe.testing import target_accounts
from web_support import NAME, memory_profile


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
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table.group(1))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("user3@contoso.com", "2027-01-31 09:00 UTC", "waiting"),
        ("user4@contoso.com", "2027-01-31 09:00 UTC", "waiting"),
    ]
