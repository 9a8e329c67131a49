"""Saved plans: ``syncframe plan NAME --out FILE`` and ``syncframe run NAME --plan FILE``.

A person reviews a plan, then applies exactly that plan (Terraform's ``plan -out`` /
``apply PLANFILE`` is the model). The file is pretty, versioned JSON::

    {
      "format": "syncframe-plan", "version": 1,
      "connector": "contoso", "mode": "sync",
      "created_at": "2026-11-29T09:00:00+00:00", "created_by": "alice",
      "fingerprints": {"source": "<sha256>", "target": "<sha256>"},
      "bookmark": "...",                     # where the read the plan was made from ended
      "counts": {...},
      "items": [PlanItem.to_dict(), ...]      # every item except NOOP
    }

The fingerprints hash the source view and the target's accounts the plan was made
from. Applying it plans again: equal fingerprints mean nothing changed; otherwise
every write item of the file must come out of the new plan unchanged (same kind,
login, account, rename and field changes), or the plan is *stale* and nothing is
written. Write items the new plan has beyond the file are not applied (and the read
is not committed, so the next run sees them). A plan file holds no secret: items
carry logins, names and the fields the target would write, as the report does.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import ConfigError
from ..model import WRITE_KINDS, Account, Identity, ItemKind, PlanItem

FORMAT = "syncframe-plan"
VERSION = 1

#: the parts of a write item that must not change between review and apply
_COMPARED = ("kind", "login", "target_id", "rename_from", "changes", "desired")


def _digest(records: Iterable[Any]) -> str:
    hasher = hashlib.sha256()
    for record in records:
        hasher.update(json.dumps(record, sort_keys=True, default=str, ensure_ascii=False).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def fingerprint_view(view: Mapping[str, Identity]) -> str:
    """A hash of the source view (every identity, in id order)."""
    return _digest(view[sid].to_dict() for sid in sorted(view))


def fingerprint_accounts(accounts: Iterable[Account]) -> str:
    """A hash of the target's accounts (in id order)."""
    return _digest(a.to_dict() for a in sorted(accounts, key=lambda a: a.target_id))


def plan_fingerprints(view: Mapping[str, Identity], accounts: Iterable[Account]) -> dict[str, str]:
    """Both fingerprints a saved plan keeps."""
    return {"source": fingerprint_view(view), "target": fingerprint_accounts(accounts)}


def item_key(item: Mapping[str, Any]) -> str:
    """Which user an item is about: its source id, else its account."""
    return f"s:{item['source_id']}" if item.get("source_id") else f"t:{item.get('target_id')}"


@dataclass
class SavedPlan:
    """A plan file as loaded."""

    path: str
    connector: str
    mode: str
    created_at: str
    created_by: str
    fingerprints: dict[str, str]
    items: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def writes(self) -> dict[str, dict[str, Any]]:
        """The write items by :func:`item_key`."""
        return {item_key(i): i for i in self.items if i.get("kind") in {k.value for k in WRITE_KINDS}}


def save_plan(path: str | Path, *, connector: str, mode: str, items: Iterable[PlanItem], counts: Mapping[str, int], fingerprints: Mapping[str, str], operator: str, bookmark: str | None = None) -> None:
    """Write a plan file, atomically (a reader never sees half a plan)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "connector": connector,
        "mode": mode,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "created_by": operator,
        "fingerprints": dict(fingerprints),
        "bookmark": bookmark,
        "counts": dict(counts),
        "items": [i.to_dict() for i in items if i.kind is not ItemKind.NOOP],
    }
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the plan file {str(target)!r}: {exc.strerror}") from None


def load_plan(path: str | Path) -> SavedPlan:
    """Read a plan file.

    :raises ConfigError: unreadable, not JSON, not a plan file, or a newer format version.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the plan file {str(path)!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{str(path)!r} is not a plan file (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{str(path)!r} is not a plan file (written by 'syncframe plan NAME --out FILE')")
    if data.get("version") != VERSION:
        raise ConfigError(f"the plan file {str(path)!r} has format version {data.get('version')!r}; this syncframe reads version {VERSION}")
    try:
        return SavedPlan(
            path=str(path),
            connector=str(data["connector"]),
            mode=str(data["mode"]),
            created_at=str(data["created_at"]),
            created_by=str(data["created_by"]),
            fingerprints=dict(data["fingerprints"]),
            items=list(data["items"]),
            counts=dict(data.get("counts") or {}),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"the plan file {str(path)!r} is incomplete ({exc})") from None


def stale_items(saved: SavedPlan, current: Iterable[PlanItem]) -> list[str]:
    """Why the saved plan no longer holds: one line per write item that changed or vanished."""
    now = {item_key(d): d for d in (i.to_dict() for i in current)}
    reasons: list[str] = []
    for key, was in sorted(saved.writes.items()):
        label = f"{was['kind']} {was.get('login') or was.get('source_id')}"
        is_ = now.get(key)
        if is_ is None:
            reasons.append(f"{label}: no longer planned")
            continue
        if is_["kind"] != was["kind"]:
            reasons.append(f"{label}: now {is_['kind']} ({is_['reason']})")
            continue
        differs = [part for part in _COMPARED if is_.get(part) != was.get(part)]
        if differs:
            reasons.append(f"{label}: changed since the plan was saved ({', '.join(differs)})")
    return reasons


def restrict_to(saved: SavedPlan, items: list[PlanItem]) -> int:
    """Keep only the saved plan's writes: other write items become SKIPs, in place.

    :return: how many writes were left out (the read must not be committed then).
    """
    wanted = saved.writes
    left_out = 0
    for item in items:
        if item.writes and item_key(item.to_dict()) not in wanted:
            item.kind = ItemKind.SKIP
            item.reason = f"not in the saved plan {saved.path!r} ({item.reason}); plan again to review it"
            left_out += 1
    return left_out
