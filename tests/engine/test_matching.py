"""The default matching rules, their reasons, every conflict case, protected
accounts, and a plugin that answers before the defaults."""

from __future__ import annotations

import types
from dataclasses import replace
from datetime import timedelta
from typing import Any

from syncframe import ItemKind, Match, hookimpl

from syncframe.state.rows import ForeignLink

from .conftest import ident
from .planning import NOW, account, in_step, link, make_plan, only

LATER = NOW + timedelta(days=1)


# --- rule (a): an existing link ---------------------------------------------------------


def test_linked_and_in_step_is_noop() -> None:
    i = ident(1)
    a = in_step("t1", i)
    item = only(make_plan([i], [a], {"id-1": link("id-1", a)}), "id-1")
    assert item.kind is ItemKind.NOOP
    assert "linked to 'user1@contoso.com' by an earlier import" in item.reason


def test_linked_with_changed_field_is_update_with_old_and_new() -> None:
    i = ident(1, display_name="Max Mustermann")
    a = in_step("t1", i.replace(display_name="Max Muster"))
    item = only(make_plan([i], [a], {"id-1": link("id-1", a)}), "id-1")
    assert item.kind is ItemKind.UPDATE
    assert item.changes == {"display_name": ["Max Muster", "Max Mustermann"]}
    assert not item.notices


def test_linked_with_new_principal_name_is_rename_that_needs_mobile_pairing() -> None:
    i = ident(1, upn="max.mustermann@contoso.com")
    a = in_step("t1", ident(1))  # still carries the old login
    item = only(make_plan([i], [a], {"id-1": link("id-1", a)}), "id-1")
    assert item.kind is ItemKind.RENAME
    assert item.rename_from == "user1@contoso.com"
    assert item.login == "max.mustermann@contoso.com"
    assert [n.code for n in item.notices] == ["renamed"]
    assert "rename 'user1@contoso.com' → 'max.mustermann@contoso.com'" in item.reason


def test_link_wins_over_other_rules() -> None:
    i = ident(1)
    linked = account("t1", "someone-else", "user1@contoso.com")
    same_login = account("t2", "user1@contoso.com")  # rule (b) would pick this one
    plan = make_plan([i], [linked, same_login], {"id-1": link("id-1", linked)})
    # following the link means renaming onto a login another account holds: a conflict, not a guess
    item = only(plan, "id-1")
    assert item.kind is ItemKind.CONFLICT
    assert "already held by another account" in item.reason
    assert item.candidates == ["user1@contoso.com"]


# --- rules (b), (c), (d) -------------------------------------------------------------------


def test_rule_b_login_equals_principal_name_case_insensitively() -> None:
    i = ident(1)
    a = account("t1", "User1@Contoso.COM", "user1@contoso.com", "User 1")
    item = only(make_plan([i], [a]), "id-1")
    assert item.kind is ItemKind.ADOPT
    assert item.rename_from is None and not item.notices  # a case-only difference is no rename
    assert "login 'User1@Contoso.COM' equals the username" in item.reason


def test_rule_c_login_equals_local_part_adopts_and_renames() -> None:
    i = ident("", upn="mmustermann@contoso.onmicrosoft.com", display_name="Max")
    a = account("t1", "mmustermann", "max@example.org", "Max")
    item = only(make_plan([i], [a]), "id-")
    assert item.kind is ItemKind.ADOPT
    assert item.rename_from == "mmustermann"
    assert item.login == "mmustermann@contoso.onmicrosoft.com"
    assert [n.code for n in item.notices] == ["renamed"]
    assert "equals the username's local part" in item.reason
    assert item.changes["email"] == ["max@example.org", "mmustermann@contoso.onmicrosoft.com"]


def test_rule_d_email_equals_principal_name_adopts_and_renames() -> None:
    i = ident(1)
    a = account("t1", "max", "USER1@contoso.com", "User 1")
    item = only(make_plan([i], [a]), "id-1")
    assert item.kind is ItemKind.ADOPT
    assert item.rename_from == "max" and [n.code for n in item.notices] == ["renamed"]
    assert "e-mail 'USER1@contoso.com' of account 'max' equals the username" in item.reason


def test_no_match_creates_with_the_desired_fields() -> None:
    item = only(make_plan([ident(1)], [account("t1", "someone")]), "id-1")
    assert item.kind is ItemKind.CREATE
    assert item.desired == {"login": "user1@contoso.com", "display_name": "User 1", "email": "user1@contoso.com"}
    assert "no matching account" in item.reason


def test_counts_rename_includes_adoptions_that_rename() -> None:
    plan = make_plan([ident(1), ident(2)], [account("t1", "user1"), account("t2", "user2@contoso.com")])
    counts = plan.counts()
    assert counts["adopt"] == 2 and counts["rename"] == 1
    assert plan.notices() == {"renamed": ["user1@contoso.com"]}


# --- conflicts ----------------------------------------------------------------------------------


def test_two_candidates_is_a_conflict_naming_both() -> None:
    i = ident(1)
    by_local = account("t1", "user1")
    by_email = account("t2", "max", "user1@contoso.com")
    item = only(make_plan([i], [by_local, by_email]), "id-1")
    assert item.kind is ItemKind.CONFLICT
    assert sorted(item.candidates) == ["max", "user1"]
    assert "2 accounts match 'user1@contoso.com'" in item.reason


def test_candidate_linked_to_another_source_id_is_a_conflict() -> None:
    other = in_step("t1", ident(9))
    taken = account("t2", "user1", "user1@contoso.com")
    plan = make_plan([ident(1), ident(9)], [other, taken], {"id-9": link("id-9", taken)})
    item = only(plan, "id-1")
    assert item.kind is ItemKind.CONFLICT
    assert "already linked to source id id-9" in item.reason
    assert item.candidates == ["user1"]


def test_an_account_another_connector_manages_is_never_adopted_changed_or_removed() -> None:
    """Another connector on the same system linked these accounts first: a conflict naming
    it, whether a rule found the account (user 1) or a younger link of ours points at it
    (users 2 and 3: a store from before connectors saw each other): no adoption, update or removal."""
    theirs = account("t1", "user1@contoso.com", "user1@contoso.com", "User 1")
    shared = account("t2", "user2@contoso.com", "old@contoso.com", "User 2")
    gone = account("t3", "user3@contoso.com", "user3@contoso.com", "User 3")
    ours = {"id-2": replace(link("id-2", shared), created_at=LATER), "id-3": replace(link("id-3", gone), created_at=LATER)}
    foreign = {a.target_id: [ForeignLink("hr", f"hr-{n}", a.login, NOW)] for n, a in enumerate((theirs, shared, gone), 1)}
    plan = make_plan([ident(1), ident(2)], [theirs, shared, gone], ours, foreign=foreign)
    for source_id in ("id-1", "id-2", "id-3"):
        item = only(plan, source_id)
        assert item.kind is ItemKind.CONFLICT, item
        assert "managed by connector 'hr'" in item.reason
    assert plan.writes == []


def test_an_account_both_linked_stays_with_the_older_link() -> None:
    ours = in_step("t1", ident(1))
    plan = make_plan([ident(1)], [ours], {"id-1": link("id-1", ours)}, foreign={"t1": [ForeignLink("hr", "hr-1", ours.login, LATER)]})
    assert only(plan, "id-1").kind is ItemKind.NOOP


def test_a_login_held_by_another_connectors_account_names_it() -> None:
    theirs = account("t1", "user1@contoso.com", "x@example.org", protected=False)
    mine = in_step("t2", ident(1, upn="old@contoso.com"))
    plan = make_plan([ident(1)], [theirs, mine], {"id-1": link("id-1", mine)}, foreign={"t1": [ForeignLink("hr", "hr-9", theirs.login, NOW)]})
    item = only(plan, "id-1")
    assert item.kind is ItemKind.CONFLICT and "(managed by connector 'hr')" in item.reason


def test_duplicate_principal_names_conflict_for_both_and_name_each_other() -> None:
    a, b = ident(1, upn="max@contoso.com"), ident(2, upn="MAX@contoso.com")
    plan = make_plan([a, b])
    assert only(plan, "id-1").kind is ItemKind.CONFLICT and only(plan, "id-1").candidates == ["id-2"]
    assert only(plan, "id-2").kind is ItemKind.CONFLICT and only(plan, "id-2").candidates == ["id-1"]
    assert "also used by source id(s) id-2" in only(plan, "id-1").reason
    assert not plan.writes


class LocalPartLogins:
    """A mapping plugin: logins are the principal name's local part (so they can collide)."""

    @hookimpl
    def syncframe_map_identity(self, identity: Any, desired: dict[str, Any]) -> None:
        desired["login"] = identity.username.split("@")[0]


def test_colliding_desired_logins_conflict_for_both() -> None:
    plan = make_plan([ident(1, upn="max@contoso.com"), ident(2, upn="max@fabrikam.com"), ident(3)], plugins=[LocalPartLogins()])
    assert {only(plan, s).kind for s in ("id-1", "id-2")} == {ItemKind.CONFLICT}
    assert "also wanted by source id(s) id-2" in only(plan, "id-1").reason
    assert only(plan, "id-3").kind is ItemKind.CREATE and only(plan, "id-3").login == "user3"


def test_rename_onto_a_login_another_account_holds_is_a_conflict() -> None:
    i = ident(1, upn="new@contoso.com")
    mine = in_step("t1", ident(1))
    holder = account("t2", "NEW@contoso.com")
    item = only(make_plan([i], [mine, holder], {"id-1": link("id-1", mine)}), "id-1")
    assert item.kind is ItemKind.CONFLICT
    assert item.candidates == ["NEW@contoso.com"]


# --- protected accounts ----------------------------------------------------------------------------


def test_protected_logins_are_never_matched() -> None:
    i = ident(1)
    admin = account("t1", "user1", "user1@contoso.com")
    item = only(make_plan([i], [admin], protected=["USER1"]), "id-1")
    assert item.kind is ItemKind.CREATE  # neither rule (c) nor (d) sees the protected account


def test_protected_account_holding_the_login_is_a_conflict_not_a_takeover() -> None:
    i = ident(1)
    admin = account("t1", "user1@contoso.com", protected=True)
    item = only(make_plan([i], [admin]), "id-1")
    assert item.kind is ItemKind.CONFLICT
    assert "(protected)" in item.reason


def test_linked_protected_account_is_neither_changed_nor_removed() -> None:
    a = in_step("t1", ident(1))
    changed = make_plan([ident(1, display_name="New")], [a], {"id-1": link("id-1", a)}, protected=["user1@contoso.com"])
    assert only(changed, "id-1").kind is ItemKind.CONFLICT
    assert "protected" in only(changed, "id-1").reason
    gone = make_plan([], [a], {"id-1": link("id-1", a)}, protected=["user1@contoso.com"])
    assert only(gone, "id-1").kind is ItemKind.SKIP
    assert "protected and never removed" in only(gone, "id-1").reason


# --- a plugin answers first ------------------------------------------------------------------------


def _by_employee_number() -> types.ModuleType:
    plugin = types.ModuleType("employee_number_matching")

    @hookimpl
    def syncframe_match(identity: Any, index: Any) -> Any:
        number = identity.extra.get("employee")
        if number is None:
            return None  # let the default rules decide
        for candidate in index.by_login(f"e{number}"):
            return Match(candidate, f"employee number {number} matches login {candidate.login!r}", rule="employee")
        return Match(None, f"employee {number} has no account yet", rule="employee")

    plugin.syncframe_match = syncframe_match  # type: ignore[attr-defined]
    return plugin


def test_a_plugin_answering_first_overrides_the_default_rules() -> None:
    by_number = ident(1, extra={"employee": 42})
    fallback = ident(2)
    accounts = [account("t1", "e42"), account("t2", "max", "user1@contoso.com"), account("t3", "user2")]
    plan = make_plan([by_number, fallback], accounts, plugins=[_by_employee_number()])
    item = only(plan, "id-1")
    assert item.kind is ItemKind.ADOPT and item.target_id == "t1"  # not t2, which rule (d) would pick
    assert item.reason.startswith("employee number 42 matches login 'e42'")
    assert only(plan, "id-2").kind is ItemKind.ADOPT and "local part" in only(plan, "id-2").reason


def test_a_plugin_can_decide_to_create() -> None:
    plan = make_plan([ident(1, extra={"employee": 7})], [account("t2", "user1@contoso.com")], plugins=[_by_employee_number()])
    # the plugin's "no account" answer stops the defaults; the login is taken, so: conflict, never a takeover
    assert only(plan, "id-1").kind is ItemKind.CONFLICT
    plan = make_plan([ident(1, extra={"employee": 7})], [], plugins=[_by_employee_number()])
    assert only(plan, "id-1").kind is ItemKind.CREATE and "employee 7 has no account yet" in only(plan, "id-1").reason


def test_a_plugin_cannot_steal_an_account_linked_to_another_source_id() -> None:
    owned = account("t1", "e42")
    plan = make_plan([ident(1, extra={"employee": 42}), ident(2)], [owned], {"id-2": link("id-2", owned)}, plugins=[_by_employee_number()])
    assert only(plan, "id-1").kind is ItemKind.CONFLICT
    assert "already linked to source id id-2" in only(plan, "id-1").reason


def test_plan_ready_hook_sees_the_plan_once_and_planning_writes_nothing() -> None:
    seen: list[Any] = []

    class Observer:
        @hookimpl
        def syncframe_plan_ready(self, plan: Any) -> None:
            seen.append(plan)

    from syncframe.testing import MemoryTarget
    from syncframe import ConnectorContext

    target = MemoryTarget({"accounts": [account("t1", "user1")]}, ConnectorContext(name="t", profile={}))
    plan = make_plan([ident(1), ident(2)], target.list_accounts(), plugins=[Observer()], target=target)
    assert seen == [plan]
    assert target.writes == [] and len(plan.writes) == 2
