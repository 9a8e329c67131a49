"""The simulator answers Microsoft's example requests (``data/users-page*.json``,
``data/delta-doc-examples.json``) with the same envelope, keys, annotations and link forms."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syncframe_msuser.simulator import GraphSimulator

from msuser_sim_support import DATA

MS = "https://graph.microsoft.com"
DELTA_DOCS = json.loads((DATA / "delta-doc-examples.json").read_text())


def _example(section: str) -> dict[str, Any]:
    return next(e for e in DELTA_DOCS if e["section"] == section)


def _link_shape(url: str, base: str) -> tuple[str, list[str]]:
    """(path, query option names) with the host made irrelevant."""
    assert url.startswith(base), url
    parts = urlsplit(url)
    return parts.path, sorted(parse_qs(parts.query))


def assert_same_shape(example: dict[str, Any], ours: dict[str, Any], sim: GraphSimulator, compare_items: bool = True) -> None:
    assert list(ours) == list(example), (list(ours), list(example))
    expected_context = example["@odata.context"].replace(MS, sim.url)
    if "(" in expected_context:
        assert ours["@odata.context"] == expected_context
    else:  # the docs show "#users" for selected delta pages in one place and "#users(...)" in another
        assert re.fullmatch(re.escape(expected_context) + r"(\([A-Za-z,]+\))?", ours["@odata.context"])
    for link in ("@odata.nextLink", "@odata.deltaLink"):
        if link in example:
            assert _link_shape(ours[link], sim.url) == _link_shape(example[link], MS)
    if compare_items and example["value"]:
        assert ours["value"], "example has items, we have none"
        for item in ours["value"]:
            twin = next((e for e in example["value"] if ("@removed" in e) == ("@removed" in item)), None)
            assert twin is not None
            assert list(item) == list(twin)
            if "@removed" in item:
                assert item["@removed"] == twin["@removed"]


def test_users_select_two_pages(sim: GraphSimulator, graph) -> None:
    page1 = json.loads((DATA / "users-page1.json").read_text())
    page2 = json.loads((DATA / "users-page2.json").read_text())
    sim.tenant.generate_users(18, seed=50)
    sim.graph.users_page_size = 10
    ours1 = graph("/users?$select=displayName,description,mailNickname").json()
    assert_same_shape(page1, ours1, sim)
    assert parse_qs(urlsplit(ours1["@odata.nextLink"]).query)["$select"] == \
        parse_qs(urlsplit(page1["@odata.nextLink"]).query)["$select"]
    assert ours1["@odata.nextLink"].split("$skiptoken=")[1][:8] == page1["@odata.nextLink"].split("$skiptoken=")[1][:8]
    ours2 = graph(ours1["@odata.nextLink"]).json()
    assert_same_shape(page2, ours2, sim)
    odata_id = re.compile(r"^(?P<base>.+)/v2/(?P<tenant>[0-9a-f-]{36})/directoryObjects/(?P<id>[0-9a-f-]{36})/Microsoft\.DirectoryServices\.User$")
    example_match = odata_id.match(page1["value"][0]["@odata.id"])
    assert example_match and example_match["base"] == MS
    for item in ours1["value"] + ours2["value"]:
        match = odata_id.match(item["@odata.id"])
        assert match and match["base"] == sim.url and match["tenant"] == sim.tenant_id
    assert len(ours1["value"]) + len(ours2["value"]) == 18


def test_delta_round_like_the_docs(sim: GraphSimulator, graph) -> None:
    ids = sim.tenant.generate_users(6, seed=51)
    sim.graph.delta_page_size = 2
    initial = _example("Initial request / Initial response")
    method, url = initial["request"].split(" ", 1)
    assert method == "GET"
    first = graph(url.replace(f"{MS}/v1.0", "")).json()
    assert_same_shape(initial["response_body"], first, sim)
    second = graph(first["@odata.nextLink"]).json()
    assert_same_shape(_example("nextLink request / nextLink response")["response_body"], second, sim)
    third = graph(second["@odata.nextLink"]).json()
    assert_same_shape(_example("Final nextLink request / Final nextLink response")["response_body"], third, sim)
    unchanged = graph(third["@odata.deltaLink"]).json()
    assert_same_shape(_example("deltaLink request / deltaLink response (variant: no changes)")["response_body"], unchanged, sim)
    sim.tenant.update_user(ids[0], displayName="Testuser7", givenName="Joe", surname="Doe")
    sim.tenant.soft_delete(ids[1])
    changed = graph(third["@odata.deltaLink"]).json()
    assert_same_shape(_example("deltaLink request / deltaLink response (variant: changes occurred)")["response_body"], changed, sim)


def _every_property_set(sim: GraphSimulator, ids: list[str]) -> None:
    """The docs' users have every property set (delta leaves out properties never set)."""
    for n, user_id in enumerate(ids):
        sim.tenant.update_user(user_id, mobilePhone=f"+49 170 000000{n}", jobTitle="Engineer",
                               officeLocation="Berlin", businessPhones=["+49 30 1234"])


def test_delta_default_properties_like_the_docs(sim: GraphSimulator, graph) -> None:
    _every_property_set(sim, sim.tenant.generate_users(3, seed=52))
    sim.graph.delta_page_size = 2
    example = _example("Example 1: Default properties")
    assert_same_shape(example["response_body"], graph("/users/delta").json(), sim)


@pytest.mark.parametrize("section", ["Example 2: Selecting three properties", "Example 3: Alternative minimal response behavior"])
def test_delta_selected_properties_like_the_docs(sim: GraphSimulator, graph, section: str) -> None:
    _every_property_set(sim, sim.tenant.generate_users(3, seed=53))
    sim.graph.delta_page_size = 2
    example = _example(section)
    ours = graph("/users/delta?$select=displayName,jobTitle,mobilePhone", headers=example.get("request_headers")).json()
    assert_same_shape(example["response_body"], ours, sim, compare_items=False)
    # the docs' item omits id although the same page says id is always returned; we return it
    expected = [k for k in ["displayName", "jobTitle", "mobilePhone"]]
    assert all(list(item) == expected + ["id"] for item in ours["value"])
    assert set(example["response_body"]["value"][0]) <= set(expected)
