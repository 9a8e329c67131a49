"""The plain values the state store hands out (frozen, detached from any session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

#: how a link came to be: the connector created the account, or adopted an existing one
LINK_ORIGINS = ("created", "adopted")
RUN_KINDS = ("plan", "run")
#: ``running`` while a run is in progress; one of the others once it finished
RUN_STATUSES = ("running", "ok", "failed", "held", "aborted")
FINISHED_STATUSES = RUN_STATUSES[1:]
JOURNAL_STATES = ("intent", "ok", "failed", "recovered")


@dataclass(frozen=True)
class ConnectorRow:
    """A connector: its name and its profile, kept as the TOML text the user wrote."""

    name: str
    profile_text: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Link:
    """This connector's source id <-> target account."""

    source_id: str
    target_id: str
    login: str
    origin: str  # "created" | "adopted"
    created_at: datetime
    updated_at: datetime
    #: when the removal guard first held this link's removal (it waits for a release)
    held_since: datetime | None = None
    #: a leaver's account was disabled then (None: an active user)
    disabled_at: datetime | None = None
    #: when the disabled account is due for deletion (None: kept until released)
    delete_due: datetime | None = None
    #: a person keeps the disabled account indefinitely (``syncframe keep``)
    kept: bool = False


@dataclass(frozen=True)
class ForeignLink:
    """An account another connector on the same system links (and so manages)."""

    connector: str
    source_id: str
    login: str
    created_at: datetime


@dataclass(frozen=True)
class RunRow:
    """One ``plan`` or ``run`` of a connector."""

    id: int
    connector: str
    mode: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class JournalRow:
    """One write of a run: its intent, and its outcome once known."""

    id: int
    run_id: int
    connector: str
    seq: int
    kind: str
    source_id: str | None
    login: str | None
    state: str  # "intent" | "ok" | "failed" | "recovered"
    item: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class JournalOutcome:
    """How one journaled write ended, with the link change it made (recorded in batches)."""

    journal_id: int
    ok: bool
    result: Mapping[str, Any] | None = None
    error: str | None = None
    #: ``(source_id, target_id, login, origin)`` to create or update
    link: tuple[str, str, str, str] | None = None
    #: a source id whose link to drop
    unlink: str | None = None
    #: ``(source_id, delete_due)``: its account was disabled now (it stays linked)
    leaver: tuple[str, str | None] | None = None


@dataclass(frozen=True)
class DecisionRow:
    """A person's decision: what, about whom, who made it and when (the audit trail)."""

    id: int
    connector: str
    kind: str  # "release" | "hold" | "link" | "unlink" | "apply_plan"
    subject: str
    detail: dict[str, Any]
    operator: str
    created_at: datetime
    #: the run that acted on a release or hold; None while pending (and for the others)
    consumed_run: int | None = None


@dataclass(frozen=True)
class AdminRow:
    """A web console account; ``password_hash`` stays out of its repr."""

    name: str
    password_hash: str = field(repr=False)
    read_only: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
