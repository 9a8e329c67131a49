"""People's decisions: releases until the next run, manual links without duplicates, the audit trail."""

from __future__ import annotations

import pytest

from syncframe import ConfigError


def test_a_release_is_pending_until_a_run_consumes_it_and_a_hold_takes_it_back(store):
    store.record_decision("c", "release", "ann@x.org", "alice")
    store.record_decision("c", "release", "Ben@x.org", "alice")
    store.record_decision("c", "hold", "ben@x.org", "bob")  # taken back, by someone else
    store.record_decision("other", "release", "cy@x.org", "alice")
    assert set(store.pending_releases("c")) == {"ann@x.org"}
    assert store.consume_releases("c", run_id=7) == 3
    assert store.pending_releases("c") == {} and set(store.pending_releases("other")) == {"cy@x.org"}
    consumed = [d for d in store.decisions("c") if d.kind in ("release", "hold")]
    assert {d.consumed_run for d in consumed} == {7}


def test_every_decision_is_kept_with_who_and_when_newest_first(store):
    first = store.record_decision("c", "release", "ann@x.org", "alice", {"why": "left the company"})
    second = store.record_decision("c", "hold", "ann@x.org", "bob")
    rows = store.decisions("c")
    assert [r.id for r in rows] == [second.id, first.id]
    assert rows[1].operator == "alice" and rows[1].detail == {"why": "left the company"} and rows[1].created_at.tzinfo
    with pytest.raises(ValueError):
        store.record_decision("c", "delete-everything", "x", "mallory")


def test_a_manual_link_is_refused_where_it_would_duplicate(store):
    store.link_by_hand("c", "src-1", "t-1", "ann", "alice")
    assert store.links("c")["src-1"].target_id == "t-1" and store.links("c")["src-1"].origin == "adopted"
    with pytest.raises(ConfigError, match="source id 'src-1' is linked already"):
        store.link_by_hand("c", "src-1", "t-2", "ben", "alice")
    with pytest.raises(ConfigError, match="linked already, to source id 'src-1' of this connector"):
        store.link_by_hand("c", "src-2", "t-1", "ann", "alice")
    with pytest.raises(ConfigError, match="of connector 'c'"):
        store.link_by_hand("other", "src-9", "t-1", "ann", "alice")
    assert [d.kind for d in store.decisions("c")] == ["link"]  # refused ones leave no trace


def test_unlink_drops_the_link_and_records_what_it_was(store):
    store.link_by_hand("c", "src-1", "t-1", "ann", "alice")
    decision = store.unlink_by_hand("c", "ANN", "bob")
    assert store.links("c") == {} and decision.detail == {"source_id": "src-1", "target_id": "t-1", "origin": "adopted"}
    with pytest.raises(ConfigError, match="no link to a login 'ann'"):
        store.unlink_by_hand("c", "ann", "bob")
