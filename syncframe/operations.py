"""Decisions a person makes about a connector, shared by the CLI and the web console.

Both ask the same questions before recording a decision: is this removal held now
(a plan: reads, writes nothing), does the account exist, is it protected, did the
connector read this source id. The answers are :class:`~syncframe.errors.ConfigError`
lines people can act on.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import pluggy

from .errors import ConfigError
from .model import ItemKind
from .state.rows import DecisionRow


def held_logins(connector: Any, pm: pluggy.PluginManager, store: Any, echo: Callable[[str], None] = print) -> list[str]:
    """The removals the guard holds right now (a plan: reads, writes nothing)."""
    from .engine import ConnectorRunner

    outcome = ConnectorRunner(connector, pm, store, echo=echo).plan()
    if outcome.plan is None:
        raise ConfigError(f"connector {connector.name!r} could not be planned: {outcome.report.error}")
    return sorted({str(i.login) for i in outcome.plan.of_kind(ItemKind.HELD) if i.login})


def release_removals(store: Any, name: str, held: list[str], logins: Iterable[str] | None, operator: str) -> list[DecisionRow]:
    """Release held removals by login for the next run (``logins`` None: every one held).

    :raises ConfigError: a login whose removal is not held now (nothing is recorded).
    """
    by_folded = {login.lower(): login for login in held}
    wanted = list(held) if logins is None else list(dict.fromkeys(logins))
    unknown = [login for login in wanted if login.lower() not in by_folded]
    if unknown:
        shown = ", ".join(held[:10]) + (" …" if len(held) > 10 else "") if held else "none"
        raise ConfigError(f"not a held removal of connector {name!r}: {', '.join(unknown)} (held now: {shown})")
    return [store.record_decision(name, "release", by_folded[login.lower()], operator) for login in wanted]


def link_account(store: Any, connector: Any, source_id: str, login: str, operator: str, echo: Callable[[str], None] = print) -> DecisionRow:
    """Link a directory user to an existing target account by hand (the fix for a conflict).

    :raises ConfigError: no such account, a protected one, a source id the connector
        never read, or either side linked already.
    """
    name = connector.name
    context = connector.context(token_store=store.token_store(f"{name}:source"), echo=echo)
    target = connector.open_target(context)
    try:
        account = target.find(login)
    finally:
        target.close()
    if account is None:
        raise ConfigError(f"the target has no account with the login {login!r}")
    protected = {p.lower() for p in connector.protected_logins}
    if account.protected or account.login.lower() in protected:
        raise ConfigError(f"the account {account.login!r} is protected and never linked")
    view = store.load_view(name)
    if view and source_id not in view:
        raise ConfigError(f"connector {name!r} read no user with the source id {source_id!r} (see its last plan)")
    return store.link_by_hand(name, source_id, account.target_id, account.login, operator)
