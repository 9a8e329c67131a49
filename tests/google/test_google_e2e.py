"""End to end through the CLI: ``syncframe run`` from the Google Workspace sandbox into
the pascom sandbox, as an administrator runs it (``--state <tmp> --json``).

Imports three people, follows a change of primary e-mail (a rename, the same Google
user id) and a deleted user (a removal); a read cut short removes nobody; refused
delegation is one line and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from syncframe import Identity
from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile
from syncframe_google.sandbox import GoogleSandbox
from syncframe_pascom.sandbox import PascomSandbox

CONNECTOR = "workspace"


def person(n: int, local: str, name: str, **changes: Any) -> Identity:
    given, _, family = name.partition(" ")
    values: dict[str, Any] = dict(
        source_id=f"1000000000000000000{n:02d}", username=f"{local}@example.com", email=f"{local}@example.com",
        display_name=name, given_name=given, surname=family, phones=(f"+49 89 1234{n:03d}",), mobile_phone=f"+49 170 {n:07d}",
    )
    return Identity(**{**values, **changes})


ANNA = person(1, "anna.schmidt", "Anna Schmidt")
BEN = person(2, "ben.weber", "Ben Weber")
CARLA = person(3, "carla.fischer", "Carla Fischer")


class Lab:
    """Both sandboxes, a profile pointing at them, and the CLI."""

    def __init__(self, root: Path, google: GoogleSandbox, pascom: PascomSandbox):
        self.root, self.google, self.pascom = root, google, pascom

    def profile(self, **source: Any) -> Path:
        target = {**self.pascom.profile_section(), "create_softphone": True, "create_mobile": True}
        text = render_profile("GOOGLE", "pascom", {**self.google.profile_section(), **source}, target, title="Google Workspace users", extra={"mode": "sync"})
        path = self.root / f"{CONNECTOR}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def invoke(self, *args: str, json_output: bool = True) -> Any:
        flags = ["--state", str(self.root / "state.db"), *(["--json"] if json_output else [])]
        return CliRunner().invoke(cli, [*flags, *args], env=self.pascom.environment(), catch_exceptions=False)

    def run(self, profile: Path, expect: int | None = 0) -> dict[str, Any]:
        result = self.invoke("run", CONNECTOR, "--profile", str(profile), "--yes")
        assert expect is None or result.exit_code == expect, result.output
        return json.loads(result.stdout)

    def logins(self) -> dict[str, dict[str, Any]]:
        return {a["login"]: a for a in self.pascom.accounts() if a["login"] != "admin"}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with GoogleSandbox() as google, PascomSandbox() as pascom:
        yield Lab(tmp_path, google, pascom)


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in report["counts"].items() if v and k != "noop"}


def test_import_rename_and_removal(lab: Lab) -> None:
    lab.google.put_identities([ANNA, BEN, CARLA])
    profile = lab.profile()
    first = lab.run(profile)
    assert counts(first) == {"create": 3} and first["complete"] and first["status"] == "ok"
    accounts = lab.logins()
    assert sorted(accounts) == [ANNA.username, BEN.username, CARLA.username]
    assert accounts[ANNA.username]["auth"] == "SSO" and accounts[ANNA.username]["display_name"] == "Anna Schmidt"
    anna_id = accounts[ANNA.username]["id"]

    # in Google: Anna's primary e-mail changes (same user id), Ben's account is deleted
    lab.google.put_identity(ANNA.replace(username="anna.weber@example.com", email="anna.weber@example.com", surname="Weber", display_name="Anna Weber"))
    lab.google.remove_identity(BEN.source_id)
    second = lab.run(profile)
    assert counts(second) == {"rename": 1, "delete": 1} and second["status"] == "ok"
    (rename,) = [i for i in second["items"] if i["kind"] == "rename"]
    assert (rename["rename_from"], rename["login"]) == (ANNA.username, "anna.weber@example.com")
    after = lab.logins()
    assert sorted(after) == ["anna.weber@example.com", CARLA.username]
    assert after["anna.weber@example.com"]["id"] == anna_id  # the same phone-system user, renamed
    assert after["anna.weber@example.com"]["display_name"] == "Anna Weber"

    assert counts(lab.run(profile)) == {}  # in step


def test_scope_settings_through_the_cli(lab: Lab) -> None:
    """Suspended users are skipped; a user who leaves the org units is removed."""
    lab.google.put_identities([ANNA.replace(extra={"org_unit": "/Sales"}), BEN.replace(extra={"org_unit": "/Sales/Berlin"}),
                               CARLA.replace(extra={"org_unit": "/Sales"}, enabled=False)])
    profile = lab.profile(org_units=["/Sales"])
    first = lab.run(profile)
    assert counts(first) == {"create": 2, "skip": 1}
    (skip,) = [i for i in first["items"] if i["kind"] == "skip"]
    assert skip["reason"] == "out of scope: suspended account (include_suspended = false)"
    lab.google.simulator.workspace.move(BEN.source_id, "/Engineering")
    second = lab.run(profile)
    assert counts(second) == {"delete": 1, "skip": 1} and sorted(lab.logins()) == [ANNA.username]


def test_a_read_cut_short_removes_nobody(lab: Lab) -> None:
    lab.google.put_identities([ANNA, BEN, CARLA])
    profile = lab.profile(page_size=1)
    assert counts(lab.run(profile)) == {"create": 3}
    lab.google.remove_identity(ANNA.source_id)
    # page 2 answers 400 (as for a page token that expired): no retry, the read stops there
    lab.google.simulator.switches.fail_page(2, status=400, times=99, endpoint="users")
    report = lab.run(profile, expect=None)
    assert report["complete"] is False and report["read_reason"].startswith("the read stopped after 1 users (1 pages)")
    assert "delete" not in counts(report) and report["held"]["count"] == 2 and "incomplete" in report["held"]["reason"]
    assert len(lab.logins()) == 3


def test_delegation_refused_is_one_line_and_exit_1(lab: Lab) -> None:
    lab.google.put_identities([ANNA])
    lab.google.simulator.delegate(lab.google.simulator.key.client_id, [])
    profile = lab.profile()
    result = lab.invoke("run", CONNECTOR, "--profile", str(profile), "--yes")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "\n" not in error and "unauthorized_client" in error
    assert error.endswith("Admin console › Security › Access and data control › API controls › Domain-wide delegation")
    plain = lab.invoke("run", CONNECTOR, "--profile", str(profile), "--yes", json_output=False)
    assert plain.exit_code == 1 and "unauthorized_client" in " ".join(plain.output.split())
    assert lab.logins() == {}


def test_check_names_each_step(lab: Lab) -> None:
    lab.google.simulator.workspace.add_group("phones@example.com")
    profile = lab.profile(groups=["phones@example.com"])
    result = lab.invoke("check", "--profile", str(profile))
    assert result.exit_code == 0, result.output
    checks = {(c["side"], c["name"]): c["ok"] for c in json.loads(result.stdout)["checks"]}
    assert {k: v for k, v in checks.items() if k[0] == "source"} == {
        ("source", "configuration"): True, ("source", "sign-in"): True, ("source", "users"): True, ("source", "groups"): True,
    }
    lab.google.simulator.delegate(lab.google.simulator.key.client_id, [])
    refused = lab.invoke("check", "--profile", str(profile))
    assert refused.exit_code == 1 and "unauthorized_client" in refused.stdout
