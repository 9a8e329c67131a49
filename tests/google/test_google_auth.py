"""Signing in as the service account: delegation refused, a wrong subject, a deleted
key, a subject without the privilege, a scope missing from the delegation. Each is
one line that says what to fix."""

from __future__ import annotations

import pytest

from syncframe import AuthenticationError, no_progress
from syncframe_google.auth import DELEGATION_PATH, READ_GROUP_MEMBERS, READ_USERS
from syncframe_google.simulator import READ_USERS as SIM_READ_USERS


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_the_token_is_a_delegated_jwt_grant(sim, make_source) -> None:
    source = make_source()
    assert "acts as admin@example.com with 1 scope(s)" in source.authenticate()
    assert sim.stats()["tokens"] == 1 and source.auth.scopes == [READ_USERS]
    assert make_source(groups=["g@example.com"]).auth.scopes == [READ_USERS, READ_GROUP_MEMBERS]


def test_delegation_not_granted_says_where_to_grant_it(sim, make_source) -> None:
    sim.delegate(sim.key.client_id, [])
    with pytest.raises(AuthenticationError) as info:
        make_source().read(None, {}, no_progress)
    text = one_line(info)
    assert "unauthorized_client" in text and f"grant client id {sim.key.client_id} the scopes {READ_USERS}" in text
    assert text.endswith(DELEGATION_PATH)


def test_groups_need_the_member_scope_in_the_delegation(sim, make_source) -> None:
    sim.delegate(sim.key.client_id, [SIM_READ_USERS])
    with pytest.raises(AuthenticationError, match="unauthorized_client") as info:
        make_source(groups=["g@example.com"]).read(None, {}, no_progress)
    assert f"{READ_USERS},{READ_GROUP_MEMBERS}" in one_line(info)


def test_an_unknown_subject_is_named(make_source) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_source(subject="nobody@example.com").read(None, {}, no_progress)
    text = one_line(info)
    assert "does not know the subject 'nobody@example.com' (invalid_grant: Invalid email or User ID)" in text
    assert "primary e-mail of an administrator" in text


def test_a_subject_without_admin_privileges_is_refused_by_the_api(sim, make_source) -> None:
    sim.workspace.add_user("clerk@example.com", "Clerk", "X")
    with pytest.raises(AuthenticationError) as info:
        make_source(subject="clerk@example.com").read(None, {}, no_progress)
    text = one_line(info)
    assert "403 forbidden: Not Authorized to access this resource/api" in text and "must be an administrator" in text


def test_a_deleted_key_says_to_create_a_new_one(sim, make_source) -> None:
    sim.delete_key(sim.key)
    with pytest.raises(AuthenticationError) as info:
        make_source().read(None, {}, no_progress)
    assert "(invalid_grant: Invalid JWT Signature.)" in one_line(info) and "create a new key" in one_line(info)


def test_check_reports_each_step(sim, make_source) -> None:
    sim.workspace.add_group("g@example.com")
    results = make_source(groups=["g@example.com", "missing@example.com"]).check()
    assert [(r.name, r.ok) for r in results] == [("configuration", True), ("sign-in", True), ("users", True), ("groups", False)]
    assert "'missing@example.com' (groups) was not found" in results[-1].detail
    sim.delegate(sim.key.client_id, [])
    refused = make_source().check()
    assert [(r.name, r.ok) for r in refused] == [("configuration", True), ("sign-in", False)]
