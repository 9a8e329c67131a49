"""The login half: msal's own client classes against the simulated STS."""

from __future__ import annotations

import datetime
import threading

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import GRAPH_SCOPE, confidential_app


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _self_signed() -> tuple[str, str]:
    """(private key PEM, certificate PEM) as an admin would make for an app registration."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncframe-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_openid_configuration_has_what_msal_needs(sim: GraphSimulator, session: requests.Session) -> None:
    for tenant in (sim.tenant_id, "contoso.onmicrosoft.com"):
        response = session.get(f"{sim.url}/{tenant}/v2.0/.well-known/openid-configuration")
        assert response.status_code == 200
        config = response.json()
        assert config["token_endpoint"] == f"{sim.authority}/oauth2/v2.0/token"
        assert config["device_authorization_endpoint"] == f"{sim.authority}/oauth2/v2.0/devicecode"
        assert config["authorization_endpoint"].startswith(sim.authority)
        assert config["issuer"] == f"{sim.authority}/v2.0"
        keys = session.get(config["jwks_uri"]).json()["keys"]
        assert keys and keys[0]["kty"] == "RSA"


def test_client_secret_with_msal(sim: GraphSimulator, session: requests.Session) -> None:
    app = confidential_app(sim, session)
    result = app.acquire_token_for_client(GRAPH_SCOPE)
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599
    claims = _claims(result["access_token"])
    assert claims["tid"] == sim.tenant_id and claims["appid"] == sim.client_id
    assert set(claims["roles"]) == {"User.Read.All", "GroupMember.Read.All", "Presence.Read.All"}
    assert claims["exp"] > claims["iat"]
    # msal caches the app token: a second call does not reach the STS
    before = sim.path_counts().get(f"/{sim.tenant_id}/oauth2/v2.0/token", 0)
    assert app.acquire_token_for_client(GRAPH_SCOPE)["token_source"] == "cache"
    assert sim.path_counts()[f"/{sim.tenant_id}/oauth2/v2.0/token"] == before


def test_client_secret_by_http_basic(sim: GraphSimulator, session: requests.Session) -> None:
    response = session.post(f"{sim.authority}/oauth2/v2.0/token", auth=(sim.client_id, sim.client_secret),
                            data={"grant_type": "client_credentials", "scope": f"{sim.url}/.default"})
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()


def test_certificate_assertion_with_msal(sim: GraphSimulator, session: requests.Session) -> None:
    key_pem, cert_pem = _self_signed()
    registered = sim.register_app(certificate_pem=cert_pem, roles=["User.Read.All"])
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    # the SHA-1 thumbprint form (RS256, x5t) ...
    sha1 = confidential_app(sim, session, registered.client_id,
                            {"private_key": key_pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()})
    result = sha1.acquire_token_for_client(GRAPH_SCOPE)
    assert "access_token" in result, result
    assert _claims(result["access_token"])["appidacr"] == "2"
    # ... and the public certificate form (PS256, x5t#S256 + x5c)
    sha256 = confidential_app(sim, session, registered.client_id, {"private_key": key_pem, "public_certificate": cert_pem})
    assert "access_token" in sha256.acquire_token_for_client(GRAPH_SCOPE)


def test_certificate_assertion_signed_by_another_key_is_refused(sim: GraphSimulator, session: requests.Session) -> None:
    _, cert_pem = _self_signed()
    other_key, _ = _self_signed()
    registered = sim.register_app(certificate_pem=cert_pem)
    thumbprint = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA1()).hex()
    result = confidential_app(sim, session, registered.client_id,
                              {"private_key": other_key, "thumbprint": thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]
    assert "signature validation" in result["error_description"]


def test_unregistered_certificate_is_refused(sim: GraphSimulator, session: requests.Session) -> None:
    key_pem, cert_pem = _self_signed()
    registered = sim.register_app(secret="only-a-secret")
    thumbprint = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA1()).hex()
    result = confidential_app(sim, session, registered.client_id,
                              {"private_key": key_pem, "thumbprint": thumbprint}).acquire_token_for_client(GRAPH_SCOPE)
    assert result["error_codes"] == [700027]
    assert "not registered" in result["error_description"]


def test_wrong_secret_gives_aadsts7000215(sim: GraphSimulator, session: requests.Session) -> None:
    result = confidential_app(sim, session, credential="not-the-secret").acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert "not-the-secret" not in result["error_description"]
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert result[key]


def test_raw_error_body_shape(sim: GraphSimulator, session: requests.Session) -> None:
    response = session.post(f"{sim.authority}/oauth2/v2.0/token",
                            headers={"client-request-id": "7f4e7bd2-0000-4000-8000-000000000001"},
                            data={"grant_type": "client_credentials", "client_id": sim.client_id,
                                  "client_secret": "wrong", "scope": GRAPH_SCOPE[0]})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
    assert body["correlation_id"] == "7f4e7bd2-0000-4000-8000-000000000001"
    assert f"Trace ID: {body['trace_id']}" in body["error_description"]


def test_unknown_tenant_gives_aadsts90002(sim: GraphSimulator, session: requests.Session) -> None:
    response = session.get(f"{sim.url}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]
    with pytest.raises(ValueError):
        msal.ConfidentialClientApplication(sim.client_id, client_credential=sim.client_secret,
                                           authority=f"{sim.url}/fabrikam.onmicrosoft.com", http_client=session,
                                           instance_discovery=False)


def test_unknown_client_gives_aadsts700016(sim: GraphSimulator, session: requests.Session) -> None:
    result = confidential_app(sim, session, client_id="6731de76-14a6-49ae-97bc-6eba6914391e").acquire_token_for_client(GRAPH_SCOPE)
    assert result["error"] == "unauthorized_client" and result["error_codes"] == [700016]


def test_scope_without_default_is_invalid(sim: GraphSimulator, session: requests.Session) -> None:
    result = confidential_app(sim, session).acquire_token_for_client(["https://graph.microsoft.com/User.Read.All"])
    assert result["error"] == "invalid_scope" and result["error_codes"] == [1002012]


def test_token_lifetime_switch(sim: GraphSimulator, session: requests.Session) -> None:
    sim.switches.set_token_lifetime(120)
    result = confidential_app(sim, session).acquire_token_for_client(GRAPH_SCOPE)
    assert result["expires_in"] == 120
    claims = _claims(result["access_token"])
    assert claims["exp"] - claims["iat"] == 120


# ---------------------------------------------------------------------- device code (public client)


def _public_app(sim: GraphSimulator, session: requests.Session) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(sim.client_id, authority=sim.authority, http_client=session, instance_discovery=False)


def test_device_code_flow_with_refresh(sim: GraphSimulator, session: requests.Session) -> None:
    user = sim.tenant.add_user(userPrincipalName="anna.mueller@contoso.onmicrosoft.com", displayName="Anna Müller")
    app = _public_app(sim, session)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    assert flow["user_code"] and flow["interval"] == 5 and flow["expires_in"] == 900
    assert flow["user_code"] in flow["message"] and flow["verification_uri"] in flow["message"]
    # not yet approved: one poll answers authorization_pending
    pending = app.acquire_token_by_device_flow(dict(flow), exit_condition=lambda f: True)
    assert pending["error"] == "authorization_pending" and pending["error_codes"] == [70016]
    assert sim.approve_device_code(flow["user_code"], user="anna.mueller@contoso.onmicrosoft.com") == flow["user_code"]
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert "access_token" in result, result
    claims = _claims(result["access_token"])
    assert "User.Read.All" in claims["scp"].split() and "roles" not in claims
    assert claims["oid"] == user["id"] and claims["upn"] == user["userPrincipalName"]
    assert result["id_token_claims"]["preferred_username"] == user["userPrincipalName"]

    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [user["userPrincipalName"]]
    refreshed = app.acquire_token_silent(["User.Read.All"], account=accounts[0], force_refresh=True)
    assert refreshed and refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]
    again = app.acquire_token_by_refresh_token(result["refresh_token"], scopes=["User.Read.All"])
    assert "access_token" in again, again


@pytest.mark.filterwarnings("ignore:Attempted too soon")  # msal's hint; we poll without sleeping on purpose
def test_device_code_auto_approval_after_polls(sim: GraphSimulator, session: requests.Session) -> None:
    sim.login.auto_approve_after_polls = 2
    app = _public_app(sim, session)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    answers = [app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True) for _ in range(3)]
    assert [a.get("error") for a in answers[:2]] == ["authorization_pending", "authorization_pending"]
    assert "access_token" in answers[2]
    assert _claims(answers[2]["access_token"])["upn"] == "admin@contoso.onmicrosoft.com"


def test_device_code_blocking_poll_is_released_by_approval(sim: GraphSimulator, session: requests.Session) -> None:
    sim.login.device_code_interval = 1
    app = _public_app(sim, session)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    timer = threading.Timer(0.3, sim.approve_device_code)
    timer.start()
    result = app.acquire_token_by_device_flow(flow)  # msal's own polling loop
    timer.join()
    assert "access_token" in result, result


def test_device_code_declined_and_expired(sim: GraphSimulator, session: requests.Session) -> None:
    app = _public_app(sim, session)
    declined = app.initiate_device_flow(scopes=["User.Read.All"])
    sim.decline_device_code(declined["user_code"])
    assert app.acquire_token_by_device_flow(declined, exit_condition=lambda f: True)["error"] == "authorization_declined"
    expiring = app.initiate_device_flow(scopes=["User.Read.All"])
    sim.advance_time(901)
    assert app.acquire_token_by_device_flow(expiring, exit_condition=lambda f: True)["error"] == "expired_token"


def test_missing_consent_gives_aadsts65001(sim: GraphSimulator, session: requests.Session) -> None:
    sim.consent_scopes(sim.client_id, ["User.Read"])
    app = _public_app(sim, session)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    sim.approve_device_code(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [65001]
    assert "has not consented" in result["error_description"]


def test_confidential_only_app_cannot_use_device_code_without_secret(sim: GraphSimulator, session: requests.Session) -> None:
    registered = sim.register_app(public_client=False)
    app = msal.PublicClientApplication(registered.client_id, authority=sim.authority, http_client=session, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    sim.approve_device_code(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000218]


def test_unknown_refresh_token(sim: GraphSimulator, session: requests.Session) -> None:
    result = _public_app(sim, session).acquire_token_by_refresh_token("0.Anot-a-token", scopes=["User.Read.All"])
    assert result["error"] == "invalid_grant" and result["error_codes"] == [9002313]


def test_device_login_page_approves(sim: GraphSimulator, session: requests.Session) -> None:
    app = _public_app(sim, session)
    flow = app.initiate_device_flow(scopes=["User.Read.All"])
    assert session.get(flow["verification_uri"]).status_code == 200
    assert session.post(flow["verification_uri"], data={"user_code": flow["user_code"]}).status_code == 200
    assert "access_token" in app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)


def test_two_simulators_share_one_ca_but_not_tenants(sim: GraphSimulator) -> None:
    other = GraphSimulator(tenant_domain="fabrikam.onmicrosoft.com").start()
    try:
        assert other.tenant_id != sim.tenant_id and other.url != sim.url
        assert open(other.ca_bundle).read() == open(sim.ca_bundle).read()
    finally:
        other.stop()
