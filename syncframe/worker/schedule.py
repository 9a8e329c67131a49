"""Which connectors are due: their interval after the last run, backed off after failures.

The rule is ``serve``'s (:func:`syncframe.serve.backoff_delay` and
:func:`syncframe.serve.failures_after`), applied to the run history in the state
store instead of a process's memory, so every worker, on any machine, reaches the
same answer. One difference: a run ``aborted`` between two writes (a worker was
stopped) is due again at once, since it did not finish its work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

from ..serve import backoff_delay, failures_after
from ..state.rows import RunRow

#: how far back the history is read to count failures in a row (2**12 intervals is past the cap)
HISTORY = 12


@dataclass(frozen=True)
class Due:
    """When a connector runs next, and why."""

    name: str
    due_at: datetime
    failures: int

    def is_due(self, now: datetime) -> bool:
        return self.due_at <= now


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def consecutive_failures(runs_newest_first: Sequence[RunRow]) -> int:
    """Failed runs in a row at the end of the history (an ``aborted`` run counts as stopped)."""
    failures = 0
    for run in reversed(runs_newest_first):
        if run.status == "running":
            continue
        failures = failures_after(failures, run.status, stopped=run.status == "aborted")
    return failures


def next_due(name: str, interval: float, runs_newest_first: Sequence[RunRow], time_scale: float = 1.0) -> Due:
    """When ``name`` is due, from its latest runs (newest first).

    Never ran: now (the epoch). Last run aborted: at once. Otherwise the last run's
    end (its start while it is still running) plus the interval, doubled for each
    failure in a row; every wait multiplied by ``time_scale``.
    """
    runs = [r for r in runs_newest_first if r.kind == "run"]
    if not runs:
        return Due(name, datetime.fromtimestamp(0, timezone.utc), 0)
    last = runs[0]
    failures = consecutive_failures(runs)
    since = _aware(last.finished_at or last.started_at)
    if last.status == "aborted":
        return Due(name, since, failures)
    delay = backoff_delay(float(interval), failures) * time_scale
    return Due(name, since + timedelta(seconds=delay), failures)


def due_now(schedule: Iterable[Due], now: datetime | None = None) -> list[Due]:
    """The entries due at ``now``, the longest overdue first."""
    now = now or datetime.now(timezone.utc)
    return sorted((d for d in schedule if d.is_due(now)), key=lambda d: d.due_at)
