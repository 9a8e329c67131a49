"""End to end through the CLI: ``syncframe run`` from the real slapd into the pascom sandbox.

The directory lives in an organizational unit of this test's own on the shared slapd;
the phone system is the pascom simulator. The CLI runs in this process with
``--state <tmp>/state.db --json``, exactly as an administrator would run it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile
from syncframe_ldap import slapd
from syncframe_pascom.sandbox import PascomSandbox

from ldap_support import PASSWORD_ENV, person, python_ldap, section

CONNECTOR = "directory"
#: removals of an earlier import are allowed (1 of 5 linked users is above the default 10 %)
GUARD = "\n[guard]\nmax_per_run = 10\nmax_percent = 50\nmin_allowed = 1\n"


class Lab:
    """The directory OU, the pascom sandbox, a profile and the CLI."""

    def __init__(self, root: Path, server: slapd.ThrowawaySlapd, pascom: PascomSandbox, ou: str):
        self.root = root
        self.server = server
        self.pascom = pascom
        self.ou = ou

    def profile(self, **source: Any) -> Path:
        text = render_profile("LDAP", "pascom", section(self.server, base_dn=self.ou, **source), self.pascom.profile_section(), title="Directory users")
        path = self.root / "directory.toml"
        path.write_text(text + GUARD, encoding="utf-8")
        return path

    def invoke(self, *args: str, password: str = slapd.SERVICE_PASSWORD) -> Any:
        env = {**self.pascom.environment(), PASSWORD_ENV: password}
        return CliRunner().invoke(cli, ["--state", str(self.root / "state.db"), "--json", *args], env=env, catch_exceptions=False)

    def run(self, profile: Path, expect: int = 0) -> dict[str, Any]:
        result = self.invoke("run", CONNECTOR, "--profile", str(profile), "--yes")
        assert result.exit_code == expect, f"exit {result.exit_code}:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout)

    def accounts(self) -> dict[str, dict[str, Any]]:
        return {a["login"]: a for a in self.pascom.accounts()}


@pytest.fixture
def lab(tmp_path: Path, directory: slapd.ThrowawaySlapd, admin: Any, own_ou: str) -> Iterator[Lab]:
    with PascomSandbox() as pascom:
        yield Lab(tmp_path, directory, pascom, own_ou)


def add(conn: Any, uid: str, given: str, surname: str, ou: str, **attrs: Any) -> None:
    dn, entry = person(uid, given, surname, ou, displayName=f"{given} {surname}", **attrs)
    conn.add_s(dn, list(entry.items()))


def items(report: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {i["username"]: i for i in report["items"] if i["kind"] == kind}


@pytest.mark.slow
def test_run_from_ldap_into_pascom_with_renames_and_removals(lab: Lab, admin: Any) -> None:
    ldap = python_ldap()
    ou = lab.ou
    add(admin, "alice", "Alice", "Archer", ou, telephoneNumber="+49 89 1234 501")
    add(admin, "bob", "Bob", "Baker", ou)
    add(admin, "carol", "Carol", "Cooper", ou)
    add(admin, "zangstrom", "Zoë", "Ångström", ou)
    add(admin, "jürgen", "Jürgen", "Müller", ou, mail="juergen@example.org")
    add(admin, "locked", "Lock", "Ed", ou, pwdAccountLockedTime="000001010000Z")
    lab.pascom.put_account("bob", "bob@example.org", "Bob (by hand)")
    lab.pascom.put_account("legacy", "legacy@example.org", "Not in the directory")
    profile = lab.profile()

    first = lab.run(profile)
    assert first["complete"] and not first["incremental"]
    assert sorted(items(first, "create")) == ["alice", "carol", "zangstrom"]
    assert sorted(items(first, "adopt")) == ["bob"]
    skipped = items(first, "skip")
    # a username pascom cannot hold is reported, not created
    assert "jürgen" in skipped and "jürgen" not in lab.accounts()
    assert skipped["locked"]["reason"].startswith("out of scope: locked by the password policy")
    accounts = lab.accounts()
    assert accounts["zangstrom"]["display_name"] == "Zoë Ångström"
    assert {"alice", "bob", "carol", "zangstrom", "legacy"} <= set(accounts)

    admin.rename_s(f"uid=alice,{ou}", "uid=alice.archer", delold=1)
    admin.delete_s(f"uid=carol,{ou}")
    admin.modify_s(f"uid=bob,{ou}", [(ldap.MOD_REPLACE, "displayName", [b"Robert Baker"])])

    second = lab.run(profile)
    assert second["incremental"] and second["read_stats"]["read"] == "syncrepl"
    assert [(i["rename_from"], i["login"]) for i in second["items"] if i["kind"] == "rename"] == [("alice", "alice.archer")]
    assert [i["login"] for i in second["items"] if i["kind"] == "delete"] == ["carol"]
    assert second["counts"]["update"] == 1
    accounts = lab.accounts()
    assert "alice.archer" in accounts and "alice" not in accounts and "carol" not in accounts
    assert accounts["bob"]["display_name"] == "Robert Baker"
    # never linked to this connector: never removed
    assert "legacy" in accounts

    quiet = lab.run(profile)
    assert quiet["incremental"] and quiet["counts"]["create"] == quiet["counts"]["delete"] == quiet["counts"]["rename"] == 0


def test_a_wrong_bind_password_is_one_line_and_exit_1(lab: Lab) -> None:
    """The run stops before reading: exit 1, and the report's error is one line naming the bind."""
    result = lab.invoke("run", CONNECTOR, "--profile", str(lab.profile()), "--yes", password="not-the-password")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and not report["complete"]
    error = report["error"]
    assert "\n" not in error
    assert error.startswith("the LDAP server ldaps://127.0.0.1:")
    assert "refused the bind as 'cn=syncframe,ou=service,dc=example,dc=org': invalid credentials" in error
    assert f"the password in the environment variable {PASSWORD_ENV}" in error
    assert "not-the-password" not in result.stdout + result.stderr
    assert lab.pascom.stats()["writes"] == 0


def test_check_reports_bind_users_and_incremental_reads(lab: Lab, admin: Any) -> None:
    add(admin, "alice", "Alice", "Archer", lab.ou)
    result = lab.invoke("check", CONNECTOR, "--profile", str(lab.profile()))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "content synchronisation (RFC 4533) offered" in text
    assert "username 'alice'" in text
