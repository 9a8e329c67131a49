"""Contract checks for the GOOGLE source and sandbox (what any source must honour),
written here until the host's conformance kit (``syncframe.testing``) has one.

- the settings schema reports every error at once and refuses unknown keys;
- a read is a full read: unique ids, every identity passes the host's validation,
  out-of-scope users carry a reason starting ``out of scope:``, reading twice gives the same;
- what a sandbox is given is what the source reads back (every mapped field), a removed
  user is gone, a disabled one out of scope, a guest not a directory user.
"""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from syncframe import SANDBOX_GUEST, Identity, ReadResult, SourceSandbox, no_progress
from syncframe.schemas import validate_identity
from syncframe_google.sandbox import GoogleSandbox
from syncframe_google.schema import GoogleSchema

ANNA = Identity(
    source_id="100000000000000000011", username="anna.schmidt@example.com", display_name="Anna Schmidt", given_name="Anna",
    surname="Schmidt", email="anna.schmidt@example.com", phones=("+49 89 1234001", "+49 89 1234002"), mobile_phone="+49 170 1234567",
    job_title="Head of Sales", department="Sales", preferred_language="de", groups=("phones@example.com",),
    extra={"org_unit": "/Sales", "suspended": False, "archived": False},
)
BEN = Identity(source_id="100000000000000000012", username="ben@example.com", display_name="Ben Weber", given_name="Ben", surname="Weber",
               email="ben@example.com", groups=("phones@example.com",), extra={"org_unit": "/", "suspended": False, "archived": False})


@pytest.fixture
def box() -> Any:
    with GoogleSandbox(groups=["phones@example.com"]) as sandbox:
        yield sandbox


def read(box: GoogleSandbox, **overrides: Any) -> ReadResult:
    from syncframe import ConnectorContext
    from syncframe_google.source import GoogleSource

    source = GoogleSource(GoogleSchema().load({**box.profile_section(), **overrides}), ConnectorContext(name="contract", profile={}))
    try:
        return source.read(None, {}, no_progress)
    finally:
        source.close()


def test_the_schema_reports_every_error_and_refuses_unknown_keys() -> None:
    with pytest.raises(ValidationError) as info:
        GoogleSchema().load({"tenant": "x", "include_suspended": "maybe"})
    assert {"tenant", "include_suspended", "subject", "credentials_file"} <= set(info.value.messages)


def test_a_read_is_a_valid_full_read(box: GoogleSandbox) -> None:
    assert isinstance(box, SourceSandbox)
    box.simulator.workspace.generate_users(40, seed=9, suspended_ratio=0.2, archived_ratio=0.1)
    box.put_identities([ANNA, BEN])
    first, second = read(box), read(box)
    assert first.complete and not first.incremental and first.removed == () and first.bookmark is None
    ids = [i.source_id for i in first.identities]
    assert len(ids) == len(set(ids)) == 42 and all(i.username for i in first.identities)
    for identity in first.identities:
        assert validate_identity(identity)[1] == {}, identity
        assert identity.out_of_scope is None or identity.out_of_scope.startswith("out of scope: ")
    assert sorted(first.identities, key=lambda i: i.source_id) == sorted(second.identities, key=lambda i: i.source_id)
    assert first.stats["requests"] >= 1


def test_the_sandbox_round_trips_identities(box: GoogleSandbox) -> None:
    box.put_identities([ANNA, BEN])
    read_back = {i.source_id: i for i in read(box).identities}
    assert read_back == {ANNA.source_id: ANNA, BEN.source_id: BEN}

    box.put_identity(ANNA.replace(username="anna.weber@example.com", email="anna.weber@example.com", groups=()))
    box.put_identity(BEN.replace(enabled=False))
    after = {i.source_id: i for i in read(box).identities}
    assert after[ANNA.source_id].username == "anna.weber@example.com"
    assert after[ANNA.source_id].out_of_scope == "out of scope: not a member of groups (phones@example.com)"
    assert after[BEN.source_id].out_of_scope == "out of scope: suspended account (include_suspended = false)"

    box.remove_identity(BEN.source_id)
    assert {i.source_id for i in read(box).identities} == {ANNA.source_id}


def test_a_guest_is_no_directory_user(box: GoogleSandbox) -> None:
    guest = BEN.replace(source_id="100000000000000000099", username="partner@example.com", email="p@partner.example", extra={SANDBOX_GUEST: True})
    box.put_identities([ANNA, guest])
    assert [i.username for i in read(box).identities] == [ANNA.username]
    assert any(m["email"] == "p@partner.example" for m in box.simulator.workspace.members("phones@example.com"))
