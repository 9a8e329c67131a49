"""The [source] schema and the secret checks: every error at once, before any request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from marshmallow import ValidationError

from syncframe import ConfigError, ConnectorContext
from syncframe_msuser.clouds import resolve
from syncframe_msuser.schema import MsuserSchema
from syncframe_msuser.source import MsuserSource

BASE = {"tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555", "client_secret_env": "MSUSER_TEST_SECRET"}
SECRET = "s3cr3t-value-never-shown"


def load(**overrides):
    return MsuserSchema().load({**BASE, **overrides})


def errors_of(**overrides) -> dict:
    data = {**BASE, **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationError) as info:
        MsuserSchema().load(data)
    return info.value.messages


def open_source(config: dict) -> MsuserSource:
    return MsuserSource(config, ConnectorContext(name="m365", profile={}))


def test_defaults_are_the_safe_ones() -> None:
    config = load()
    assert config["auth"] == "client_secret"
    assert config["include_guests"] is False and config["include_disabled"] is False and config["presence"] is False
    assert config["groups"] == [] and config["cloud"] == "global"
    assert config["reconcile_every"] == 86400


def test_every_error_is_reported_at_once() -> None:
    messages = errors_of(tenant=None, auth="password", cloud="mars", colour="blue", graph_url="http://graph.microsoft.com/v1.0")
    assert set(messages) >= {"tenant", "auth", "cloud", "colour", "graph_url"}


@pytest.mark.parametrize(
    ("cloud", "login", "graph"),
    [
        ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com/v1.0"),
        ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us/v1.0"),
        ("usgov-dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us/v1.0"),
        ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/v1.0"),
    ],
)
def test_a_cloud_fixes_both_login_and_graph(cloud: str, login: str, graph: str) -> None:
    endpoints = resolve(load(cloud=cloud))
    assert endpoints.authority_host == login and endpoints.graph_url == graph
    assert endpoints.authority == f"{login}/contoso.onmicrosoft.com"
    assert endpoints.default_scope == graph.removesuffix("/v1.0") + "/.default"
    assert endpoints.admin_consent_url(BASE["client_id"]) == f"{login}/contoso.onmicrosoft.com/adminconsent?client_id={BASE['client_id']}"


def test_http_is_refused_even_on_loopback() -> None:
    messages = errors_of(authority_host="http://127.0.0.1:8443", graph_url="http://localhost:8443/v1.0")
    assert "https://" in messages["authority_host"][0] and "https://" in messages["graph_url"][0]


def test_an_unknown_host_is_refused_unless_lab() -> None:
    messages = errors_of(graph_url="https://graph.evil.example/v1.0", authority_host="https://login.evil.example")
    assert "lab = true" in messages["graph_url"][0] and "not a Microsoft cloud host" in messages["authority_host"][0]
    config = load(graph_url="https://graph.lab.example/v1.0", authority_host="https://login.lab.example", lab=True)
    assert resolve(config).graph_url == "https://graph.lab.example/v1.0"


def test_login_and_graph_must_be_in_the_same_cloud() -> None:
    messages = errors_of(cloud="usgov", graph_url="https://graph.microsoft.com/v1.0")
    assert "usgov or usgov-dod cloud but the Graph URL in the global cloud" in messages["graph_url"][0]
    messages = errors_of(cloud="global", graph_url="https://dod-graph.microsoft.us/v1.0")
    assert "global cloud but the Graph URL in the usgov-dod cloud" in messages["graph_url"][0]
    # both US government clouds sign in at login.microsoftonline.us
    assert resolve(load(cloud="usgov", graph_url="https://dod-graph.microsoft.us/v1.0")).graph_url == "https://dod-graph.microsoft.us/v1.0"


@pytest.mark.parametrize("host", ["127.0.0.1:8443", "localhost:9", "[::1]:8443", "127.0.0.2"])
def test_loopback_hosts_are_allowed(host: str) -> None:
    config = load(graph_url=f"https://{host}/v1.0", authority_host=f"https://{host}")
    assert resolve(config).authority_host == f"https://{host}"


def test_combinations_of_auth_settings() -> None:
    assert "client_secret_env" in errors_of(client_secret_env=None)
    assert "certificate_file" in errors_of(auth="certificate", client_secret_env=None)
    assert "client_secret_file" in errors_of(client_secret_file="/x")
    assert "certificate_file" in errors_of(certificate_file="/x.pem")
    assert "tenant" in errors_of(tenant="common")
    assert "certificate_thumbprint" in errors_of(auth="certificate", certificate_file="/x.pem", certificate_thumbprint="zz")
    assert load(auth="delegated", client_secret_env=None)["auth"] == "delegated"


def test_a_missing_environment_variable_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MSUSER_TEST_SECRET", raising=False)
    with pytest.raises(ConfigError) as info:
        open_source(load())
    assert str(info.value) == "the environment variable MSUSER_TEST_SECRET (client_secret_env) is not set or empty"


def test_a_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError) as info:
        open_source(load(client_secret_env=None, client_secret_file=str(secret)))
    message = str(info.value)
    assert str(secret) in message and "0644" in message and "chmod 600" in message and SECRET not in message
    os.chmod(secret, 0o600)
    source = open_source(load(client_secret_env=None, client_secret_file=str(secret)))
    assert source.auth.credential_label == f"client_secret_file {str(secret)!r}"


def test_a_missing_secret_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="client_secret_file .*nope.* cannot be read"):
        open_source(load(client_secret_env=None, client_secret_file=str(tmp_path / "nope")))


def test_a_certificate_file_readable_by_group_is_refused(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n")
    os.chmod(pem, 0o640)
    with pytest.raises(ConfigError, match=r"certificate_file .*app\.pem.* readable by group or others \(mode 0640\)"):
        open_source(load(auth="certificate", client_secret_env=None, certificate_file=str(pem)))


def test_a_certificate_file_without_a_key_is_refused(tmp_path: Path) -> None:
    pem = tmp_path / "cert-only.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    os.chmod(pem, 0o600)
    with pytest.raises(ConfigError, match="holds no private key"):
        open_source(load(auth="certificate", client_secret_env=None, certificate_file=str(pem)))


def test_the_thumbprint_is_computed_from_the_pem(tmp_path: Path) -> None:
    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    leaf = trustme.CA().issue_cert("syncframe-app", key_type=trustme.KeyType.RSA)
    pem = tmp_path / "app.pem"
    pem.write_bytes(leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes())
    os.chmod(pem, 0o600)
    source = open_source(load(auth="certificate", client_secret_env=None, certificate_file=str(pem)))
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    assert source.auth._credential["thumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()


def test_a_certificate_key_that_is_not_rsa_is_refused(tmp_path: Path) -> None:
    import trustme

    leaf = trustme.CA().issue_cert("syncframe-app", key_type=trustme.KeyType.ECDSA)
    pem = tmp_path / "ec.pem"
    pem.write_bytes(leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes())
    os.chmod(pem, 0o600)
    with pytest.raises(ConfigError, match="must be RSA"):
        open_source(load(auth="certificate", client_secret_env=None, certificate_file=str(pem)))
