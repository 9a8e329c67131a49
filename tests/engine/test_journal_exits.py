"""Every way out of applying a plan records the outcomes it buffered (journal batching):
the state store is never left behind the target by a run that could still write to it,
and no write starts after the applying thread gave up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

import syncframe.testing
from syncframe import PlanItem, hookimpl
from syncframe.connector import load_profile
from syncframe.engine import ConnectorRunner
from syncframe.plugins import get_plugin_manager
from syncframe.state import StateStore
from syncframe.testing import KILL_AFTER_WRITES_ENV, FileTarget, FileTargetSchema

from .conftest import Workspace, ident

USERS = 10
#: users 11..20: their source ids sort as their numbers do (the order writes go in)
NUMBERS = range(11, 11 + USERS)


class _CtrlCInAHook:
    """An observer during which Ctrl-C arrives (KeyboardInterrupt on the applying thread)."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.seen: list[str] = []

    @hookimpl
    def syncframe_item_applied(self, item: PlanItem) -> None:
        self.seen.append(str(item.login))
        if len(self.seen) == self.at:
            raise KeyboardInterrupt


class _JunkTarget(FileTarget):
    """A target plugin with a bug: after creating user 14 it answers with a string, not an Account."""

    def apply(self, item: PlanItem) -> Any:
        account = super().apply(item)
        return "done" if item.login == "user14@contoso.com" else account


class _JunkPlugin:
    @hookimpl
    def syncframe_register_targets(self, register: Any) -> None:
        register("junk", _JunkTarget, FileTargetSchema)


def _journal_states(ws: Workspace) -> dict[str, str]:
    store = ws.store()
    [run] = store.runs("contoso")
    return {str(j.login): j.state for j in store.journal(run.id)}


def test_ctrl_c_inside_a_hook_stops_the_run_and_records_every_outcome(ws: Workspace) -> None:
    observer = _CtrlCInAHook(at=3)
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, observer])
    connector = load_profile(ws.write_profile(concurrency=1, adaptive_concurrency=False), pm, "contoso")
    ws.set_users([ident(i) for i in NUMBERS])
    try:
        outcome = ConnectorRunner(connector, pm, ws.store()).run()
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the run instead of stopping it as SIGTERM does")

    assert outcome.report.status == "aborted" and outcome.exit_code == 1
    landed = ws.logins()
    assert 3 <= len(landed) < USERS, "the run stopped soon after Ctrl-C"
    states = _journal_states(ws)
    assert "intent" not in states.values(), states  # the buffered outcomes were recorded
    assert {login for login, state in states.items() if state == "ok"} == set(landed)
    assert {link.login for link in ws.store().links("contoso").values()} == set(landed), "the store is not behind the target"
    assert sorted(observer.seen) == sorted(landed), "the hook saw every write that landed"


def test_a_plugin_bug_on_the_applying_thread_records_the_buffered_outcomes_and_starts_no_more_writes(ws: Workspace) -> None:
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, _JunkPlugin()])
    text = ws.write_profile(concurrency=1, adaptive_concurrency=False).replace('type = "memory"', 'type = "junk"')
    connector = load_profile(text, pm, "contoso")
    ws.set_users([ident(i) for i in NUMBERS])
    with pytest.raises(AttributeError):
        ConnectorRunner(connector, pm, ws.store()).run()

    landed = ws.logins()
    assert landed[:4] == [f"user{i}@contoso.com" for i in range(11, 15)]
    # one write at a time; the one already handed to the pool may have started, none after it
    assert len(landed) <= 5, landed
    states = _journal_states(ws)
    assert [states[f"user{i}@contoso.com"] for i in range(11, 14)] == ["ok"] * 3, states  # buffered before the bug: recorded
    assert {link.login for link in ws.store().links("contoso").values()} >= {f"user{i}@contoso.com" for i in range(11, 14)}
    # the next run resolves user 14's open intent once and converges
    rerun = ws.run()
    assert rerun.exit_code == 0, rerun.stdout
    assert Counter(ws.logins()) == {f"user{i}@contoso.com": 1 for i in NUMBERS}


@pytest.mark.slow  # a child process
def test_a_kill_with_many_outcomes_buffered_is_resolved_once_each(ws: Workspace) -> None:
    ws.write_profile(concurrency=4, adaptive_concurrency=False)
    ws.set_users([ident(i) for i in range(1, 41)])
    killed = ws.subprocess("--json", "run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "20"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    landed = ws.logins()
    assert len(landed) >= 20
    store = ws.store()
    open_intents = store.unfinished_intents("contoso")
    assert open_intents, "the kill left intents for the next run"

    rerun = ws.run()
    assert rerun.exit_code == 0, rerun.stdout
    assert Counter(a["login"] for a in ws.accounts()) == {f"user{i}@contoso.com": 1 for i in range(1, 41)}
    assert store.unfinished_intents("contoso") == []
    assert {link.login for link in store.links("contoso").values()} == set(ws.logins()), "no lost links"
    notes = [r["login"] for r in rerun.json["recovered"]]
    assert len(notes) == len(set(notes)) == len(open_intents), "each open intent resolved once"


@pytest.mark.slow  # a child process, signalled half way
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_run_signalled_half_way_prints_a_parseable_report_and_journals_every_write(ws: Workspace, sig: signal.Signals) -> None:
    ws.target_extra = {"latency": 0.05}
    ws.write_profile(concurrency=2, adaptive_concurrency=False)
    ws.set_users([ident(i) for i in range(100, 140)])
    child = subprocess.Popen(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "--json", "run", "--profile", str(ws.profile), "--yes"],
        env={**os.environ, **ws.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(ws.logins()) < 6 and child.poll() is None:
            time.sleep(0.02)
        assert child.poll() is None, "the run ended before the signal"
        child.send_signal(sig)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()

    assert child.returncode == 1, (stdout, stderr)
    report = json.loads(stdout)  # the streamed report is one whole JSON document
    assert report["status"] == "aborted" and report["bookmark"] is False
    landed = ws.logins()
    assert 6 <= len(landed) < 40
    assert report["applied"] == len(landed) and report["applied"] + report["not_applied"] == 40
    store = ws.store()
    assert store.unfinished_intents("contoso") == [], "every intent got its outcome"
    assert {link.login for link in store.links("contoso").values()} == set(landed), "the store is not behind the target"


def _run_with_ctrl_c_in_a_statement(ws: Workspace, store: StateStore, starts: str, nth: int) -> Any:
    """Run the connector (one write at a time); Ctrl-C lands while the ``nth`` SQL
    statement starting with ``starts`` is about to run on the state store."""
    seen: list[str] = []

    def ctrl_c(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(starts):
            seen.append(statement)
            if len(seen) == nth:
                raise KeyboardInterrupt

    event.listen(store.engine, "before_cursor_execute", ctrl_c)
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing])
    connector = load_profile(ws.write_profile(concurrency=1, adaptive_concurrency=False), pm, "contoso")
    ws.set_users([ident(i) for i in NUMBERS])
    try:
        outcome = ConnectorRunner(connector, pm, store).run()
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the run instead of stopping it as SIGTERM does")
    assert len(seen) >= nth, "Ctrl-C landed"
    return outcome


@pytest.mark.parametrize("latency", [0.1, 0.0], ids=["a-batch-half-way", "the-last-batch"])
def test_ctrl_c_while_outcomes_are_being_journaled_loses_none_of_them(ws: Workspace, latency: float) -> None:
    """Ctrl-C lands inside the transaction that records a batch of outcomes (one that
    half a second of slow writes filled, or the last): it rolls back, and the batch is
    recorded again before the run reports."""
    ws.target_extra = {"latency": latency}
    store = ws.store()
    outcome = _run_with_ctrl_c_in_a_statement(ws, store, "UPDATE JOURNAL", nth=1)

    assert outcome.report.status == "aborted"
    landed = ws.logins()
    assert landed and (len(landed) < USERS if latency else len(landed) == USERS)
    assert store.unfinished_intents("contoso") == [], "the interrupted batch was recorded after all"
    assert {link.login for link in store.links("contoso").values()} == set(landed), "the store is not behind the target"


def test_ctrl_c_while_intents_are_being_journaled_counts_every_write_as_applied_or_not(ws: Workspace) -> None:
    """Ctrl-C lands inside the transaction that records the next batch of intents: those
    writes never start, and the report still accounts for every one of them."""
    store = ws.store()
    report = _run_with_ctrl_c_in_a_statement(ws, store, "INSERT INTO JOURNAL", nth=2).report

    assert report.status == "aborted"
    landed = ws.logins()
    assert len(landed) <= 2, "only the first batch of intents (2 x 1 in flight) could be written"
    assert store.unfinished_intents("contoso") == []
    counts = report.to_dict()
    assert counts["applied"] == len(landed) and counts["applied"] + counts["not_applied"] == USERS, "every write is accounted for"


@pytest.mark.slow  # a child process
def test_a_kill_among_removals_with_outcomes_buffered_leaves_no_link_to_a_removed_account(ws: Workspace) -> None:
    ws.write_profile(concurrency=3, adaptive_concurrency=False, guard={"max_per_run": 100, "max_percent": 100, "min_allowed": 0})
    ws.set_users([ident(i) for i in NUMBERS])
    assert ws.run().exit_code == 0
    staying = list(NUMBERS)[:4]
    ws.set_users([ident(i) for i in staying])  # six leave: six removals

    killed = ws.subprocess("--json", "run", "--profile", str(ws.profile), "--yes", env={KILL_AFTER_WRITES_ENV: "3"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert 4 < len(ws.logins()) < USERS, "the kill came half way through the removals"
    store = ws.store()
    open_intents = store.unfinished_intents("contoso")
    assert open_intents

    rerun = ws.run()
    assert rerun.exit_code == 0, rerun.stdout
    assert ws.logins() == [f"user{i}@contoso.com" for i in staying]
    assert store.unfinished_intents("contoso") == []
    assert {link.login for link in store.links("contoso").values()} == set(ws.logins()), "no link names a removed account"
    recovered = [r["login"] for r in rerun.json["recovered"]]
    assert sorted(recovered) == sorted({j.login for j in open_intents}) and len(recovered) == len(open_intents)
