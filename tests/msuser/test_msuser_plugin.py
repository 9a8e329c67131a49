"""What the plugin registers through its entry point: the source, the template, the sandbox."""

from __future__ import annotations

import os

import pytest

from syncframe import ConfigError, ConnectorContext, Identity
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager, sandboxes, sources, templates
from syncframe_msuser.schema import MsuserSchema
from syncframe_msuser.source import MsuserSource


def test_the_source_is_registered_through_the_entry_point() -> None:
    registration = sources(get_plugin_manager(only=["msuser", "pascom"]))["MSUSER"]
    assert (registration.factory, registration.schema) == (MsuserSource, MsuserSchema)
    assert registration.description == "User from Microsoft 365" and registration.plugin == "msuser"


def test_the_microsoft365_template_is_a_valid_commented_profile() -> None:
    pm = get_plugin_manager(only=["msuser", "pascom"])
    template = templates(pm)["microsoft365"]
    assert "Microsoft 365 User" in template.text and "syncframe auth NAME" in template.text
    connector = load_profile(template.text, pm, "m365")
    assert connector.source_type == "MSUSER" and connector.target_type == "pascom" and connector.mode == "sync"
    assert connector.source_config["auth"] == "delegated"
    assert connector.source_config["include_guests"] is False and connector.source_config["include_disabled"] is False
    assert connector.target_config["create_softphone"] is True and connector.target_config["create_mobile"] is True


def test_the_sandbox_serves_what_it_was_given(monkeypatch) -> None:
    registered = [s for s in sandboxes(get_plugin_manager(only=["msuser"])) if s.role == "source"]
    assert [s.name for s in registered] == ["MSUSER"]
    sandbox = registered[0].factory()
    with sandbox:
        sandbox.put_identity(Identity(source_id="0b7c0e5e-1d3a-4c55-9a36-1d6e6c8f2a11", username="ida@contoso.onmicrosoft.com", display_name="Ida"))
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        source = MsuserSource(MsuserSchema().load(sandbox.profile_section()), ConnectorContext(name="sb", profile={}))
        result = source.read(None, {}, lambda *a: None)
        source.close()
    assert [(i.source_id, i.display_name) for i in result.identities] == [("0b7c0e5e-1d3a-4c55-9a36-1d6e6c8f2a11", "Ida")]


def test_a_delegated_sign_in_can_live_in_a_0600_file(sim, make_source, tmp_path) -> None:
    cache = tmp_path / "m365-cache.json"
    source = make_source(auth="delegated", client_secret_env=None, token_cache_file=str(cache))
    source.context.echo = lambda line: sim.approve_device_code() if "enter the code" in line else None
    source.authenticate()
    assert oct(os.stat(cache).st_mode & 0o777) == "0o600" and "RefreshToken" in cache.read_text()
    again = make_source(auth="delegated", client_secret_env=None, token_cache_file=str(cache))
    assert again.read(None, {}, lambda *a: None).complete
    os.chmod(cache, 0o644)
    with pytest.raises(ConfigError, match="token cache file .* readable by group or others .*chmod 600"):
        make_source(auth="delegated", client_secret_env=None, token_cache_file=str(cache))
