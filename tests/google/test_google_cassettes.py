"""GOOGLE exchanges replayed from VCR cassettes (recorded against the Workspace simulator).

Replay (the default, ``--record-mode=none``) starts no server: the source points at the
placeholder host the recordings were rewritten to, and signs its token requests with a
key made for the test (the signed assertion is redacted before matching, so any key
replays). Recording (``--record-mode=rewrite``) starts the simulator and maps its
loopback URL to the placeholder (tests/cassette_support.py scrubs everything).

Recording against a real Workspace instead: set ``SYNCFRAME_GOOGLE_RECORD_KEY_FILE`` (a
0600 service-account key with domain-wide delegation), ``SYNCFRAME_GOOGLE_RECORD_SUBJECT``
(an administrator), ``SYNCFRAME_GOOGLE_RECORD_DOMAIN`` (your domain, rewritten to
``example.com``) and optionally ``SYNCFRAME_GOOGLE_RECORD_GROUP`` (a group with a nested
group). Google's hosts become the same placeholder. The fault cases need the
simulator's switches and are skipped then (see docs/cassettes.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from google_helpers import Waits, in_scope
from syncframe import AuthenticationError, ConnectorContext, no_progress
from syncframe.sdk import RetryPolicy
from syncframe_google.schema import GoogleSchema
from syncframe_google.simulator import GoogleSimulator, new_service_account
from syncframe_google.source import GoogleSource

PLACEHOLDER = "https://google.sim.invalid"
DOMAIN = "example.com"
SUBJECT = f"admin@{DOMAIN}"
GROUP = f"telephony@{DOMAIN}"
REAL = "SYNCFRAME_GOOGLE_RECORD_"


class Lab:
    """The simulator while recording, nothing while replaying (or a real Workspace)."""

    def __init__(self, tmp_path: Path, sim: GoogleSimulator | None = None, real: dict[str, str] | None = None):
        self.sim, self.real = sim, real
        self.waits = Waits()
        key = sim.key if sim is not None else new_service_account("cassettes", client_id="100000000000000000042")
        self.key_file = Path(real["KEY_FILE"]) if real else key.write(tmp_path / "sa.json")
        self.group = real.get("GROUP", GROUP) if real else GROUP

    def source(self, **overrides: Any) -> GoogleSource:
        section: dict[str, Any] = {"subject": SUBJECT, "credentials_file": str(self.key_file), "page_size": 5}
        if self.real is not None:
            section["subject"] = self.real["SUBJECT"]
        elif self.sim is not None:
            section.update(api_url=self.sim.url, token_url=self.sim.token_url, ca_bundle=self.sim.ca_bundle)
        else:
            section.update(api_url=PLACEHOLDER, token_url=f"{PLACEHOLDER}/token")
        section.update(overrides)
        config = GoogleSchema().load({k: v for k, v in section.items() if v is not None})
        return GoogleSource(config, ConnectorContext(name="cassette", profile={}), policy=RetryPolicy(attempts=4, backoff_base=1.0, backoff_max=64.0, sleep=self.waits))

    def users(self, n: int) -> list[str]:
        return self.sim.workspace.generate_users(n, seed=42, suspended_ratio=0.2, archived_ratio=0) if self.sim else []

    def require_switches(self) -> None:
        if self.real is not None:
            pytest.skip("recorded with the simulator only: the case needs its switches")


def real_workspace(host_map: Any) -> dict[str, str] | None:
    real = {k.removeprefix(REAL): v for k, v in os.environ.items() if k.startswith(REAL) and v}
    if "KEY_FILE" not in real:
        return None
    host_map.add("https://oauth2.googleapis.com", PLACEHOLDER)
    host_map.add("https://admin.googleapis.com", PLACEHOLDER)
    host_map.add(real["DOMAIN"], DOMAIN)
    return real


@pytest.fixture
def lab(recording: bool, host_map: Any, tmp_path: Path) -> Iterator[Lab]:
    real = real_workspace(host_map) if recording else None
    if real is not None or not recording:
        yield Lab(tmp_path, real=real)
        return
    with GoogleSimulator(domain=DOMAIN) as sim:
        host_map.add(sim.url, PLACEHOLDER)
        yield Lab(tmp_path, sim)


@pytest.mark.vcr
def test_token_for_the_delegated_subject(lab: Lab) -> None:
    assert "acts as" in lab.source().authenticate()


@pytest.mark.vcr
def test_full_read_across_pages(lab: Lab) -> None:
    lab.users(12)
    result = lab.source().read(None, {}, no_progress)
    assert result.complete and result.stats["pages"] >= 1
    if lab.real is None:
        assert len(result.identities) == 12 and result.stats["pages"] == 3  # 5 + 5 + 2 users
        assert sum(1 for i in result.identities if i.out_of_scope) == 2  # the suspended ones


@pytest.mark.vcr
def test_nested_group_scope(lab: Lab) -> None:
    if lab.real is not None and "GROUP" not in lab.real:
        pytest.skip("set SYNCFRAME_GOOGLE_RECORD_GROUP to record the group case against a real Workspace")
    if lab.sim is not None:
        ids = lab.users(8)
        ws = lab.sim.workspace
        ws.add_group(GROUP)
        ws.add_group(f"berlin@{DOMAIN}")
        ws.add_member(GROUP, ids[0])
        ws.add_member(GROUP, f"berlin@{DOMAIN}")
        ws.add_member(f"berlin@{DOMAIN}", ids[1])
        ws.add_member(f"berlin@{DOMAIN}", GROUP)  # a cycle
    result = lab.source(groups=[lab.group], include_suspended=True).read(None, {}, no_progress)
    assert result.complete
    if lab.real is None:
        assert len(in_scope(result)) == 2 and len(result.identities) == 8


@pytest.mark.vcr
def test_rate_limited_then_success(lab: Lab) -> None:
    lab.require_switches()
    lab.users(3)
    if lab.sim:
        lab.sim.switches.throttle(next_n=1, kind="userRateLimitExceeded")
    result = lab.source().read(None, {}, no_progress)
    assert result.complete and len(result.identities) == 3 and result.stats["retries"] == 1
    assert len(lab.waits) == 1 and 1 <= lab.waits[0] <= 2


@pytest.mark.vcr
def test_page_failing_mid_read(lab: Lab) -> None:
    lab.require_switches()
    lab.users(12)
    if lab.sim:
        lab.sim.switches.fail_page(2, status=400, endpoint="users")
    result = lab.source().read(None, {}, no_progress)
    assert not result.complete and len(result.identities) == 5
    assert "400 invalid: Invalid Input: pageToken" in result.reason


@pytest.mark.vcr
def test_delegation_refused(lab: Lab) -> None:
    lab.require_switches()
    if lab.sim:
        lab.sim.delegate(lab.sim.key.client_id, [])
    with pytest.raises(AuthenticationError, match="unauthorized_client"):
        lab.source().read(None, {}, no_progress)
