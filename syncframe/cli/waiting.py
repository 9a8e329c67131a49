"""The accounts waiting for deletion (disabled leavers), as people read them: in the
report of ``plan`` and ``run``, and in ``history``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from rich.console import Console
from rich.table import Table

_STATES = {
    "waiting": "waiting",
    "kept": "kept (syncframe keep)",
    "undated": "kept until released",
    "enabled": "enabled again by hand: kept until released",
    "due": "due: deleted by the next run",
    "disabling": "disabled by this run",
}


def render_waiting(console: Console, leavers: Sequence[Mapping[str, Any]]) -> None:
    """A table of disabled leavers and their due dates; nothing when there are none."""
    if not leavers:
        return
    table = Table(title=f"{len(leavers)} account(s) disabled, waiting for deletion", title_justify="left")
    for column in ("login", "disabled", "delete due", "state"):
        table.add_column(column)
    for leaver in leavers:
        table.add_row(str(leaver.get("login")), _day(leaver.get("disabled_at"), "this run"), _day(leaver.get("delete_due"), "never"), _STATES.get(str(leaver.get("state")), str(leaver.get("state"))))
    console.print(table)


def _day(value: Any, none: str) -> str:
    if not value:
        return none
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return f"{moment:%Y-%m-%d %H:%M} UTC"
