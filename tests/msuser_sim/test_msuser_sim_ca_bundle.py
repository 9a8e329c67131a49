"""The TLS trap: REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``Session.verify`` in requests,
so msal with a plain session fails against the simulator; ``CASession`` pins the bundle."""

from __future__ import annotations

import os

import msal
import pytest
import requests

from syncframe.http import CASession
from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import GRAPH_SCOPE

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture
def ca_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Both variables set to a bundle that does not hold the simulator's CA (as on this machine)."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or SYSTEM_BUNDLE
    if not os.path.exists(bundle):
        import certifi

        bundle = certifi.where()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", bundle)
    return bundle


def test_plain_session_verify_is_overridden_by_the_environment(sim: GraphSimulator, ca_env: str) -> None:
    plain = requests.Session()
    plain.verify = sim.ca_bundle
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(f"{sim.authority}/v2.0/.well-known/openid-configuration")
    with pytest.raises(requests.exceptions.SSLError):
        msal.ConfidentialClientApplication(sim.client_id, client_credential=sim.client_secret, authority=sim.authority,
                                           http_client=plain, instance_discovery=False)


def test_ca_session_works_for_msal_and_graph(sim: GraphSimulator, ca_env: str) -> None:
    assert os.environ["REQUESTS_CA_BUNDLE"] == ca_env and os.environ["CURL_CA_BUNDLE"] == ca_env
    sim.tenant.add_user(userPrincipalName="tls.check@contoso.onmicrosoft.com")
    with CASession(sim.ca_bundle) as http:
        app = msal.ConfidentialClientApplication(sim.client_id, client_credential=sim.client_secret,
                                                 authority=sim.authority, http_client=http, instance_discovery=False)
        token = app.acquire_token_for_client(GRAPH_SCOPE)["access_token"]
        users = http.get(f"{sim.graph_url}/users", headers={"Authorization": f"Bearer {token}"}).json()["value"]
    assert [u["userPrincipalName"] for u in users] == ["tls.check@contoso.onmicrosoft.com"]


def test_without_the_simulator_ca_tls_fails(sim: GraphSimulator) -> None:
    with CASession(None) as http, pytest.raises(requests.exceptions.SSLError):
        http.get(f"{sim.graph_url}/users")
