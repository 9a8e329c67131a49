"""Authenticate from the console for a real device-code sign-in: the MSUSER source
against the Graph + login simulator (real HTTPS on loopback, msal unmodified). The
page shows the source's own instructions (the code, the consent link); what it signs
in with lands in the state store and never on a page."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import tomlkit

from syncframe_msuser.sandbox import GraphSandbox
from syncframe_msuser.simulator import GraphSimulator
from web_support import ADMIN, csrf_of


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(tenant_domain="contoso.onmicrosoft.com")
    simulator.start()
    yield simulator
    simulator.stop()


def test_the_device_code_sign_in_shows_its_instructions_and_keeps_the_token_off_the_page(sim, app, admin_client, world):
    section = {**GraphSandbox(simulator=sim).profile_section(), "auth": "delegated"}
    section.pop("client_secret_env")
    profile = {"title": "Head office", "source": {"type": "MSUSER", **section}, "target": {"type": "memory", "path": str(world.root / "accounts.db")}}
    world.store.add_connector("m365", tomlkit.dumps(profile))

    page = admin_client.get("/connectors/m365/authenticate").text
    admin_client.post("/connectors/m365/authenticate", data={"csrf_token": csrf_of(page)})
    job = app.state.jobs.get("m365", "authenticate")
    while job.running and not any("enter the code" in line for line in job.lines):
        app.state.jobs.wait(0.05)
    waiting = admin_client.get("/connectors/m365/progress", params={"kind": "authenticate"}).text
    assert "waiting for the sign-in" in waiting and 'hx-trigger="every 1s"' in waiting
    assert f"{sim.url}/devicelogin" in waiting  # where to enter the code
    assert f"adminconsent?client_id={sim.client_id}" in waiting  # where an administrator consents

    code = next(line for line in job.lines if "enter the code" in line).split("enter the code ")[1].split()[0]
    assert code in waiting
    sim.approve_device_code(code)
    app.state.jobs.wait(60)
    done = admin_client.get("/connectors/m365/progress", params={"kind": "authenticate"}).text
    assert f"Finished: signed in as admin@{sim.tenant.domain}" in done
    cache = world.store.token_store("m365:source").load() or ""
    secrets = [entry["secret"] for kind in ("RefreshToken", "AccessToken", "IdToken") for entry in json.loads(cache).get(kind, {}).values()]
    assert secrets
    for body in (waiting, done, admin_client.get("/connectors/m365").text):
        assert "RefreshToken" not in body and not [s for s in secrets if s in body]
    assert [(d.kind, d.operator) for d in world.store.decisions("m365")] == [("authenticate", ADMIN)]
