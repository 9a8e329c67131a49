"""Group scope (transitive members, names or ids) and presence on identities."""

from __future__ import annotations

import pytest

from msuser_helpers import graph_paths, view
from syncframe import AuthenticationError, FatalSyncError


@pytest.fixture
def org(sim) -> dict[str, str]:
    """Telephony <- (nested) Support; Sales separate; one user in none."""
    t = sim.tenant
    ids = {name: t.add_user(userPrincipalName=f"{name}@contoso.onmicrosoft.com", displayName=name.title())["id"] for name in ("anna", "bert", "cleo", "dora", "emil")}
    telephony, support, sales = t.add_group("Telephony"), t.add_group("Support"), t.add_group("Sales")
    t.add_member(telephony, ids["anna"])
    t.add_member(telephony, support)  # nested: Support's members are Telephony's too
    t.add_member(support, ids["bert"])
    t.add_member(sales, ids["cleo"])
    t.add_member(sales, ids["anna"])
    guest = t.add_user(userPrincipalName="gus_fabrikam.com#EXT#@contoso.onmicrosoft.com", displayName="Gus")["id"]
    t.add_member(support, guest)
    return {**ids, "gus": guest, "telephony": telephony, "sales": sales}


def test_groups_restrict_the_read_to_transitive_members(sim, make_source, org) -> None:
    result = make_source(groups=["Telephony", org["sales"]]).read(None, {}, lambda *a: None)
    found = {i.username.split("@")[0]: i for i in result.identities}
    assert result.complete and not result.incremental
    assert set(found) == {"anna", "bert", "cleo", "gus_fabrikam.com#EXT#"}  # dora, emil are in no group
    assert found["anna"].groups == ("Telephony", org["sales"])
    assert found["bert"].groups == ("Telephony",) and found["cleo"].groups == (org["sales"],)
    assert "guest" in found["gus_fabrikam.com#EXT#"].out_of_scope  # the source scopes it
    members = [r for r in sim.requests if r.path.endswith("/transitiveMembers/microsoft.graph.user")]
    assert len(members) == 2 and all("count=true" in r.query for r in members)


def test_a_member_leaving_the_group_is_gone_from_the_next_read(sim, make_source, org) -> None:
    source = make_source(groups=["Telephony"])
    first = source.read(None, {}, lambda *a: None)
    sim.tenant.remove_member(org["telephony"], org["anna"])
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert not second.incremental and second.complete
    assert org["anna"] not in {i.source_id for i in second.identities}


def test_an_unknown_group_name_stops_the_run(sim, make_source, org) -> None:
    with pytest.raises(FatalSyncError, match="the group 'Finance' .* was not found"):
        make_source(groups=["Finance"]).read(None, {}, lambda *a: None)


def test_an_unknown_group_id_stops_the_run_even_after_other_groups(sim, make_source, org) -> None:
    missing = "0f0f0f0f-0000-4000-8000-000000000404"
    with pytest.raises(FatalSyncError, match=f"the group '{missing}' .* was not found"):
        make_source(groups=["Telephony", missing]).read(None, {}, lambda *a: None)


def test_an_ambiguous_group_name_asks_for_the_id(sim, make_source, org) -> None:
    sim.tenant.add_group("Sales")
    with pytest.raises(FatalSyncError, match="'Sales' .* is ambiguous \\(2 groups"):
        make_source(groups=["Sales"]).read(None, {}, lambda *a: None)


def test_a_group_name_with_a_quote_is_escaped(sim, make_source, org) -> None:
    group = sim.tenant.add_group("Dora's team")
    sim.tenant.add_member(group, org["dora"])
    result = make_source(groups=["Dora's team"]).read(None, {}, lambda *a: None)
    assert [(i.source_id, i.groups) for i in result.identities] == [(org["dora"], ("Dora's team",))]


def test_presence_is_off_by_default(sim, make_source, org) -> None:
    result = make_source().read(None, {}, lambda *a: None)
    assert all("presence" not in i.extra for i in result.identities)
    assert "/v1.0/communications/getPresencesByUserId" not in graph_paths(sim)


def test_presence_of_in_scope_users_in_batches_of_650(sim, make_source) -> None:
    ids = sim.tenant.generate_users(1400, seed=9)
    members = [u for u in ids if sim.tenant.get_user(u).get("accountEnabled") and sim.tenant.get_user(u).get("userType") == "Member"]
    for uid in members[:3]:
        sim.tenant.set_presence(uid, "Busy", "InACall")
    result = make_source(presence=True).read(None, {}, lambda *a: None)
    by_id = {i.source_id: i for i in result.identities}
    assert by_id[members[0]].extra["presence"] == {"availability": "Busy", "activity": "InACall"}
    in_scope = [i for i in result.identities if i.out_of_scope is None]
    out_of_scope = [i for i in result.identities if i.out_of_scope is not None]
    assert out_of_scope and all("presence" not in i.extra for i in out_of_scope)
    assert all("presence" in i.extra for i in in_scope)
    posts = graph_paths(sim)["/v1.0/communications/getPresencesByUserId"]
    assert posts == -(-len(in_scope) // 650) and posts >= 2


def test_an_incremental_read_sends_users_whose_presence_changed(sim, make_source) -> None:
    ids = sim.tenant.generate_users(20, seed=10)
    sim.tenant.update_user(ids[0], accountEnabled=True, userType="Member", userPrincipalName="in.scope@contoso.onmicrosoft.com")
    source = make_source(presence=True)
    first = source.read(None, {}, lambda *a: None)
    assert view(first)[ids[0]].extra["presence"]["availability"] != "DoNotDisturb"
    sim.tenant.set_presence(ids[0], "DoNotDisturb", "Presenting")
    second = source.read(first.bookmark, view(first), lambda *a: None)
    assert [(i.source_id, i.extra["presence"]["availability"]) for i in second.identities] == [(ids[0], "DoNotDisturb")]
    assert second.identities[0].replace(extra={}) == view(first)[ids[0]].replace(extra={})


def test_a_missing_presence_permission_names_it(sim, make_source, org) -> None:
    sim.grant_roles(sim.client_id, ["User.Read.All"])
    with pytest.raises(AuthenticationError, match="missing the permission Presence.Read.All"):
        make_source(presence=True).read(None, {}, lambda *a: None)
