"""``syncframe demo``: the whole product on the simulators, as a newcomer first sees it."""

from __future__ import annotations

import json

from click.testing import CliRunner

from syncframe.cli import cli


def test_demo_imports_syncs_and_ends_in_sync() -> None:
    """``syncframe --json demo --users 60`` (``--json`` is the group's option, as for every command)."""
    result = CliRunner().invoke(cli, ["--json", "demo", "--users", "60"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first, second, third = json.loads(result.stdout)["runs"]
    assert [r["status"] for r in (first, second, third)] == ["ok", "ok", "ok"]

    c = first["counts"]
    assert c["create"] > 0 and c["rename"] >= 1 and c["adopt"] >= 1 and c["conflict"] >= 1 and c["error"] == 0
    assert "mmustermann@contoso.com" in first["notices"]["repair_mobile"]

    assert second["counts"]["delete"] >= 1 and second["counts"]["error"] == 0

    c = third["counts"]
    assert {k: c[k] for k in ("create", "update", "rename", "adopt", "delete", "error")} == dict.fromkeys(
        ("create", "update", "rename", "adopt", "delete", "error"), 0
    )
    assert c["conflict"] >= 1  # the ambiguous John Doe is still reported, never guessed
    assert third["notices"].get("repair_mobile", []) == [] and all(r["bookmark"] for r in (first, second, third))
