"""What the state store offers, split by concern.

:class:`~syncframe.state.store.StateStore` implements all of them on one database;
the engine's parts ask only for the concern they use (recovery needs the journal and
the links, the CLI's ``connector`` commands the catalog), so each room's dependency
is visible in its signature and a different store (a test double, a remote one) has
a short list to implement. ``tests/state/test_state_protocols.py`` checks that
``StateStore`` satisfies every protocol.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

from .locks import HeldLock
from .rows import ConnectorRow, DecisionRow, ForeignLink, JournalOutcome, JournalRow, Link, RunRow


@runtime_checkable
class ConnectorCatalog(Protocol):
    """Connector profiles, kept as the TOML text the user wrote."""

    def add_connector(self, name: str, profile_text: str, replace: bool = False) -> None: ...

    def get_connector(self, name: str) -> ConnectorRow | None: ...

    def list_connectors(self) -> list[ConnectorRow]: ...

    def remove_connector(self, name: str) -> bool: ...


@runtime_checkable
class LinkStore(Protocol):
    """Which source id is which target account, per connector, and the system each
    connector's target writes to (connectors on one system see each other's links)."""

    def links(self, connector: str) -> dict[str, Link]: ...

    def hold_removals(self, connector: str, source_ids: set[str]) -> None: ...

    def record_system(self, connector: str, system: str) -> None: ...

    def foreign_links(self, connector: str, system: str) -> dict[str, list[ForeignLink]]: ...


@runtime_checkable
class ReadState(Protocol):
    """Where the next read starts: the bookmark and the last full source view."""

    def load_view(self, connector: str) -> dict[str, dict[str, Any]]: ...

    def iter_view(self, connector: str) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def save_view(self, connector: str, view: Mapping[str, Mapping[str, Any]]) -> None: ...

    def get_bookmark(self, connector: str) -> str | None: ...

    def set_bookmark(self, connector: str, value: str | None) -> None: ...

    def commit_read(self, connector: str, bookmark: str | None, view: Mapping[str, Mapping[str, Any]] | None) -> None: ...


@runtime_checkable
class RunHistory(Protocol):
    """Every ``plan`` and ``run`` with its outcome and report."""

    def start_run(self, connector: str, mode: str, kind: str) -> int: ...

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: Mapping[str, Any],
        error: str | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> None: ...

    def get_run(self, run_id: int) -> RunRow | None: ...

    def runs(self, connector: str | None = None, limit: int = 20) -> list[RunRow]: ...

    def abandon_stale_runs(self, connector: str, note: str = ...) -> int: ...


@runtime_checkable
class Journal(Protocol):
    """Each write's intent before it goes out and its outcome after, with its link change."""

    def journal_intent(self, run_id: int, connector: str, item: Mapping[str, Any]) -> int: ...

    def journal_intents(self, run_id: int, connector: str, items: Sequence[Mapping[str, Any]]) -> list[int]: ...

    def journal_outcome(
        self,
        journal_id: int,
        ok: bool,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
        link: tuple[str, str, str, str] | None = None,
        unlink: str | None = None,
        leaver: tuple[str, str | None] | None = None,
    ) -> None: ...

    def journal_outcomes(self, outcomes: Sequence[JournalOutcome]) -> None: ...

    def unfinished_intents(self, connector: str) -> list[JournalRow]: ...

    def resolve_intent(self, journal_id: int, note: str) -> None: ...

    def journal(self, run_id: int) -> list[JournalRow]: ...


@runtime_checkable
class TokenCaches(Protocol):
    """Sign-in caches sources keep in the store (never logged)."""

    def load_token_cache(self, key: str) -> str | None: ...

    def save_token_cache(self, key: str, data: str) -> None: ...


@runtime_checkable
class RunLocks(Protocol):
    """One run per connector at a time."""

    def lock(self, connector: str, holder: str | None = None, lease_seconds: float | None = None) -> contextlib.AbstractContextManager[HeldLock]: ...


@runtime_checkable
class Decisions(Protocol):
    """What people decided (releases, holds, manual links): the audit trail."""

    def record_decision(self, connector: str, kind: str, subject: str, operator: str, detail: Mapping[str, Any] | None = None) -> DecisionRow: ...

    def decisions(self, connector: str | None = None, limit: int = 50) -> list[DecisionRow]: ...

    def pending_releases(self, connector: str) -> dict[str, DecisionRow]: ...

    def consume_releases(self, connector: str, run_id: int) -> int: ...

    def link_by_hand(self, connector: str, source_id: str, target_id: str, login: str, operator: str, detail: Mapping[str, Any] | None = None) -> DecisionRow: ...

    def unlink_by_hand(self, connector: str, login: str, operator: str) -> DecisionRow: ...


@runtime_checkable
class Leavers(Protocol):
    """Disabled leavers waiting for deletion, and people's decisions about them."""

    def leavers(self, connector: str) -> list[Link]: ...

    def release_leaver(self, connector: str, login: str, operator: str) -> DecisionRow: ...

    def hold_leaver(self, connector: str, login: str, operator: str, release: DecisionRow) -> DecisionRow: ...

    def keep_leaver(self, connector: str, login: str, operator: str, keep: bool = True) -> DecisionRow: ...


class RecoveryStore(Journal, LinkStore, Protocol):
    """What crash recovery reads and writes."""


class Store(ConnectorCatalog, LinkStore, ReadState, RunHistory, Journal, TokenCaches, RunLocks, Decisions, Leavers, Protocol):
    """The whole state store."""

    def close(self) -> None: ...
