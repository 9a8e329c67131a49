"""The LDAP sandbox: a throwaway slapd seeded with identities, read back by the LDAP source."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from syncframe import ConnectorContext, Identity, ReadResult
from syncframe import plugins as registry
from syncframe.cli import cli
from syncframe_ldap.sandbox import PASSWORD_ENV, SlapdSandbox
from syncframe_ldap.schema import LdapSchema
from syncframe_ldap.source import LdapSource

import ldap_support

ALICE = Identity(
    source_id="5e0c0000-0000-4000-8000-000000000001", username="alice", display_name="Alice Archer", given_name="Alice",
    surname="Archer", email="alice@example.org", phones=("+49 89 1234 501",), mobile_phone="+49 170 1234501",
    job_title="Engineer", department="R&D", preferred_language="en", groups=("phones",),
)
ZOE = Identity(source_id="5e0c0000-0000-4000-8000-000000000002", username="zoe", display_name="Zoë Ångström", groups=("phones",))
OFF = Identity(source_id="5e0c0000-0000-4000-8000-000000000003", username="off", display_name="Switched Off", enabled=False)


def test_the_bundled_demo_keeps_its_first_sandbox() -> None:
    """``demo`` and ``sandbox`` start the first source sandbox: LDAP must not become it (it needs slapd)."""
    sources = [s.name for s in registry.sandboxes(registry.get_plugin_manager()) if s.role == "source"]
    assert "LDAP" in sources and sources[0] == "MSUSER"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlapdSandbox]:
    ldap_support.require()
    with SlapdSandbox(groups=["phones"]) as started:
        for key, value in started.environment().items():
            monkeypatch.setenv(key, value)
        yield started


def read(sandbox: SlapdSandbox, previous: ReadResult | None = None) -> ReadResult:
    source = LdapSource(LdapSchema().load(sandbox.profile_section()), ConnectorContext(name="sandbox", profile={}))
    try:
        view = {i.source_id: i for i in previous.identities} if previous else {}
        return source.read(previous.bookmark if previous else None, view, lambda n, total=None: None)
    finally:
        source.close()


def test_identities_read_back_as_seeded(sandbox: SlapdSandbox) -> None:
    sandbox.put_identities([ALICE, ZOE, OFF])
    result = read(sandbox)
    users = {i.source_id: i for i in result.identities}
    assert set(users) == {ALICE.source_id, ZOE.source_id, OFF.source_id}
    alice = users[ALICE.source_id]
    fields = ("username", "display_name", "given_name", "surname", "email", "phones", "mobile_phone", "job_title", "department", "preferred_language")
    assert {f: getattr(alice, f) for f in fields} == {f: getattr(ALICE, f) for f in fields}
    assert alice.groups == ("cn=phones,ou=groups,dc=example,dc=org",) and alice.out_of_scope is None
    assert users[ZOE.source_id].display_name == "Zoë Ångström"
    assert not users[OFF.source_id].enabled and users[OFF.source_id].out_of_scope is not None


def test_changes_to_the_sandbox_arrive_incrementally(sandbox: SlapdSandbox) -> None:
    sandbox.put_identities([ALICE, ZOE, OFF])
    first = read(sandbox)
    sandbox.put_identity(ALICE.replace(username="alice.archer", groups=()))
    sandbox.remove_identity(ZOE.source_id)
    second = read(sandbox, first)
    assert second.incremental
    [alice] = second.identities
    assert (alice.source_id, alice.username) == (ALICE.source_id, "alice.archer")
    assert alice.out_of_scope is not None and "not a member" in alice.out_of_scope
    assert second.removed == (ZOE.source_id,)


def test_syncframe_sandbox_starts_an_ldap_directory_with_the_demo_users() -> None:
    ldap_support.require()
    result = CliRunner().invoke(cli, ["--json", "sandbox", "--source", "LDAP", "--users", "30", "--seconds", "0"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 'type = "LDAP"' in data["profile"] and data["source"]["base_dn"] == "ou=people,dc=example,dc=org"
    assert PASSWORD_ENV in data["environment"]


def test_a_sandbox_round_trip_through_the_cli(tmp_path: Any, sandbox: SlapdSandbox) -> None:
    """``syncframe plan`` against the sandbox's profile sees the seeded users."""
    from syncframe.cli.sandbox import render_profile
    from syncframe_pascom.sandbox import PascomSandbox

    sandbox.put_identities([ALICE, ZOE, OFF])
    with PascomSandbox() as pascom:
        profile = tmp_path / "sandbox.toml"
        profile.write_text(render_profile("LDAP", "pascom", sandbox.profile_section(), pascom.profile_section()), encoding="utf-8")
        env = {**sandbox.environment(), **pascom.environment()}
        result = CliRunner().invoke(cli, ["--state", str(tmp_path / "state.db"), "--json", "plan", "lab", "--profile", str(profile)], env=env, catch_exceptions=False)
    assert result.exit_code == 3, result.output  # changes pending
    report = json.loads(result.stdout)
    assert sorted(i["login"] for i in report["items"] if i["kind"] == "create") == ["alice", "zoe"]
