"""MSUSER exchanges replayed from VCR cassettes (recorded against the Graph simulator).

Replay (the default, ``--record-mode=none``) starts no server: the source is pointed at
the placeholder host the recordings were rewritten to (``lab = true`` lets a
non-Microsoft host through the schema). Recording (``--record-mode=once``) starts the
simulator and maps its loopback URL to that placeholder (tests/cassette_support.py).
The tenant and the apps get fixed ids, so nothing else needs rewriting.

Recording against a real tenant instead: set ``SYNCFRAME_MSUSER_RECORD_TENANT`` (tenant
id), ``..._CLIENT_ID`` + ``..._SECRET_ENV`` (the name of the variable holding its secret),
optionally ``..._CERT_CLIENT_ID`` + ``..._CERT_FILE`` and ``..._UNGRANTED_CLIENT_ID`` (an
app of the same secret without ``User.Read.All``). The real ids and hosts are rewritten
to the same placeholders. The fault cases (throttling, removals, expiry) need the
simulator's switches and are not recorded that way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest
import trustme

from msuser_helpers import Waits, view
from syncframe import AuthenticationError, ConnectorContext
from syncframe.http import RetryPolicy
from syncframe_msuser.schema import MsuserSchema
from syncframe_msuser.simulator import GraphSimulator
from syncframe_msuser.source import MsuserSource

PLACEHOLDER = "https://m365.sim.invalid"
TENANT = "8a1f6c1e-0000-4000-8000-00000000c0de"
SECRET_APP = "5e1ec7ed-0000-4000-8000-000000000001"
CERT_APP = "5e1ec7ed-0000-4000-8000-000000000002"
UNGRANTED_APP = "5e1ec7ed-0000-4000-8000-000000000003"
SECRET_ENV = "SYNCFRAME_CASSETTE_GRAPH_SECRET"


def rsa_pem(path: Path) -> bytes:
    """A 0600 PEM with a fresh RSA key and certificate; returns the certificate."""
    leaf = trustme.CA().issue_cert("syncframe-cassettes", key_type=trustme.KeyType.RSA)
    path.write_bytes(leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes())
    os.chmod(path, 0o600)
    return leaf.cert_chain_pems[0].bytes()


REAL = "SYNCFRAME_MSUSER_RECORD_"


class Lab:
    """The simulator while recording, nothing while replaying; sources point at either
    (or at a real tenant while recording with ``SYNCFRAME_MSUSER_RECORD_*`` set)."""

    def __init__(self, sim: GraphSimulator | None, tmp_path: Path, real: dict[str, str] | None = None):
        self.sim = sim
        self.real = real
        self.pem = Path(real["CERT_FILE"]) if real and real.get("CERT_FILE") else tmp_path / "app.pem"
        self.waits = Waits()

    def source(self, client_id: str = SECRET_APP, **overrides: Any) -> MsuserSource:
        section: dict[str, Any] = {"tenant": TENANT, "client_id": client_id, "client_secret_env": SECRET_ENV, "page_size": 5}
        if self.real is not None:
            ids = {SECRET_APP: "CLIENT_ID", CERT_APP: "CERT_CLIENT_ID", UNGRANTED_APP: "UNGRANTED_CLIENT_ID"}
            section.update(tenant=self.real["TENANT"], client_id=self.real.get(ids[client_id]))
        elif self.sim is not None:
            section.update(authority_host=self.sim.url, graph_url=self.sim.graph_url, ca_bundle=self.sim.ca_bundle)
        else:
            section.update(authority_host=PLACEHOLDER, graph_url=f"{PLACEHOLDER}/v1.0", lab=True)
        section.update(overrides)
        section = {k: v for k, v in section.items() if v is not None}
        context = ConnectorContext(name="cassette", profile={})
        return MsuserSource(MsuserSchema().load(section), context, policy=RetryPolicy(sleep=self.waits))

    def users(self, n: int) -> list[str]:
        return self.sim.tenant.generate_users(n, seed=42) if self.sim else []

    def require_switches(self) -> None:
        if self.real is not None:
            pytest.skip("recorded with the simulator only: the case needs its fault switches")


def real_tenant(host_map, monkeypatch: pytest.MonkeyPatch) -> dict[str, str] | None:
    """The real tenant to record against, with its ids mapped to the placeholders."""
    real = {k.removeprefix(REAL): v for k, v in os.environ.items() if k.startswith(REAL) and v}
    if "TENANT" not in real:
        return None
    monkeypatch.setenv(SECRET_ENV, os.environ[real["SECRET_ENV"]])
    host_map.add("https://login.microsoftonline.com", PLACEHOLDER)
    host_map.add("https://graph.microsoft.com", PLACEHOLDER)
    host_map.add("graph.microsoft.com", PLACEHOLDER.removeprefix("https://"))
    host_map.add(real["TENANT"], TENANT)
    for key, placeholder in (("CLIENT_ID", SECRET_APP), ("CERT_CLIENT_ID", CERT_APP), ("UNGRANTED_CLIENT_ID", UNGRANTED_APP)):
        host_map.add(real.get(key, ""), placeholder)
    return real


@pytest.fixture
def lab(recording: bool, host_map, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Lab]:
    cert = rsa_pem(tmp_path / "app.pem")
    real = real_tenant(host_map, monkeypatch) if recording else None
    if real is not None:
        yield Lab(None, tmp_path, real)
        return
    if not recording:
        monkeypatch.setenv(SECRET_ENV, "replayed-secret-not-sent-anywhere")
        yield Lab(None, tmp_path)
        return
    sim = GraphSimulator(tenant_domain="contoso.onmicrosoft.com", tenant_id=TENANT, register_default_app=False)
    secret = sim.register_app(client_id=SECRET_APP).secret
    sim.register_app(client_id=CERT_APP, certificate_pem=cert)
    sim.register_app(client_id=UNGRANTED_APP, secret=secret, roles=[])
    monkeypatch.setenv(SECRET_ENV, secret)
    sim.start()
    host_map.add(sim.url, PLACEHOLDER)
    host_map.add(sim.url.removeprefix("https://"), PLACEHOLDER.removeprefix("https://"))  # bare host:port (msgraph_host)
    try:
        yield Lab(sim, tmp_path)
    finally:
        sim.stop()


def no_progress(*args: Any) -> None:
    pass


@pytest.mark.vcr
def test_token_with_a_client_secret(lab: Lab) -> None:
    source = lab.source()
    assert source.authenticate() == f"app {source.auth.client_id} signed in to {source.endpoints.authority} with its environment variable {SECRET_ENV}"


@pytest.mark.vcr
def test_token_with_a_certificate(lab: Lab) -> None:
    source = lab.source(CERT_APP, auth="certificate", client_secret_env=None, certificate_file=str(lab.pem))
    assert source.authenticate().endswith(f"with its certificate_file {str(lab.pem)!r}")


@pytest.mark.vcr
def test_full_read_across_pages(lab: Lab) -> None:
    lab.users(12)
    result = lab.source().read(None, {}, no_progress)
    assert result.complete and result.stats["pages"] >= 3
    if lab.real is None:
        assert len(result.identities) == 12 and result.stats["pages"] == 1 + 3  # delta link, then 5 + 5 + 2 users


@pytest.mark.vcr
def test_delta_round_with_removed_users(lab: Lab) -> None:
    lab.require_switches()
    ids = lab.users(8)
    source = lab.source()
    first = source.read(None, {}, no_progress)
    if lab.sim:
        lab.sim.tenant.update_user(ids[0], jobTitle="Recorded change")
        lab.sim.tenant.soft_delete(ids[1])
        lab.sim.tenant.hard_delete(ids[2])
        # new, without the properties it never had: completed through a JSON batch
        lab.sim.tenant.add_user(userPrincipalName="neu.person@contoso.onmicrosoft.com", displayName="Neu Person")
    second = source.read(first.bookmark, view(first), no_progress)
    assert second.complete and second.incremental
    assert {(i.display_name, i.job_title) for i in second.identities} >= {("Neu Person", None)}
    assert "Recorded change" in {i.job_title for i in second.identities} and len(second.identities) == 2
    assert len(second.removed) == 2 and second.stats["soft_deleted"] == 1


@pytest.mark.vcr
def test_throttled_then_success(lab: Lab) -> None:
    lab.require_switches()
    lab.users(3)
    if lab.sim:
        lab.sim.switches.throttle(next_n=1, retry_after=2)
    result = lab.source().read(None, {}, no_progress)
    assert result.complete and len(result.identities) == 3
    assert list(lab.waits) == [2.0] and result.stats["retries"] == 1


@pytest.mark.vcr
def test_expired_delta_link_means_a_full_read(lab: Lab) -> None:
    lab.require_switches()
    lab.users(4)
    source = lab.source()
    first = source.read(None, {}, no_progress)
    if lab.sim:
        lab.sim.invalidate_delta_tokens()
    second = source.read(first.bookmark, view(first), no_progress)
    assert second.complete and not second.incremental and second.stats["why"] == "the delta link expired"
    assert len(second.identities) == 4


@pytest.mark.vcr
def test_missing_permission_is_403(lab: Lab) -> None:
    with pytest.raises(AuthenticationError) as info:
        lab.source(UNGRANTED_APP).read(None, {}, no_progress)
    assert "403 Authorization_RequestDenied" in str(info.value) and "User.Read.All" in str(info.value)
    assert "/adminconsent?client_id=" in str(info.value)
