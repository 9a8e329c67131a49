"""Issue 12, done when: a source plugin written from docs/plugins.md alone, installed
through its own entry point, whose usernames are ``jdoe``-style, syncs into the pascom
sandbox through the CLI, with matching, renames and removals working as for MSUSER.

The plugin is the guide's CSV source, installed as pip leaves a distribution (a
module and a dist-info with its ``syncframe`` entry point) and loaded by
``syncframe --plugins csv,pascom``; nothing registers it by hand.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from plugin_docs import install_fake_distribution, plugin_from_docs
from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile
from syncframe_pascom.sandbox import PascomSandbox

COLUMNS = ["id", "username", "display_name", "given_name", "surname", "email", "phone", "enabled", "groups"]
MODULE = "sf_e2e_csv"

JOHN = {"id": "1001", "username": "jdoe", "display_name": "John Doe", "given_name": "John", "surname": "Doe",
        "email": "john.doe@example.org", "phone": "+49 89 1234 101", "enabled": "true", "groups": "Sales"}
ANNA = {"id": "1002", "username": "asmith", "display_name": "Anna Smith", "given_name": "Anna", "surname": "Smith",
        "email": "anna.smith@example.org", "phone": "+49 89 1234 102", "enabled": "true", "groups": "Support"}
#: a directory whose logins are e-mail addresses for some people
CARLA = {"id": "1003", "username": "c.weber@example.org", "display_name": "Carla Weber", "given_name": "Carla", "surname": "Weber",
         "email": "c.weber@example.org", "phone": "", "enabled": "true", "groups": ""}
#: no e-mail address at all
LENA = {"id": "1004", "username": "lmueller", "display_name": "Lena Müller", "given_name": "Lena", "surname": "Müller",
        "email": "", "phone": "+49 89 1234 104", "enabled": "true", "groups": ""}
#: disabled in the file: out of scope, by the source's decision
BERT = {"id": "1005", "username": "bmeier", "display_name": "Bert Meier", "given_name": "Bert", "surname": "Meier",
        "email": "bert.meier@example.org", "phone": "", "enabled": "false", "groups": ""}


class CsvLab:
    """The CSV file, the pascom sandbox and the CLI, as an administrator uses them."""

    def __init__(self, root: Path, pascom: PascomSandbox):
        self.root = root
        self.pascom = pascom
        self.csv = root / "users.csv"
        self.profile = root / "csvusers.toml"
        self.profile.write_text(
            render_profile("CSV", "pascom", {"path": str(self.csv)}, pascom.profile_section(), title="CSV users", extra={"mode": "sync"}),
            encoding="utf-8",
        )

    def directory(self, *rows: dict[str, str]) -> None:
        with open(self.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def run(self) -> dict[str, Any]:
        """``syncframe --plugins csv,pascom --json run csvusers --profile FILE --yes``: its report."""
        args = ["--plugins", "csv,pascom", "--state", str(self.root / "state.db"), "--json",
                "run", "csvusers", "--profile", str(self.profile), "--yes"]
        result = CliRunner().invoke(cli, args, env=self.pascom.environment(), catch_exceptions=False)
        assert result.exit_code == 0, f"exit {result.exit_code}:\n{result.output}\n{result.stderr}"
        return json.loads(result.stdout)

    def accounts(self) -> dict[str, dict[str, Any]]:
        return {a["login"]: a for a in self.pascom.accounts()}


def item(report: dict[str, Any], username: str) -> dict[str, Any]:
    (found,) = [i for i in report["items"] if i["username"] == username]
    return found


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in report["counts"].items() if v and k != "noop"}


@pytest.fixture
def lab(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "syncframe-csv", MODULE, plugin_from_docs(), "csv")
    monkeypatch.syspath_prepend(str(site))
    with PascomSandbox() as pascom:
        yield CsvLab(tmp_path, pascom)
    sys.modules.pop(MODULE, None)


def test_a_third_party_csv_source_with_jdoe_usernames_syncs_into_pascom(lab):
    # made by hand in pascom before the connector existed
    lab.pascom.put_account("jdoe", "john.doe@example.org", "John Doe")
    lab.pascom.put_account("cweber", "c.weber@example.org", "Carla Weber")
    lab.pascom.put_account("reception", "reception@example.org", "Reception desk")
    before = lab.accounts()
    lab.directory(JOHN, ANNA, CARLA, LENA, BERT)

    first = lab.run()
    assert first["status"] == "ok", first
    assert counts(first) == {"adopt": 2, "rename": 1, "create": 2, "skip": 1}
    john = item(first, "jdoe")
    assert john["kind"] == "adopt" and john["login"] == "jdoe" and john["rename_from"] is None
    assert "login" in john["reason"]  # rule b: login == username
    carla = item(first, "c.weber@example.org")
    assert carla["kind"] == "adopt" and carla["rename_from"] == "cweber" and "e-mail" in carla["reason"]
    assert {i["username"]: i["kind"] for i in first["items"] if i["kind"] == "create"} == {"asmith": "create", "lmueller": "create"}
    bert = item(first, "bmeier")
    assert bert["kind"] == "skip" and bert["reason"] == "out of scope: disabled in the CSV file (include_disabled = false)"
    assert first["notices"] == {"repair_mobile": ["c.weber@example.org"]}

    accounts = lab.accounts()
    assert set(accounts) == {"admin", "reception", "jdoe", "asmith", "lmueller", "c.weber@example.org"}
    assert accounts["jdoe"]["id"] == before["jdoe"]["id"] and accounts["jdoe"]["auth"] == "SSO"
    assert accounts["c.weber@example.org"]["id"] == before["cweber"]["id"]
    assert accounts["lmueller"]["email"] is None and accounts["lmueller"]["display_name"] == "Lena Müller"
    assert accounts["reception"] == before["reception"]  # nobody's: untouched

    # Anna's login changes in the directory; Lena leaves it
    lab.directory(JOHN, {**ANNA, "username": "anna.smith"}, CARLA, BERT)
    second = lab.run()
    assert second["status"] == "ok", second
    assert counts(second) == {"rename": 1, "delete": 1, "skip": 1}
    anna = item(second, "anna.smith")
    assert anna["kind"] == "rename" and anna["rename_from"] == "asmith"
    assert [n["code"] for n in anna["notices"]] == ["repair_mobile"]
    assert second["notices"] == {"repair_mobile": ["anna.smith"]}
    (delete,) = [i for i in second["items"] if i["kind"] == "delete"]
    assert delete["login"] == "lmueller" and "linked by an earlier import" in delete["reason"]

    after = lab.accounts()
    assert set(after) == {"admin", "reception", "jdoe", "anna.smith", "c.weber@example.org"}
    assert after["anna.smith"]["id"] == accounts["asmith"]["id"]  # renamed, not re-created

    third = lab.run()
    assert third["status"] == "ok" and counts(third) == {"skip": 1} and third["notices"] == {}
