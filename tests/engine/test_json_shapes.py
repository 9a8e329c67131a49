"""Every JSON shape the guide shows (section 11) has the keys the commands print.

The guide's examples are marked ``<!-- json: NAME -->``; each is compared, key by key
and level by level, with a real document from the CLI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import Workspace, ident

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def documented() -> dict[str, Any]:
    text = GUIDE.read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in re.findall(r"<!-- json: ([\w-]+) -->\s*```json\n(.*?)```", text, re.S)}


#: maps whose keys are data, not shape: a target's fields, a source's stats, notice codes,
#: a stored summary (the report's shape, tested as such) and a journal's plan item
FREE_FORM = {"desired", "changes", "fields", "read_stats", "notices", "notice_messages", "summary", "item", "detail", "environment", "source", "target"}


def assert_same_keys(doc: Any, real: Any, where: str = "") -> None:
    """Equal keys at every level both have; "…" in a documented dict stands for the rest."""
    if isinstance(doc, dict) and isinstance(real, dict):
        if "…" not in doc:
            assert set(doc) == set(real), (where, sorted(set(doc) ^ set(real)))
        for key in set(doc) & set(real) - FREE_FORM:
            assert_same_keys(doc[key], real[key], f"{where}.{key}")
    elif isinstance(doc, list) and isinstance(real, list) and doc and real:
        assert_same_keys(doc[0], real[0], f"{where}[0]")


@pytest.fixture
def used(ws: Workspace) -> Workspace:
    """A connector with one run in which one user failed."""
    ws.target_extra = {"fail_logins": ["user2@contoso.com"]}
    ws.write_profile(interval="1h")
    ws.set_users([ident(1), ident(2)])
    assert ws.cli("connector", "add", "contoso", "--profile", str(ws.profile)).exit_code == 0
    assert ws.cli("run", "contoso", "--yes").exit_code == 1
    return ws


def test_every_shape_is_documented_with_an_example() -> None:
    assert set(documented()) >= {
        "error", "report", "history", "history-run", "check", "serve-run", "serve-skipped", "serve-invalid",
        "serve-stopping", "connector-list", "connector-show", "sandbox", "sandbox-user", "jobs",
    }


def test_the_documented_examples_have_the_keys_the_commands_print(used: Workspace) -> None:
    docs = documented()
    assert_same_keys(docs["report"], used.cli("plan", "contoso").json)
    assert_same_keys(docs["report"], used.cli("run", "contoso", "--yes").json)
    runs = [e for e in used.cli("history").json if e["entry"] == "run"]
    assert_same_keys(docs["history"][1], runs[0])
    assert_same_keys(docs["history-run"], used.cli("history", "--run", str(runs[0]["id"])).json)
    assert_same_keys(docs["connector-list"][0], used.cli("connector", "list").json[0])
    assert_same_keys(docs["connector-show"], used.cli("connector", "show", "contoso").json)
    assert_same_keys(docs["error"], used.cli("plan", "nope").json)
    check = used.cli("check", "contoso").json
    assert set(check) == set(docs["check"])
    used.store().add_connector("manual", 'title = "m"\n[source]\ntype = "MEMORY"\npath = "x"\n[target]\ntype = "memory"\npath = "y"\n')
    used.store().add_connector("broken", 'mode = "mirror"\n[source]\ntype = "MEMORY"\n[target]\ntype = "memory"\n')
    events = {}
    for line in used.cli("serve", "--once").stdout.splitlines():
        event = json.loads(line)
        events.setdefault(event["event"], event)
    for kind in ("run", "skipped", "invalid"):
        assert_same_keys(docs[f"serve-{kind}"], events[kind])
