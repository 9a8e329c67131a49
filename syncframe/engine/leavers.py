"""Leavers in the plan: disabled accounts waiting for deletion, and users who come back.

With ``removal = "disable, delete after 30d"`` a leaver's account is disabled and stays
linked (``Link.disabled_at``, ``Link.delete_due``). Each later plan judges it again:

- still gone and due (the first run on or after ``delete_due``): ``DELETE``, through
  the removal guard like any removal;
- still gone and not due, or kept by a person (``syncframe keep``): nothing is written;
- back in the directory (restored, re-added to the group, enabled again): the linked
  account is re-enabled (an ``UPDATE`` whose changes include ``enabled``), never
  created a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from ..model import Account, ItemKind, PlanItem


@dataclass(frozen=True)
class Leaver:
    """A linked user whose account is (or, for ``state="disabling"``, is about to be) disabled."""

    source_id: str
    login: str
    target_id: str
    disabled_at: datetime | None
    delete_due: datetime | None
    kept: bool = False
    #: "waiting" (for its due date), "kept", "undated" (removal = "disable"),
    #: "enabled" (enabled again by hand in the target: kept until released),
    #: "due" (deleted by this run, guard permitting) or "disabling" (disabled by this run)
    state: str = "waiting"

    def to_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "source_id": self.source_id,
            "target_id": self.target_id,
            "disabled_at": _iso(self.disabled_at),
            "delete_due": _iso(self.delete_due),
            "kept": self.kept,
            "state": self.state,
        }


def leaver_of(link: Any, account: Account) -> Leaver | None:
    """The leaver a link records (its account was disabled earlier), or None."""
    disabled_at = getattr(link, "disabled_at", None)
    if disabled_at is None:
        return None
    return Leaver(link.source_id, account.login, account.target_id, disabled_at, link.delete_due, bool(getattr(link, "kept", False)))


def judge_leaver(item: PlanItem, leaver: Leaver, now: datetime, dates_deletions: bool = True, released: bool = False, enabled: bool = False) -> Leaver:
    """Turn a disabled leaver's removal item into DELETE when due, else leave it a SKIP
    that says what it waits for. Returns the leaver with its state for the report.

    :param dates_deletions: False under ``removal = "disable"``: a due date left from an
        earlier grace period deletes nobody; only a person's ``release`` does.
    :param released: a person released this leaver (``syncframe release``) for this run.
    :param enabled: the account is enabled in the target: a person enabled it again by hand.
    """
    since = f"disabled since {leaver.disabled_at:%Y-%m-%d}"
    if leaver.kept:
        item.reason = f"{item.reason}; {since}, kept disabled by a person (syncframe keep --undo lets it be deleted)"
        return _with_state(leaver, "kept")
    if enabled and not released:
        # someone turned the account back on: it is in use, and no due date deletes it
        item.reason = f"{item.reason}; {since}, but enabled again by hand in the target: not deleted until released (syncframe release)"
        return _with_state(leaver, "enabled")
    if leaver.delete_due is None or not (dates_deletions or released):
        item.reason = f"{item.reason}; {since}; removal disables only: kept until released (syncframe release)"
        return _with_state(leaver, "undated")
    if leaver.delete_due <= now:
        item.kind = ItemKind.DELETE
        item.reason = f"{item.reason}; {since}, due for deletion on {leaver.delete_due:%Y-%m-%d %H:%M} UTC: remove"
        return _with_state(leaver, "due")
    item.reason = f"{item.reason}; {since}, waiting for deletion on {leaver.delete_due:%Y-%m-%d %H:%M} UTC"
    return _with_state(leaver, "waiting")


def comeback(item: PlanItem, link: Any) -> PlanItem:
    """A disabled leaver back in the directory before its deletion: re-enable the linked
    account (an UPDATE even when nothing else differs, so the link is marked active again)."""
    if getattr(link, "disabled_at", None) is None or item.target_id != link.target_id:
        return item
    if item.kind not in (ItemKind.NOOP, ItemKind.UPDATE, ItemKind.RENAME):
        return item
    since = f"disabled since {link.disabled_at:%Y-%m-%d}"
    if item.kind is ItemKind.NOOP:
        item.kind = ItemKind.UPDATE
    # back but disabled in the directory (include_disabled): enabling would let them sign in
    if not _enabled_in_source(item):
        item.reason = f"back in the directory before its deletion ({since}), but disabled there: stays disabled; {item.reason}"
        return item
    if item.account is not None and not item.account.enabled and "enabled" not in item.changes:
        item.changes["enabled"] = [False, True]
    item.reason = f"back in the directory before its deletion ({since}): re-enable; {item.reason}"
    return item


def _enabled_in_source(item: PlanItem) -> bool:
    """Whether the source (and the target's mapping of it) wants the account enabled."""
    if item.identity is not None and not item.identity.enabled:
        return False
    return (item.desired or {}).get("enabled", True) is not False


def disable_note(due: datetime | None) -> str:
    """How a DISABLE item's reason names its due date."""
    return f"deleted on {due:%Y-%m-%d %H:%M} UTC unless the user comes back" if due else "kept disabled until released"


def waiting_for_deletion(leavers: Iterable[Leaver], items: Iterable[PlanItem]) -> list[Leaver]:
    """The disabled leavers, plus the accounts this plan disables, soonest due first."""
    found = list(leavers)
    for item in items:
        if item.kind is ItemKind.DISABLE and item.source_id:
            due = datetime.fromisoformat(item.delete_due) if item.delete_due else None
            found.append(Leaver(item.source_id, item.login or "", item.target_id or "", None, due, state="disabling"))
    return sorted(found, key=lambda l: (l.kept, l.delete_due is None, l.delete_due.timestamp() if l.delete_due else 0.0, l.login))


def _with_state(leaver: Leaver, state: str) -> Leaver:
    return Leaver(leaver.source_id, leaver.login, leaver.target_id, leaver.disabled_at, leaver.delete_due, leaver.kept, state)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def recorded_leavers(links: Iterable[Any], now: datetime) -> list[Leaver]:
    """The disabled leavers a state store records (``StateStore.leavers``), each with its
    state as of ``now``: for ``history`` and the web console, between runs."""
    found = []
    for link in links:
        if getattr(link, "disabled_at", None) is None:
            continue
        if link.kept:
            state = "kept"
        elif link.delete_due is None:
            state = "undated"
        else:
            state = "due" if link.delete_due <= now else "waiting"
        found.append(Leaver(link.source_id, link.login, link.target_id, link.disabled_at, link.delete_due, bool(link.kept), state))
    return found
