"""The product page's promises, end to end through the CLI: live and replayed.

``*_live`` runs each scenario against the Graph + login and pascom simulators and
checks the phone system afterwards. ``*_replayed`` runs the very same scenario with
no server at all, answered from its cassette (``tests/cassettes/test_e2e_scenarios/``);
both must produce the report facts saved when the cassette was recorded, and every
recorded exchange must be used. Re-record (an existing cassette is replayed, not
overwritten) with::

    rm -r tests/cassettes/test_e2e_scenarios tests/cassettes/test_e2e_automation
    pytest tests/e2e -k replayed --record-mode=once
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e_scenarios import SCENARIOS
from e2e_support import Lab, facts_path, live_lab, recorded_facts, records_now, save_facts

MODULE = Path(__file__).stem


def live(name: str, root: Path) -> None:
    scenario, expect = SCENARIOS[name]
    with live_lab(root) as lab:
        result = scenario(lab)
    expect(result, None)
    assert result.facts == recorded_facts(facts_path(MODULE, name))


def replayed(name: str, root: Path, recording: bool, host_map: Any, cassette: Any) -> None:
    scenario, expect = SCENARIOS[name]
    path = facts_path(MODULE, name)
    if records_now(recording, cassette):
        # one write at a time: the cassette's order is the order of the plan
        with live_lab(root, concurrency=1, host_map=host_map) as lab:
            result = scenario(lab)
        save_facts(path, result.facts)
    else:
        result = scenario(Lab(root, concurrency=1))
        assert result.accounts is None
        assert cassette.all_played, "the replay made fewer requests than the recording"
    expect(result, cassette)
    assert result.facts == recorded_facts(path)


def test_new_users_imported_live(tmp_path: Path) -> None:
    """New directory users: created with login = UPN, SSO, a softphone and a mobile device."""
    live("new_users_imported", tmp_path)


@pytest.mark.vcr
def test_new_users_imported_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    replayed("new_users_imported", tmp_path, recording, host_map, vcr)


def test_local_part_renamed_live(tmp_path: Path) -> None:
    """``mmustermann`` becomes ``mmustermann@contoso.onmicrosoft.com``; its mobile pairing is reset and reported."""
    live("local_part_renamed", tmp_path)


@pytest.mark.vcr
def test_local_part_renamed_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    replayed("local_part_renamed", tmp_path, recording, host_map, vcr)


def test_email_renamed_live(tmp_path: Path) -> None:
    """A user whose e-mail is the UPN is renamed to it."""
    live("email_renamed", tmp_path)


@pytest.mark.vcr
def test_email_renamed_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    replayed("email_renamed", tmp_path, recording, host_map, vcr)


def test_sync_removes_only_its_own_live(tmp_path: Path) -> None:
    """Mode sync removes the deleted user an earlier import created, never another."""
    live("sync_removes_only_its_own", tmp_path)


@pytest.mark.vcr
def test_sync_removes_only_its_own_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    replayed("sync_removes_only_its_own", tmp_path, recording, host_map, vcr)


def test_upsert_removes_nobody_live(tmp_path: Path) -> None:
    """Mode upsert removes nobody."""
    live("upsert_removes_nobody", tmp_path)


@pytest.mark.vcr
def test_upsert_removes_nobody_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    replayed("upsert_removes_nobody", tmp_path, recording, host_map, vcr)
