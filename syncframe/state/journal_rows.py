"""The journal's writes in batches: many intents, or many outcomes with their link
changes, in one statement each (SQLAlchemy Core, executemany).

A run journals tens of thousands of writes; one ORM transaction per intent and
one per outcome cost more CPU than the target's own requests (2 ms per written
user). The store calls these inside one transaction of its own.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from .leavers import mark_leaver
from .models import JournalModel, LinkModel
from .rows import JournalOutcome

_JOURNAL = JournalModel.__table__
_LINKS = LinkModel.__table__
#: ids per ``IN (...)`` (SQLite limits the parameters of one statement)
_ID_BATCH = 500


def insert_intents(session: Session, run_id: int, connector: str, items: Sequence[Mapping[str, Any]], first_seq: int, now: datetime) -> list[int]:
    """Insert one intent row per item (seq ``first_seq``, ``first_seq + 1``, ...); their ids, in order."""
    rows = [
        {
            "run_id": run_id,
            "connector": connector,
            "seq": first_seq + n,
            "kind": _kind(item),
            "source_id": item.get("source_id"),
            "login": item.get("login"),
            "state": "intent",
            "item": dict(item),
            "created_at": now,
        }
        for n, item in enumerate(items)
    ]
    if not rows:
        return []
    statement = insert(_JOURNAL).returning(_JOURNAL.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def record_outcomes(session: Session, outcomes: Sequence[JournalOutcome], now: datetime) -> None:
    """Mark each entry ``ok`` or ``failed`` and make the link changes they carry.

    :raises KeyError: an outcome names no journal entry (nothing is written then).
    """
    if not outcomes:
        return
    connectors = _connectors_of(session, [o.journal_id for o in outcomes])
    missing = [o.journal_id for o in outcomes if o.journal_id not in connectors]
    if missing:
        raise KeyError(f"no journal entry {missing[0]}")
    session.execute(
        update(_JOURNAL).where(_JOURNAL.c.id == bindparam("entry_id")),
        [
            {
                "entry_id": o.journal_id,
                "state": "ok" if o.ok else "failed",
                "result": dict(o.result) if o.result is not None else None,
                "error": o.error,
                "finished_at": now,
            }
            for o in outcomes
        ],
    )
    # the last change to a link wins, as if they were made one after the other
    changes: dict[tuple[str, str], tuple[str, str, str, str] | None] = {}
    for o in outcomes:
        connector = connectors[o.journal_id]
        if o.link is not None:
            changes[(connector, o.link[0])] = o.link
        if o.unlink is not None:
            changes[(connector, o.unlink)] = None
    by_connector: dict[str, dict[str, tuple[str, str, str, str] | None]] = {}
    for (connector, source_id), change in changes.items():
        by_connector.setdefault(connector, {})[source_id] = change
    for connector, links in by_connector.items():
        _change_links(session, connector, links, now)
    for o in outcomes:
        if o.leaver is not None:  # a few per run: one by one
            mark_leaver(session, connectors[o.journal_id], *o.leaver)


def _change_links(session: Session, connector: str, links: Mapping[str, tuple[str, str, str, str] | None], now: datetime) -> None:
    gone = [sid for sid, link in links.items() if link is None]
    kept = {sid: link for sid, link in links.items() if link is not None}
    existing = set(_select_in(session, select(_LINKS.c.source_id).where(_LINKS.c.connector == connector), _LINKS.c.source_id, list(kept)))
    # a leaver who came back is active again
    updates = [
        {"c": connector, "sid": sid, "target_id": target_id, "login": login, "origin": origin, "updated_at": now, "disabled_at": None, "delete_due": None, "kept": False}
        for sid, (_sid, target_id, login, origin) in kept.items()
        if sid in existing
    ]
    inserts = [
        {"connector": connector, "source_id": sid, "target_id": target_id, "login": login, "origin": origin, "created_at": now, "updated_at": now}
        for sid, (_sid, target_id, login, origin) in kept.items()
        if sid not in existing
    ]
    if updates:
        where = (_LINKS.c.connector == bindparam("c")) & (_LINKS.c.source_id == bindparam("sid"))
        session.execute(update(_LINKS).where(where), updates)
    if inserts:
        session.execute(insert(_LINKS), inserts)
    for batch in _batches(gone):
        session.execute(delete(_LINKS).where(_LINKS.c.connector == connector, _LINKS.c.source_id.in_(batch)))


def _connectors_of(session: Session, ids: list[int]) -> dict[int, str]:
    query = select(_JOURNAL.c.id, _JOURNAL.c.connector)
    return dict(_select_in(session, query, _JOURNAL.c.id, ids, rows=True))


def _select_in(session: Session, query: Any, column: Any, values: list[Any], rows: bool = False) -> Iterable[Any]:
    for batch in _batches(values):
        result = session.execute(query.where(column.in_(batch)))
        yield from (result if rows else result.scalars())


def _batches(values: list[Any]) -> Iterable[list[Any]]:
    return (values[i : i + _ID_BATCH] for i in range(0, len(values), _ID_BATCH))


def _kind(item: Mapping[str, Any]) -> str:
    kind = item.get("kind")
    return kind.value if isinstance(kind, enum.Enum) else str(kind)
