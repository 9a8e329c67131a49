"""The report people read and the JSON machines parse, and the exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import syncframe.engine
from syncframe.exit_codes import MEANINGS, ExitCode

from .conftest import Workspace, ident

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def test_exit_codes_are_defined_once_and_the_guide_lists_each() -> None:
    assert syncframe.engine.ExitCode is ExitCode
    assert [(c.name, int(c)) for c in ExitCode] == [("OK", 0), ("FAILED", 1), ("USAGE", 2), ("PENDING", 3), ("HELD", 4), ("LOCKED", 5), ("STALE", 6), ("STATE", 7)]
    assert set(MEANINGS) == set(ExitCode)
    section = GUIDE.read_text(encoding="utf-8").split("## 7. Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = {int(n) for n in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert listed == {int(c) for c in ExitCode}


def test_json_report_shape(ws: Workspace) -> None:
    ws.seed({"login": "user2", "email": "x@example.org"}, {"login": "user3"}, {"login": "max", "email": "user3@contoso.com"})
    ws.set_users([ident(1), ident(2), ident(3), ident(4, extra={"guest": True})])
    report = ws.run().json
    for key in ("name", "mode", "counts", "notices", "bookmark", "items", "errors", "held", "conflicts", "status", "exit_code", "run_id"):
        assert key in report
    assert report["name"] == "contoso" and report["mode"] == "sync" and report["kind"] == "run"
    assert set(report["counts"]) == {"create", "update", "rename", "adopt", "delete", "disable", "held", "conflict", "skip", "noop", "error"}
    assert report["counts"] == {"create": 1, "update": 0, "rename": 1, "adopt": 1, "delete": 0, "disable": 0, "held": 0, "conflict": 1, "skip": 1, "noop": 0, "error": 0}
    assert report["notices"].get("renamed", []) == ["user2@contoso.com"]
    assert report["bookmark"] is True and report["errors"] == [] and report["exit_code"] == 0
    conflict = report["conflicts"][0]
    assert conflict["source_id"] == "id-3" and sorted(conflict["candidates"]) == ["max", "user3"]
    adopt = next(i for i in report["items"] if i["kind"] == "adopt")
    assert adopt["rename_from"] == "user2" and adopt["changes"]["email"] == ["x@example.org", "user2@contoso.com"]
    assert adopt["applied"] is True and [n["code"] for n in adopt["notices"]] == ["renamed"]


def test_people_get_tables_with_changes_conflicts_and_how_to_release(ws: Workspace) -> None:
    ws.write_profile(guard={"max_per_run": 1, "min_allowed": 0})
    ws.set_users([ident(1), ident(2), ident(3)])
    ws.run()
    ws.seed({"login": "user5"}, {"login": "x", "email": "user5@contoso.com"})
    ws.set_users([ident(1, display_name="Eins", upn="eins@contoso.com"), ident(5)])
    out = ws.cli("plan", "--profile", str(ws.profile), json_output=False, env={"COLUMNS": "250"})
    assert out.exit_code == 4
    text = " ".join(out.stdout.split())
    assert "plan of connector 'contoso' (mode sync)" in text
    assert "login: user1@contoso.com → eins@contoso.com" in text
    assert "display_name: User 1 → Eins" in text
    assert "candidates: user5, x" in text
    assert "renamed: tell them their new login: eins@contoso.com" in text  # the target's notice
    assert "2 removal(s) held" in text
    assert f"syncframe run contoso --profile {ws.profile} --allow-removals 2" in text


def test_history_lists_runs_newest_first(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    ws.run()
    ws.set_users([ident(1)], fail="down")
    ws.run()
    runs = ws.cli("history", "contoso").json
    assert [(r["status"], r["kind"]) for r in runs] == [("failed", "run"), ("ok", "run")]
    assert runs[1]["counts"]["create"] == 1 and runs[0]["error"] == "down"
    table = ws.cli("history", "contoso", json_output=False)
    assert table.exit_code == 0 and "failed" in table.stdout
    missing = ws.cli("history", "contoso", "--run", "999", json_output=False)
    assert missing.exit_code == 2


def test_run_needs_a_name_or_a_profile(ws: Workspace) -> None:
    result = ws.cli("run", "--yes", json_output=False)
    assert result.exit_code == 2 and "name a connector, or give --profile FILE" in result.stderr
    unknown = ws.cli("plan", "nope", json_output=False)
    assert unknown.exit_code == 2


def test_the_json_report_is_streamed_in_small_pieces_and_is_the_same_document(ws: Workspace) -> None:
    import json

    import syncframe.testing
    from syncframe.connector import load_profile_file
    from syncframe.engine import ConnectorRunner
    from syncframe.engine.report_json import iter_report_json
    from syncframe.plugins import get_plugin_manager

    ws.seed({"login": "user2", "email": "x@example.org"}, {"login": "user3"}, {"login": "max", "email": "user3@contoso.com"})
    ws.set_users([ident(n, display_name=f"Jürgen {n}") for n in range(1, 1201)] + [ident(9999, extra={"guest": True})])
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing])
    report = ConnectorRunner(load_profile_file(ws.profile, pm, "contoso"), pm, ws.store()).plan().report
    expected = json.loads(json.dumps(report.to_dict(), default=str, ensure_ascii=False))
    assert len(expected["items"]) == 1201 and expected["conflicts"] and expected["changes"]  # the guest is a skip

    pieces = list(iter_report_json(report))
    assert json.loads("".join(pieces)) == expected
    assert max(len(p) for p in pieces) < len("".join(pieces)) / 4, "the items are written a few at a time"
    # the CLI prints exactly this document, names unescaped
    printed = ws.plan()
    assert printed.json == expected and "Jürgen 1200" in printed.stdout
