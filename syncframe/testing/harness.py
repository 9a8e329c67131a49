"""What a run does around one plugin, in one process and without a state store.

The conformance kit plans with the host's own planner (validation, scope,
matching, mapping, diff, guard), so a target receives exactly the plan items a
run would give it, and the harness keeps the links a run would keep. Opening a
plugin goes through its registration and schema, as a profile would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

import pluggy
from marshmallow import ValidationError

from .. import clock
from ..contracts import ConnectorContext, MatchIndex, Target
from ..errors import ConfigError
from ..hookspecs import hookimpl
from ..model import Account, Identity, ItemKind, Match, Plan, PlanItem, ReadResult
from ..plugins import get_plugin_manager, sources, targets
from ..removal import parse_removal
from ..engine.planner import Planner
from .doubles import MemoryTarget

CONNECTOR = "conformance"


def connector_context(state_dir: Path | None = None) -> ConnectorContext:
    """The context the kit opens plugins with (mode sync, quiet)."""
    return ConnectorContext(
        name=CONNECTOR,
        profile={"title": CONNECTOR, "mode": "sync"},
        state_dir=state_dir,
        log=logging.getLogger("syncframe.conformance"),
        echo=lambda line: None,
    )


def plugin_manager(plugin: Any = None) -> pluggy.PluginManager:
    """The plugins a run would have: ``plugin`` alone (a module or object), or, when
    None, the ``syncframe`` entry points, as the CLI loads them."""
    return get_plugin_manager(load_entrypoints=plugin is None, extra_plugins=[plugin] if plugin is not None else ())


def open_plugin(pm: pluggy.PluginManager, role: str, name: str, section: Mapping[str, Any], context: ConnectorContext) -> Any:
    """Open the registered ``role`` (``source``/``target``) ``name`` with a profile section.

    :raises ConfigError: when nothing registers ``name`` or the section does not validate.
    """
    registered = sources(pm) if role == "source" else targets(pm)
    registration = registered.get(name)
    if registration is None:
        raise ConfigError(f"no plugin registers the {role} {name!r} (registered: {', '.join(sorted(registered)) or 'none'})")
    try:
        config = registration.schema().load(dict(section))
    except ValidationError as exc:
        raise ConfigError(f"the sandbox's [{role}] section does not validate with {name!r}'s schema", exc.messages) from None  # type: ignore[arg-type]
    return registration.factory(config, context)


class _AdoptMatcher:
    """Answers the matching hook for the source ids a check wants adopted."""

    def __init__(self, wanted: Mapping[str, str]):
        self.wanted = wanted

    @hookimpl(tryfirst=True)
    def syncframe_match(self, identity: Identity, index: MatchIndex) -> Match | None:
        login = self.wanted.get(identity.source_id)
        found = index.by_login(login) if login else []
        return Match(found[0], f"the conformance kit adopts {login!r}", rule="kit") if found else None


@dataclass(frozen=True)
class LeaverLink:
    """A link whose account a DISABLE item disabled (what the state store records)."""

    source_id: str
    target_id: str
    disabled_at: datetime
    delete_due: datetime | None
    kept: bool = False


class Harness:
    """A directory held in memory, a target, and the links between them.

    :param target: The open target under test.
    :param pm: The plugins the run has (their matching and mapping hooks take part).
    """

    def __init__(self, target: Target, pm: pluggy.PluginManager, context: ConnectorContext | None = None):
        self.target = target
        self.pm = pm
        self.context = context or connector_context()
        #: the directory the next plan reads (source id -> identity)
        self.directory: dict[str, Identity] = {}
        #: source id -> target id (or a :class:`LeaverLink`), as the state store would keep them
        self.links: dict[str, Any] = {}
        #: source id -> login the matching rules are told to adopt
        self.adopt: dict[str, str] = {}
        pm.register(_AdoptMatcher(self.adopt), name="conformance-adopt")

    def put(self, *identities: Identity) -> None:
        for identity in identities:
            self.directory[identity.source_id] = identity

    def remove(self, source_id: str) -> None:
        self.directory.pop(source_id, None)

    def plan(self, removal: str = "delete") -> Plan:
        """Plan a complete read of the directory against the target as it is now.

        :param removal: The profile's ``removal`` (``"disable, delete after 30d"``, say).
        """
        read = ReadResult(tuple(self.directory.values()), complete=True)
        planner = Planner(CONNECTOR, "sync", self.target, self.pm, self.context, removal=parse_removal(removal))
        return planner.plan(read, {}, self.target.list_accounts(), self.links)

    def apply(self, item: PlanItem) -> Account | None:
        account = self.target.apply(item)
        self.record(item, account)
        return account

    def record(self, item: PlanItem, account: Account | None) -> None:
        """Keep the link a run keeps after ``item`` applied."""
        if item.source_id is None:
            return
        if item.kind is ItemKind.DELETE:
            self.links.pop(item.source_id, None)
        elif item.kind is ItemKind.DISABLE:
            # the link stays, marked as a leaver, as the state store keeps it
            target_id = account.target_id if account is not None else str(item.target_id)
            due = datetime.fromisoformat(item.delete_due) if item.delete_due else None
            self.links[item.source_id] = LeaverLink(item.source_id, target_id, clock.now(), due)
        elif account is not None:
            self.links[item.source_id] = account.target_id


def plan_read(pm: pluggy.PluginManager, read: ReadResult, previous: Mapping[str, Identity] | None = None) -> Plan:
    """What the host plans from a source's read against an empty target that holds anyone."""
    context = connector_context()
    target = MemoryTarget({"accounts": []}, context)
    planner = Planner(CONNECTOR, "sync", target, pm, context)
    return planner.plan(read, dict(previous or {}), [], {})


def items_by_source(items: Iterable[PlanItem]) -> dict[str, PlanItem]:
    return {item.source_id: item for item in items if item.source_id is not None}
