"""Applying: the journal, per-item failures, fatal errors, the bookmark, bounded
concurrency, the lifecycle hooks, and that ``plan`` writes nothing."""

from __future__ import annotations

import hashlib
import threading
import time
import types
from typing import Any

import syncframe.testing
from syncframe import PlanItem, hookimpl
from syncframe.connector import load_profile
from syncframe.engine import ConnectorRunner
from syncframe.plugins import get_plugin_manager
from syncframe.testing import FileTarget, FileTargetSchema

from .conftest import Workspace, ident


def _digest(path: Any) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plan_writes_nothing_to_the_target_or_the_store(ws: Workspace) -> None:
    ws.seed({"login": "user1"}, {"login": "someone", "email": "user2@contoso.com"})
    ws.set_users([ident(1), ident(2), ident(3)])
    before = _digest(ws.accounts_db)
    result = ws.plan()
    assert result.exit_code == 3 and result.json["counts"] == {**result.json["counts"], "adopt": 2, "create": 1}
    assert result.json["run_id"] is None and result.json["bookmark"] is False
    assert _digest(ws.accounts_db) == before
    store = ws.store()
    assert store.runs() == [] and store.links("contoso") == {} and store.get_bookmark("contoso") is None and store.load_view("contoso") == {}
    # the same after a run: a plan adds no history, journal or links
    ws.run()
    runs, links = store.runs(), store.links("contoso")
    ws.set_users([ident(1), ident(4)])
    assert ws.plan().exit_code == 3
    assert store.runs() == runs and store.links("contoso") == links


def test_every_write_is_journaled_with_its_outcome(ws: Workspace) -> None:
    ws.seed({"login": "user2"})
    ws.set_users([ident(1), ident(2)])
    result = ws.run()
    store = ws.store()
    journal = store.journal(result.json["run_id"])
    assert [(j.kind, j.login, j.state) for j in sorted(journal, key=lambda j: j.login)] == [
        ("create", "user1@contoso.com", "ok"),
        ("adopt", "user2@contoso.com", "ok"),
    ]
    adopt = next(j for j in journal if j.kind == "adopt")
    assert adopt.item["rename_from"] == "user2" and adopt.result["login"] == "user2@contoso.com"
    links = store.links("contoso")
    assert {sid: (l.login, l.origin) for sid, l in links.items()} == {
        "id-1": ("user1@contoso.com", "created"),
        "id-2": ("user2@contoso.com", "adopted"),
    }
    history = ws.cli("history", "contoso", "--run", str(result.json["run_id"])).json
    assert history["status"] == "ok" and len(history["journal"]) == 2
    assert history["summary"]["notices"].get("renamed", []) == ["user2@contoso.com"]


def test_a_failed_item_does_not_stop_the_others_and_keeps_the_bookmark(ws: Workspace) -> None:
    ws.source_extra = {"incremental": True}
    ws.write_profile()
    ws.set_users([ident(1), ident(2)])
    assert ws.run().exit_code == 0
    store = ws.store()
    bookmark, view = store.get_bookmark("contoso"), store.load_view("contoso")

    ws.target_extra = {"fail_logins": ["user4@contoso.com"]}
    ws.write_profile()
    ws.set_users([ident(1, display_name="One"), ident(3), ident(4), ident(5)])  # user 2 leaves
    failed = ws.run()
    report = failed.json
    assert failed.exit_code == 1 and report["status"] == "failed"
    assert report["errors"] == [{"kind": "create", "login": "user4@contoso.com", "source_id": "id-4", "error": "the target rejected 'user4@contoso.com'", "permanent": False}]
    assert report["counts"]["error"] == 1 and report["applied"] == 3
    assert report["removals_withheld"] and report["not_applied"] == 1  # nobody is removed after an error
    assert "user2@contoso.com" in ws.logins() and "user5@contoso.com" in ws.logins()
    assert report["bookmark"] is False
    assert store.get_bookmark("contoso") == bookmark and store.load_view("contoso") == view

    ws.target_extra = {}
    ws.write_profile()
    fixed = ws.run()
    assert fixed.exit_code == 0 and fixed.json["bookmark"] is True
    # the delta is still computed from the old view: nothing was lost by not advancing
    assert fixed.json["counts"]["create"] == 1 and fixed.json["counts"]["delete"] == 1 and fixed.json["counts"]["update"] == 0
    assert ws.logins() == [f"user{i}@contoso.com" for i in (1, 3, 4, 5)]
    assert store.get_bookmark("contoso") != bookmark


def test_a_fatal_error_stops_every_further_write_and_every_removal(ws: Workspace) -> None:
    ws.write_profile(concurrency=1)
    ws.set_users([ident(1), ident(2)])
    ws.run()
    ws.target_extra = {"fatal_logins": ["user3@contoso.com"]}
    ws.write_profile(concurrency=1)
    ws.set_users([ident(3), ident(4), ident(5), ident(6), ident(1, display_name="One")])  # user 2 leaves
    result = ws.run()
    report = result.json
    assert result.exit_code == 1
    assert "refused the credentials" in report["error"]
    # one write at a time, in source-id order: user 1's update, then user 3's fatal create
    assert report["applied"] == 1 and report["counts"]["error"] == 1
    assert report["not_applied"] == 4  # the three other creates and the removal never ran
    assert ws.logins() == ["user1@contoso.com", "user2@contoso.com"]
    states = sorted(j.state for j in ws.store().journal(report["run_id"]))
    assert "intent" not in states  # every journaled intent got its outcome


class _CountingTarget(FileTarget):
    """Records how many writes run at once."""

    lock = threading.Lock()
    active = 0
    peak = 0

    def apply(self, item: PlanItem) -> Any:
        cls = type(self)
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            time.sleep(0.02)
            return super().apply(item)
        finally:
            with cls.lock:
                cls.active -= 1


class _Recorder:
    """A real plugin: registers the counting target and records the lifecycle hooks."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, str | None, bool]] = []
        self.finished: list[dict[str, Any]] = []
        self.threads: set[str] = set()

    @hookimpl
    def syncframe_register_targets(self, register: Any) -> None:
        register("counting", _CountingTarget, FileTargetSchema)

    @hookimpl
    def syncframe_item_applied(self, item: PlanItem) -> None:
        self.applied.append((item.kind.value, item.login, item.applied))
        self.threads.add(threading.current_thread().name)

    @hookimpl
    def syncframe_run_finished(self, plan: Any, summary: dict[str, Any]) -> None:
        self.finished.append(summary)


def test_writes_run_concurrently_up_to_the_limit_and_hooks_see_each_item(ws: Workspace) -> None:
    recorder = _Recorder()
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, recorder])
    text = ws.write_profile(concurrency=3, adaptive_concurrency=False).replace('type = "memory"', 'type = "counting"')
    connector = load_profile(text, pm, "contoso")
    ws.set_users([ident(i) for i in range(12)])
    outcome = ConnectorRunner(connector, pm, ws.store()).run()
    assert outcome.exit_code == 0 and len(ws.logins()) == 12
    assert _CountingTarget.peak == 3
    assert sorted(recorder.applied) == sorted(("create", f"user{i}@contoso.com", True) for i in range(12))
    assert recorder.threads == {threading.current_thread().name}  # hooks run on the applying thread
    assert len(recorder.finished) == 1 and recorder.finished[0]["counts"]["create"] == 12


def test_adaptive_writes_start_at_two_and_never_pass_the_cap(ws: Workspace) -> None:
    _CountingTarget.peak = 0
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, _Recorder()])
    text = ws.write_profile(concurrency=3).replace('type = "memory"', 'type = "counting"')  # adaptive by default
    connector = load_profile(text, pm, "contoso")
    ws.set_users([ident(i) for i in range(40)])
    outcome = ConnectorRunner(connector, pm, ws.store()).run()
    assert outcome.exit_code == 0 and len(ws.logins()) == 40
    assert 2 <= _CountingTarget.peak <= 3  # the cap holds whatever the writes' timing says


def test_a_failing_observer_hook_does_not_fail_the_run(ws: Workspace) -> None:
    broken = types.SimpleNamespace()

    @hookimpl
    def syncframe_item_applied(item: Any) -> None:
        raise RuntimeError("observer bug")

    broken.syncframe_item_applied = syncframe_item_applied
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, broken])
    connector = load_profile(ws.write_profile(), pm, "contoso")
    ws.set_users([ident(1)])
    assert ConnectorRunner(connector, pm, ws.store()).run().exit_code == 0


def test_a_source_error_fails_the_run_and_is_recorded(ws: Workspace) -> None:
    ws.set_users([ident(1)], fail="the directory is down")
    result = ws.run()
    assert result.exit_code == 1 and result.json["error"] == "the directory is down"
    runs = ws.store().runs("contoso")
    assert runs[0].status == "failed" and runs[0].error == "the directory is down"
    assert ws.plan().exit_code == 1


def test_observers_hear_about_failed_runs(ws: Workspace) -> None:
    recorder = _Recorder()
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, recorder])
    connector = load_profile(ws.write_profile(), pm, "contoso")
    ws.set_users([ident(1)], fail="the directory is down")
    assert ConnectorRunner(connector, pm, ws.store()).run().exit_code == 1
    assert [(s["status"], s["error"]) for s in recorder.finished] == [("failed", "the directory is down")]


def test_a_second_run_while_one_holds_the_lock_exits_5(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    store = ws.store()
    with store.lock("contoso", holder="another test run"):
        result = ws.run()
    assert result.exit_code == 5
    assert "locked by another run: another test run" in result.json["error"]["message"]  # --json: the error is JSON too
    assert ws.logins() == []


def _run_on_a_terminal(ws: Workspace, answer: bytes) -> tuple[int, str]:
    """``syncframe run`` with a pseudo-terminal as stdin, answering the prompt."""
    import os
    import subprocess
    import sys

    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from syncframe.cli import main; main()", "run", "--profile", str(ws.profile)],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **ws.env(COLUMNS="200")},
            text=True,
        )
        os.write(master, answer)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out + err


def test_a_person_at_a_terminal_is_asked_before_anything_is_written(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    code, output = _run_on_a_terminal(ws, b"n\n")
    assert code == 3 and "Apply 1 change(s) to the target?" in output
    assert ws.logins() == [] and ws.store().runs("contoso")[0].status == "aborted"
    code, output = _run_on_a_terminal(ws, b"y\n")
    assert code == 0 and ws.logins() == ["user1@contoso.com"]
