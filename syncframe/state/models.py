"""The state store's tables (SQLAlchemy 2 typed ORM).

The schema is created and changed only by the migrations in ``migrations/``;
``tests/state`` checks that the migrated schema matches these models.
Connector names are plain columns, not foreign keys: runs and the journal
outlive a removed connector, as history.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, false, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so later migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME = 200  # connector names, token cache keys
KEY = 512  # source ids, target ids, logins


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so values are normalised to UTC on the way in
    and tagged as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ConnectorModel(Base):
    """A connector profile, stored as its TOML text."""

    __tablename__ = "connectors"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    profile_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LinkModel(Base):
    """Source id <-> target account, per connector."""

    __tablename__ = "links"

    connector: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(KEY))
    login: Mapped[str] = mapped_column(String(KEY))
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: when the removal guard first held this link's removal; it then waits for a release
    held_since: Mapped[datetime | None]
    #: a leaver: when its account was disabled (it stays linked, so a comeback gets it back)
    disabled_at: Mapped[datetime | None]
    #: when the disabled account is due for deletion (None: kept until released)
    delete_due: Mapped[datetime | None]
    #: a person keeps the disabled account indefinitely (``syncframe keep``)
    kept: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (Index("ix_links_connector_target_id", "connector", "target_id"),)


class ConnectorTargetModel(Base):
    """Which system a connector's target writes to (``Target.system_key``), recorded by
    each run, so connectors writing to one system see each other's links."""

    __tablename__ = "connector_targets"

    connector: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    system: Mapped[str] = mapped_column(String(KEY))
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_connector_targets_system", "system"),)


class SourceViewModel(Base):
    """The last full view of a connector's source records (for incremental sources)."""

    __tablename__ = "source_view"

    connector: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    data: Mapped[dict[str, Any]]


class BookmarkModel(Base):
    """Where the next read of a connector's source starts (e.g. a Graph delta link)."""

    __tablename__ = "bookmarks"

    connector: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class RunModel(Base):
    """One plan or run of a connector."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connector: Mapped[str] = mapped_column(String(NAME))
    mode: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_runs_connector_id", "connector", "id"),)


class JournalModel(Base):
    """One write of a run: the intent is recorded before the target is called."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    connector: Mapped[str] = mapped_column(String(NAME))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(KEY))
    login: Mapped[str | None] = mapped_column(String(KEY))
    state: Mapped[str] = mapped_column(String(16))
    item: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("run_id", "seq", name="uq_journal_run_id_seq"),
        Index("ix_journal_connector_state", "connector", "state"),
    )


class TokenCacheModel(Base):
    """A serialized sign-in cache (secret material: never logged, never in a repr)."""

    __tablename__ = "token_cache"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<TokenCacheModel key={self.key!r} data=<hidden>>"


class LockModel(Base):
    """Who holds a connector's run lock: the lease on SQLite, the description on PostgreSQL."""

    __tablename__ = "locks"

    connector: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(NAME))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DecisionModel(Base):
    """A person's decision about a connector (release, hold, link, unlink, apply a saved plan), with who and when.

    Releases and holds stay in force until a run consumes them (``consumed_run``);
    every decision stays as the audit trail.
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connector: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(32))
    #: what it is about: a login (release, hold, unlink) or a source id (link)
    subject: Mapped[str] = mapped_column(String(KEY))
    detail: Mapped[dict[str, Any]]
    operator: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime]
    #: the run that acted on it (a released removal applied), or None while pending
    consumed_run: Mapped[int | None]

    __table_args__ = (Index("ix_decisions_connector_id", "connector", "id"),)


class AdminModel(Base):
    """An account that may sign in to the web console (the password only as its hash)."""

    __tablename__ = "admins"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    #: a read-only account can look at everything but change nothing
    read_only: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<AdminModel name={self.name!r} read_only={self.read_only} password_hash=<hidden>>"


class WebSessionModel(Base):
    """A signed-in web console session; the cookie holds the token, the store only its hash."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin: Mapped[str] = mapped_column(String(NAME))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_web_sessions_admin", "admin"),)

    def __repr__(self) -> str:
        return f"<WebSessionModel admin={self.admin!r} expires_at={self.expires_at} token=<hidden>>"


class LoginFailureModel(Base):
    """One failed sign-in to the web console, per account and per client address (``key``)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(KEY))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)
