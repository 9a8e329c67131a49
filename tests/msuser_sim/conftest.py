"""Fixtures for the Graph + login simulator tests: a running simulator, a CA-pinned
session, and app tokens obtained through msal itself."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
import requests

from syncframe.http import CASession
from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import GRAPH_SCOPE, confidential_app


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(tenant_domain="contoso.onmicrosoft.com").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def session(sim: GraphSimulator) -> Iterator[requests.Session]:
    with CASession(sim.ca_bundle) as http:
        yield http


@pytest.fixture
def app_token(sim: GraphSimulator, session: requests.Session) -> Callable[..., str]:
    """``app_token(roles=None)``: an access token for the default app (optionally re-granted)."""

    def get(roles: list[str] | None = None) -> str:
        client_id = sim.client_id
        if roles is not None:
            client_id = sim.register_app(roles=roles).client_id
            credential = sim.apps[client_id].secret
        else:
            credential = sim.client_secret
        result = confidential_app(sim, session, client_id, credential).acquire_token_for_client(GRAPH_SCOPE)
        assert "access_token" in result, result
        return result["access_token"]

    return get


@pytest.fixture
def graph(sim: GraphSimulator, session: requests.Session, app_token: Callable[..., str]) -> Callable[..., requests.Response]:
    """``graph(path_or_url, token=None, method="GET", **kwargs)`` -> the raw response."""
    default = {}

    def call(target: str, token: str | None = None, method: str = "GET", headers: dict | None = None, **kwargs: Any) -> requests.Response:
        if token is None:
            if "token" not in default:
                default["token"] = app_token()
            token = default["token"]
        url = target if target.startswith("https://") else sim.graph_url + target
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        return session.request(method, url, headers=all_headers, **kwargs)

    return call


@pytest.fixture
def follow(graph: Callable[..., requests.Response]) -> Callable[..., tuple[list[dict], list[dict]]]:
    """``follow(first_url, **graph_kwargs)`` -> (all items, every page body) of a paged listing."""

    def run(first: str, **kwargs: Any) -> tuple[list[dict], list[dict]]:
        items: list[dict] = []
        bodies: list[dict] = []
        url: str | None = first
        while url:
            response = graph(url, **kwargs)
            assert response.status_code == 200, response.text
            body = response.json()
            bodies.append(body)
            items.extend(body["value"])
            url = body.get("@odata.nextLink")
        return items, bodies

    return run
