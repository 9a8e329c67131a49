"""The removal guard: partial data never becomes a deletion, and mass removals wait
for a person.

Removals (``DELETE`` and ``DISABLE`` items, counted together) apply only when

- the read was complete (``ReadResult.complete``); ``--allow-removals`` cannot
  override this: run again once the source reads completely;
- the source returned at least one user (a zero-user read while links exist looks
  like an outage, not like everybody leaving); ``--allow-removals N`` releases them;
- their number stays within ``min(max(min_allowed, max_percent% of linked users),
  max_per_run)``; ``--allow-removals N`` releases up to N, and ``syncframe release``
  releases named ones (a person's decision, consumed by the next run).

A tripped guard holds *every* removal (all or nothing, like Entra Connect's
deletion threshold): it never silently deletes "only the first few". Held removals
are not lost: planning runs on the full source view, so they come back next run.
After a person released *some* held removals (``--allow-removals N`` or by name),
the rest **wait for a release**: a later run does not apply them just because what
is left now fits under the limit (the runner marks them, ``waiting``). New removals
are still judged by the limit, counted together with the waiting ones. A held user
who comes back is no removal any more. Held removals nobody released any of are
judged afresh each run.

The guard also judges the *target's* list (:func:`check_listing`): when more linked
accounts are missing from it than the limit allows, the list is taken for a fault
of the target, and every create and removal is held (and no link dropped) until a
whole list comes back or ``--allow-removals N`` (N at least the missing accounts)
accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Any, Mapping

from ..model import REMOVAL_KINDS, ItemKind, PlanItem

DEFAULTS = {"max_per_run": 100, "max_percent": 10.0, "min_allowed": 5}


@dataclass(frozen=True)
class GuardResult:
    """What the guard decided."""

    #: why removals were held, or None when nothing was held
    reason: str | None = None
    held: int = 0
    released: int = 0
    #: whether ``--allow-removals`` can release what was held
    releasable: bool = True
    limit: int | None = None
    #: the N of ``--allow-removals N`` that releases everything held (default: ``held``)
    release_count: int | None = None


@dataclass(frozen=True)
class ListingDoubt:
    """Why the target's list of accounts is not believed."""

    reason: str
    #: linked accounts missing from the list
    lost: int


def removal_limit(settings: Mapping[str, Any], linked: int) -> int:
    """How many removals one run may make without ``--allow-removals``."""
    s = {**DEFAULTS, **dict(settings or {})}
    by_share = int(float(s["max_percent"]) * linked / 100)
    return min(max(int(s["min_allowed"]), by_share), int(s["max_per_run"]))


def check_listing(*, lost: int, listed: int, linked: int, settings: Mapping[str, Any], allow_removals: int = 0) -> ListingDoubt | None:
    """Doubt a target list that lost more linked accounts than the removal limit allows.

    :param lost: Linked accounts missing from the list.
    :param listed: Accounts the list holds.
    :param linked: This connector's links before the run.
    :param allow_removals: ``--allow-removals N``: N at least ``lost`` accepts the list.
    """
    limit = removal_limit(settings, linked)
    if lost <= limit or allow_removals >= lost:
        return None
    reason = (
        f"the target listed {listed} accounts, and {lost} of the {linked} accounts this connector linked are missing "
        f"from the list (more than the removal guard's limit of {limit}); that looks like a fault of the target, not "
        f"like accounts deleted by hand: no link is dropped and nothing is created or removed until a run lists them again"
    )
    return ListingDoubt(reason, lost)


def apply_guard(
    items: list[PlanItem],
    *,
    complete: bool,
    read_reason: str | None,
    source_empty: bool,
    linked: int,
    settings: Mapping[str, Any],
    allow_removals: int = 0,
    released_logins: Mapping[str, str] | None = None,
    waiting: AbstractSet[str] = frozenset(),
    listing: ListingDoubt | None = None,
) -> GuardResult:
    """Turn the writes the guard stops into ``HELD`` items, in place.

    :param released_logins: folded login -> who released it and when
        (``syncframe release``); those go ahead whenever a person may release at all.
    :param waiting: Source ids whose removal an earlier run held (they wait for a release).
    :param listing: The target's list is in doubt: hold every create and removal.
    """
    if listing is not None:
        stopped = [i for i in items if i.kind is ItemKind.CREATE or i.kind in REMOVAL_KINDS]
        for item in stopped:
            item.reason = f"{item.reason}; held: the target's list is in doubt"
            item.kind = ItemKind.HELD
        return GuardResult(reason=listing.reason, held=len(stopped), release_count=listing.lost)
    deletes = sorted((i for i in items if i.kind in REMOVAL_KINDS), key=lambda i: (i.login or "", i.source_id or ""))
    if not deletes:
        return GuardResult()
    s = {**DEFAULTS, **dict(settings or {})}
    limit = removal_limit(s, linked)
    releasable = True
    if not complete:
        why = f"the source read was incomplete ({read_reason or 'no reason given'}); removals need a complete read"
        releasable = False
    elif source_empty:
        why = f"the source returned no users while {linked} are linked; that looks like an outage, not like everybody leaving"
    elif len(deletes) > limit:
        why = (
            f"{len(deletes)} removals exceed the removal guard's limit of {limit} "
            f"(max(min_allowed={s['min_allowed']}, max_percent={s['max_percent']:g}% of {linked} linked users), "
            f"at most max_per_run={s['max_per_run']})"
        )
    else:
        deletes = [i for i in deletes if i.source_id in waiting]
        if not deletes:
            return GuardResult(limit=limit)
        why = (
            f"{len(deletes)} removal(s) held by the removal guard in an earlier run wait until released "
            f"(--allow-removals N, or syncframe release LOGIN); a held removal is never applied later on its own"
        )

    by_name = dict(released_logins or {}) if releasable else {}
    named = [i for i in deletes if (i.login or "").lower() in by_name]
    rest = [i for i in deletes if (i.login or "").lower() not in by_name]
    counted = min(max(allow_removals, 0), len(rest)) if releasable else 0
    for item in named:
        item.reason = f"{item.reason}; released by name ({by_name[(item.login or '').lower()]})"
    for n, item in enumerate(rest):
        if n < counted:
            item.reason = f"{item.reason}; released with --allow-removals"
            continue
        item.kind = ItemKind.HELD
        item.reason = f"{item.reason}; held: {why}"
    released = counted + len(named)
    return GuardResult(reason=why, held=len(deletes) - released, released=released, releasable=releasable, limit=limit)
