"""What the connectors page says about each connector, from the state store alone
(no source or target is contacted to draw it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..connector import load_profile
from ..errors import ConfigError


@dataclass
class ConnectorSummary:
    name: str
    title: str
    source: str = ""
    target: str = ""
    mode: str = ""
    interval: int | None = None
    error: str | None = None  # the profile does not load
    status: str = "never run"
    last_run: Any = None
    next_due: datetime | None = None
    held: int = 0
    failures: int = 0  # failed runs in a row, newest first
    counts: dict[str, int] = field(default_factory=dict)


def summarize(row: Any, store: Any, pm: Any, running: bool = False) -> ConnectorSummary:
    """The summary of one stored connector (``row``: a ConnectorRow)."""
    try:
        connector = load_profile(row.profile_text, pm, row.name)
    except ConfigError as exc:
        return ConnectorSummary(row.name, row.name, error=str(exc).splitlines()[0])
    summary = ConnectorSummary(
        row.name,
        str(connector.profile.get("title") or row.name),
        connector.source_type,
        connector.target_type,
        connector.mode,
        connector.interval,
    )
    runs = [r for r in store.runs(row.name, limit=20) if r.kind == "run"]
    if runs:
        last = runs[0]
        summary.last_run = last
        summary.status = last.status
        summary.counts = {k: int(v) for k, v in (last.counts or {}).items() if v and k != "noop"}
        summary.held = int(((last.summary or {}).get("held") or {}).get("count") or 0)
        for run in runs:
            if run.status != "failed":
                break
            summary.failures += 1
        if connector.interval and last.finished_at is not None:
            summary.next_due = last.finished_at + timedelta(seconds=connector.interval)
    if running:
        summary.status = "running"
    return summary


@dataclass
class FollowUp:
    """People to tell about a change a run made (the target's notices: pair the mobile app again...)."""

    run_id: int
    when: datetime | None
    message: str
    logins: list[str]


def follow_ups(runs: list[Any]) -> list[FollowUp]:
    """The notices of every run in ``runs`` (newest first), not only the last run's: a run
    without renames must not hide the people an earlier one left to tell."""
    found = []
    for run in runs:
        summary = run.summary or {}
        messages = summary.get("notice_messages") or {}
        for code, logins in (summary.get("notices") or {}).items():
            if logins:
                found.append(FollowUp(int(run.id), run.finished_at, str(messages.get(code) or code), [str(login) for login in logins]))
    return found
