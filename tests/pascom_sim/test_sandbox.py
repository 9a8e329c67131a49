"""The sandbox: what the demo, the end-to-end tests and the benchmark see."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from syncframe import TargetSandbox
from syncframe.http import CASession
from syncframe_pascom.sandbox import PASSWORD_ENV, PascomSandbox


@pytest.fixture
def sandbox() -> Iterator[PascomSandbox]:
    with PascomSandbox() as box:
        yield box


def test_profile_section_and_environment(sandbox: PascomSandbox) -> None:
    assert isinstance(sandbox, TargetSandbox)
    section = sandbox.profile_section()
    assert set(section) == {"url", "username", "password_env", "ca_bundle"}
    assert section["url"] == f"{sandbox.simulator.url}/sandbox"
    assert section["url"].startswith("https://127.0.0.1:")
    assert section["username"] == "moby"
    assert section["password_env"] == PASSWORD_ENV == "SYNCFRAME_SANDBOX_PASCOM_PASSWORD"
    assert os.path.isfile(section["ca_bundle"])
    env = sandbox.environment()
    assert list(env) == [PASSWORD_ENV] and env[PASSWORD_ENV] == sandbox.instance.password
    assert env[PASSWORD_ENV] not in repr(section)
    # a client configured only from the section and the environment gets in
    session = CASession(section["ca_bundle"])
    session.auth = (section["username"], env[section["password_env"]])
    response = session.get(section["url"] + "/services/identity/")
    assert response.status_code == 200
    assert [u["003use_name"] for u in response.json()] == ["admin"]


def test_put_account_seeds_a_hand_made_user(sandbox: PascomSandbox) -> None:
    sandbox.put_account("mmustermann", email="max@contoso.com", display_name="Max Mustermann")
    sandbox.put_account("extern", password_login=False)
    accounts = {a["login"]: a for a in sandbox.accounts()}
    assert set(accounts) == {"admin", "mmustermann", "extern"}
    max_ = accounts["mmustermann"]
    assert {"login", "email", "display_name", "auth", "extension", "devices", "roles", "id"} <= set(max_)
    assert (max_["email"], max_["display_name"], max_["auth"]) == ("max@contoso.com", "Max Mustermann", "mobydick")
    assert max_["extension"].isdigit()
    assert [(d["type"], d["paired"]) for d in max_["devices"]] == [("softphone", False), ("mobile", True)]
    assert [s["kind"] for s in max_["sessions"]] == ["desktop", "mobile"]
    assert sandbox.instance.user("mmustermann").password  # a password login has a password
    assert accounts["extern"]["auth"] == "EXTERN" and accounts["extern"]["display_name"] == "extern"
    assert accounts["admin"]["roles"] == ["Administrator"]
    # putting again replaces
    sandbox.put_account("mmustermann", email="new@contoso.com")
    assert [a["email"] for a in sandbox.accounts() if a["login"] == "mmustermann"] == ["new@contoso.com"]


def test_stats_count_requests_and_writes(sandbox: PascomSandbox) -> None:
    section, env = sandbox.profile_section(), sandbox.environment()
    session = CASession(section["ca_bundle"])
    session.auth = ("moby", env[PASSWORD_ENV])
    base = section["url"] + "/services/identity/"
    session.get(base)
    session.post(base, json={"identity": [{"003use_name": "new", "003use_bez": "New"}]})
    session.delete(base + "new")
    stats = sandbox.stats()
    assert (stats["requests"], stats["writes"]) == (3, 2)
