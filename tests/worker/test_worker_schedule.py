"""When a connector is due: serve's interval and back-off, read from the run history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from syncframe.serve import backoff_delay
from syncframe.state.rows import RunRow
from syncframe.worker.schedule import consecutive_failures, due_now, next_due

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def run(n: int, status: str, *, minutes: int = 0, kind: str = "run", running: bool = False) -> RunRow:
    started = T0 + timedelta(minutes=minutes)
    return RunRow(n, "c", "sync", kind, status, started, None if running else started + timedelta(seconds=30))


def test_a_connector_that_never_ran_is_due_at_once() -> None:
    due = next_due("c", 3600, [])
    assert due.is_due(T0) and due.failures == 0


def test_after_a_good_run_the_connector_waits_its_interval() -> None:
    due = next_due("c", 3600, [run(1, "ok")])
    assert due.due_at == T0 + timedelta(seconds=30 + 3600)
    assert not due.is_due(T0 + timedelta(minutes=59))
    assert due.is_due(T0 + timedelta(minutes=61))


def test_failures_in_a_row_back_off_as_serve_does() -> None:
    history = [run(3, "failed", minutes=20), run(2, "failed", minutes=10), run(1, "ok")]  # newest first
    due = next_due("c", 60, history)
    assert due.failures == 2
    assert due.due_at == history[0].finished_at + timedelta(seconds=backoff_delay(60, 2))
    assert backoff_delay(60, 2) == 120


def test_held_resets_the_back_off_and_an_aborted_run_neither_counts_nor_resets() -> None:
    assert consecutive_failures([run(3, "failed"), run(2, "held"), run(1, "failed")]) == 1
    assert consecutive_failures([run(3, "aborted"), run(2, "failed"), run(1, "failed")]) == 2


def test_a_run_stopped_between_writes_is_due_again_at_once() -> None:
    due = next_due("c", 3600, [run(2, "aborted", minutes=5), run(1, "ok")])
    assert due.is_due(T0 + timedelta(minutes=6))


def test_a_run_still_running_counts_from_its_start() -> None:
    due = next_due("c", 600, [run(1, "running", running=True)])
    assert due.due_at == T0 + timedelta(seconds=600)


def test_time_scale_shrinks_every_wait() -> None:
    due = next_due("c", 60, [run(1, "failed")], time_scale=0.01)
    assert due.due_at == T0 + timedelta(seconds=30 + 0.6)


def test_due_now_lists_the_longest_overdue_first() -> None:
    a = next_due("a", 60, [run(1, "ok", minutes=0)])
    b = next_due("b", 60, [run(1, "ok", minutes=-5)])
    c = next_due("c", 60, [run(1, "ok", minutes=30)])
    assert [d.name for d in due_now([a, b, c], now=T0 + timedelta(minutes=10))] == ["b", "a"]
