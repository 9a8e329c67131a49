"""The ``[source]`` section and the service-account key: every error at once, before
any request."""

from __future__ import annotations

import json
import os

import pytest
from marshmallow import ValidationError

from syncframe import ConfigError, ConnectorContext
from syncframe_google.schema import GoogleSchema, scope_of
from syncframe_google.source import GoogleSource


def load(**values):
    return GoogleSchema().load({"subject": "admin@example.com", "credentials_file": "/k.json", **values})


def test_defaults() -> None:
    config = load()
    assert scope_of(config) == {"customer": "my_customer"}
    assert config["api_url"] == "https://admin.googleapis.com" and config["token_url"] == "https://oauth2.googleapis.com/token"
    assert (config["org_units"], config["groups"], config["include_suspended"], config["include_archived"]) == ([], [], False, False)
    assert scope_of(load(domain="example.com")) == {"domain": "example.com"}


def test_every_error_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        GoogleSchema().load({"subject": "admin", "customer": "C01", "domain": "example.com", "org_units": ["Sales"],
                             "api_url": "http://admin.googleapis.com", "page_size": 501, "colour": "red"})
    errors = info.value.messages
    assert set(errors) == {"subject", "domain", "org_units", "api_url", "page_size", "credentials_file", "colour"}
    assert errors["credentials_file"] == ["the service account's JSON key is needed: credentials_file (mode 0600) or credentials_env"]
    with pytest.raises(ValidationError, match="not both"):
        load(credentials_env="KEY")


def open_source(config):
    return GoogleSource(config, ConnectorContext(name="google", profile={}))


def test_a_key_file_others_can_read_is_refused(key_file) -> None:
    os.chmod(key_file, 0o644)
    with pytest.raises(ConfigError, match=f"readable by group or others \\(mode 0644\\); run: chmod 600 {key_file}"):
        open_source(load(credentials_file=str(key_file)))


def test_a_missing_key_file_or_variable(tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        open_source(load(credentials_file=str(tmp_path / "missing.json")))
    monkeypatch.delenv("SYNCFRAME_TEST_GOOGLE_KEY", raising=False)
    with pytest.raises(ConfigError, match="SYNCFRAME_TEST_GOOGLE_KEY \\(credentials_env\\) is not set"):
        open_source(load(credentials_file=None, credentials_env="SYNCFRAME_TEST_GOOGLE_KEY"))


def test_a_key_that_is_not_a_service_account_key(tmp_path, monkeypatch, sim) -> None:
    path = tmp_path / "oauth-client.json"
    path.write_text(json.dumps({"installed": {"client_id": "x"}}))
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="is not a service account key"):
        open_source(load(credentials_file=str(path)))
    monkeypatch.setenv("SYNCFRAME_TEST_GOOGLE_KEY", "{not json")
    with pytest.raises(ConfigError, match="is not JSON"):
        open_source(load(credentials_file=None, credentials_env="SYNCFRAME_TEST_GOOGLE_KEY"))
    broken = {**sim.key.info(), "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}
    monkeypatch.setenv("SYNCFRAME_TEST_GOOGLE_KEY", json.dumps(broken))
    with pytest.raises(ConfigError, match="cannot be used") as info:
        open_source(load(credentials_file=None, credentials_env="SYNCFRAME_TEST_GOOGLE_KEY"))
    assert "AAAA" not in str(info.value)


def test_the_key_from_an_environment_variable_signs_in(sim, section, monkeypatch) -> None:
    monkeypatch.setenv("SYNCFRAME_TEST_GOOGLE_KEY", sim.key.json())
    values = {**section, "credentials_file": None, "credentials_env": "SYNCFRAME_TEST_GOOGLE_KEY"}
    source = open_source(GoogleSchema().load({k: v for k, v in values.items() if v is not None}))
    assert "environment variable SYNCFRAME_TEST_GOOGLE_KEY" in source.authenticate()
    source.close()
