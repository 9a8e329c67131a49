"""Where the state lives and how to connect to it.

Turns a URL or a plain file path into a SQLAlchemy engine tuned for the store:
SQLite files are created 0600 (the file holds the token cache), run in WAL mode
with a busy timeout, and take their write lock at BEGIN so concurrent writers wait
instead of failing; PostgreSQL (``postgresql://``, psycopg 3) gets a pre-pinged pool.

Only the default location (a 0700 directory in the user's data directory) is
created. An explicit path whose directory does not exist, a directory, a file that
is not a SQLite database or an unknown URL scheme is a :class:`StateSettingsError`
naming the setting, before anything is written. A SQLite file this process may not
write (a read-only mount, another user's file) opens read-only: ``plan`` and
``history`` work, a run stops at its first write with one line.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import stat
from pathlib import Path
from typing import Any, Mapping

import errno

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool, StaticPool

from ..errors import StateSettingsError

ENV_VAR = "SYNCFRAME_STATE"
#: seconds a SQLite writer waits for another one before "database is locked"
SQLITE_BUSY_TIMEOUT = 30.0
#: execution option: this transaction only reads (SQLite may then BEGIN DEFERRED)
READ_ONLY = "syncframe_read_only"
#: the first bytes of every SQLite 3 database file
SQLITE_HEADER = b"SQLite format 3\x00"
#: what a store URL looks like, for messages about a wrong one
URL_FORMS = "a file path, sqlite:///PATH or postgresql://USER@HOST/DATABASE"


def default_state_url() -> str:
    """The state store's URL: ``$SYNCFRAME_STATE`` (a URL or a file path), else a
    SQLite file ``state.db`` in the user's data directory (created 0700)."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return normalize_url(configured)
    data_dir = Path(platformdirs.user_data_dir("syncframe", appauthor=False))
    _make_private_dir(data_dir)
    os.chmod(data_dir, 0o700)  # ours alone: tighten it even if it already existed
    return sqlite_url(data_dir / "state.db")


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """``sqlite:///`` URL of an absolute file path."""
    return URL.create("sqlite", database=str(Path(path).expanduser().absolute())).render_as_string()


def normalize_url(url_or_path: str | os.PathLike[str]) -> str:
    """A SQLAlchemy URL as given, or a plain file path turned into a SQLite URL.

    :raises StateSettingsError: a malformed URL.
    """
    url_or_path = os.fspath(url_or_path)
    if "://" in url_or_path:
        try:
            make_url(url_or_path)
        except ArgumentError:
            raise StateSettingsError(f"the state store setting {_masked(url_or_path)!r} is not a database URL; use {URL_FORMS}") from None
        return url_or_path
    return sqlite_url(url_or_path)


def _masked(url: str) -> str:
    try:
        return display_url(url)
    except ArgumentError:
        return url.split("@", 1)[-1] if "@" in url else url


def display_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def is_memory_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite" and sqlite_file(url) is None


def create_store_engine(url: str) -> Engine:
    """An engine for the store at ``url`` (see the module docstring).

    :raises StateSettingsError: an unknown scheme, a missing driver, or (SQLite) a
        path that is no usable database file.
    """
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    options: dict[str, Any] = {"json_serializer": dumps_json, "pool_pre_ping": True}
    if backend == "postgresql":
        # up to 8 writer threads, the lock's own connection and its heartbeat
        options.update(pool_size=10, max_overflow=10)
    try:
        return create_engine(url, **options)
    except NoSuchModuleError:
        raise StateSettingsError(f"the state store URL {display_url(url)!r} names an unknown database {backend!r}; use {URL_FORMS}") from None
    except ModuleNotFoundError as exc:
        extra = " (install syncframe[postgres]: psycopg)" if backend == "postgresql" else ""
        raise StateSettingsError(f"the state store URL {display_url(url)!r} needs the Python package {exc.name!r}{extra}") from None


def create_lock_engine(url: str) -> Engine:
    """An unpooled engine: one connection per held lock, really closed on release."""
    return create_engine(url, poolclass=NullPool)


def dumps_json(value: Any) -> str:
    """JSON for the store's JSON columns; enums, timestamps, sets and mappings included."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def is_read_only(engine: Engine) -> bool:
    """Whether the store was opened read-only (a SQLite file this process may not write)."""
    return bool(engine.url.query.get("mode") == "ro")


def _sqlite_engine(url: str) -> Engine:
    path = sqlite_file(url)
    connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
    read_only = False
    if path is None:
        # One shared in-memory database; the store serializes its calls on it.
        engine = create_engine(url, json_serializer=dumps_json, connect_args=connect_args, poolclass=StaticPool)
    else:
        writable = _prepare_private_file(path)
        if not writable:
            # SQLite's URI form opens the file read-only: reads work, writes fail with
            # "attempt to write a readonly database" (the store names it in one line)
            read_only = True
            url = URL.create("sqlite", database=f"file:{path}", query={"mode": "ro", "uri": "true"}).render_as_string()
        engine = create_engine(url, json_serializer=dumps_json, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of the sqlite3 driver's hands; _on_begin below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None and not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with NORMAL: a commit survives the process being killed (the crash
                # case the journal is for); only a power cut can lose the last commits, and
                # then the next plan re-reads the target and re-matches by login. FULL
                # would fsync twice per written user and dominate a large import.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front (waiting up to the busy timeout):
        # upgrading a read transaction later fails at once under WAL.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents 0700 (existing directories are left alone)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask


def _prepare_private_file(path: Path) -> bool:
    """Check the path and create the SQLite file 0600 before SQLite does (SQLite uses
    0644 less the umask); returns whether this process may write it.

    SQLite gives its -wal and -shm files the main file's permissions, so they
    follow. An existing database file readable by others is tightened; a file that
    is not a SQLite database is refused and left exactly as it is.

    :raises StateSettingsError: the path is a directory, its directory does not
        exist, or it holds something other than a SQLite database.
    """
    where = str(path)
    if path.is_dir():
        raise StateSettingsError(f"the state store {where!r} is a directory; name a file in it, e.g. {str(path / 'state.db')!r}")
    if not path.parent.is_dir():
        raise StateSettingsError(
            f"the directory of the state store {where!r} does not exist: create it, or leave --state out for the default location"
        )
    if path.exists():
        _check_sqlite_file(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and path.exists():
            return False
        raise StateSettingsError(f"the state store {where!r} cannot be opened: {exc.strerror}") from None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            try:
                os.fchmod(fd, mode & 0o700)
            except PermissionError:  # not our file; SQLite will report what it can't do
                pass
    finally:
        os.close(fd)
    return True


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that is neither empty nor a SQLite database (never touching it)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateSettingsError(f"the state store {str(path)!r} cannot be read: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise StateSettingsError(f"the state store {str(path)!r} is not a syncframe state store (not a SQLite database); it was left as it is")
