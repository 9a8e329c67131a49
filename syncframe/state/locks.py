"""One run per connector at a time, enforced in the database.

PostgreSQL: a session-level ``pg_try_advisory_lock`` on a connection held for as
long as the lock is; the server drops it when that session ends, however the
process ended. A ``locks`` row records who holds it, for the message the
second run shows.

SQLite (and any other database): a lease row claimed in a write transaction and
renewed by a heartbeat thread. An expired lease, or one whose holder process on
this host is gone, is taken over, so a killed run does not block the next one.
A holder frozen past its lease (SIGSTOP, a suspended VM, a clock jump) loses it
that way too; :meth:`HeldLock.ensure`, called before every write, then finds the
row no longer its own and stops the run. On PostgreSQL a frozen holder keeps its
session and with it the lock: the second run is refused instead.

The lease lasts 60 seconds unless ``SYNCFRAME_LOCK_LEASE_SECONDS`` says otherwise
(tests freeze a run past a short lease).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from ..errors import LockedError, LockLostError, StateStoreError
from .models import LockModel, utcnow

log = logging.getLogger("syncframe.state")

SessionFactory = Callable[[], AbstractContextManager[Session]]

#: environment variable: seconds a lease outlives a holder that stopped renewing it
LEASE_ENV = "SYNCFRAME_LOCK_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 60.0


def lease_seconds(value: float | None = None) -> float:
    """``value``, else ``$SYNCFRAME_LOCK_LEASE_SECONDS``, else 60."""
    if value is not None:
        return float(value)
    configured = os.environ.get(LEASE_ENV, "").strip()
    if not configured:
        return DEFAULT_LEASE_SECONDS
    try:
        seconds = float(configured)
    except ValueError:
        raise ValueError(f"{LEASE_ENV} must be a number of seconds, not {configured!r}") from None
    if seconds <= 0:
        raise ValueError(f"{LEASE_ENV} must be more than 0 seconds")
    return seconds


def clock_marks() -> tuple[float, float]:
    """Now, by the monotonic and the wall clock (a confirmation must be recent by both)."""
    return (time.monotonic(), time.time())


@dataclass
class HeldLock:
    """What ``with store.lock(...)`` gives: who holds the lock, and whether it was lost."""

    connector: str
    holder: str
    host: str
    pid: int
    acquired_at: datetime
    token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)
    #: set when the heartbeat finds the lease taken over or the lock session gone
    lost: threading.Event = field(default_factory=threading.Event, repr=False)
    #: why the lock session is gone when the whole store went with it (its server down):
    #: the run then stops on the store's error (exit 7), not as if another run took over
    store_failure: BaseException | None = field(default=None, repr=False)
    #: asks the database whether the lock is still ours (renewing a late lease)
    verify: Callable[[], bool] | None = field(default=None, repr=False)
    #: seconds after a confirmation (a renewal, or a verify) during which the lease
    #: cannot have lapsed, so :meth:`ensure` need not ask the database again
    fresh_for: float = 0.0
    _confirmed: tuple[float, float] | None = field(default=None, repr=False)

    def describe(self) -> str:
        return describe_holder(self.holder, self.host, self.pid, self.acquired_at)

    def confirmed(self, asked: tuple[float, float] | None = None) -> None:
        """The database said the lock is ours.

        :param asked: :func:`clock_marks` taken *before* the question was put (default:
            now). A process frozen between the database's answer and this call must not
            count the freeze as confirmed time: the lease may have lapsed meanwhile.
        """
        self._confirmed = asked or clock_marks()

    def ensure(self) -> None:
        """Raise :class:`~syncframe.errors.LockLostError` unless the lock is still ours.

        Asks the database, not the heartbeat's last word, unless the last confirmation
        is recent by both the monotonic and the wall clock: a process frozen past its
        lease (or whose clock jumped) resumes with an old confirmation and asks. Safe to
        call from any thread.
        """
        if not self.lost.is_set() and self.verify is not None and not self._fresh():
            asked = clock_marks()
            try:
                still_ours = self.verify()
            except Exception as exc:  # cannot tell: writing on would be a guess
                log.error("could not check the run lock of connector %r: %s", self.connector, exc)
                still_ours = False
            if still_ours:
                self.confirmed(asked)
            else:
                self.lost.set()
        if self.lost.is_set():
            if self.store_failure is not None:
                raise self.store_failure
            raise LockLostError(
                f"lost the run lock of connector {self.connector!r} (another run took it over while this one "
                f"was not renewing it, e.g. frozen past its lease); stopped before the next write"
            )

    def _fresh(self) -> bool:
        if self._confirmed is None:
            return False
        mono, wall = self._confirmed
        return 0 <= time.monotonic() - mono < self.fresh_for and 0 <= time.time() - wall < self.fresh_for


def describe_holder(holder: str, host: str, pid: int, acquired_at: datetime) -> str:
    """``syncframe run on host web1, pid 4242, since 2026-11-27 05:14:25 UTC``."""
    return f"{holder} on host {host}, pid {pid}, since {acquired_at:%Y-%m-%d %H:%M:%S} UTC"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as gone)."""
    if os.name == "nt":  # os.kill would terminate it; rely on the lease expiry instead
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def advisory_key(schema: str, connector: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``.

    The schema is part of it, so two stores in one database do not block each other.
    """
    digest = hashlib.blake2b(f"syncframe-lock/{schema}/{connector}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Heartbeat:
    """A daemon thread calling ``beat()`` every ``interval`` seconds until stopped or lost."""

    def __init__(self, held: HeldLock, interval: float, beat: Callable[[], bool]):
        self._held = held
        self._interval = interval
        self._beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"syncframe-lock-{held.connector}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            asked = clock_marks()
            try:
                still_ours = self._beat()
            except Exception as exc:  # a busy or briefly unreachable database: try again next beat
                log.warning("lock heartbeat for %r failed: %s", self._held.connector, exc)
                continue
            if not still_ours:
                self._held.lost.set()
                if self._held.store_failure is None:  # else the run's one error line names the store
                    log.error("lost the run lock of connector %r", self._held.connector)
                return
            self._held.confirmed(asked)


def _write_lock_row(session: Session, held: HeldLock, expires_at: datetime) -> None:
    session.execute(delete(LockModel).where(LockModel.connector == held.connector))
    session.execute(
        insert(LockModel).values(
            connector=held.connector,
            token=held.token,
            holder=held.holder,
            host=held.host,
            pid=held.pid,
            acquired_at=held.acquired_at,
            expires_at=expires_at,
        )
    )


def _renew(write: SessionFactory, held: HeldLock, lease: timedelta) -> bool:
    with write() as session:
        result = session.execute(
            update(LockModel)
            .where(LockModel.connector == held.connector, LockModel.token == held.token)
            .values(expires_at=utcnow() + lease)
        )
        return result.rowcount == 1


def _verify_lease(read: SessionFactory, write: SessionFactory, held: HeldLock, lease: timedelta) -> bool:
    """Whether the lease row is still ours; a lease the heartbeat let run low is renewed first."""
    with read() as session:
        row = session.execute(
            select(LockModel.token, LockModel.expires_at).where(LockModel.connector == held.connector)
        ).one_or_none()
    if row is None or row.token != held.token:
        return False
    if row.expires_at - utcnow() > lease / 3:
        return True
    # the heartbeat is late (the process was stopped, or the clock jumped): renew now,
    # which fails if another run took the expired lease over meanwhile
    return _renew(write, held, lease)


def _release_row(write: SessionFactory, held: HeldLock) -> None:
    ending = sys.exc_info()[1]  # what ends the run, if it is ending by an error
    try:
        with write() as session:
            session.execute(delete(LockModel).where(LockModel.connector == held.connector, LockModel.token == held.token))
    except Exception as exc:
        # Not worth hiding the run's own outcome for: the lease expires (SQLite), the
        # session ends (PostgreSQL), and a dead holder's row is taken over anyway. When the
        # store failing is what ends the run, its one error line says it all already.
        level = logging.DEBUG if isinstance(ending, StateStoreError) else logging.WARNING
        log.log(level, "could not release the run lock of connector %r: %s", held.connector, exc)


def _new_held(connector: str, holder: str | None) -> HeldLock:
    # truncated to the columns' sizes
    return HeldLock(connector, (holder or "syncframe")[:200], socket.gethostname()[:255], os.getpid(), utcnow())


@contextlib.contextmanager
def lease_lock(
    write: SessionFactory, connector: str, holder: str | None, lease_seconds: float, read: SessionFactory | None = None
) -> Iterator[HeldLock]:
    """Hold the lease-row lock of ``connector`` (SQLite and other databases).

    :param read: Read-only sessions for :meth:`HeldLock.ensure` (default: ``write``).
    """
    held = _new_held(connector, holder)
    lease = timedelta(seconds=lease_seconds)
    held.verify = lambda: _verify_lease(read or write, write, held, lease)
    # a confirmed lease has at least a third of its time left (see _verify_lease):
    # half of that is a safe while in which it cannot have been taken over
    held.fresh_for = lease_seconds / 6
    asked = clock_marks()
    with write() as session:  # BEGIN IMMEDIATE on SQLite: one claimant at a time
        current = session.execute(select(LockModel).where(LockModel.connector == connector)).scalar_one_or_none()
        if current is not None:
            expired = current.expires_at <= utcnow()
            dead = current.host == held.host and not pid_alive(current.pid)
            if not (expired or dead):
                raise LockedError(connector, describe_holder(current.holder, current.host, current.pid, current.acquired_at))
            log.warning(
                "taking over the run lock of connector %r from %s (%s)",
                connector,
                describe_holder(current.holder, current.host, current.pid, current.acquired_at),
                "lease expired" if expired else "process gone",
            )
        _write_lock_row(session, held, held.acquired_at + lease)
    held.confirmed(asked)
    try:
        with _Heartbeat(held, lease_seconds / 3, lambda: _renew(write, held, lease)):
            yield held
    finally:
        _release_row(write, held)


@contextlib.contextmanager
def advisory_lock(
    engine: Engine, write: SessionFactory, connector: str, holder: str | None, lease_seconds: float
) -> Iterator[HeldLock]:
    """Hold the PostgreSQL advisory lock of ``connector``."""
    held = _new_held(connector, holder)
    lease = timedelta(seconds=lease_seconds)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        key = advisory_key(connection.scalar(text("SELECT current_schema()")) or "", connector)
        if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}):
            raise LockedError(connector, _recorded_holder(write, connector))
    except BaseException:
        connection.close()
        raise
    try:
        with write() as session:
            _write_lock_row(session, held, held.acquired_at + lease)
        with _Heartbeat(held, lease_seconds / 3, lambda: _pg_beat(connection, write, held, lease)):
            yield held
    finally:
        try:
            _release_row(write, held)
        finally:
            _unlock(connection, key)


def _recorded_holder(write: SessionFactory, connector: str) -> str:
    with write() as session:
        row = session.get(LockModel, connector)
        if row is None:  # the holder took the lock a moment ago and has not recorded itself yet
            return "another database session (holder not recorded yet)"
        return describe_holder(row.holder, row.host, row.pid, row.acquired_at)


def _pg_beat(connection: Connection, write: SessionFactory, held: HeldLock, lease: timedelta) -> bool:
    # The lock lives as long as its session; a failing ping means it is gone.
    try:
        connection.scalar(text("SELECT 1"))
    except Exception:
        held.store_failure = _store_failure(write)
        return False
    _renew(write, held, lease)  # informational on PostgreSQL: the session, not the row, is the lock
    return True


def _store_failure(write: SessionFactory) -> BaseException | None:
    """The store's own error when it does not answer either; None when only the lock's
    session ended (terminated by an administrator: the lock is lost, the store is fine)."""
    try:
        with write() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    return None


def _unlock(connection: Connection, key: int) -> None:
    try:
        connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except Exception:  # the session is gone already, and the lock with it
        connection.invalidate()
    finally:
        connection.close()  # unpooled: this ends the session
