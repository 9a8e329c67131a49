"""Recover the writes a killed run left behind (journal intents with no outcome).

A create whose outcome was lost may have landed: look its login up in the target
and link the account if it is there, so the rerun adopts nothing twice and creates
no duplicate. A rename that landed is relinked under its new login the same way
(the plan sees nothing left to write for it). Any other unfinished write needs no
action of its own: the next plan reads the target afresh and diffs again. Called under the connector's lock, before
a run journals new intents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from ..contracts import Target

if TYPE_CHECKING:
    from ..state.protocols import RecoveryStore


@dataclass(frozen=True)
class Recovered:
    journal_id: int
    kind: str
    login: str | None
    note: str

    def to_dict(self) -> dict[str, object]:
        return {"journal_id": self.journal_id, "kind": self.kind, "login": self.login, "note": self.note}


def recover_unfinished(store: RecoveryStore, connector: str, target: Target) -> list[Recovered]:
    """Resolve every unfinished intent of ``connector``; returns what was done."""
    done: list[Recovered] = []
    for row in store.unfinished_intents(connector):
        if row.kind == "create" and row.login and row.source_id:
            account = target.find(row.login)
            if account is not None:
                store.journal_outcome(
                    row.id, ok=True, result=account.to_dict(), link=(row.source_id, account.target_id, account.login, "created")
                )
                note = f"the create of {row.login!r} had landed in the target; linked it"
            else:
                note = f"the create of {row.login!r} never reached the target; the next plan creates it"
        elif row.kind == "rename" and row.login and row.source_id and (row.item or {}).get("target_id"):
            # a rename that landed leaves nothing for the plan to write, so the link must
            # learn the new login here (or it keeps naming a login no account holds)
            target_id = str(row.item["target_id"])
            account = target.find(row.login)
            if account is not None and str(account.target_id) == target_id:
                link = store.links(connector).get(row.source_id)
                origin = getattr(link, "origin", None) or "adopted"
                store.journal_outcome(
                    row.id, ok=True, result=account.to_dict(), link=(row.source_id, target_id, account.login, origin)
                )
                follow_ups = "; ".join(str(n.get("message")) for n in (row.item or {}).get("notices") or ())
                note = f"the rename to {row.login!r} had landed in the target; relinked it" + (f" ({follow_ups})" if follow_ups else "")
            else:
                note = f"the rename to {row.login!r} never reached the target; the plan renames it again"
        else:
            note = f"the {row.kind} of {row.login or row.source_id!r} may or may not have landed; the plan re-reads the target"
        store.resolve_intent(row.id, note)
        done.append(Recovered(row.id, row.kind, row.login, note))
    return done
