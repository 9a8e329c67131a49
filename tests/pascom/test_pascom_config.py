"""The ``[target]`` section: validation (every error at once) and the password reference."""

from __future__ import annotations

import os

import pytest
from marshmallow import ValidationError

from syncframe import ConfigError, ConnectorContext
from syncframe_pascom.schema import PascomTargetSchema, read_password
from syncframe_pascom.target import PascomTarget

BASE = {"url": "https://pascom.cloud/acme", "password_env": "PASCOM_PW"}


def load(**values):
    return PascomTargetSchema().load({**BASE, **values})


def errors(**values) -> dict:
    with pytest.raises(ValidationError) as caught:
        PascomTargetSchema().load({k: v for k, v in {**BASE, **values}.items() if v is not None})
    return caught.value.messages


def test_defaults():
    config = load()
    assert config["url"] == "https://pascom.cloud/acme"
    assert config["username"] == "moby"
    assert config["extension"] == "auto"
    assert "removal" not in config  # the host's setting now (top level, beside mode)
    assert config["roles"] == [] and config["group_roles"] == {}
    assert config["timeout"] == 30 and config["max_retries"] == 5


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://pascom.cloud/acme/", "https://pascom.cloud/acme"),
        ("https://pascom.cloud/acme/services/", "https://pascom.cloud/acme"),
        ("https://192.168.1.5:8443/voipjack", "https://192.168.1.5:8443/voipjack"),
    ],
)
def test_url_is_normalised(url, expected):
    assert load(url=url)["url"] == expected


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("http://pascom.local/acme", "unencrypted"),
        ("ftp://pascom.local/acme", "https://"),
        ("https://pascom.cloud", "must name the instance"),
        ("https://pascom.cloud/a/b", "must name the instance"),
        ("https://moby:secret@pascom.cloud/acme", "credentials"),
        ("https://pascom.cloud/acme?x=1", "query"),
    ],
)
def test_bad_urls_are_refused(url, fragment):
    messages = errors(url=url)
    assert fragment in " ".join(messages["url"])
    if "secret" in url:
        assert "secret" not in str(messages)


def test_plain_http_only_with_insecure():
    assert load(url="http://pascom.lab/acme", insecure=True)["url"] == "http://pascom.lab/acme"


def test_every_error_at_once():
    messages = errors(
        url="http://pascom.local/acme",
        password_env=None,
        extension="business_phone",
        timeout=0,
        colour="blue",
    )
    assert set(messages) == {"url", "password_env", "extension_digits", "timeout", "colour"}
    assert "exactly one of password_env or password_file" in messages["password_env"][0]


def test_both_password_references_are_refused():
    assert "password_env" in errors(password_file="/run/secrets/pascom")


def test_extension_policy_values():
    assert load(extension="business_phone", extension_digits=3)["extension_digits"] == 3
    assert load(extension="extra.ipPhone", extension_digits=4)["extension"] == "extra.ipPhone"
    assert "extension" in errors(extension="fax", extension_digits=3)


def test_roles_accept_a_name_or_a_list():
    config = load(roles="Users", group_roles={"Sales": "Sales Team", "Support": ["Queue", "Support"]})
    assert config["roles"] == ["Users"]
    assert config["group_roles"] == {"Sales": ["Sales Team"], "Support": ["Queue", "Support"]}
    assert "group_roles" in errors(group_roles={"Sales": 5})


def test_protected_logins_are_lower_cased():
    assert load(protected_logins=["Operator", "operator"])["protected_logins"] == ["operator"]


# --- the password reference -----------------------------------------------------------


def test_password_from_env(monkeypatch):
    monkeypatch.setenv("PASCOM_PW", "s3cret-value")
    assert read_password(load()) == "s3cret-value"


def test_missing_env_var_names_it(monkeypatch):
    monkeypatch.delenv("PASCOM_PW", raising=False)
    with pytest.raises(ConfigError) as caught:
        read_password(load())
    assert str(caught.value) == "[target] password_env: the environment variable PASCOM_PW is not set or empty"


def test_password_file_must_be_private(tmp_path):
    secret = tmp_path / "pascom.pw"
    secret.write_text("s3cret-value\n")
    os.chmod(secret, 0o644)
    config = load(password_env=None, password_file=str(secret))
    with pytest.raises(ConfigError) as caught:
        read_password(config)
    message = str(caught.value)
    assert str(secret) in message and "group or others" in message and "chmod 600" in message
    assert "s3cret" not in message
    os.chmod(secret, 0o600)
    assert read_password(config) == "s3cret-value"


def test_unreadable_or_missing_password_file(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=f"password_file '{missing}' cannot be read: No such file"):
        read_password(load(password_env=None, password_file=str(missing)))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match="is empty"):
        read_password(load(password_env=None, password_file=str(empty)))


def test_target_refuses_before_any_request(simulator, instance, section, monkeypatch):
    """A bad reference stops the target from opening; pascom sees no request."""
    monkeypatch.delenv("SYNCFRAME_TEST_PASCOM_PASSWORD")
    before = simulator.counters(instance.name)["requests"]
    config = PascomTargetSchema().load(section())
    with pytest.raises(ConfigError, match="SYNCFRAME_TEST_PASCOM_PASSWORD"):
        PascomTarget(config, ConnectorContext(name="t", profile={}))
    assert simulator.counters(instance.name)["requests"] == before


def test_missing_ca_bundle_is_a_config_error(section, tmp_path):
    config = PascomTargetSchema().load(section(ca_bundle=str(tmp_path / "ca.pem")))
    with pytest.raises(ConfigError, match="ca_bundle"):
        PascomTarget(config, ConnectorContext(name="t", profile={}))
