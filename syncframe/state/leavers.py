"""Leavers in the state store: linked users whose account was disabled, not deleted.

A leaver keeps its link (so a user who comes back gets the same account again) with
``disabled_at``, the ``delete_due`` date of its grace period, and ``kept`` when a
person keeps the account disabled indefinitely. A person's decisions about a leaver
(``release``: due now; ``keep`` and ``unkeep``) change the link and are recorded in
the audit trail in one transaction.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import ConfigError
from .decisions import _record
from .models import LinkModel
from .rows import DecisionRow, Link


def mark_leaver(session: Session, connector: str, source_id: str | None, delete_due: str | None) -> None:
    """Record that ``source_id``'s account was disabled now, due for deletion at ``delete_due``."""
    row = session.get(LinkModel, (connector, source_id))
    if row is None:
        return
    row.disabled_at = clock.now()
    row.delete_due = datetime.fromisoformat(delete_due) if delete_due else None
    row.kept = False
    session.flush()


class LeaverLog:
    """The leaver part of :class:`~syncframe.state.store.StateStore` (a mixin: it uses
    the store's ``_write`` and ``_read`` transactions)."""

    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]
    links: Callable[[str], dict[str, Link]]

    def leavers(self, connector: str) -> list[Link]:
        """``connector``'s disabled accounts, the soonest due first (kept and undated last)."""
        found = [link for link in self.links(connector).values() if link.disabled_at is not None]
        return sorted(found, key=lambda l: (l.kept, l.delete_due is None, l.delete_due or l.disabled_at, l.login))

    def release_leaver(self, connector: str, login: str, operator: str) -> DecisionRow:
        """Make a disabled leaver due now: the next run deletes it, through the removal guard.

        :raises ConfigError: when ``login`` is no disabled leaver of ``connector``.
        """
        now = clock.now()
        with self._write() as session:
            row = _leaver(session, connector, login)
            detail = {"source_id": row.source_id, "leaver": True, "was_due": _iso(row.delete_due), "kept": bool(row.kept), "due": now.isoformat()}
            row.delete_due, row.kept = now, False
            return _record(session, connector, "release", row.login, operator, detail)

    def hold_leaver(self, connector: str, login: str, operator: str, release: DecisionRow) -> DecisionRow:
        """Take back ``release`` (a pending :meth:`release_leaver`): the leaver's earlier due
        date and keep apply again, recorded as a ``hold``.

        :raises ConfigError: when ``login`` is no disabled leaver of ``connector`` any more.
        """
        with self._write() as session:
            row = _leaver(session, connector, login)
            was_due = release.detail.get("was_due")
            row.delete_due = datetime.fromisoformat(was_due) if was_due else None
            row.kept = bool(release.detail.get("kept"))
            return _record(session, connector, "hold", row.login, operator, {"source_id": row.source_id, "leaver": True, "delete_due": was_due})

    def keep_leaver(self, connector: str, login: str, operator: str, keep: bool = True) -> DecisionRow:
        """Keep a disabled leaver's account indefinitely (``keep``), or end that (``keep=False``:
        its due date applies again; a past one deletes it with the next run).

        :raises ConfigError: when ``login`` is no disabled leaver of ``connector``.
        """
        with self._write() as session:
            row = _leaver(session, connector, login)
            row.kept = keep
            detail = {"source_id": row.source_id, "delete_due": _iso(row.delete_due)}
            return _record(session, connector, "keep" if keep else "unkeep", row.login, operator, detail)


def _leaver(session: Session, connector: str, login: str) -> LinkModel:
    rows = list(session.scalars(select(LinkModel).where(LinkModel.connector == connector, LinkModel.disabled_at.is_not(None))))
    for row in rows:
        if row.login.lower() == login.lower():
            return row
    shown = ", ".join(sorted(r.login for r in rows)[:10]) or "none"
    raise ConfigError(f"{login!r} is no disabled leaver of connector {connector!r} (disabled now: {shown})")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
