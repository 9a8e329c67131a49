"""The plugin as the host sees it: entry point, target registration, sandbox, profile."""

from __future__ import annotations

import pytest

from syncframe import ConfigError, ConnectorContext, Identity, ItemKind, PlanItem
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager, sandboxes, targets
from syncframe_pascom.schema import PascomTargetSchema
from syncframe_pascom.target import PascomTarget


def test_target_is_registered_through_the_entry_point():
    registration = targets(get_plugin_manager())["pascom"]
    assert registration.plugin == "pascom"
    assert registration.factory is PascomTarget and registration.schema is PascomTargetSchema
    assert registration.description == "pascom Cloud Phone System"


def test_sandbox_serves_the_target(monkeypatch):
    (registration,) = [s for s in sandboxes(get_plugin_manager()) if s.role == "target" and s.name == "pascom"]
    with registration.factory() as sandbox:
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        sandbox.put_account("mmustermann", email="mmustermann@contoso.onmicrosoft.com", display_name="Max Mustermann")
        config = PascomTargetSchema().load(sandbox.profile_section())
        target = PascomTarget(config, ConnectorContext(name="demo", profile={}), sleep=lambda s: None)
        try:
            accounts = {a.login: a for a in target.list_accounts()}
            assert accounts["admin"].protected and not accounts["mmustermann"].protected
            entra = Identity(source_id="1", username="mmustermann@contoso.onmicrosoft.com", display_name="Max Mustermann")
            desired = target.desired(entra)
            account = accounts["mmustermann"]
            item = PlanItem(ItemKind.ADOPT, "e-mail matches", source_id="1", login=desired["login"], account=account,
                            target_id=account.target_id, desired=desired, changes=target.diff(account, desired),
                            rename_from="mmustermann", identity=entra)
            target.apply(item)
        finally:
            target.close()
        (user,) = [a for a in sandbox.accounts() if a["login"] == "mmustermann@contoso.onmicrosoft.com"]
        assert user["auth"] == "SSO" and user["sessions"] == []
        assert not any(d["paired"] for d in user["devices"])
        assert sandbox.stats()["writes"] >= 2


def test_profile_errors_in_the_target_section_come_all_at_once():
    profile = """
[source]
type = "MSUSER"
tenant = "contoso.onmicrosoft.com"
client_id = "00000000-0000-0000-0000-000000000001"
client_secret_env = "GRAPH_SECRET"
[target]
type = "pascom"
url = "http://pascom.cloud/acme"
timeout = 0
passwort_env = "X"
"""
    with pytest.raises(ConfigError) as caught:
        load_profile(profile, get_plugin_manager(), "m365")
    lines = [line for line in caught.value.lines() if line.startswith("[target]")]
    assert any(line.startswith("[target].url: plain http://") for line in lines), lines
    assert any(line.startswith("[target].timeout:") for line in lines), lines
    assert any(line.startswith("[target].passwort_env:") for line in lines), lines
    assert any(line.startswith("[target].password_env: give exactly one") for line in lines), lines


def test_the_microsoft365_template_fits_the_target_schema():
    """The starter profile names only [target] settings this plugin knows."""
    from syncframe.plugins import templates

    pm = get_plugin_manager()
    connector = load_profile(templates(pm)["microsoft365"].text, pm, "m365")
    assert connector.target_config["url"].startswith("https://") and connector.removal.disable is False
