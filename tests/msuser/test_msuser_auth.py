"""Signing in three ways (secret, certificate, delegated device code) and the errors an
administrator reads when a permission, the consent, the secret or the tenant is wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trustme

from syncframe import AuthenticationError

CONSENT = "/adminconsent?client_id="


def app_pem(tmp_path: Path) -> tuple[Path, bytes]:
    """A 0600 PEM with an RSA key and its certificate; returns (path, certificate PEM)."""
    leaf = trustme.CA().issue_cert("syncframe-app", key_type=trustme.KeyType.RSA)
    cert = leaf.cert_chain_pems[0].bytes()
    path = tmp_path / "app.pem"
    path.write_bytes(leaf.private_key_pem.bytes() + cert)
    os.chmod(path, 0o600)
    return path, cert


def token_requests(sim) -> list:
    return [r for r in sim.requests if r.path.endswith("/oauth2/v2.0/token")]


def test_app_only_with_a_client_secret(sim, make_source) -> None:
    sim.tenant.add_user(userPrincipalName="a@contoso.onmicrosoft.com", displayName="A")
    source = make_source()
    assert len(source.read(None, {}, lambda *a: None).identities) == 1
    assert source.read(None, {}, lambda *a: None).complete
    assert len(token_requests(sim)) == 1  # msal's cache serves the second read


def test_app_only_with_a_certificate(sim, make_source, tmp_path) -> None:
    path, cert = app_pem(tmp_path)
    app = sim.register_app(certificate_pem=cert)
    sim.tenant.add_user(userPrincipalName="a@contoso.onmicrosoft.com", displayName="A")
    source = make_source(auth="certificate", client_id=app.client_id, client_secret_env=None, certificate_file=str(path))
    assert [i.username for i in source.read(None, {}, lambda *a: None).identities] == ["a@contoso.onmicrosoft.com"]
    assert "certificate_file" in source.authenticate()


def test_an_unregistered_certificate_is_refused_by_name(sim, make_source, tmp_path) -> None:
    path, _ = app_pem(tmp_path)
    source = make_source(auth="certificate", client_secret_env=None, certificate_file=str(path))
    with pytest.raises(AuthenticationError, match="AADSTS700027.*certificate was refused") as info:
        source.read(None, {}, lambda *a: None)
    assert CONSENT in str(info.value) and "BEGIN" not in str(info.value)


def test_a_wrong_secret_names_the_variable_never_the_secret(sim, make_source, monkeypatch) -> None:
    monkeypatch.setenv("WRONG_SECRET", "wrong-secret-value-123")
    source = make_source(client_secret_env="WRONG_SECRET")
    with pytest.raises(AuthenticationError) as info:
        source.read(None, {}, lambda *a: None)
    message = str(info.value)
    assert "invalid_client (AADSTS7000215)" in message and "environment variable WRONG_SECRET" in message
    assert "User.Read.All" in message and f"{sim.authority}{CONSENT}{sim.client_id}" in message
    assert "wrong-secret-value-123" not in message and sim.client_secret not in message
    assert "\n" not in message


def test_a_wrong_tenant_is_one_clear_line(sim, make_source) -> None:
    source = make_source(tenant="nonexistent.onmicrosoft.com")
    with pytest.raises(AuthenticationError) as info:
        source.read(None, {}, lambda *a: None)
    message = str(info.value)
    assert "AADSTS90002" in message and "'nonexistent.onmicrosoft.com' was not found" in message
    assert CONSENT in message and "User.Read.All" in message and sim.client_secret not in message


def test_a_missing_application_permission_names_it_and_the_consent_url(sim, make_source) -> None:
    sim.grant_roles(sim.client_id, [])
    with pytest.raises(AuthenticationError) as info:
        make_source().read(None, {}, lambda *a: None)
    message = str(info.value)
    assert "403 Authorization_RequestDenied" in message and "missing the permission User.Read.All" in message
    assert f"{sim.authority}{CONSENT}{sim.client_id}" in message and sim.client_secret not in message


def test_group_scope_needs_group_member_read_all(sim, make_source) -> None:
    group = sim.tenant.add_group("Telephony")
    sim.grant_roles(sim.client_id, ["User.Read.All"])
    with pytest.raises(AuthenticationError, match="missing the permission GroupMember.Read.All"):
        make_source(groups=[group]).read(None, {}, lambda *a: None)


def test_delegated_sign_in_with_the_device_code_then_unattended(sim, make_source, echoed, state_store) -> None:
    sim.tenant.add_user(userPrincipalName="a@contoso.onmicrosoft.com", displayName="A")
    source = make_source(auth="delegated", client_secret_env=None)
    with pytest.raises(AuthenticationError, match="run 'syncframe auth m365'"):
        source.read(None, {}, lambda *a: None)

    def approve(line: str) -> None:
        echoed.append(line)
        if "enter the code" in line:
            sim.approve_device_code(line.split("enter the code ")[1].split()[0])

    source.context.echo = approve
    message = source.authenticate()
    assert message.startswith(f"signed in as admin@{sim.tenant.domain}")
    assert f"{sim.url}/devicelogin" in echoed[0]
    assert f"{sim.authority}{CONSENT}{sim.client_id}" in echoed[1] and "User.Read.All (delegated)" in echoed[1]
    assert "RefreshToken" in (state_store.token_store("m365:source").load() or "")

    # a later process: the refresh token from the store, no one at the keyboard
    later = make_source(auth="delegated", client_secret_env=None)
    assert [i.username for i in later.read(None, {}, lambda *a: None).identities] == ["a@contoso.onmicrosoft.com"]


def test_delegated_sign_in_without_consent_names_aadsts65001(sim, make_source) -> None:
    sim.consent_scopes(sim.client_id, ["User.Read"])
    source = make_source(auth="delegated", client_secret_env=None)
    source.context.echo = lambda line: sim.approve_device_code() if "enter the code" in line else None
    with pytest.raises(AuthenticationError) as info:
        source.authenticate()
    message = str(info.value)
    assert "AADSTS65001" in message and "have not been consented" in message
    assert "User.Read.All (delegated)" in message and CONSENT in message


def test_a_declined_device_code_is_an_authentication_error(sim, make_source) -> None:
    source = make_source(auth="delegated", client_secret_env=None)
    source.context.echo = lambda line: sim.decline_device_code() if "enter the code" in line else None
    with pytest.raises(AuthenticationError, match="authorization_declined"):
        source.authenticate()


def test_a_revoked_delegated_sign_in_asks_for_auth_again(sim, make_source) -> None:
    source = make_source(auth="delegated", client_secret_env=None)
    source.context.echo = lambda line: sim.approve_device_code() if "enter the code" in line else None
    source.authenticate()
    sim.revoke_tokens()
    with pytest.raises(AuthenticationError, match="syncframe auth m365"):
        make_source(auth="delegated", client_secret_env=None).read(None, {}, lambda *a: None)


def test_check_reports_each_permission(sim, make_source) -> None:
    sim.tenant.add_user(userPrincipalName="a@contoso.onmicrosoft.com", displayName="A")
    sim.tenant.add_group("Telephony")
    results = make_source(groups=["Telephony"], presence=True).check()
    assert [(r.name, r.ok) for r in results] == [
        ("configuration", True), ("sign-in", True), ("users", True), ("delta", True), ("groups", True), ("presence", True),
    ]
    sim.grant_roles(sim.client_id, ["User.Read.All"])
    failed = {r.name: r for r in make_source(groups=["Telephony"], presence=True).check() if not r.ok}
    assert set(failed) == {"groups", "presence"}
    assert "GroupMember.Read.All" in failed["groups"].detail and "Presence.Read.All" in failed["presence"].detail
    assert CONSENT in failed["presence"].detail


def test_check_stops_at_a_failed_sign_in(sim, make_source, monkeypatch) -> None:
    monkeypatch.setenv("WRONG_SECRET", "wrong-secret-value-123")
    results = make_source(client_secret_env="WRONG_SECRET").check()
    assert [(r.name, r.ok) for r in results] == [("configuration", True), ("sign-in", False)]
    assert "AADSTS7000215" in results[1].detail
