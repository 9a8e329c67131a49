"""Every call of the state store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from syncframe import ItemKind
from syncframe.errors import ConfigError
from syncframe.state import ConnectorRow, JournalOutcome, JournalRow, Link, RunRow, StateStore
from syncframe.state.models import LockModel


# -- connectors -------------------------------------------------------------------------


def test_add_get_list_connectors(store):
    assert store.get_connector("contoso") is None
    store.add_connector("contoso", 'title = "Contoso"\n')
    store.add_connector("adatum", 'title = "Adatum"\n')
    row = store.get_connector("contoso")
    assert isinstance(row, ConnectorRow)
    assert (row.name, row.profile_text) == ("contoso", 'title = "Contoso"\n')
    assert row.created_at.tzinfo is not None and row.created_at == row.updated_at
    assert [c.name for c in store.list_connectors()] == ["adatum", "contoso"]


def test_adding_an_existing_connector_needs_replace(store):
    store.add_connector("contoso", "mode = 'sync'")
    with pytest.raises(ConfigError, match="exists already"):
        store.add_connector("contoso", "mode = 'upsert'")
    assert store.get_connector("contoso").profile_text == "mode = 'sync'"
    store.add_connector("contoso", "mode = 'upsert'", replace=True)
    row = store.get_connector("contoso")
    assert row.profile_text == "mode = 'upsert'"
    assert row.updated_at > row.created_at


def test_a_connector_needs_a_name(store):
    with pytest.raises(ConfigError):
        store.add_connector(" ", "x = 1")


def test_remove_connector_removes_its_state_and_keeps_history(store):
    store.add_connector("contoso", "x = 1")
    store.add_connector("contoso-eu", "x = 2")
    run_id = store.start_run("contoso", "sync", "run")
    jid = store.journal_intent(run_id, "contoso", {"kind": "create", "source_id": "s1", "login": "a@x"})
    store.journal_outcome(jid, True, link=("s1", "t1", "a@x", "created"))
    store.finish_run(run_id, "ok", {"create": 1})
    store.commit_read("contoso", "delta-1", {"s1": {"source_id": "s1"}})
    store.save_token_cache("contoso", "cache-a")
    store.save_token_cache("contoso:graph", "cache-b")
    store.save_token_cache("contoso-eu", "cache-c")
    with store.lock("contoso"):
        assert store.remove_connector("contoso") is True
        with store.engine.connect() as connection:
            assert connection.execute(select(LockModel)).all() == []

    assert store.get_connector("contoso") is None
    assert store.links("contoso") == {}
    assert store.load_view("contoso") == {}
    assert store.get_bookmark("contoso") is None
    assert store.load_token_cache("contoso") is None
    assert store.load_token_cache("contoso:graph") is None
    # history stays, and other connectors are untouched
    assert [r.id for r in store.runs("contoso")] == [run_id]
    assert [j.id for j in store.journal(run_id)] == [jid]
    assert store.get_connector("contoso-eu") is not None
    assert store.load_token_cache("contoso-eu") == "cache-c"
    assert store.remove_connector("contoso") is False


# -- links, journal ---------------------------------------------------------------------------


def test_journal_intent_then_outcome_with_link(store):
    run_id = store.start_run("contoso", "sync", "run")
    item = {"kind": ItemKind.CREATE, "source_id": "s1", "login": "anna@contoso.com", "target_id": None, "rename_from": None}
    jid = store.journal_intent(run_id, "contoso", item)
    [entry] = store.journal(run_id)
    assert isinstance(entry, JournalRow)
    assert (entry.id, entry.run_id, entry.connector, entry.seq) == (jid, run_id, "contoso", 1)
    assert (entry.kind, entry.source_id, entry.login, entry.state) == ("create", "s1", "anna@contoso.com", "intent")
    assert entry.item["kind"] == "create" and entry.item["rename_from"] is None
    assert entry.result is None and entry.finished_at is None

    store.journal_outcome(jid, True, result={"target_id": "42"}, link=("s1", "42", "anna@contoso.com", "created"))
    [entry] = store.journal(run_id)
    assert (entry.state, entry.result, entry.error) == ("ok", {"target_id": "42"}, None)
    assert entry.finished_at >= entry.created_at
    link = store.links("contoso")["s1"]
    assert isinstance(link, Link)
    assert (link.source_id, link.target_id, link.login, link.origin) == ("s1", "42", "anna@contoso.com", "created")
    assert store.links("other") == {}


def test_a_batch_of_intents_then_a_batch_of_outcomes_each_in_one_call(store):
    run_id = store.start_run("contoso", "sync", "run")
    store.journal_outcome(store.journal_intent(run_id, "contoso", {"kind": "adopt", "source_id": "s0", "login": "old"}), True, link=("s0", "40", "old", "adopted"))
    created = store.links("contoso")["s0"].created_at
    items = [{"kind": ItemKind.CREATE, "source_id": f"s{n}", "login": f"u{n}@contoso.com"} for n in (1, 2, 3)]
    ids = store.journal_intents(run_id, "contoso", items)
    assert [(j.id, j.seq, j.login, j.state) for j in store.journal(run_id)[1:]] == [
        (ids[0], 2, "u1@contoso.com", "intent"),
        (ids[1], 3, "u2@contoso.com", "intent"),
        (ids[2], 4, "u3@contoso.com", "intent"),
    ]
    store.journal_outcomes([
        JournalOutcome(ids[0], True, result={"target_id": "41"}, link=("s1", "41", "u1@contoso.com", "created")),
        JournalOutcome(ids[1], False, error="HTTP 500"),
        JournalOutcome(ids[2], True, link=("s0", "40", "renamed", "adopted")),  # an existing link, updated
        JournalOutcome(ids[2], True, unlink="s1"),  # the last change to a link wins
    ])
    assert [(j.state, j.error) for j in store.journal(run_id)[1:]] == [("ok", None), ("failed", "HTTP 500"), ("ok", None)]
    links = store.links("contoso")
    assert sorted(links) == ["s0"] and (links["s0"].login, links["s0"].created_at) == ("renamed", created)
    assert store.journal_intents(run_id, "contoso", []) == []


def test_a_batch_of_outcomes_naming_an_unknown_entry_records_none_of_them(store):
    run_id = store.start_run("contoso", "sync", "run")
    [jid] = store.journal_intents(run_id, "contoso", [{"kind": "create", "source_id": "s1", "login": "a"}])
    with pytest.raises(KeyError):
        store.journal_outcomes([JournalOutcome(jid, True, link=("s1", "1", "a", "created")), JournalOutcome(jid + 999, True)])
    assert [j.state for j in store.journal(run_id)] == ["intent"] and store.links("contoso") == {}


def test_journal_outcome_updates_and_drops_links(store):
    run_id = store.start_run("contoso", "sync", "run")
    first = store.journal_intent(run_id, "contoso", {"kind": "adopt", "source_id": "s1", "login": "anna"})
    store.journal_outcome(first, True, link=("s1", "42", "anna", "adopted"))
    created = store.links("contoso")["s1"].created_at

    rename = store.journal_intent(run_id, "contoso", {"kind": "rename", "source_id": "s1", "login": "anna@contoso.com"})
    store.journal_outcome(rename, True, link=("s1", "42", "anna@contoso.com", "adopted"))
    link = store.links("contoso")["s1"]
    assert (link.login, link.origin, link.created_at) == ("anna@contoso.com", "adopted", created)
    assert link.updated_at > created

    failed = store.journal_intent(run_id, "contoso", {"kind": "delete", "source_id": "s1", "login": "anna@contoso.com"})
    store.journal_outcome(failed, False, error="HTTP 500")
    assert "s1" in store.links("contoso")
    delete = store.journal_intent(run_id, "contoso", {"kind": "delete", "source_id": "s1", "login": "anna@contoso.com"})
    store.journal_outcome(delete, True, unlink="s1")
    assert store.links("contoso") == {}
    assert [(j.seq, j.kind, j.state, j.error) for j in store.journal(run_id)] == [
        (1, "adopt", "ok", None),
        (2, "rename", "ok", None),
        (3, "delete", "failed", "HTTP 500"),
        (4, "delete", "ok", None),
    ]


def test_journal_outcome_and_link_commit_together_or_not_at_all(store):
    run_id = store.start_run("contoso", "sync", "run")
    jid = store.journal_intent(run_id, "contoso", {"kind": "create", "source_id": "s1", "login": "anna"})
    # The outcome is written first in the transaction; the link then violates NOT NULL.
    with pytest.raises(IntegrityError):
        store.journal_outcome(jid, True, result={"target_id": "42"}, link=("s1", None, "anna", "created"))
    [entry] = store.journal(run_id)
    assert (entry.state, entry.result, entry.finished_at) == ("intent", None, None)
    assert store.links("contoso") == {}


def test_journal_outcome_of_an_unknown_entry(store):
    with pytest.raises(KeyError):
        store.journal_outcome(12345, True)


def test_unfinished_intents_and_their_recovery(store):
    crashed = store.start_run("contoso", "sync", "run")
    done = store.journal_intent(crashed, "contoso", {"kind": "update", "source_id": "s1", "login": "a"})
    store.journal_outcome(done, True)
    open_1 = store.journal_intent(crashed, "contoso", {"kind": "create", "source_id": "s2", "login": "b"})
    open_2 = store.journal_intent(crashed, "contoso", {"kind": "delete", "source_id": "s3", "login": "c"})
    other = store.start_run("adatum", "sync", "run")
    store.journal_intent(other, "adatum", {"kind": "create", "source_id": "x", "login": "x"})

    # the process died: the next run, holding the lock, finds what is open
    assert store.abandon_stale_runs("contoso") == 1
    [run] = store.runs("contoso")
    assert run.status == "aborted" and run.finished_at is not None and "ended" in run.error
    pending = store.unfinished_intents("contoso")
    assert [(p.id, p.kind, p.login, p.state) for p in pending] == [(open_1, "create", "b", "intent"), (open_2, "delete", "c", "intent")]

    store.resolve_intent(open_1, "never reached the target")
    # recovery may record an outcome first (the create had landed), then resolve it
    store.journal_outcome(open_2, True, result={"target_id": "7"}, link=("s3", "7", "c", "created"))
    store.resolve_intent(open_2, "had landed; linked")
    assert store.unfinished_intents("contoso") == []
    entries = {j.id: j for j in store.journal(crashed)}
    assert (entries[open_1].state, entries[open_1].result) == ("recovered", {"note": "never reached the target"})
    assert (entries[open_2].state, entries[open_2].result) == ("recovered", {"target_id": "7", "note": "had landed; linked"})
    assert entries[open_1].finished_at is not None
    assert store.links("contoso")["s3"].target_id == "7"


def test_journal_from_concurrent_writer_threads(store):
    """The engine journals from up to 8 worker threads through one store."""
    run_id = store.start_run("contoso", "sync", "run")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                sid = f"s{n}-{i}"
                jid = store.journal_intent(run_id, "contoso", {"kind": "create", "source_id": sid, "login": sid})
                store.journal_outcome(jid, True, result={"target_id": sid}, link=(sid, f"t-{sid}", sid, "created"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    journal = store.journal(run_id)
    assert [j.seq for j in journal] == list(range(1, 201))
    assert {j.state for j in journal} == {"ok"}
    assert len(store.links("contoso")) == 200


# -- runs ------------------------------------------------------------------------------------------


def test_runs_start_finish_and_list_newest_first(store):
    first = store.start_run("contoso", "sync", "plan")
    second = store.start_run("contoso", "upsert", "run")
    third = store.start_run("adatum", "sync", "run")
    running = store.runs("contoso")[0]
    assert isinstance(running, RunRow)
    assert (running.id, running.status, running.finished_at, running.counts) == (second, "running", None, {})

    store.finish_run(first, "ok", {"create": 2, "noop": 5}, summary={"plan": "abc"})
    store.finish_run(second, "held", {"delete": 0, "held": 3}, error=None)
    store.finish_run(third, "failed", {}, error="sign-in failed")

    assert [r.id for r in store.runs()] == [third, second, first]
    assert [r.id for r in store.runs(limit=2)] == [third, second]
    contoso = store.runs("contoso")
    assert [(r.id, r.mode, r.kind, r.status) for r in contoso] == [(second, "upsert", "run", "held"), (first, "sync", "plan", "ok")]
    assert contoso[1].counts == {"create": 2, "noop": 5} and contoso[1].summary == {"plan": "abc"}
    assert contoso[1].finished_at >= contoso[1].started_at
    assert store.runs("adatum")[0].error == "sign-in failed"
    assert store.get_run(first) == contoso[1]
    assert store.get_run(third + 100) is None


def test_runs_reject_unknown_kinds_and_statuses(store):
    with pytest.raises(ValueError):
        store.start_run("contoso", "sync", "dry")
    run_id = store.start_run("contoso", "sync", "run")
    with pytest.raises(ValueError):
        store.finish_run(run_id, "great", {})
    with pytest.raises(KeyError):
        store.finish_run(run_id + 100, "ok", {})


# -- bookmarks and the source view ------------------------------------------------------------


def _link(store, connector: str, source_id: str, target_id: str | None = None) -> None:
    run_id = store.start_run(connector, "sync", "run")
    jid = store.journal_intent(run_id, connector, {"kind": "create", "source_id": source_id, "login": source_id})
    store.journal_outcome(jid, True, link=(source_id, target_id or f"t-{source_id}", source_id, "created"))


def test_held_removals_are_marked_once_and_unmarked_when_no_longer_held(store):
    for sid in ("s1", "s2", "s3"):
        _link(store, "c", sid)
    store.hold_removals("c", {"s1", "s2"})
    first = {sid: link.held_since for sid, link in store.links("c").items()}
    assert first["s1"] and first["s2"] and first["s3"] is None
    store.hold_removals("c", {"s2", "s3"})
    again = {sid: link.held_since for sid, link in store.links("c").items()}
    assert again["s1"] is None and again["s2"] == first["s2"] and again["s3"] is not None  # held since the first time
    store.hold_removals("c", set())
    assert not any(link.held_since for link in store.links("c").values())


def test_foreign_links_are_those_of_other_connectors_on_the_same_system(store):
    for connector, system in (("a", "pbx-1"), ("b", "pbx-1"), ("c", "pbx-2")):
        store.record_system(connector, system)
        _link(store, connector, f"{connector}-1", target_id="t1")
    _link(store, "unrecorded", "u-1", target_id="t1")
    found = store.foreign_links("a", "pbx-1")
    assert list(found) == ["t1"] and [(f.connector, f.source_id) for f in found["t1"]] == [("b", "b-1")]
    store.record_system("b", "pbx-2")  # b now writes elsewhere
    assert store.foreign_links("a", "pbx-1") == {}
    assert sorted(f.connector for f in store.foreign_links("a", "pbx-2")["t1"]) == ["b", "c"]
    assert store.remove_connector("b")  # its links and its system go with it
    assert [f.connector for f in store.foreign_links("a", "pbx-2")["t1"]] == ["c"]


def test_bookmarks(store):
    assert store.get_bookmark("contoso") is None
    store.set_bookmark("contoso", "https://graph/delta?token=1")
    store.set_bookmark("contoso", "https://graph/delta?token=2")
    assert store.get_bookmark("contoso") == "https://graph/delta?token=2"
    store.set_bookmark("contoso", None)
    assert store.get_bookmark("contoso") is None


def test_view_save_replaces_and_load(store):
    store.save_view("contoso", {"a": {"upn": "a@x", "groups": ["g"]}, "b": {"upn": "b@x"}})
    store.save_view("other", {"z": {}})
    assert store.load_view("contoso") == {"a": {"upn": "a@x", "groups": ["g"]}, "b": {"upn": "b@x"}}
    store.save_view("contoso", {"b": {"upn": "b2@x", "when": datetime(2026, 1, 2, tzinfo=timezone.utc)}})
    assert store.load_view("contoso") == {"b": {"upn": "b2@x", "when": "2026-01-02T00:00:00+00:00"}}
    store.save_view("contoso", {})
    assert store.load_view("contoso") == {}
    assert store.load_view("other") == {"z": {}}


def test_commit_read_writes_bookmark_and_view_together(store):
    store.commit_read("contoso", "delta-1", {"a": {"upn": "a@x"}})
    assert (store.get_bookmark("contoso"), store.load_view("contoso")) == ("delta-1", {"a": {"upn": "a@x"}})
    store.commit_read("contoso", "delta-2", None)  # a full-read source keeps no view: the old one stays
    assert (store.get_bookmark("contoso"), store.load_view("contoso")) == ("delta-2", {"a": {"upn": "a@x"}})

    # The bookmark is written first; the view then fails: neither may stick.
    # (psycopg 3 lets the serializer's TypeError through; SQLite wraps it)
    with pytest.raises((StatementError, TypeError)):
        store.commit_read("contoso", "delta-3", {"b": {"upn": "b@x", "bad": object()}})
    assert (store.get_bookmark("contoso"), store.load_view("contoso")) == ("delta-2", {"a": {"upn": "a@x"}})


@pytest.mark.slow  # about 5 s on PostgreSQL, most of it the 100k rows' round trips
def test_save_view_of_100k_records_round_trips(store):
    view = {
        f"{i:08d}-0000-4000-8000-000000000000": {
            "source_id": f"{i:08d}-0000-4000-8000-000000000000",
            "username": f"user{i}@contoso.onmicrosoft.com",
            "display_name": f"User {i}",
            "mail": f"user{i}@contoso.com",
            "enabled": True,
            "groups": ["sales", "emea"],
        }
        for i in range(100_000)
    }
    for _ in range(2):  # into an empty view, then replacing a full one (its speed: bench/)
        store.save_view("contoso", view)
        assert store.load_view("contoso") == view


# -- token cache -------------------------------------------------------------------------------------


def test_token_cache_and_token_store(store):
    assert store.load_token_cache("contoso") is None
    store.save_token_cache("contoso", '{"AccessToken": {}}')
    store.save_token_cache("contoso", '{"AccessToken": {"k": "secret-value"}}')
    assert store.load_token_cache("contoso") == '{"AccessToken": {"k": "secret-value"}}'
    tokens = store.token_store("contoso:graph")
    assert tokens.load() is None
    tokens.save("cache-data-secret")
    assert tokens.load() == "cache-data-secret"
    assert store.load_token_cache("contoso:graph") == "cache-data-secret"
    assert "secret" not in repr(tokens)


def test_token_store_satisfies_the_contract(store):
    from syncframe.contracts import ConnectorContext, TokenStore

    tokens: TokenStore = store.token_store("c")  # a structural type: what the plugins receive
    context = ConnectorContext(name="c", profile={}, token_store=tokens)
    context.token_store.save("x")
    assert context.token_store.load() == "x"


def test_store_repr_and_display_url_hide_the_password():
    store = StateStore("postgresql+psycopg2://sync:hunter2@db.example/state", engine=_unused_engine())
    assert store.url == "postgresql+psycopg2://sync:hunter2@db.example/state"
    assert store.display_url == "postgresql+psycopg2://sync:***@db.example/state"
    assert "hunter2" not in repr(store) and "hunter2" not in repr(store.token_store("k"))


def _unused_engine():
    from sqlalchemy import create_engine

    return create_engine("sqlite://")  # never connected: only the URL handling is under test


def test_several_processes_write_one_store(store):
    """SQLite in WAL mode with a busy timeout: writers in other processes wait, not fail."""
    helper = Path(__file__).with_name("state_process.py")
    writers = [
        subprocess.Popen([sys.executable, str(helper), "write", store.url, f"c{n}", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [(w.returncode, out.strip()) for w, (out, _err) in zip(writers, outputs)] == [(0, "WROTE")] * 3, outputs
    assert len(store.runs(limit=1000)) == 60
    assert all(len(store.links(f"c{n}")) == 20 and store.get_bookmark(f"c{n}") == "19" for n in range(3))
