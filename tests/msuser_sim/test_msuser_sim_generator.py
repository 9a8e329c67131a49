"""The deterministic user generator and paging at benchmark scale."""

from __future__ import annotations


import pytest

from syncframe.http import CASession
from syncframe_msuser.simulator import GraphSimulator
from syncframe_msuser.simulator.generator import generate_user_records

from msuser_sim_support import GRAPH_SCOPE, confidential_app


def test_same_seed_same_users() -> None:
    assert generate_user_records(300, seed=9) == generate_user_records(300, seed=9)
    assert generate_user_records(300, seed=9) != generate_user_records(300, seed=10)


def test_users_look_real() -> None:
    users = generate_user_records(3000, seed=1, domain="contoso.onmicrosoft.com")
    upns = [u["userPrincipalName"] for u in users]
    assert len(set(u.lower() for u in upns)) == 3000
    assert all(upn.isascii() and upn.endswith("@contoso.onmicrosoft.com") for upn in upns)
    members = [u for u in users if u["userType"] == "Member"]
    guests = [u for u in users if u["userType"] == "Guest"]
    assert 30 < len(guests) < 200 and all("#EXT#@" in g["userPrincipalName"] for g in guests)
    assert all("@" in g["mail"] and "#" not in g["mail"] for g in guests)
    assert 60 < sum(not u["accountEnabled"] for u in users) < 300
    sample = members[0]
    assert sample["userPrincipalName"].split("@")[0].count(".") >= 1
    assert sample["mail"] == sample["userPrincipalName"]
    assert any(u["givenName"] in ("Jürgen", "Günter", "Björn", "Sören", "Özlem") for u in users)
    assert any("ue" in u["userPrincipalName"] or "oe" in u["userPrincipalName"] for u in users)
    assert {u["preferredLanguage"] for u in users} == {"de-DE", "en-US", "en-GB"}
    assert any(u["businessPhones"] for u in users) and any(u.get("mobilePhone") for u in users)
    # what a user lacks was never set: absent, not null (delta leaves such properties out)
    assert any("mobilePhone" not in u for u in users) and all(None not in u.values() for u in users)
    assert all(u["jobTitle"] and u["department"] for u in members)


def test_existing_upns_are_not_reused(sim: GraphSimulator) -> None:
    first = sim.tenant.generate_users(500, seed=3)
    second = sim.tenant.generate_users(500, seed=3, guest_ratio=0)
    assert not set(first) & set(second)
    assert sim.tenant.user_count() == 1000


@pytest.mark.slow
@pytest.mark.slow
def test_200k_users_generate_and_page_completely() -> None:
    """A benchmark-sized tenant pages completely (its speed is the benchmark's business)."""
    sim = GraphSimulator(register_default_app=True)
    sim.tenant.generate_users(200_000, seed=42)
    sim.start()
    try:
        with CASession(sim.ca_bundle) as http:
            token = confidential_app(sim, http).acquire_token_for_client(GRAPH_SCOPE)["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            url, seen, pages = f"{sim.graph_url}/users?$top=999&$select=id,userPrincipalName,accountEnabled", 0, 0
            while url:
                body = http.get(url, headers=headers).json()
                seen += len(body["value"])
                pages += 1
                url = body.get("@odata.nextLink")
    finally:
        sim.stop()
    assert seen == 200_000 and pages == 201
