"""The values that travel through a run: identities, accounts, plan items, plans.

Sources produce :class:`Identity` records and finish with a :class:`ReadResult`;
targets describe their users as :class:`Account` records; the planner turns both
into a :class:`Plan` of :class:`PlanItem` values. Nothing here knows a directory
or a phone system by name.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from dataclasses import dataclass, field
from typing import Any, Mapping


class ItemKind(str, enum.Enum):
    """What the plan does with one user."""

    CREATE = "create"      # new target user
    UPDATE = "update"      # linked user, some fields differ
    RENAME = "rename"      # linked user whose login must follow the source's username
    ADOPT = "adopt"        # existing, unlinked target user taken over (may rename and update too)
    DELETE = "delete"      # linked user missing from the source (mode sync only)
    DISABLE = "disable"    # linked user missing from the source, disabled first (profile ``removal``)
    HELD = "held"          # a removal (or a create, while the target's list is in doubt) the guard stopped
    CONFLICT = "conflict"  # ambiguous match; nothing is written
    SKIP = "skip"          # out of scope or invalid; nothing is written
    NOOP = "noop"          # linked and in step

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.value


#: Kinds that write to the target when applied.
WRITE_KINDS = frozenset({ItemKind.CREATE, ItemKind.UPDATE, ItemKind.RENAME, ItemKind.ADOPT, ItemKind.DELETE, ItemKind.DISABLE})
#: Kinds that remove a user: the removal guard counts them, and they run last.
REMOVAL_KINDS = frozenset({ItemKind.DELETE, ItemKind.DISABLE})


@dataclass(frozen=True)
class Identity:
    """One user as a source sees it.

    ``source_id`` is the source's stable, immutable id (an object id, entryUUID,
    objectGUID...). ``username`` is whatever the directory signs people in with
    (a UPN, a uid, a sAMAccountName, a primary e-mail); it need not contain ``@``.
    ``out_of_scope`` is the source's reason when the user is not to be managed
    (a guest, a disabled account, outside the configured groups): the host skips
    such users, and removes them where an earlier import linked them. ``groups``
    is informational (group labels the source saw the user in). ``extra`` carries
    source-specific values a plugin wants to pass on without the host knowing them.
    """

    source_id: str
    username: str
    display_name: str = ""
    given_name: str | None = None
    surname: str | None = None
    email: str | None = None
    #: work phone numbers
    phones: tuple[str, ...] = ()
    mobile_phone: str | None = None
    job_title: str | None = None
    department: str | None = None
    preferred_language: str | None = None
    enabled: bool = True
    groups: tuple[str, ...] = ()
    out_of_scope: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["phones"] = list(self.phones)
        data["groups"] = list(self.groups)
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Identity":
        names = _identity_fields()
        values = {k: v for k, v in data.items() if k in names}
        values["phones"] = tuple(values.get("phones") or ())
        values["groups"] = tuple(values.get("groups") or ())
        values["extra"] = dict(values.get("extra") or {})
        return cls(**values)

    def replace(self, **changes: Any) -> "Identity":
        return dataclasses.replace(self, **changes)


@functools.cache
def _identity_fields() -> frozenset[str]:
    # asked once per saved record when a view of 100,000 is loaded
    return frozenset(f.name for f in dataclasses.fields(Identity))


@dataclass(frozen=True)
class Account:
    """One user as a target holds it.

    ``fields`` are the target's current values in the same vocabulary its mapping
    produces, so the planner can diff desired against current field by field.
    ``protected`` accounts (service or admin users) are never matched or changed.
    """

    target_id: str
    login: str
    email: str | None = None
    display_name: str = ""
    enabled: bool = True
    fields: Mapping[str, Any] = field(default_factory=dict)
    protected: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["fields"] = dict(self.fields)
        return data


@dataclass(frozen=True)
class Match:
    """A matching rule's answer: which account, or which candidates when ambiguous.

    Whether the account is adopted, followed or renamed is the planner's call, from
    this connector's links; a rule only says which account and why.
    """

    account: Account | None
    reason: str
    rule: str
    #: more than one candidate (or a candidate linked elsewhere): the planner emits CONFLICT
    conflict: bool = False
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadResult:
    """How a source read ended.

    ``identities`` is what was read: every user on a full read, only the changed
    users on an incremental one (``incremental=True``), where ``removed`` names the
    source ids that disappeared. ``complete`` is False when anything stopped the read
    early; the engine then removes nobody. ``bookmark`` is saved only after the
    whole plan applied.
    """

    identities: tuple[Identity, ...]
    complete: bool
    bookmark: str | None = None
    incremental: bool = False
    removed: tuple[str, ...] = ()
    reason: str | None = None
    #: what the read cost, for reports and the benchmark (e.g. {"requests": 3})
    stats: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A follow-up for people that a target attaches to a plan item.

    ``code`` is stable and machine-readable (reports group by it); ``message`` is
    what a person reads, e.g. ``Notice("repair_mobile", "pair the mobile app again")``.
    """

    code: str
    message: str


@dataclass
class PlanItem:
    """One user's line in the plan, and later in the journal."""

    kind: ItemKind
    reason: str
    source_id: str | None = None
    #: the login after the item applies (for DELETE: the login removed)
    login: str | None = None
    target_id: str | None = None
    identity: Identity | None = None
    account: Account | None = None
    #: the full desired field set (CREATE / ADOPT) from the target's mapping
    desired: dict[str, Any] = field(default_factory=dict)
    #: field -> [old, new] for the fields that differ
    changes: dict[str, list[Any]] = field(default_factory=dict)
    #: old login when the item renames (RENAME, or ADOPT that renames)
    rename_from: str | None = None
    #: logins of the candidates, for CONFLICT items
    candidates: list[str] = field(default_factory=list)
    #: follow-ups for people the target reported for this item (see :class:`Notice`)
    notices: list[Notice] = field(default_factory=list)
    #: DISABLE: when the disabled account is due for deletion (ISO-8601; None: kept until released)
    delete_due: str | None = None
    #: set by apply
    error: str | None = None
    applied: bool = False
    #: set by apply: the target refused this write for good (``PermanentRecordError``)
    refused: bool = False

    @property
    def writes(self) -> bool:
        return self.kind in WRITE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "reason": self.reason,
            "source_id": self.source_id,
            "login": self.login,
            "target_id": self.target_id,
            "username": self.identity.username if self.identity else None,
            "desired": self.desired,
            "changes": self.changes,
            "rename_from": self.rename_from,
            "candidates": self.candidates,
            "notices": [dataclasses.asdict(n) for n in self.notices],
            "delete_due": self.delete_due,
            "error": self.error,
            "applied": self.applied,
            "refused": self.refused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PlanItem":
        """An item from :meth:`to_dict` (a journal entry): without ``identity`` and ``account``."""
        return cls(
            kind=ItemKind(data["kind"]),
            reason=str(data.get("reason") or ""),
            source_id=data.get("source_id"),
            login=data.get("login"),
            target_id=data.get("target_id"),
            desired=dict(data.get("desired") or {}),
            changes={k: list(v) for k, v in (data.get("changes") or {}).items()},
            rename_from=data.get("rename_from"),
            candidates=list(data.get("candidates") or ()),
            notices=[Notice(str(n["code"]), str(n["message"])) for n in data.get("notices") or ()],
            delete_due=data.get("delete_due"),
            error=data.get("error"),
            applied=bool(data.get("applied")),
            refused=bool(data.get("refused")),
        )


@dataclass
class Plan:
    """What a run would do. ``plan`` prints it; ``run`` applies it."""

    connector: str
    mode: str
    items: list[PlanItem]
    read: ReadResult
    #: the full source view the plan was made from (source_id -> Identity); saved
    #: after apply so incremental sources can send only changes next time
    view: dict[str, Identity] = field(default_factory=dict)

    def of_kind(self, *kinds: ItemKind) -> list[PlanItem]:
        return [i for i in self.items if i.kind in kinds]

    @property
    def writes(self) -> list[PlanItem]:
        return [i for i in self.items if i.writes]

    def counts(self) -> dict[str, int]:
        """Counts per kind; ``rename`` also counts adoptions that rename, ``error`` failed items."""
        counts = {k.value: 0 for k in ItemKind}
        for item in self.items:
            counts[item.kind.value] += 1
            if item.kind is ItemKind.ADOPT and item.rename_from:
                counts[ItemKind.RENAME.value] += 1
        counts["error"] = sum(1 for i in self.items if i.error)
        return counts

    def notices(self) -> dict[str, list[str]]:
        """Notice code -> the logins it concerns, for items that did not fail."""
        out: dict[str, set[str]] = {}
        for item in self.items:
            if item.error or not item.login:
                continue
            for notice in item.notices:
                out.setdefault(notice.code, set()).add(item.login)
        return {code: sorted(logins) for code, logins in sorted(out.items())}

    def notice_messages(self) -> dict[str, str]:
        """Notice code -> its message (the first seen), for people's output."""
        out: dict[str, str] = {}
        for item in self.items:
            for notice in item.notices:
                out.setdefault(notice.code, notice.message)
        return out
