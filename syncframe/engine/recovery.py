"""Recover the writes a killed run left behind (journal intents with no outcome).

A create whose outcome was lost may have landed: look its login up in the target
and link the account if it is there, so the rerun adopts nothing twice and creates
no duplicate. A rename (or an adoption that renames) that landed is relinked under
its new login the same way (the plan sees nothing left to write for it). A disable
that landed is recorded as a leaver (with its due date), as its outcome would have.

A write can be more than one request (a rename, then ending the user's sessions):
one journal intent covers them all. When such a write landed, the steps after its
first request may or may not have run, so recovery calls the target's idempotent
:meth:`~syncframe.contracts.Target.finish`, and reports the item's notices (the
people who must do something), which the killed run never got to report. The
notices of the writes a killed run *finished* are reported too
(:func:`notices_of_abandoned_runs`).

Any other unfinished write needs no action of its own: the next plan reads the
target afresh and diffs again. Called under the connector's lock, before a run
journals new intents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ..contracts import Target
from ..errors import SyncError
from ..model import Account, ItemKind, Notice, PlanItem

if TYPE_CHECKING:
    from ..state.protocols import RecoveryStore


@dataclass(frozen=True)
class Recovered:
    journal_id: int
    kind: str
    login: str | None
    note: str
    #: follow-ups for people the recovered write needs (reported like a plan item's)
    notices: tuple[Notice, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "journal_id": self.journal_id,
            "kind": self.kind,
            "login": self.login,
            "note": self.note,
            "notices": [{"code": n.code, "message": n.message} for n in self.notices],
        }


def recover_unfinished(store: RecoveryStore, connector: str, target: Target) -> list[Recovered]:
    """Resolve every unfinished intent of ``connector``; returns what was done."""
    done: list[Recovered] = []
    for row in store.unfinished_intents(connector):
        item = PlanItem.from_dict(row.item) if row.item and row.item.get("kind") else None
        notices: tuple[Notice, ...] = ()
        if row.kind == "create" and row.login and row.source_id:
            account = target.find(row.login)
            if account is not None:
                store.journal_outcome(row.id, ok=True, result=account.to_dict(), link=(row.source_id, account.target_id, account.login, "created"))
                note = f"the create of {row.login!r} had landed in the target; linked it"
            else:
                note = f"the create of {row.login!r} never reached the target; the next plan creates it"
        elif item is not None and item.kind is ItemKind.DISABLE and row.login and row.source_id:
            account = target.find(row.login)
            if account is not None and not account.enabled:
                # recorded as a leaver, so a comeback enables it and its grace period runs
                store.journal_outcome(row.id, ok=True, result=account.to_dict(), leaver=(row.source_id, item.delete_due))
                note = f"the disable of {row.login!r} had landed in the target; recorded it as a leaver"
            else:
                note = f"the disable of {row.login!r} never reached the target; the plan disables it again"
        elif item is not None and item.rename_from and row.login and row.source_id and item.target_id:
            account = target.find(row.login)
            if account is not None and str(account.target_id) == str(item.target_id):
                note, notices = _relink_and_finish(store, connector, row, item, account, target)
            else:
                note = f"the {row.kind} to {row.login!r} never reached the target; the plan renames it again"
        else:
            note = f"the {row.kind} of {row.login or row.source_id!r} may or may not have landed; the plan re-reads the target"
        store.resolve_intent(row.id, note)
        done.append(Recovered(row.id, row.kind, row.login, note, notices))
    return done


def _relink_and_finish(store: RecoveryStore, connector: str, row: Any, item: PlanItem, account: Account, target: Target) -> tuple[str, tuple[Notice, ...]]:
    """A rename that landed: record the new login in the link (or it keeps naming a login
    no account holds), finish the write's later steps, and hand back its notices."""
    link = store.links(connector).get(row.source_id)
    origin = "adopted" if item.kind is ItemKind.ADOPT else (getattr(link, "origin", None) or "adopted")
    store.journal_outcome(row.id, ok=True, result=account.to_dict(), link=(row.source_id, str(account.target_id), account.login, origin))
    note = f"the {row.kind} to {row.login!r} had landed in the target; relinked it"
    try:
        target.finish(item)
    except SyncError as exc:
        note += f"; finishing it failed: {exc}"
    else:
        follow_ups = "; ".join(n.message for n in item.notices)
        note += " and finished it" + (f" ({follow_ups})" if follow_ups else "")
    return note, tuple(item.notices)


def notices_of_abandoned_runs(store: RecoveryStore, run_ids: Iterable[int]) -> list[Recovered]:
    """The notices of the writes killed runs finished: they never printed their report."""
    found: list[Recovered] = []
    for run_id in run_ids:
        for row in store.journal(run_id):
            notices = (row.item or {}).get("notices") or ()
            if row.state == "ok" and notices:
                found.append(
                    Recovered(
                        row.id,
                        row.kind,
                        row.login,
                        f"the {row.kind} of {row.login!r} finished in run {run_id}, which was killed before it reported",
                        tuple(Notice(str(n["code"]), str(n["message"])) for n in notices),
                    )
                )
    return found
