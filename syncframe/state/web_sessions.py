"""Web console sessions and failed sign-ins, kept in the state store.

Kept here rather than in one process's memory so that they hold across several
web processes on one state store and across restarts: a session signed out in one
process is gone for all, and failed sign-ins count wherever they were tried.
The cookie carries a random token; the store keeps only its SHA-256, so a copy of
the database signs nobody in.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import LoginFailureModel, WebSessionModel, utcnow


@dataclass(frozen=True)
class WebSessionRow:
    """A live session: whose it is, its CSRF token and when it ends."""

    admin: str
    csrf: str = field(repr=False)
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSessions:
    """The web console's part of :class:`~syncframe.state.store.StateStore` (a mixin)."""

    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]

    def open_web_session(self, admin: str, seconds: float) -> tuple[str, WebSessionRow]:
        """A new session of ``admin`` lasting ``seconds``: its cookie token and its row."""
        token, now = secrets.token_urlsafe(32), utcnow()
        row = WebSessionModel(token_hash=_hash(token), admin=admin, csrf=secrets.token_urlsafe(32), created_at=now, expires_at=now + timedelta(seconds=seconds))
        with self._write() as session:
            session.execute(delete(WebSessionModel).where(WebSessionModel.expires_at < now))  # keep the table small
            session.add(row)
        return token, WebSessionRow(admin, row.csrf, row.expires_at)

    def web_session(self, token: str) -> WebSessionRow | None:
        """The live session of a cookie token (None: unknown, signed out or expired)."""
        if not token:
            return None
        with self._read() as session:
            row = session.get(WebSessionModel, _hash(token))
            if row is None or row.expires_at <= utcnow():
                return None
            return WebSessionRow(row.admin, row.csrf, row.expires_at)

    def close_web_session(self, token: str) -> bool:
        """Sign the session out, in every process; True when it existed."""
        with self._write() as session:
            return bool(session.execute(delete(WebSessionModel).where(WebSessionModel.token_hash == _hash(token))).rowcount)

    def close_web_sessions(self, admin: str) -> int:
        """Sign every session of ``admin`` out (a new password, a removed account)."""
        with self._write() as session:
            return int(session.execute(delete(WebSessionModel).where(WebSessionModel.admin == admin)).rowcount or 0)

    def record_login_failure(self, keys: Iterable[str], at: datetime, forget_before: datetime) -> None:
        """Count a failed sign-in for each of ``keys``; failures of any key older than
        ``forget_before`` are dropped (an attacker's many addresses do not pile up)."""
        with self._write() as session:
            session.execute(delete(LoginFailureModel).where(LoginFailureModel.at < forget_before))
            session.add_all(LoginFailureModel(key=key, at=at) for key in keys)

    def login_failures(self, key: str, since: datetime) -> int:
        """Failed sign-ins of ``key`` at or after ``since`` (older ones are dropped)."""
        with self._write() as session:
            session.execute(delete(LoginFailureModel).where(LoginFailureModel.key == key, LoginFailureModel.at < since))
            return int(session.scalar(select(func.count()).where(LoginFailureModel.key == key, LoginFailureModel.at >= since)) or 0)

    def clear_login_failures(self, key: str) -> None:
        with self._write() as session:
            session.execute(delete(LoginFailureModel).where(LoginFailureModel.key == key))
