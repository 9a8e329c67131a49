"""GraphSandbox: the SourceSandbox contract over the simulator."""

from __future__ import annotations

from typing import Iterator

import pytest

from syncframe import Identity, SourceSandbox
from syncframe.http import CASession
from syncframe_msuser.sandbox import GraphSandbox

from msuser_sim_support import GRAPH_SCOPE, confidential_app

ANNA = Identity(
    source_id="0d0f4b8e-54b9-4f57-9d0b-6c1bcbfa1c01", username="anna.schmidt@contoso.onmicrosoft.com",
    display_name="Anna Schmidt", given_name="Anna", surname="Schmidt", email="anna.schmidt@contoso.com",
    phones=("+49 30 1234-100",), mobile_phone="+49 171 1000000", job_title="Vertrieb", department="Sales",
    preferred_language="de-DE", enabled=True, groups=("Sales", "Berlin"),
)


@pytest.fixture
def sandbox() -> Iterator[GraphSandbox]:
    with GraphSandbox(groups=["Sales"]) as box:
        yield box


def test_profile_section_and_environment(sandbox: GraphSandbox) -> None:
    assert isinstance(sandbox, SourceSandbox)
    section = sandbox.profile_section()
    sim = sandbox.simulator
    assert section == {
        "tenant": sim.tenant_id, "client_id": sim.client_id, "auth": "client_secret",
        "client_secret_env": "SYNCFRAME_SANDBOX_GRAPH_SECRET", "authority_host": sim.url,
        "graph_url": f"{sim.url}/v1.0", "ca_bundle": sim.ca_bundle, "groups": ["Sales"],
    }
    assert sandbox.environment() == {"SYNCFRAME_SANDBOX_GRAPH_SECRET": sim.client_secret}
    # the section really points at a working tenant
    with CASession(section["ca_bundle"]) as http:
        app = confidential_app(sim, http, section["client_id"], sandbox.environment()[section["client_secret_env"]])
        assert "access_token" in app.acquire_token_for_client(GRAPH_SCOPE)


def test_no_groups_key_unless_asked() -> None:
    box = GraphSandbox()
    box.start()
    try:
        assert set(box.profile_section()) == {"tenant", "client_id", "auth", "client_secret_env", "authority_host",
                                              "graph_url", "ca_bundle"}
    finally:
        box.stop()


def test_put_identity_maps_every_field(sandbox: GraphSandbox) -> None:
    sandbox.put_identity(ANNA)
    user = sandbox.simulator.tenant.get_user(ANNA.source_id)
    assert user is not None
    assert {k: user[k] for k in ("id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "businessPhones",
                                 "mobilePhone", "jobTitle", "department", "preferredLanguage", "accountEnabled", "userType")} == {
        "id": ANNA.source_id, "userPrincipalName": ANNA.username, "displayName": "Anna Schmidt", "givenName": "Anna",
        "surname": "Schmidt", "mail": "anna.schmidt@contoso.com", "businessPhones": ["+49 30 1234-100"],
        "mobilePhone": "+49 171 1000000", "jobTitle": "Vertrieb", "department": "Sales", "preferredLanguage": "de-DE",
        "accountEnabled": True, "userType": "Member"}
    tenant = sandbox.simulator.tenant
    sales, berlin = tenant.group_ids_named("Sales"), tenant.group_ids_named("Berlin")
    assert len(sales) == 1 and len(berlin) == 1
    assert tenant.direct_groups(ANNA.source_id) == {sales[0], berlin[0]}


def test_put_identity_replaces_and_remove_deletes(sandbox: GraphSandbox) -> None:
    tenant = sandbox.simulator.tenant
    sandbox.put_identity(ANNA)
    sequence = tenant.sequence
    sandbox.put_identity(ANNA)  # same values: no change logged
    assert tenant.sequence == sequence
    guest = ANNA.replace(username="anna_example.com#EXT#@contoso.onmicrosoft.com", extra={"guest": True}, enabled=False,
                         groups=("Berlin",))
    sandbox.put_identity(guest)
    user = tenant.get_user(ANNA.source_id)
    assert user["userType"] == "Guest" and user["accountEnabled"] is False
    assert tenant.direct_groups(ANNA.source_id) == set(tenant.group_ids_named("Berlin"))
    assert tenant.user_count() == 1
    sandbox.remove_identity(ANNA.source_id)
    assert tenant.user_count() == 0 and tenant.get_deleted_user(ANNA.source_id) is None


def test_stats_count_requests(sandbox: GraphSandbox) -> None:
    sandbox.put_identities([ANNA])
    with CASession(sandbox.simulator.ca_bundle) as http:
        http.get(f"{sandbox.simulator.graph_url}/users")
    stats = sandbox.stats()
    assert stats["requests"] == 1 and stats["users"] == 1
