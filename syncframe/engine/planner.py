"""The planner: read result + target accounts + links -> :class:`SyncPlan`. Pure: it
writes nothing, neither to the target nor to the state store.

read → validate → scope → match → map → diff → guard → plan, as DESIGN.md draws it.
Every identity in the *full* view gets exactly one item, and so does every link
whose identity is gone or out of scope; NOOP items keep the counts honest.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

import pluggy

from .. import clock
from ..contracts import ConnectorContext, Target
from ..errors import SkippableRecordError
from ..hooks import Hooks
from ..model import Account, Identity, ItemKind, Match, Plan, PlanItem, ReadResult
from ..removal import RemovalPolicy
from ..schemas import describe_errors
from .guard import GuardResult, apply_guard, check_listing
from .index import TargetIndex, fold
from .leavers import Leaver, comeback, disable_note, judge_leaver, leaver_of, waiting_for_deletion
from .validate import validate


@dataclass
class SyncPlan(Plan):
    """A :class:`Plan` plus what the engine needs to apply and report it."""

    #: source id -> target id of links whose account vanished from the target; apply drops them
    dropped_links: dict[str, str] = field(default_factory=dict)
    #: how the links came to be (source id -> "created" | "adopted"), kept on updates
    link_origins: dict[str, str] = field(default_factory=dict)
    guard: GuardResult = field(default_factory=GuardResult)
    #: users linked before the run (the guard's percentage base)
    linked: int = 0
    #: the target's accounts the plan was made from (for a saved plan's fingerprint)
    accounts: list[Account] = field(default_factory=list, repr=False)
    #: why the target's list of accounts was not believed (the guard held creates and removals)
    listing_doubt: str | None = None
    #: source ids whose removal waited for a release before this plan (``Link.held_since``)
    waiting: frozenset[str] = frozenset()
    #: disabled leavers (and those this plan disables) waiting for deletion, soonest due first
    leavers: list[Leaver] = field(default_factory=list)


def full_view(read: ReadResult, previous: Mapping[str, Identity]) -> dict[str, Identity]:
    """The whole source as of this read: an incremental read patches the previous view."""
    if not read.incremental:
        return {i.source_id: i for i in read.identities}
    view = dict(previous)
    for identity in read.identities:
        view[identity.source_id] = identity
    for source_id in read.removed:
        view.pop(source_id, None)
    return view


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Planning allocates ~10 objects per user and frees none: the cyclic garbage
    collector would rescan the growing heap again and again (a third of the CPU
    time at 100,000 users) and find nothing. Plain reference counting still frees."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Candidate:
    identity: Identity
    match: Match | None
    account: Account | None
    desired: dict[str, Any]


class Planner:
    """Plans one connector run.

    :param name: The connector's name.
    :param mode: ``sync`` (removes what it linked) or ``upsert`` (never removes).
    :param target: The open target (for ``desired`` and ``diff``; nothing is written).
    :param pm: The plugin manager (matching, mapping and ``plan_ready`` hooks).
    :param context: The connector context handed to hooks.
    :param guard: The removal guard settings (``Connector.guard``).
    :param protected_logins: Logins never matched, changed or removed.
    :param upsert_disabled: Mode upsert: ``keep`` a linked user disabled in the source
        as it is, or ``disable`` it (planned like any linked user, so the target's
        mapping of ``enabled`` decides).
    :param removal: What a removal does (the profile's ``removal``): delete, or disable
        first and delete when the grace period is over.
    :param now: The time due dates are judged by (:func:`syncframe.clock.now` by default).
    """

    def __init__(
        self,
        name: str,
        mode: str,
        target: Target,
        pm: pluggy.PluginManager,
        context: ConnectorContext,
        guard: Mapping[str, Any] | None = None,
        protected_logins: Iterable[str] = (),
        upsert_disabled: str = "keep",
        removal: RemovalPolicy = RemovalPolicy(),
        now: datetime | None = None,
    ):
        self.name = name
        self.mode = mode
        self.target = target
        self.pm = pm
        self.hooks = Hooks.of(pm)
        self.context = context
        self.guard = dict(guard or {})
        self.protected_logins = list(protected_logins)
        self.upsert_disabled = upsert_disabled
        self.removal = removal
        self.now = now or clock.now()

    def plan(
        self,
        read: ReadResult,
        previous: Mapping[str, Identity],
        accounts: Iterable[Account],
        links: Mapping[str, Any],
        allow_removals: int = 0,
        released_logins: Mapping[str, str] | None = None,
        foreign: Mapping[str, Sequence[Any]] | None = None,
    ) -> SyncPlan:
        """Build the plan, run the guard, and call ``syncframe_plan_ready``.

        :param read: What the source returned.
        :param previous: The view saved after the last applied run (source id -> identity).
        :param accounts: Every account the target holds.
        :param links: This connector's links (source id -> ``Link`` with ``target_id``,
            ``origin`` and ``held_since``).
        :param allow_removals: How many held removals to release (``--allow-removals``).
        :param released_logins: Held removals a person released by name (folded login -> by whom).
        :param foreign: Target id -> the links other connectors on the same system hold
            to it (``ForeignLink``); their accounts are never matched, adopted or removed.
        """
        with _no_gc_pauses():
            plan = self._plan(read, previous, accounts, links, allow_removals, released_logins or {}, foreign or {})
        self.hooks.plan_ready(plan, self.context)
        return plan

    def _plan(
        self,
        read: ReadResult,
        previous: Mapping[str, Identity],
        accounts: Iterable[Account],
        links: Mapping[str, Any],
        allow_removals: int,
        released_logins: Mapping[str, str],
        foreign: Mapping[str, Sequence[Any]],
    ) -> SyncPlan:
        view = full_view(read, previous)
        index = TargetIndex(accounts, links, self.protected_logins, foreign)
        doubt = check_listing(lost=len(index.stale), listed=len(index.by_id), linked=len(links), settings=self.guard, allow_removals=allow_removals)
        items: list[PlanItem] = []
        out_of_scope: dict[str, str] = {}
        in_scope: list[Identity] = []
        #: linked users disabled in the source that mode upsert disables (upsert_disabled = "disable")
        disabling: dict[str, str] = {}

        for source_id in sorted(view):
            raw = view[source_id]
            identity, errors = validate(raw)
            if identity is None:
                # an invalid record is present, not absent: its linked account stays untouched
                items.append(PlanItem(ItemKind.SKIP, f"invalid record: {describe_errors(errors)}", source_id=source_id, identity=raw))
                continue
            # who is in scope is the source's call; it says why someone is not
            excluded = identity.out_of_scope
            if excluded and self._disables(identity, index):
                disabling[source_id] = excluded
            elif excluded:
                out_of_scope[source_id] = excluded
                if source_id not in index.links:
                    items.append(PlanItem(ItemKind.SKIP, excluded, source_id=source_id, identity=identity))
                continue
            in_scope.append(identity)

        in_scope = self._duplicate_usernames(in_scope, items)
        candidates = [c for c in (self._match_and_map(i, index, items) for i in in_scope) if c is not None]
        candidates = self._collisions(candidates, items)
        for candidate in candidates:
            item = self._diff(candidate, index)
            item = comeback(item, links.get(candidate.identity.source_id))
            if candidate.identity.source_id in disabling:
                item.reason = f"{disabling[candidate.identity.source_id]}; mode upsert disables it (upsert_disabled = \"disable\"): {item.reason}"
            if item.kind in (ItemKind.CREATE, ItemKind.UPDATE, ItemKind.RENAME, ItemKind.ADOPT):
                item.notices = list(self.target.notices(item))
            items.append(item)

        leavers = self._removals(view, out_of_scope, index, links, items, released_logins)
        for source_id, target_id in sorted(index.stale.items()):
            if source_id not in view or source_id in out_of_scope:
                fate = "the link is kept while the target's list is in doubt" if doubt else "the link is dropped"
                items.append(PlanItem(ItemKind.SKIP, f"the linked account {target_id!r} no longer exists in the target; {fate}", source_id=source_id, target_id=target_id, identity=view.get(source_id)))

        waiting = frozenset(sid for sid, link in links.items() if getattr(link, "held_since", None) is not None)
        guard = apply_guard(
            items,
            complete=read.complete,
            read_reason=read.reason,
            source_empty=not view,
            linked=len(links),
            settings=self.guard,
            allow_removals=allow_removals,
            released_logins=released_logins,
            waiting=waiting,
            listing=doubt,
        )
        plan = SyncPlan(
            connector=self.name,
            mode=self.mode,
            items=items,
            read=read,
            view=view,
            dropped_links={} if doubt else dict(index.stale),
            link_origins={sid: str(getattr(link, "origin", "created")) for sid, link in links.items()},
            guard=guard,
            linked=len(links),
            listing_doubt=doubt.reason if doubt else None,
            waiting=waiting,
            leavers=waiting_for_deletion(leavers, items),
        )
        return plan

    def _disables(self, identity: Identity, index: TargetIndex) -> bool:
        """Mode upsert with ``upsert_disabled = "disable"``: a linked user the source
        disabled is planned like any linked user (the mapping disables the account)."""
        return self.mode == "upsert" and self.upsert_disabled == "disable" and not identity.enabled and identity.source_id in index.links

    # --- steps ------------------------------------------------------------------

    def _duplicate_usernames(self, identities: list[Identity], items: list[PlanItem]) -> list[Identity]:
        """Two source ids with one username (folded) are a conflict for both."""
        by_name: dict[str, list[Identity]] = defaultdict(list)
        folded = [fold(identity.username) for identity in identities]
        for identity, name in zip(identities, folded):
            by_name[name].append(identity)
        kept: list[Identity] = []
        for identity, name in zip(identities, folded):
            same = by_name[name]
            if len(same) == 1:
                kept.append(identity)
                continue
            others = [o.source_id for o in same if o is not identity]
            items.append(
                PlanItem(
                    ItemKind.CONFLICT,
                    f"username {identity.username!r} is also used by source id(s) {', '.join(others)}; fix it in the directory",
                    source_id=identity.source_id,
                    login=identity.username,
                    identity=identity,
                    candidates=others,
                )
            )
        return kept

    def _match_and_map(self, identity: Identity, index: TargetIndex, items: list[PlanItem]) -> _Candidate | None:
        match = self.hooks.match(identity, index, self.context)
        if match is not None and match.conflict:
            items.append(PlanItem(ItemKind.CONFLICT, match.reason, source_id=identity.source_id, login=identity.username, identity=identity, candidates=list(match.candidates)))
            return None
        account = match.account if match is not None else None
        if account is not None:
            problem = None
            owner = index.owner(account)
            if index.account_protected(account):
                problem = f"matches the protected account {account.login!r}; protected accounts are never matched or changed"
            elif owner is not None:
                problem = f"{match.reason}, but account {account.login!r} is managed by connector {owner!r}; a connector never matches, adopts or removes another connector's accounts"
            else:
                linked_to = index.linked_source(account)
                if linked_to is not None and linked_to != identity.source_id:
                    problem = f"{match.reason}, but account {account.login!r} is already linked to source id {linked_to}"
            if problem:
                items.append(PlanItem(ItemKind.CONFLICT, problem, source_id=identity.source_id, login=identity.username, identity=identity, account=account, target_id=account.target_id, candidates=[account.login]))
                return None
        try:
            desired = dict(self.target.desired(identity))
        except SkippableRecordError as exc:
            # the target cannot hold this user: say why every run rather than fail every run
            items.append(PlanItem(ItemKind.SKIP, f"the target cannot hold this user: {exc}", source_id=identity.source_id, login=identity.username, identity=identity, account=account, target_id=account.target_id if account else None))
            return None
        self.hooks.map_identity(identity, desired, self.context)
        if not desired.get("login"):
            items.append(PlanItem(ItemKind.SKIP, "the target's mapping produced no login", source_id=identity.source_id, identity=identity))
            return None
        return _Candidate(identity, match, account, desired)

    def _collisions(self, candidates: list[_Candidate], items: list[PlanItem]) -> list[_Candidate]:
        """Two identities that want one login, or one account, are a conflict for both."""
        by_login: dict[str, list[_Candidate]] = defaultdict(list)
        by_account: dict[str, list[_Candidate]] = defaultdict(list)
        logins = [fold(str(c.desired["login"])) for c in candidates]
        for c, login in zip(candidates, logins):
            by_login[login].append(c)
            if c.account is not None:
                by_account[c.account.target_id].append(c)
        kept: list[_Candidate] = []
        for c, login in zip(candidates, logins):
            same_login = by_login[login]
            same_account = by_account[c.account.target_id] if c.account is not None else [c]
            if len(same_login) == 1 and len(same_account) == 1:
                kept.append(c)
                continue
            if len(same_login) > 1:
                others = [o.identity.source_id for o in same_login if o is not c]
                reason = f"the desired login {c.desired['login']!r} is also wanted by source id(s) {', '.join(others)}"
            else:
                others = [o.identity.source_id for o in same_account if o is not c]
                reason = f"account {c.account.login!r} is also matched by source id(s) {', '.join(others)}"  # type: ignore[union-attr]
            items.append(PlanItem(ItemKind.CONFLICT, reason, source_id=c.identity.source_id, login=str(c.desired["login"]), identity=c.identity, candidates=others))
        return kept

    def _diff(self, c: _Candidate, index: TargetIndex) -> PlanItem:
        identity, account, desired = c.identity, c.account, c.desired
        login = str(desired["login"])
        holders = [a for a in index.holders_of(login) if account is None or a.target_id != account.target_id]
        if holders:
            held_by = ", ".join(f"{a.login!r}{_held_note(a, index)}" for a in holders)
            return PlanItem(ItemKind.CONFLICT, f"the login {login!r} is already held by another account: {held_by}", source_id=identity.source_id, login=login, identity=identity, account=account, target_id=account.target_id if account else None, desired=desired, candidates=[a.login for a in holders])
        if account is None:
            reason = c.match.reason if c.match is not None else "no matching account in the target"
            if identity.source_id in index.stale:
                reason = f"the linked account {index.stale[identity.source_id]!r} no longer exists in the target; {reason}"
            return PlanItem(ItemKind.CREATE, f"{reason}: create", source_id=identity.source_id, login=login, identity=identity, desired=desired)
        assert c.match is not None
        changes = self.target.diff(account, desired)
        # logins compare folded, as matching does: a case-only difference is no rename
        renames = fold(account.login) != fold(login)
        item = PlanItem(
            ItemKind.NOOP,
            c.match.reason,
            source_id=identity.source_id,
            login=login,
            target_id=account.target_id,
            identity=identity,
            account=account,
            desired=desired,
            changes=changes,
            rename_from=account.login if renames else None,
        )
        if index.linked_source(account) != identity.source_id:
            item.kind = ItemKind.ADOPT
            item.reason = f"{c.match.reason}: adopt" + (f" and rename {account.login!r} → {login!r}" if renames else "")
        elif renames:
            item.kind = ItemKind.RENAME
            item.reason = f"{c.match.reason}: rename {account.login!r} → {login!r}"
        elif changes:
            item.kind = ItemKind.UPDATE
            item.reason = f"{c.match.reason}: update {', '.join(sorted(changes))}"
        return item

    def _removals(self, view: Mapping[str, Identity], out_of_scope: Mapping[str, str], index: TargetIndex, links: Mapping[str, Any], items: list[PlanItem], released_logins: Mapping[str, str]) -> list[Leaver]:
        """Linked users missing from the view or out of scope: in mode sync, DELETE, or
        DISABLE first (``removal``); a disabled leaver is deleted once due. Returns the
        disabled leavers still missing."""
        leavers: list[Leaver] = []
        for source_id in sorted(index.links):
            if source_id in view and source_id not in out_of_scope:
                continue
            account = index.by_id[index.links[source_id]]
            why = out_of_scope.get(source_id) or "missing from the source"
            identity = view.get(source_id)
            item = PlanItem(ItemKind.SKIP, why, source_id=source_id, login=account.login, target_id=account.target_id, identity=identity, account=account)
            owner = index.owner(account)
            if index.account_protected(account):
                item.reason = f"{why}; account {account.login!r} is protected and never removed"
            elif owner is not None:
                item.kind = ItemKind.CONFLICT
                item.reason = f"{why}; account {account.login!r} is managed by connector {owner!r} (it linked it first): never removed by this one"
                item.candidates = [account.login]
            elif self.mode != "sync" and identity is not None and not identity.enabled:
                item.reason = f"{why}; mode {self.mode} keeps the account as it is (upsert_disabled = \"keep\")"
            elif self.mode != "sync":
                item.reason = f"{why}; mode {self.mode} never removes users"
            else:
                link = links.get(source_id)
                leaver = leaver_of(link, account)
                if leaver is not None:
                    # a release names the login the link recorded (a rename by hand may differ)
                    released = any(fold(str(name)) in released_logins for name in (account.login, getattr(link, "login", "")))
                    leavers.append(judge_leaver(item, leaver, self.now, self.removal.dates_deletions, released, account.enabled))
                elif self.removal.disable:
                    item.kind = ItemKind.DISABLE
                    due = self.removal.due(self.now)
                    item.delete_due = due.isoformat() if due else None
                    item.reason = f"{why}; linked by an earlier import of this connector: disable ({disable_note(due)})"
                else:
                    item.kind = ItemKind.DELETE
                    item.reason = f"{why}; linked by an earlier import of this connector: remove"
            items.append(item)
        return leavers


def _held_note(account: Account, index: TargetIndex) -> str:
    """Why an account holding a wanted login is not ours to use, for the conflict's reason."""
    if index.account_protected(account):
        return " (protected)"
    owner = index.owner(account)
    return f" (managed by connector {owner!r})" if owner else ""
