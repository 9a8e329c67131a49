"""Decisions people make, and the link changes they carry, in the state store.

A person releases a held removal by login (``syncframe release``), takes a release
back (``syncframe hold``), links a directory user to an existing account by hand
(``syncframe link``) or drops a link (``syncframe unlink``), and applies a saved plan
(``syncframe run --plan``). Each is a row in ``decisions`` with the operator's name
and the time: the audit trail ``history`` shows. Releases are pending until the next
run of the connector consumes them; the others take effect at once.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import ConfigError
from .models import DecisionModel, LinkModel, utcnow
from .rows import DecisionRow

#: what a decision can be (the web console also records who started a run, edited a
#: connector or started a sign-in)
DECISION_KINDS = ("release", "hold", "link", "unlink", "apply_plan", "run", "connector_add", "connector_edit", "authenticate", "keep", "unkeep")


class DecisionLog:
    """The decision part of :class:`~syncframe.state.store.StateStore` (a mixin: it uses
    the store's ``_write`` and ``_read`` transactions)."""

    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]

    def record_decision(self, connector: str, kind: str, subject: str, operator: str, detail: Mapping[str, Any] | None = None) -> DecisionRow:
        """Record one decision (the audit trail) and return it."""
        with self._write() as session:
            return _record(session, connector, kind, subject, operator, detail)

    def decisions(self, connector: str | None = None, limit: int = 50) -> list[DecisionRow]:
        """Decisions, newest first (all connectors when ``connector`` is None)."""
        with self._read() as session:
            query = select(DecisionModel).order_by(DecisionModel.id.desc()).limit(limit)
            if connector is not None:
                query = query.where(DecisionModel.connector == connector)
            return [_row(r) for r in session.scalars(query)]

    def pending_releases(self, connector: str) -> dict[str, DecisionRow]:
        """Released logins (folded to lower case) waiting for the next run: the latest
        release or hold of each login wins, and a consumed one is no longer pending."""
        with self._read() as session:
            rows = session.scalars(
                select(DecisionModel)
                .where(DecisionModel.connector == connector, DecisionModel.kind.in_(("release", "hold")), DecisionModel.consumed_run.is_(None))
                .order_by(DecisionModel.id)
            )
            latest: dict[str, DecisionRow] = {}
            for row in rows:
                latest[row.subject.lower()] = _row(row)
            return {login: row for login, row in latest.items() if row.kind == "release"}

    def consume_releases(self, connector: str, run_id: int) -> int:
        """Mark every pending release and hold of ``connector`` as acted on by ``run_id``."""
        with self._write() as session:
            result = session.execute(
                update(DecisionModel)
                .where(DecisionModel.connector == connector, DecisionModel.kind.in_(("release", "hold")), DecisionModel.consumed_run.is_(None))
                .values(consumed_run=run_id)
            )
            return int(result.rowcount or 0)

    def link_by_hand(self, connector: str, source_id: str, target_id: str, login: str, operator: str, detail: Mapping[str, Any] | None = None) -> DecisionRow:
        """Link ``source_id`` to an existing account, with its decision, in one transaction.

        :raises ConfigError: when the source id is linked already, or the account is
            linked to another source id (of this or any other connector in this store).
        """
        now = utcnow()
        with self._write() as session:
            existing = session.get(LinkModel, (connector, source_id))
            if existing is not None:
                raise ConfigError(
                    f"source id {source_id!r} is linked already, to {existing.login!r}; "
                    f"'syncframe unlink {connector} {existing.login}' first"
                )
            owner = session.scalars(select(LinkModel).where(LinkModel.target_id == target_id)).first()
            if owner is not None:
                whose = "this connector" if owner.connector == connector else f"connector {owner.connector!r}"
                raise ConfigError(f"account {login!r} is linked already, to source id {owner.source_id!r} of {whose}")
            session.add(LinkModel(connector=connector, source_id=source_id, target_id=target_id, login=login, origin="adopted", created_at=now, updated_at=now))
            return _record(session, connector, "link", source_id, operator, {"login": login, "target_id": target_id, **dict(detail or {})})

    def unlink_by_hand(self, connector: str, login: str, operator: str) -> DecisionRow:
        """Drop this connector's link to ``login`` (the account is not touched), with its decision.

        :raises ConfigError: when no link of this connector names ``login``.
        """
        with self._write() as session:
            row = session.scalars(
                select(LinkModel).where(LinkModel.connector == connector, LinkModel.login.in_({login, login.lower()}))
            ).first()
            if row is None:
                raise ConfigError(f"connector {connector!r} has no link to a login {login!r}")
            detail = {"source_id": row.source_id, "target_id": row.target_id, "origin": row.origin}
            session.delete(row)
            return _record(session, connector, "unlink", row.login, operator, detail)


def _record(session: Session, connector: str, kind: str, subject: str, operator: str, detail: Mapping[str, Any] | None) -> DecisionRow:
    if kind not in DECISION_KINDS:
        raise ValueError(f"decision kind must be one of {DECISION_KINDS}, not {kind!r}")
    row = DecisionModel(connector=connector, kind=kind, subject=subject, detail=dict(detail or {}), operator=operator, created_at=utcnow(), consumed_run=None)
    session.add(row)
    session.flush()
    return _row(row)


def _row(row: DecisionModel) -> DecisionRow:
    return DecisionRow(row.id, row.connector, row.kind, row.subject, dict(row.detail or {}), row.operator, row.created_at, row.consumed_run)
