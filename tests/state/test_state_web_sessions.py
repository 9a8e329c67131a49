"""Web console sessions and failed sign-ins in the state store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from syncframe.state import StateStore
from syncframe.state.models import utcnow


def test_a_session_is_found_by_its_token_until_it_expires_or_is_closed(store: StateStore) -> None:
    token, row = store.open_web_session("alice", 60)
    assert store.web_session(token).admin == "alice" and store.web_session(token).csrf == row.csrf
    assert store.web_session(token + "x") is None and store.web_session("") is None
    expired, _ = store.open_web_session("alice", -1)
    assert store.web_session(expired) is None
    assert store.close_web_session(token) and store.web_session(token) is None
    assert not store.close_web_session(token)


def test_closing_an_account_s_sessions_leaves_the_others(store: StateStore) -> None:
    a1, _ = store.open_web_session("alice", 60)
    a2, _ = store.open_web_session("alice", 60)
    b, _ = store.open_web_session("bob", 60)
    assert store.close_web_sessions("alice") == 2
    assert store.web_session(a1) is None and store.web_session(a2) is None and store.web_session(b).admin == "bob"


def test_failures_are_counted_per_key_in_their_window_and_old_ones_dropped(store: StateStore) -> None:
    now = utcnow()
    old = now - timedelta(hours=1)
    store.record_login_failure(["account:x", "client:1.2.3.4"], old, forget_before=old - timedelta(minutes=15))
    store.record_login_failure(["account:x", "client:5.6.7.8"], now, forget_before=now - timedelta(minutes=15))
    since = now - timedelta(minutes=15)
    assert store.login_failures("account:x", since) == 1
    # the second failure dropped every failure older than its window, of any key
    assert store.login_failures("account:x", old - timedelta(minutes=1)) == 1
    assert store.login_failures("client:1.2.3.4", old - timedelta(minutes=1)) == 0
    store.clear_login_failures("account:x")
    assert store.login_failures("account:x", since) == 0 and store.login_failures("client:5.6.7.8", since) == 1
