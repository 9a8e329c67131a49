"""A server stopped in the middle of a read: the read is incomplete, nobody is removed, and
the next complete read carries on.

slapd is killed (SIGKILL) from the engine's progress callback right after the first page
arrived, so the read really does lose its server between two pages. The server here has
no syncprov: every read is a full paged read, the kind a lost server can cut short.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from syncframe.connector import load_profile_file
from syncframe.engine import ConnectorRunner
from syncframe.plugins import get_plugin_manager
from syncframe.state import StateStore
from syncframe_ldap import slapd
from syncframe_pascom.sandbox import PascomSandbox

import ldap_support
from ldap_support import PASSWORD_ENV, bulk_ldif
from test_ldap_cli import CONNECTOR, Lab

OU = f"ou=staff,{slapd.OPENLDAP_SUFFIX}"
USERS = 60
PAGE = 20
GROUP = f"cn=phones,{OU}"
GROUP_LDIF = f"\ndn: {GROUP}\nobjectClass: groupOfNames\ncn: phones\nmember: uid=user00000,{OU}\n"


@pytest.fixture
def server() -> Iterator[slapd.ThrowawaySlapd]:
    ldap_support.require()
    with slapd.ThrowawaySlapd(data={slapd.OPENLDAP_SUFFIX: bulk_ldif(USERS, OU) + GROUP_LDIF}, syncprov=False) as started:
        yield started


def killing_progress(server: slapd.ThrowawaySlapd) -> Callable[..., Any]:
    """The engine's progress factory, killing slapd once the first page was read."""

    @contextlib.contextmanager
    def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
        def advance(n: int, new_total: int | None = None) -> None:
            if description == "reading" and server.running:
                server.kill()

        yield advance

    return progress


def run_with_outage(profile: Path, state: Path, server: slapd.ThrowawaySlapd) -> Any:
    """``syncframe run`` as the CLI does it, with the killing progress callback."""
    store = StateStore.open(str(state))
    try:
        pm = get_plugin_manager()
        runner = ConnectorRunner(load_profile_file(profile, pm, CONNECTOR), pm, store, progress=killing_progress(server), echo=lambda line: None)
        return runner.run()
    finally:
        store.close()


@pytest.mark.slow
def test_a_server_stopped_mid_read_removes_nobody(tmp_path: Path, server: slapd.ThrowawaySlapd, monkeypatch: pytest.MonkeyPatch) -> None:
    with PascomSandbox() as pascom:
        lab = Lab(tmp_path, server, pascom, OU)
        profile = lab.profile(page_size=PAGE)
        first = lab.run(profile)
        assert first["counts"]["create"] == USERS
        conn = ldap_support.admin(server)
        for n in range(5):
            conn.delete_s(f"uid=user{n:05d},{OU}")
        conn.unbind_s()

        for key, value in {**pascom.environment(), PASSWORD_ENV: slapd.SERVICE_PASSWORD}.items():
            monkeypatch.setenv(key, value)
        outcome = run_with_outage(profile, tmp_path / "state.db", server)
        report = outcome.report.to_dict()
        assert outcome.exit_code == 1 and report["status"] == "failed"
        assert not report["complete"]
        assert report["read_reason"].startswith(f"the full read stopped after {PAGE} users: the LDAP server went away")
        assert report["counts"]["delete"] == 0 and report["applied"] == 0
        assert not report["bookmark"]
        assert len(lab.accounts()) == USERS + 1  # everyone still there (and the sandbox's admin)

        # back up: the next run reads everything and removes exactly the five who left
        server.start()
        again = lab.run(profile)
        assert again["complete"]
        assert sorted(i["login"] for i in again["items"] if i["kind"] == "delete") == [f"user{n:05d}" for n in range(5)]
        assert len(lab.accounts()) == USERS + 1 - 5


def test_a_server_that_is_down_from_the_start_fails_the_read(make_source: Callable[..., Any], server: slapd.ThrowawaySlapd) -> None:
    """Nothing at all could be read: an error (the run stops), not an empty directory."""
    from syncframe import SyncError

    source = make_source(server=server, base_dn=OU)
    server.terminate()
    with pytest.raises(SyncError, match="cannot reach the LDAP server"):
        source.read(None, {}, lambda n, total=None: None)


def test_the_source_reports_where_the_read_stopped(make_source: Callable[..., Any], server: slapd.ThrowawaySlapd) -> None:
    source = make_source(server=server, base_dn=OU, page_size=PAGE)
    result = source.read(None, {}, lambda n, total=None: server.kill())
    assert not result.complete and len(result.identities) == PAGE
    assert result.bookmark is None
    assert "went away" in (result.reason or "")


def test_groups_cut_short_leave_everyone_out_of_scope(make_source: Callable[..., Any], server: slapd.ThrowawaySlapd) -> None:
    """Every user read (one page), then the server goes before the groups are: nobody is managed."""
    source = make_source(server=server, base_dn=OU, page_size=USERS + 10, groups=[GROUP])
    result = source.read(None, {}, lambda n, total=None: server.kill())
    assert not result.complete and len(result.identities) == USERS
    assert (result.reason or "").startswith("the users were read, but not the groups: the LDAP server went away")
    assert {i.out_of_scope for i in result.identities} == {"out of scope: the read stopped before group membership was known"}
