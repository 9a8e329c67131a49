"""The run report: a typed value the engine returns; the CLI renders it for people
(:mod:`syncframe.cli.render`) and ``--json`` prints :meth:`Report.to_dict`.

The JSON document (``kind`` is ``plan`` or ``run``)::

    {
      "name": "contoso", "title": "...", "mode": "sync", "kind": "run",
      "run_id": 7,                      # null for a plan
      "status": "ok",                   # plan: in_sync | pending | held | failed
                                        # run:  ok | held | failed | aborted
      "exit_code": 0,
      "complete": true, "incremental": false, "read_reason": null, "read_stats": {...},
      "counts": {"create": 1, "update": 0, "rename": 0, "adopt": 0, "delete": 0,
                 "disable": 0, "held": 0, "conflict": 0, "skip": 0, "noop": 3, "error": 0},
      "notices": {"<code>": ["login", ...]},   # the target's follow-ups for people
                                        # (recovered writes of a killed run included)
      "notice_messages": {"<code>": "what to do"},
      "bookmark": true,                 # did the bookmark (and saved view) advance
      "held": {"count": 0, "reason": null, "releasable": true, "release": null},
      "listing_doubt": null,            # why the target's list was not believed, if it was not
      "waiting_for_deletion": [{"login", "source_id", "target_id", "disabled_at", "delete_due",
                                "kept", "state"}],   # disabled leavers, soonest due first; state:
                                        # waiting | kept | undated | enabled (again, by hand: kept
                                        # until released) | due (deleted by this run) |
                                        # disabling (disabled by this run)
      "conflicts": [{"source_id", "username", "login", "reason", "candidates"}],
      "changes": [{"kind", "login", "rename_from", "changes": {field: [old, new]}, "applied"}],
      "items": [PlanItem.to_dict(), ...],   # every item except NOOP
      "errors": [{"kind", "login", "source_id", "error", "permanent"}],
                                        # permanent: the target refused it for good
      "error_groups": [{"cause", "count", "logins", "permanent"}],   # errors by cause, first logins
      "error": null,                    # what stopped the run, if anything did
      "applied": 0, "failed": 0, "refused": 0, "not_applied": 0, "links_dropped": 0,
      "removals_withheld": null, "recovered": [...],
      "stale": [],                      # why a saved plan no longer applies (status "stale")
      "plan_file": null                 # plan --out: where the plan was saved
    }
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..exit_codes import ExitCode
from ..model import ItemKind, PlanItem
from .apply import ApplyResult
from .planner import SyncPlan

COUNT_KEYS = ("create", "update", "rename", "adopt", "delete", "disable", "held", "conflict", "skip", "noop", "error")
#: logins named per error cause; the count says how many there are in all
LOGINS_PER_CAUSE = 5


@dataclass(frozen=True)
class HeldRemovals:
    """Removals the guard held, why, and the command that releases them."""

    count: int = 0
    reason: str | None = None
    releasable: bool = True
    release: str | None = None


@dataclass(frozen=True)
class Conflict:
    """An ambiguous match: nothing is written for this user."""

    source_id: str | None
    username: str | None
    login: str | None
    reason: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """A write of the plan, and whether it landed."""

    kind: str
    login: str | None
    rename_from: str | None
    changes: dict[str, list[Any]]
    applied: bool


@dataclass(frozen=True)
class ItemError:
    """One user whose write (or planning) failed."""

    kind: str
    login: str | None
    source_id: str | None
    error: str
    #: the target refused it for good (a definite answer; it blocks nothing)
    permanent: bool = False


@dataclass(frozen=True)
class ErrorGroup:
    """Failed users that failed for the same cause: one line for people, not one per user."""

    cause: str
    count: int
    logins: tuple[str, ...]
    #: the target refused these users for good (they block nothing)
    permanent: bool = False


@dataclass
class Report:
    """The report of a plan or a run (see the module docstring for its JSON)."""

    name: str
    title: str
    mode: str
    kind: str
    status: str
    exit_code: ExitCode
    run_id: int | None = None
    complete: bool = False
    incremental: bool = False
    read_reason: str | None = None
    read_stats: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    notices: dict[str, list[str]] = field(default_factory=dict)
    notice_messages: dict[str, str] = field(default_factory=dict)
    bookmark: bool = False
    held: HeldRemovals = field(default_factory=HeldRemovals)
    #: why the target's list of accounts was not believed (creates and removals held)
    listing_doubt: str | None = None
    #: disabled leavers waiting for deletion (``Leaver.to_dict``), soonest due first
    waiting_for_deletion: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    #: every item except NOOP
    items: list[PlanItem] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    error_groups: list[ErrorGroup] = field(default_factory=list)
    #: what stopped the run, if anything did
    error: str | None = None
    applied: int = 0
    failed: int = 0
    #: writes the target refused for good (listed in ``errors`` with ``permanent``)
    refused: int = 0
    not_applied: int = 0
    links_dropped: int = 0
    removals_withheld: str | None = None
    recovered: list[dict[str, Any]] = field(default_factory=list)
    #: why a saved plan (``run --plan``) no longer applies; status ``stale``
    stale: list[str] = field(default_factory=list)
    #: where ``plan --out`` saved the plan
    plan_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as ``--json`` prints it."""
        return {name: self.json_value(name) for name in self.field_names()}

    @staticmethod
    def field_names() -> list[str]:
        """The report's keys, in the order ``--json`` prints them."""
        return [f.name for f in dataclasses.fields(Report)]

    def json_value(self, name: str) -> Any:
        """One field of :meth:`to_dict`, as plain JSON values."""
        value = getattr(self, name)
        if name == "exit_code":
            return int(value)
        if dataclasses.is_dataclass(value):
            return dataclasses.asdict(value)  # type: ignore[arg-type]
        if isinstance(value, list):
            return [self.json_element(name, v) for v in value]
        return value

    @staticmethod
    def json_element(name: str, value: Any) -> Any:
        """One element of a list field (``items``, ``changes``, ...) as plain JSON values."""
        if name == "items":
            return value.to_dict()
        if not dataclasses.is_dataclass(value):
            return value
        out = dataclasses.asdict(value)
        for key in ("candidates", "logins"):  # tuples in the dataclasses, lists in JSON
            if key in out:
                out[key] = list(out[key])
        return out

    def stored(self, cap: int) -> dict[str, Any]:
        """The report as history keeps it: without per-item lists (the journal has
        those), and at most ``cap`` entries of each other list."""
        summary = {name: self.json_value(name) for name in self.field_names() if name not in ("items", "changes")}
        for key in ("conflicts", "errors", "recovered"):
            values = summary.get(key) or []
            if len(values) > cap:
                summary[key] = values[:cap]
                summary[f"{key}_truncated"] = len(values) - cap
        return summary

    @property
    def first_error(self) -> str | None:
        """One line for history's error column: the first failed user and how many more."""
        if not self.errors:
            return None
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{first.kind} {first.login}: {first.error}{more}"


def build_report(
    plan: SyncPlan | None,
    *,
    name: str,
    title: str,
    mode: str,
    kind: str,
    status: str,
    exit_code: int,
    run_id: int | None = None,
    bookmark: bool = False,
    applied: ApplyResult | None = None,
    error: str | None = None,
    release: str | None = None,
    recovered: Iterable[Any] = (),
) -> Report:
    """The :class:`Report` of a plan or a run."""
    items = plan.items if plan is not None else []
    counts = plan.counts() if plan is not None else {}
    recovered = list(recovered)
    errors = [ItemError(i.kind.value, i.login, i.source_id, i.error, i.refused) for i in items if i.error]
    return Report(
        name=name,
        title=title,
        mode=mode,
        kind=kind,
        status=status,
        exit_code=ExitCode(exit_code),
        run_id=run_id,
        complete=plan.read.complete if plan is not None else False,
        incremental=plan.read.incremental if plan is not None else False,
        read_reason=plan.read.reason if plan is not None else None,
        read_stats=dict(plan.read.stats) if plan is not None else {},
        counts={key: int(counts.get(key, 0)) for key in COUNT_KEYS},
        notices=_notices(plan, recovered),
        notice_messages=_notice_messages(plan, recovered),
        bookmark=bookmark,
        held=_held(plan, release),
        listing_doubt=plan.listing_doubt if plan is not None else None,
        waiting_for_deletion=_waiting(plan, kind),
        conflicts=[
            Conflict(i.source_id, _username(i), i.login, i.reason, tuple(i.candidates)) for i in items if i.kind is ItemKind.CONFLICT
        ],
        changes=[Change(i.kind.value, i.login, i.rename_from, i.changes, i.applied) for i in items if i.writes],
        items=[i for i in items if i.kind is not ItemKind.NOOP],
        errors=errors,
        error_groups=group_errors([i for i in items if i.error]),
        error=error,
        applied=applied.applied if applied else 0,
        failed=applied.failed if applied else 0,
        refused=applied.refused if applied else 0,
        not_applied=applied.not_applied if applied else 0,
        links_dropped=applied.links_dropped if applied else 0,
        removals_withheld=applied.removals_withheld if applied else None,
        recovered=[r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in recovered],
    )


def group_errors(failed: Sequence[PlanItem], first: int = LOGINS_PER_CAUSE) -> list[ErrorGroup]:
    """Failed items grouped by cause, the commonest first.

    The cause is the error text with the user's own names (login, old login, target
    and source id) taken out, so "pascom refused PUT identity/42: 409 ..." and the
    same refusal for user 43 are one cause.
    """
    groups: dict[tuple[str, bool], list[str]] = {}
    for item in failed:
        groups.setdefault((_cause(item), item.refused), []).append(item.login or item.source_id or "?")
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))  # stable: first seen first among equals
    return [ErrorGroup(cause, len(logins), tuple(logins[:first]), refused) for (cause, refused), logins in ordered]


def _cause(item: PlanItem) -> str:
    text = item.error or ""
    names = {str(n) for n in (item.login, item.rename_from, item.target_id, item.source_id, _username(item)) if n}
    for name in sorted(names, key=len, reverse=True):
        # whole names only (target id 40 is not the 40 in "409"), quoted or not
        text = re.sub(rf"(?<![\w.@-])'?{re.escape(name)}'?(?![\w@-])", "…", text)
    return text


def _username(item: PlanItem) -> str | None:
    return item.identity.username if item.identity is not None else None


def _notices(plan: SyncPlan | None, recovered: list[Any]) -> dict[str, list[str]]:
    """The plan's notices and those of recovered writes (a killed run never reported them)."""
    out = {code: set(logins) for code, logins in (plan.notices() if plan is not None else {}).items()}
    for r in recovered:
        for notice in getattr(r, "notices", ()):
            if r.login:
                out.setdefault(notice.code, set()).add(r.login)
    return {code: sorted(logins) for code, logins in sorted(out.items())}


def _notice_messages(plan: SyncPlan | None, recovered: list[Any]) -> dict[str, str]:
    out = plan.notice_messages() if plan is not None else {}
    for r in recovered:
        for notice in getattr(r, "notices", ()):
            out.setdefault(notice.code, notice.message)
    return out


def _waiting(plan: SyncPlan | None, kind: str) -> list[dict[str, Any]]:
    """The leavers waiting for deletion; after a run, without those it deleted and with
    only the disables that landed."""
    if plan is None:
        return []
    items = {i.source_id: i for i in plan.items if i.source_id}
    out = []
    for leaver in plan.leavers:
        item = items.get(leaver.source_id)
        if kind == "run" and item is not None and item.kind is ItemKind.DELETE and item.applied:
            continue
        if kind == "run" and leaver.state == "disabling" and not (item is not None and item.applied):
            continue
        out.append(leaver.to_dict())
    return out


def _held(plan: SyncPlan | None, release: str | None) -> HeldRemovals:
    if plan is None or not (plan.guard.held or plan.listing_doubt):
        return HeldRemovals()
    n = plan.guard.release_count or plan.guard.held
    return HeldRemovals(
        count=plan.guard.held,
        reason=plan.guard.reason,
        releasable=plan.guard.releasable,
        release=f"{release} --allow-removals {n}" if (release and plan.guard.releasable) else None,
    )
