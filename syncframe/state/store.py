"""The state store: connectors, links, source views, bookmarks, runs, the journal,
token caches and run locks, in one SQLAlchemy database.

Every call runs in its own short transaction on a connection from the engine's
pool, so one store can be shared by the engine's writer threads. The calls that
must move together (a journal outcome and its link, a bookmark and its view) do
so in one transaction.

Errors say which store and what went wrong, in one line: opening a store that
cannot be used raises :class:`~syncframe.errors.StateSettingsError` (exit 2), a
store failing while in use (read-only, disk full, damaged, its server gone)
raises :class:`~syncframe.errors.StateStoreError` (exit 7).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from ..errors import ConfigError, StateSettingsError, StateStoreError
from . import database, journal_rows, locks, migrate
from .admins import AdminAccounts
from .decisions import DecisionLog
from .leavers import LeaverLog
from .locks import HeldLock
from .models import (
    BookmarkModel,
    ConnectorModel,
    ConnectorTargetModel,
    JournalModel,
    LinkModel,
    LockModel,
    RunModel,
    SourceViewModel,
    TokenCacheModel,
    utcnow,
)
from .rows import FINISHED_STATUSES, RUN_KINDS, ConnectorRow, ForeignLink, JournalOutcome, JournalRow, Link, RunRow
from .web_sessions import WebSessions

log = logging.getLogger("syncframe.state")

#: rows per INSERT batch when saving a source view
_VIEW_BATCH = 5000
#: ids per ``IN (...)`` (SQLite limits the parameters of one statement)
_ID_BATCH = 500


class StateStore(DecisionLog, LeaverLog, AdminAccounts, WebSessions):
    """The state of every connector. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, url: str, engine: Engine):
        self.url = url
        self.engine = engine
        self._read_engine = engine.execution_options(**{database.READ_ONLY: True})
        # One in-memory SQLite connection cannot be shared by threads at once.
        self._serial: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if database.is_memory_sqlite(url) else contextlib.nullcontext()
        )
        self._seq_lock = threading.Lock()
        self._seq: dict[int, Iterator[int]] = {}
        self._locks_engine: Engine | None = None
        self._locks_engine_lock = threading.Lock()

    # -- opening and closing -------------------------------------------------

    @classmethod
    def open(cls, url: str | os.PathLike[str] | None = None) -> "StateStore":
        """Open (creating and migrating to the newest schema) the store at ``url``.

        :param url: a SQLAlchemy URL or a plain file path (a SQLite file);
            None means :func:`default_state_url`.
        """
        url = database.normalize_url(url) if url else database.default_state_url()
        engine = database.create_store_engine(url)
        try:
            with _translated(f"cannot open the state store {database.display_url(url)}", StateSettingsError):
                _bring_to_head(engine, database.display_url(url))
        except BaseException:
            engine.dispose()
            raise
        return cls(url, engine)

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        return database.display_url(self.url)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._locks_engine is not None:
            self._locks_engine.dispose()

    def _lock_engine(self) -> Engine:
        """Unpooled connections for PostgreSQL advisory locks.

        Each held lock keeps its own session open for the whole run; outside the
        pool, many concurrent runs (``serve``) cannot starve the store's pool, and
        closing the connection really ends the session (and with it the lock).
        """
        with self._locks_engine_lock:
            if self._locks_engine is None:
                self._locks_engine = database.create_lock_engine(self.url)
            return self._locks_engine

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<StateStore {self.display_url}>"

    def _failing(self) -> contextlib.AbstractContextManager[None]:
        """Database errors of a call become one :class:`StateStoreError` naming this store."""
        return _translated(f"the state store {self.display_url} failed", StateStoreError)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success."""
        with self._failing(), self._serial, Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        """A session in one read-only transaction."""
        with self._failing(), self._serial, Session(self._read_engine) as session, session.begin():
            yield session

    # -- connectors ------------------------------------------------------------

    def add_connector(self, name: str, profile_text: str, replace: bool = False) -> None:
        """Store a connector profile (its TOML text).

        :raises ConfigError: the name is taken and ``replace`` is False, or the name is empty.
        """
        if not name or not name.strip():
            raise ConfigError("a connector needs a name")
        now = utcnow()
        try:
            with self._write() as session:
                row = session.get(ConnectorModel, name)
                if row is None:
                    session.add(ConnectorModel(name=name, profile_text=profile_text, created_at=now, updated_at=now))
                elif replace:
                    row.profile_text = profile_text
                    row.updated_at = now
                else:
                    raise ConfigError(f"connector {name!r} exists already (replace it with --replace)")
        except IntegrityError:  # added by someone else between our read and our insert
            raise ConfigError(f"connector {name!r} exists already (replace it with --replace)") from None

    def get_connector(self, name: str) -> ConnectorRow | None:
        with self._read() as session:
            row = session.get(ConnectorModel, name)
            return _connector_row(row) if row else None

    def list_connectors(self) -> list[ConnectorRow]:
        """Every connector, by name."""
        with self._read() as session:
            return [_connector_row(r) for r in session.scalars(select(ConnectorModel).order_by(ConnectorModel.name))]

    def remove_connector(self, name: str) -> bool:
        """Remove a connector with its links, bookmark, view, token caches and lock.

        Its runs and journal stay, as history. Token caches removed are the key
        ``name`` and keys starting ``name:``. Returns whether there was anything to remove.
        """
        removed = 0
        with self._write() as session:
            for model, column in (
                (ConnectorModel, ConnectorModel.name),
                (LinkModel, LinkModel.connector),
                (SourceViewModel, SourceViewModel.connector),
                (BookmarkModel, BookmarkModel.connector),
                (LockModel, LockModel.connector),
                (ConnectorTargetModel, ConnectorTargetModel.connector),
            ):
                removed += session.execute(delete(model).where(column == name)).rowcount
            removed += session.execute(
                delete(TokenCacheModel).where(
                    or_(TokenCacheModel.key == name, TokenCacheModel.key.startswith(f"{name}:", autoescape=True))
                )
            ).rowcount
        return removed > 0

    # -- links -----------------------------------------------------------------

    def links(self, connector: str) -> dict[str, Link]:
        """This connector's links, by source id."""
        # plain rows, not ORM objects: a no-change resync loads 100,000 links
        columns = (
            LinkModel.source_id, LinkModel.target_id, LinkModel.login, LinkModel.origin, LinkModel.created_at,
            LinkModel.updated_at, LinkModel.held_since, LinkModel.disabled_at, LinkModel.delete_due, LinkModel.kept,
        )
        with self._read() as session:
            rows = session.connection().execute(select(*columns).where(LinkModel.connector == connector))
            return {row[0]: Link(*row[:9], bool(row[9])) for row in rows}

    def hold_removals(self, connector: str, source_ids: set[str]) -> None:
        """Mark the links whose removal the guard held (``held_since``, kept from the
        first time) and unmark every other link of ``connector``."""
        now = utcnow()
        where = (LinkModel.connector == connector,)
        with self._write() as session:
            marked = set(session.scalars(select(LinkModel.source_id).where(*where, LinkModel.held_since.is_not(None))))
            for column_value, ids in ((None, marked - source_ids), (now, source_ids - marked)):
                ordered = sorted(ids)
                for batch in (ordered[i : i + _ID_BATCH] for i in range(0, len(ordered), _ID_BATCH)):
                    session.execute(update(LinkModel).where(*where, LinkModel.source_id.in_(batch)).values(held_since=column_value))

    # -- which system each connector writes to -----------------------------------

    def record_system(self, connector: str, system: str) -> None:
        """Record the system ``connector``'s target writes to (``Target.system_key``)."""
        with self._write() as session:
            row = session.get(ConnectorTargetModel, connector)
            if row is None:
                session.add(ConnectorTargetModel(connector=connector, system=system, updated_at=utcnow()))
            elif row.system != system:
                row.system, row.updated_at = system, utcnow()

    def foreign_links(self, connector: str, system: str) -> dict[str, list[ForeignLink]]:
        """Target id -> the links of the *other* connectors recorded on ``system``."""
        query = (
            select(LinkModel.target_id, LinkModel.connector, LinkModel.source_id, LinkModel.login, LinkModel.created_at)
            .join(ConnectorTargetModel, ConnectorTargetModel.connector == LinkModel.connector)
            .where(ConnectorTargetModel.system == system, LinkModel.connector != connector)
        )
        found: dict[str, list[ForeignLink]] = {}
        with self._read() as session:
            for target_id, owner, source_id, login, created_at in session.execute(query):
                found.setdefault(target_id, []).append(ForeignLink(owner, source_id, login, created_at))
        return found

    # -- source view -----------------------------------------------------------

    def load_view(self, connector: str) -> dict[str, dict[str, Any]]:
        """The last saved view: source id -> identity dict."""
        return dict(self.iter_view(connector))

    def iter_view(self, connector: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The last saved view, one ``(source id, identity dict)`` at a time (a caller that
        turns each into something else never holds 100,000 dicts at once)."""
        with self._read() as session:
            # on the session's connection: a session would fetch every row before the first
            rows = session.connection().execute(
                select(SourceViewModel.source_id, SourceViewModel.data).where(SourceViewModel.connector == connector)
            )
            for source_id, data in rows:
                yield source_id, data

    def save_view(self, connector: str, view: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the whole view of ``connector``."""
        with self._write() as session:
            _replace_view(session, connector, view)

    # -- bookmarks -------------------------------------------------------------

    def get_bookmark(self, connector: str) -> str | None:
        with self._read() as session:
            row = session.get(BookmarkModel, connector)
            return row.value if row else None

    def set_bookmark(self, connector: str, value: str | None) -> None:
        with self._write() as session:
            _set_bookmark(session, connector, value)

    def commit_read(
        self, connector: str, bookmark: str | None, view: Mapping[str, Mapping[str, Any]] | None
    ) -> None:
        """End a successful run: the new bookmark and (unless None) the new view, together."""
        with self._write() as session:
            _set_bookmark(session, connector, bookmark)
            if view is not None:
                _replace_view(session, connector, view)

    # -- runs --------------------------------------------------------------------

    def start_run(self, connector: str, mode: str, kind: str) -> int:
        """Record a run starting (status ``running``); returns its id."""
        if kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}, not {kind!r}")
        with self._write() as session:
            run = RunModel(connector=connector, mode=mode, kind=kind, status="running", started_at=utcnow(), counts={})
            session.add(run)
            session.flush()
            return run.id

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: Mapping[str, Any],
        error: str | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        """Record how a run ended: ``ok``, ``failed``, ``held`` or ``aborted``."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"run status must be one of {FINISHED_STATUSES}, not {status!r}")
        with self._write() as session:
            result = session.execute(
                update(RunModel)
                .where(RunModel.id == run_id)
                .values(
                    status=status,
                    finished_at=utcnow(),
                    counts=dict(counts),
                    error=error,
                    summary=dict(summary) if summary is not None else None,
                )
            )
            if result.rowcount != 1:
                raise KeyError(f"no run {run_id}")
        with self._seq_lock:
            self._seq.pop(run_id, None)

    def get_run(self, run_id: int) -> RunRow | None:
        """One run by id."""
        with self._read() as session:
            row = session.get(RunModel, run_id)
            return _run_row(row) if row else None

    def runs(self, connector: str | None = None, limit: int = 20) -> list[RunRow]:
        """The latest runs, newest first (of one connector, or of all)."""
        query = select(RunModel).order_by(RunModel.id.desc()).limit(limit)
        if connector is not None:
            query = query.where(RunModel.connector == connector)
        with self._read() as session:
            return [_run_row(r) for r in session.scalars(query)]

    def abandon_stale_runs(self, connector: str, note: str = "the process ended before the run finished") -> int:
        """Mark runs of ``connector`` still ``running`` as ``aborted``.

        Call it while holding the connector's lock, before starting a run: any run
        still ``running`` then belongs to a process that died. Returns how many.
        """
        with self._write() as session:
            return session.execute(
                update(RunModel)
                .where(RunModel.connector == connector, RunModel.status == "running")
                .values(status="aborted", finished_at=utcnow(), error=note)
            ).rowcount

    # -- journal -----------------------------------------------------------------

    def journal_intent(self, run_id: int, connector: str, item: Mapping[str, Any]) -> int:
        """Record that a write is about to happen (state ``intent``); returns the journal id.

        ``item`` is the plan item as JSON (``kind``, ``source_id``, ``login``, ...).
        """
        return self.journal_intents(run_id, connector, [item])[0]

    def journal_intents(self, run_id: int, connector: str, items: Sequence[Mapping[str, Any]]) -> list[int]:
        """Record that these writes are about to happen, in one transaction; their journal ids, in order."""
        with self._write() as session:
            first = self._next_seq(session, run_id, len(items))
            return journal_rows.insert_intents(session, run_id, connector, items, first, utcnow())

    def journal_outcome(
        self,
        journal_id: int,
        ok: bool,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
        link: tuple[str, str, str, str] | None = None,
        unlink: str | None = None,
        leaver: tuple[str, str | None] | None = None,
    ) -> None:
        """Record a write's outcome and, in the same transaction, the link change it made.

        :param link: ``(source_id, target_id, login, origin)`` to create or update
            (a leaver's link is active again).
        :param unlink: a source id whose link to drop.
        :param leaver: ``(source_id, delete_due)``: its account was disabled now.
        """
        self.journal_outcomes([JournalOutcome(journal_id, ok, result, error, link, unlink, leaver)])

    def journal_outcomes(self, outcomes: Sequence[JournalOutcome]) -> None:
        """Record several outcomes with their link changes, all in one transaction.

        :raises KeyError: one names no journal entry (then none is recorded).
        """
        if not outcomes:
            return
        with self._write() as session:
            journal_rows.record_outcomes(session, outcomes, utcnow())

    def unfinished_intents(self, connector: str) -> list[JournalRow]:
        """Intents with no outcome (a run died between its intent and its outcome), oldest first.

        Call it while holding the connector's lock and before journaling new intents.
        """
        with self._read() as session:
            rows = session.scalars(
                select(JournalModel)
                .where(JournalModel.connector == connector, JournalModel.state == "intent")
                .order_by(JournalModel.id)
            )
            return [_journal_row(r) for r in rows]

    def resolve_intent(self, journal_id: int, note: str) -> None:
        """Mark an unfinished intent as handled (state ``recovered``), saying how.

        The note is added to the entry's result as ``result["note"]`` (a result
        recorded by a :meth:`journal_outcome` during recovery is kept).
        """
        with self._write() as session:
            entry = session.get(JournalModel, journal_id)
            if entry is None:
                raise KeyError(f"no journal entry {journal_id}")
            entry.state = "recovered"
            entry.result = {**(entry.result or {}), "note": note}
            entry.finished_at = utcnow()

    def journal(self, run_id: int) -> list[JournalRow]:
        """A run's journal, in the order its intents were recorded."""
        with self._read() as session:
            rows = session.scalars(select(JournalModel).where(JournalModel.run_id == run_id).order_by(JournalModel.seq))
            return [_journal_row(r) for r in rows]

    def _next_seq(self, session: Session, run_id: int, count: int = 1) -> int:
        """The first of ``count`` consecutive sequence numbers of ``run_id``."""
        # One process runs a given run; its writer threads share this counter.
        with self._seq_lock:
            counter = self._seq.get(run_id)
            if counter is None:
                last = session.scalar(select(func.max(JournalModel.seq)).where(JournalModel.run_id == run_id))
                counter = self._seq[run_id] = itertools.count((last or 0) + 1)
            first = next(counter)
            for _ in range(count - 1):
                next(counter)
            return first

    # -- token cache (secret material) ---------------------------------------------

    def load_token_cache(self, key: str) -> str | None:
        with self._read() as session:
            row = session.get(TokenCacheModel, key)
            return row.data if row else None

    def save_token_cache(self, key: str, data: str) -> None:
        now = utcnow()
        with self._write() as session:
            row = session.get(TokenCacheModel, key)
            if row is None:
                session.add(TokenCacheModel(key=key, data=data, updated_at=now))
            else:
                row.data = data
                row.updated_at = now

    def token_store(self, key: str) -> "StoreTokenCache":
        """A :class:`syncframe.contracts.TokenStore` over the cache ``key``."""
        return StoreTokenCache(self, key)

    # -- run lock ------------------------------------------------------------------------

    def lock(
        self, connector: str, holder: str | None = None, lease_seconds: float | None = None
    ) -> contextlib.AbstractContextManager[HeldLock]:
        """Hold the run lock of ``connector`` for a ``with`` block.

        :param holder: what holds it, shown to a second run (``"syncframe run"``, ``"serve"``).
        :param lease_seconds: how long a lease outlives a holder that stopped renewing it
            (SQLite; a heartbeat renews it every third of that while held); default
            ``$SYNCFRAME_LOCK_LEASE_SECONDS``, else 60.
        :raises syncframe.errors.LockedError: at once, naming the holder, when it is held.
        """
        lease = locks.lease_seconds(lease_seconds)
        if self.engine.dialect.name == "postgresql":
            held = locks.advisory_lock(self._lock_engine(), self._write, connector, holder, lease)
        else:
            held = locks.lease_lock(self._write, connector, holder, lease, read=self._read)
        return _failing_lock(self._failing, held)


class StoreTokenCache:
    """One token cache in the state store (a :class:`syncframe.contracts.TokenStore`)."""

    def __init__(self, store: StateStore, key: str):
        self._store = store
        self.key = key

    def load(self) -> str | None:
        return self._store.load_token_cache(self.key)

    def save(self, data: str) -> None:
        self._store.save_token_cache(self.key, data)

    def __repr__(self) -> str:
        return f"<StoreTokenCache {self.key!r} in {self._store.display_url}>"


# -- helpers shared by the calls above ------------------------------------------------------


@contextlib.contextmanager
def _translated(what: str, error: type[StateStoreError]) -> Iterator[None]:
    """Turn the database's errors into one line: ``what: cause`` (constraint errors,
    which callers handle themselves, pass through)."""
    try:
        yield
    except IntegrityError:
        raise
    except (OperationalError, InterfaceError, DatabaseError) as exc:
        raise error(f"{what}: {_cause(exc)}") from None


def _cause(exc: DatabaseError | InterfaceError) -> str:
    """The driver's first line ("attempt to write a readonly database", "connection
    refused"), without SQL, parameters or SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


@contextlib.contextmanager
def _failing_lock(failing: Any, held: contextlib.AbstractContextManager[HeldLock]) -> Iterator[HeldLock]:
    with failing(), held as lock:
        yield lock


def _bring_to_head(engine: Engine, where: str) -> None:
    """Migrate a store to this version's schema; a store at the newest schema is only
    read (so a read-only store opens), and one newer than this version is refused."""
    current = migrate.current_revision(engine.execution_options(**{database.READ_ONLY: True}))
    if current == migrate.head_revision():
        return
    if current is not None and not migrate.is_known(current):
        raise StateSettingsError(
            f"the state store {where} has schema revision {current!r}, newer than this version of syncframe "
            f"knows (it knows up to {migrate.head_revision()!r}): upgrade syncframe, or use another --state"
        )
    if database.is_read_only(engine):
        raise StateSettingsError(f"the state store {where} is read-only and needs a schema upgrade: open it once with write access")
    migrate.upgrade(engine)


def _replace_view(session: Session, connector: str, view: Mapping[str, Mapping[str, Any]]) -> None:
    session.execute(delete(SourceViewModel).where(SourceViewModel.connector == connector))
    connection = session.connection()
    if connection.dialect.driver == "psycopg":
        _copy_view(connection, connector, view)
        return
    table = SourceViewModel.__table__
    rows = ({"connector": connector, "source_id": sid, "data": data} for sid, data in view.items())
    while batch := list(itertools.islice(rows, _VIEW_BATCH)):
        connection.execute(insert(table), batch)  # executemany, batched by the driver


def _copy_view(connection: Any, connector: str, view: Mapping[str, Mapping[str, Any]]) -> None:
    """PostgreSQL with psycopg 3: COPY, in the session's transaction. psycopg 3's
    executemany sends one statement per row, twice the CPU of a 100,000-user view."""
    table = SourceViewModel.__tablename__
    with connection.connection.dbapi_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} (connector, source_id, data) FROM STDIN") as copy:
            for source_id, data in view.items():
                copy.write_row((connector, source_id, database.dumps_json(data)))


def _set_bookmark(session: Session, connector: str, value: str | None) -> None:
    row = session.get(BookmarkModel, connector)
    if row is None:
        session.add(BookmarkModel(connector=connector, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()
    session.flush()  # written now, so a later failure in the same transaction takes it back


def _connector_row(row: ConnectorModel) -> ConnectorRow:
    return ConnectorRow(row.name, row.profile_text, row.created_at, row.updated_at)


def _run_row(row: RunModel) -> RunRow:
    return RunRow(
        id=row.id,
        connector=row.connector,
        mode=row.mode,
        kind=row.kind,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=dict(row.counts or {}),
        error=row.error,
        summary=row.summary,
    )


def _journal_row(row: JournalModel) -> JournalRow:
    return JournalRow(
        id=row.id,
        run_id=row.run_id,
        connector=row.connector,
        seq=row.seq,
        kind=row.kind,
        source_id=row.source_id,
        login=row.login,
        state=row.state,
        item=row.item,
        result=row.result,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )
