"""Leavers in the state store (issue 21), on SQLite and PostgreSQL: a disable's outcome
marks the link in the same transaction, a comeback clears it, a delete drops it, and
people's release and keep change it together with their decision."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from syncframe import ConfigError
from syncframe.state import StateStore

C = "contoso"
DUE = "2027-01-31T09:00:00+00:00"


def disabled(store: StateStore, source_id: str = "s1", login: str = "anna") -> None:
    run = store.start_run(C, "sync", "run")
    created = store.journal_intent(run, C, {"kind": "create", "source_id": source_id, "login": login})
    store.journal_outcome(created, ok=True, link=(source_id, f"t-{source_id}", login, "created"))
    disable = store.journal_intent(run, C, {"kind": "disable", "source_id": source_id, "login": login})
    store.journal_outcome(disable, ok=True, leaver=(source_id, DUE))


def test_a_disable_marks_the_link_and_a_comeback_clears_it(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-01T09:00:00Z")
    disabled(store)
    link = store.links(C)["s1"]
    assert link.disabled_at == datetime(2027, 1, 1, 9, tzinfo=timezone.utc)
    assert link.delete_due == datetime(2027, 1, 31, 9, tzinfo=timezone.utc) and link.kept is False
    assert [l.login for l in store.leavers(C)] == ["anna"]
    run = store.start_run(C, "sync", "run")
    back = store.journal_intent(run, C, {"kind": "update", "source_id": "s1", "login": "anna"})
    store.journal_outcome(back, ok=True, link=("s1", "t-s1", "anna", "created"))
    link = store.links(C)["s1"]
    assert (link.disabled_at, link.delete_due, link.kept) == (None, None, False) and store.leavers(C) == []


def test_release_makes_a_leaver_due_now_and_keep_keeps_it(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-01T09:00:00Z")
    disabled(store, "s1", "anna")
    disabled(store, "s2", "ben")
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-05T12:00:00Z")
    row = store.release_leaver(C, "ANNA", "alice")
    assert (row.kind, row.subject, row.operator, row.detail["was_due"]) == ("release", "anna", "alice", DUE)
    assert store.links(C)["s1"].delete_due == datetime(2027, 1, 5, 12, tzinfo=timezone.utc)
    kept = store.keep_leaver(C, "ben", "bob")
    assert (kept.kind, kept.operator) == ("keep", "bob") and store.links(C)["s2"].kept is True
    # the soonest due first, kept ones last
    assert [l.login for l in store.leavers(C)] == ["anna", "ben"]
    undone = store.keep_leaver(C, "ben", "bob", keep=False)
    assert undone.kind == "unkeep" and store.links(C)["s2"].kept is False
    assert [d.kind for d in store.decisions(C)] == ["unkeep", "keep", "release"]


def test_release_or_keep_of_someone_not_disabled_records_nothing(store: StateStore) -> None:
    disabled(store, "s1", "anna")
    run = store.start_run(C, "sync", "run")
    active = store.journal_intent(run, C, {"kind": "create", "source_id": "s3", "login": "carl"})
    store.journal_outcome(active, ok=True, link=("s3", "t-s3", "carl", "created"))
    for act in (lambda: store.release_leaver(C, "carl", "alice"), lambda: store.keep_leaver(C, "nobody", "alice")):
        with pytest.raises(ConfigError, match="no disabled leaver of connector 'contoso'.*anna"):
            act()
    assert store.decisions(C) == []


def test_hold_takes_a_leaver_release_back_with_its_due_date(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-01T09:00:00Z")
    disabled(store, "s1", "anna")
    store.keep_leaver(C, "anna", "bob")
    monkeypatch.setenv("SYNCFRAME_NOW", "2027-01-05T12:00:00Z")
    store.release_leaver(C, "anna", "alice")
    assert store.links(C)["s1"].kept is False and list(store.pending_releases(C)) == ["anna"]
    held = store.hold_leaver(C, "anna", "carol", store.pending_releases(C)["anna"])
    assert (held.kind, held.operator) == ("hold", "carol") and store.pending_releases(C) == {}
    link = store.links(C)["s1"]
    assert link.delete_due == datetime(2027, 1, 31, 9, tzinfo=timezone.utc) and link.kept is True
