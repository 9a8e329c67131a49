"""The pascom target driven by syncframe's engine: profile -> plan -> journaled runs.

The source is the host's ``MEMORY`` test plugin (identities in a JSON file); the
target is this plugin against the simulator, loaded through the plugin manager.
"""

from __future__ import annotations

import pytest

import syncframe.testing
from syncframe import Identity
from syncframe.connector import load_profile
from syncframe.engine import ConnectorRunner
from syncframe.plugins import get_plugin_manager
from syncframe.state.store import StateStore
from syncframe.testing import write_identities

from pascom_helpers import PASSWORD_ENV


def person(n: int, **changes) -> Identity:
    return Identity(
        source_id=f"00000000-0000-0000-0000-{n:012d}",
        username=f"user{n}@contoso.onmicrosoft.com",
        display_name=f"User {n}",
        given_name="User",
        surname=str(n),
        email=f"user{n}@contoso.com",
        mobile_phone=f"+49170555{n:04d}",
    ).replace(**changes)


@pytest.fixture
def runner(tmp_path, simulator, instance):
    users = tmp_path / "users.json"
    profile = f"""
title = "Microsoft 365 users"
concurrency = 4
[guard]
max_per_run = 10
max_percent = 100
min_allowed = 5
[source]
type = "MEMORY"
path = "{users}"
[target]
type = "pascom"
url = "{simulator.instance_url(instance.name)}"
password_env = "{PASSWORD_ENV}"
ca_bundle = "{simulator.ca_bundle}"
"""
    pm = get_plugin_manager(extra_plugins=[syncframe.testing])
    connector = load_profile(profile, pm, "m365")
    store = StateStore.open(str(tmp_path / "state.db"))
    store.add_connector("m365", profile)
    yield users, ConnectorRunner(connector, pm, store)
    store.close()


def test_runs_create_adopt_rename_and_remove(runner, instance):
    users, run = runner
    # an administrator made "user2" by hand before the connector existed
    instance.seed_user("user2", display_name="User 2", email="user2@contoso.com", extension="250")
    write_identities(users, [person(1), person(2), person(3)])

    first = run.run()
    assert first.status == "ok", first.report
    assert first.report.counts["create"] == 2 and first.report.counts["adopt"] == 1
    assert first.report.notices.get("repair_mobile", []) == ["user2@contoso.onmicrosoft.com"]
    adopted = instance.user("user2@contoso.onmicrosoft.com")
    assert adopted.extension == "250" and adopted.auth_method == "SSO" and adopted.sessions == []
    assert all(instance.user(f"user{n}@contoso.onmicrosoft.com").auth_method == "SSO" for n in (1, 2, 3))

    # in step: nothing to write
    assert run.plan().report.status == "in_sync"

    # user 1's UPN changes in Entra (same object id): renamed, not re-created
    instance.pair_mobile("user1@contoso.onmicrosoft.com")
    before = instance.user("user1@contoso.onmicrosoft.com")
    write_identities(users, [person(1, username="max@contoso.com"), person(2), person(3)])
    second = run.run()
    assert second.status == "ok", second.report
    assert second.report.counts["rename"] == 1 and second.report.counts["create"] == 0
    assert second.report.notices.get("repair_mobile", []) == ["max@contoso.com"]
    renamed = instance.user("max@contoso.com")
    assert renamed.id == before.id and renamed.extension == before.extension
    assert renamed.sessions == [] and not any(d.paired for d in renamed.devices)

    # user 3 leaves: removed (mode sync, linked by an earlier import, under the guard)
    write_identities(users, [person(1, username="max@contoso.com"), person(2)])
    third = run.run()
    assert third.status == "ok", third.report
    assert third.report.counts["delete"] == 1
    assert instance.user("user3@contoso.onmicrosoft.com") is None
    assert instance.user("admin") is not None


def test_bad_credentials_abort_the_run_and_remove_nobody(runner, instance, monkeypatch):
    users, run = runner
    write_identities(users, [person(1), person(2)])
    assert run.run().status == "ok"
    write_identities(users, [person(1, display_name="Renamed One")])  # user 2 would be removed
    instance.switches.reject_credentials = True
    outcome = run.run()
    assert outcome.status == "failed"
    assert "refused the REST credentials" in str(outcome.report)
    instance.switches.reject_credentials = False
    assert instance.user("user2@contoso.onmicrosoft.com") is not None
    assert instance.password not in str(outcome.report)
