"""Accounts of the web console in the state store: a name, a password hash, a role.

The store keeps only what the web console's hasher produced (argon2); it never
sees a password.
"""

from __future__ import annotations

import contextlib
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import ConfigError
from .models import AdminModel, WebSessionModel, utcnow
from .rows import AdminRow


class AdminAccounts:
    """The admin part of :class:`~syncframe.state.store.StateStore` (a mixin)."""

    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]

    def save_admin(self, name: str, password_hash: str, read_only: bool = False) -> AdminRow:
        """Add the account ``name``, or replace its password hash and role."""
        if not name or not name.strip() or name != name.strip():
            raise ConfigError("an account needs a name without leading or trailing spaces")
        now = utcnow()
        with self._write() as session:
            row = session.get(AdminModel, name)
            if row is None:
                row = AdminModel(name=name, password_hash=password_hash, read_only=read_only, created_at=now, updated_at=now)
                session.add(row)
            else:
                row.password_hash, row.read_only, row.updated_at = password_hash, read_only, now
                # a reset password or role signs the account out everywhere
                session.execute(delete(WebSessionModel).where(WebSessionModel.admin == name))
            session.flush()
            return _row(row)

    def get_admin(self, name: str) -> AdminRow | None:
        with self._read() as session:
            row = session.get(AdminModel, name)
            return _row(row) if row is not None else None

    def admins(self) -> list[AdminRow]:
        with self._read() as session:
            return [_row(r) for r in session.scalars(select(AdminModel).order_by(AdminModel.name))]

    def remove_admin(self, name: str) -> bool:
        with self._write() as session:
            row = session.get(AdminModel, name)
            if row is None:
                return False
            session.delete(row)
            session.execute(delete(WebSessionModel).where(WebSessionModel.admin == name))
            return True


def _row(row: AdminModel) -> AdminRow:
    return AdminRow(row.name, row.password_hash, bool(row.read_only), row.created_at, row.updated_at)
