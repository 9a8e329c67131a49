"""Plan in-process with the real plugin manager, planner and default matching plugin."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from syncframe import Account, ConnectorContext, Identity, ReadResult
from syncframe.engine import Planner, SyncPlan
from syncframe.plugins import get_plugin_manager
from syncframe.removal import parse_removal
from syncframe.state import Link
from syncframe.testing import MemoryTarget, scoped

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def link(source_id: str, account: Account, origin: str = "created") -> Link:
    return Link(source_id, account.target_id, account.login, origin, NOW, NOW)


def account(target_id: str, login: str, email: str | None = None, display_name: str = "", protected: bool = False, **fields: Any) -> Account:
    """An account whose fields are what the test target's mapping produces."""
    flds = {"display_name": display_name, "email": email, **fields}
    return Account(target_id, login, email, display_name, fields=flds, protected=protected)


def in_step(target_id: str, identity: Identity) -> Account:
    """An account exactly as the test target would create it for ``identity``."""
    login = identity.username.lower()
    email = (identity.email or identity.username).lower()
    return account(target_id, login, email, identity.display_name)


def make_plan(
    identities: Iterable[Identity],
    accounts: Iterable[Account] = (),
    links: Mapping[str, Link] | None = None,
    *,
    mode: str = "sync",
    plugins: Iterable[Any] = (),
    protected: Iterable[str] = (),
    scope: Mapping[str, Any] | None = None,
    guard: Mapping[str, Any] | None = None,
    complete: bool = True,
    reason: str | None = None,
    allow_removals: int = 0,
    target: MemoryTarget | None = None,
    foreign: Mapping[str, Any] | None = None,
    removal: str = "delete",
    now: datetime | None = None,
    released_logins: Mapping[str, str] | None = None,
) -> SyncPlan:
    accounts = list(accounts)
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=list(plugins))
    context = ConnectorContext(name="t", profile={"mode": mode})
    target = target or MemoryTarget({"accounts": accounts}, context)
    # scope is the source's call; the test source's rules decide it here
    read = ReadResult(tuple(scoped(identities, scope or {})), complete=complete, reason=reason)
    planner = Planner("t", mode, target, pm, context, guard=guard, protected_logins=protected, removal=parse_removal(removal), now=now)
    return planner.plan(read, {}, accounts, links or {}, allow_removals=allow_removals, released_logins=released_logins, foreign=foreign)


def only(plan: SyncPlan, source_id: str):  # type: ignore[no-untyped-def]
    items = [i for i in plan.items if i.source_id == source_id]
    assert len(items) == 1, items
    return items[0]
