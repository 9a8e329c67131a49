"""The directory the simulator serves: users, groups, presence and a change log.

Every stored user is a JSON-ready dict of the properties that are set (Graph names,
Graph types). Stored dicts are never mutated in place — an update stores a new dict —
so request handlers can read a page of users outside the lock. Every change appends
to a change log (monotonic sequence number, kind, changed property names); delta
rounds are answered from that log.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .clock import Clock
from .generator import generate_user_records
from .schema import USER_PROPERTIES

#: Change kinds in the log.
CREATED = "created"
UPDATED = "updated"
SOFT_DELETED = "softDeleted"
RESTORED = "restored"
HARD_DELETED = "deleted"

#: States a delta round reports for one user.
FULL = "full"          # new: the whole object
RESTORED_FULL = "restored"  # restored: the whole object, but not a change a delta with $select reports
PARTIAL = "partial"    # changed: only the changed properties
REMOVED_CHANGED = "changed"  # soft-deleted (restorable)
REMOVED_DELETED = "deleted"  # permanently deleted

_EDM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Edm.String": lambda v: isinstance(v, str),
    "Edm.Boolean": lambda v: isinstance(v, bool),
    "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Edm.DateTimeOffset": lambda v: isinstance(v, str),
    "Collection(Edm.String)": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


class UnknownObject(KeyError):
    """No user or group with that id."""


@dataclass(frozen=True)
class DeltaEntry:
    """One user's net change since a delta token: ``state`` is FULL, RESTORED_FULL, PARTIAL
    or a removal; ``properties`` are the ones updated (for PARTIAL and RESTORED_FULL)."""

    user_id: str
    state: str
    properties: frozenset[str] = frozenset()


def _check_user_value(name: str, value: Any) -> Any:
    """Reject unknown property names and values of the wrong EDM type (keeps served JSON valid)."""
    if name not in USER_PROPERTIES:
        raise ValueError(f"'{name}' is not a property of microsoft.graph.user")
    edm_type, nullable = USER_PROPERTIES[name]
    if value is None:
        if not nullable:
            raise ValueError(f"user property '{name}' is not nullable")
        return None
    if isinstance(value, tuple):
        value = list(value)
    check = _EDM_CHECKS.get(edm_type)
    if check is not None and not check(value):
        raise ValueError(f"user property '{name}' must be {edm_type}, got {value!r}")
    return list(value) if isinstance(value, list) else value


class Tenant:
    """Users, groups and presence of one simulated Entra ID tenant (thread-safe).

    :param domain: The initial domain, e.g. ``contoso.onmicrosoft.com`` (generated UPNs use it).
    :param tenant_id: The tenant's GUID.
    """

    def __init__(self, domain: str, tenant_id: str, clock: Clock | None = None):
        self.domain = domain
        self.tenant_id = tenant_id
        self.clock = clock or Clock()
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}      # live users, insertion ordered
        self._deleted: dict[str, dict[str, Any]] = {}    # soft-deleted (deletedItems)
        self._upns: dict[str, str] = {}                  # lower-case UPN -> id (live and soft-deleted)
        self._groups: dict[str, dict[str, Any]] = {}
        self._members: dict[str, dict[str, None]] = {}   # group id -> ordered set of member ids
        self._member_of: dict[str, set[str]] = {}        # member id -> group ids (direct)
        self._presence: dict[str, dict[str, Any]] = {}
        self._log: list[tuple[int, float, str, str, frozenset[str] | None]] = []
        self._seq = 0
        self._generation = 0
        self._cache: dict[Any, tuple[int, Any]] = {}

    # ------------------------------------------------------------------ reading

    @property
    def sequence(self) -> int:
        """The sequence number of the latest change (0 before any)."""
        with self._lock:
            return self._seq

    @property
    def generation(self) -> int:
        """Bumped by every change to users or groups (cache key for listings)."""
        with self._lock:
            return self._generation

    def user_count(self) -> int:
        with self._lock:
            return len(self._users)

    def get_user(self, key: str) -> dict[str, Any] | None:
        """A copy of the live user with this id or UPN (case-insensitive), else None."""
        with self._lock:
            user = self._users.get(key)
            if user is None:
                user_id = self._upns.get(key.lower())
                user = self._users.get(user_id) if user_id else None
            return dict(user) if user is not None else None

    def get_deleted_user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            user = self._deleted.get(user_id)
            return dict(user) if user is not None else None

    def users(self) -> list[dict[str, Any]]:
        """Copies of all live users, in listing order."""
        with self._lock:
            return [dict(u) for u in self._users.values()]

    def get_many(self, user_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The stored (read-only!) dicts of those ids that are live, in the given order."""
        with self._lock:
            users = self._users
            return [users[i] for i in user_ids if i in users]

    def lookup(self, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """id -> stored (read-only) dict for the live ones among ``user_ids``."""
        with self._lock:
            users = self._users
            return {i: users[i] for i in user_ids if i in users}

    def is_deleted(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._deleted

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per generation of the tenant (listings, filters, transitive sets)."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self._generation:
                return hit[1]
            value = compute()
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = (self._generation, value)
            return value

    def live_ids(self) -> list[str]:
        """Ids of all live users in listing order (shared list: do not modify)."""
        return self.cached(("live",), lambda: list(self._users))

    def filtered_ids(self, key: str, predicate: Callable[[dict[str, Any]], bool]) -> list[str]:
        """Ids of live users matching ``predicate``, cached per generation under ``key``."""
        return self.cached(("filter", key), lambda: [i for i, u in self._users.items() if predicate(u)])

    # ------------------------------------------------------------------ users

    def _log_change(self, user_id: str, kind: str, properties: frozenset[str] | None) -> None:
        self._seq += 1
        self._generation += 1
        self._log.append((self._seq, self.clock.now(), user_id, kind, properties))

    def _prepare_new(self, props: dict[str, Any]) -> dict[str, Any]:
        user = {name: _check_user_value(name, value) for name, value in props.items()}
        upn = user.get("userPrincipalName")
        if not upn:
            given, surname = user.get("givenName"), user.get("surname")
            if not (given and surname):
                raise ValueError("a user needs userPrincipalName (or givenName and surname)")
            upn = f"{given}.{surname}@{self.domain}".lower()
            user["userPrincipalName"] = upn
        if upn.lower() in self._upns:
            raise ValueError(f"another object with the same value for property userPrincipalName already exists: {upn}")
        user.setdefault("id", str(uuid.uuid4()))
        if user["id"] in self._users or user["id"] in self._deleted or user["id"] in self._groups:
            raise ValueError(f"an object with id {user['id']} already exists")
        guest = "#EXT#" in upn.upper()
        local = upn.split("@", 1)[0]
        user.setdefault("accountEnabled", True)
        user.setdefault("userType", "Guest" if guest else "Member")
        if "mail" not in user:
            user["mail"] = _external_address(local) if guest else upn
        user.setdefault("displayName", " ".join(p for p in (user.get("givenName"), user.get("surname")) if p) or local)
        user.setdefault("mailNickname", local)
        user.setdefault("businessPhones", [])
        user.setdefault("otherMails", [])
        user.setdefault("proxyAddresses", [f"SMTP:{user['mail']}"] if user.get("mail") else [])
        user.setdefault("createdDateTime", self.clock.iso())
        if guest:
            user.setdefault("externalUserState", "Accepted")
            user.setdefault("creationType", "Invitation")
        # a property created empty (mail=None: no mailbox) was never set: delta leaves it out
        return {name: value for name, value in user.items() if value is not None}

    def add_user(self, **properties: Any) -> dict[str, Any]:
        """Create a user from Graph properties (``userPrincipalName="a@x"``, ``displayName=...``).

        Sensible defaults fill the rest (id, accountEnabled, userType from ``#EXT#``,
        mail, mailNickname, proxyAddresses, createdDateTime). Returns a copy.
        """
        with self._lock:
            user = self._prepare_new(properties)
            self._users[user["id"]] = user
            self._upns[user["userPrincipalName"].lower()] = user["id"]
            self._log_change(user["id"], CREATED, None)
            return dict(user)

    def generate_users(self, n: int, seed: int = 0, guest_ratio: float = 0.03, disabled_ratio: float = 0.05) -> list[str]:
        """Add ``n`` realistic users (deterministic for a seed); returns their ids."""
        with self._lock:
            records = generate_user_records(
                n, seed=seed, domain=self.domain, taken=self._upns.keys(), taken_ids=_IdsInUse(self),
                created=self.clock.iso(),
                guest_ratio=guest_ratio, disabled_ratio=disabled_ratio,
            )
            ids = []
            for user in records:
                self._users[user["id"]] = user
                self._upns[user["userPrincipalName"].lower()] = user["id"]
                self._log_change(user["id"], CREATED, None)
                ids.append(user["id"])
            return ids

    def _live(self, user_id: str) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None:
            raise UnknownObject(user_id)
        return user

    def update_user(self, user_id: str, **properties: Any) -> dict[str, Any]:
        """Change properties of a live user; only real changes are logged. Returns a copy."""
        with self._lock:
            old = self._live(user_id)
            if "id" in properties:
                raise ValueError("id is read-only")
            values = {name: _check_user_value(name, value) for name, value in properties.items()}
            changed = frozenset(k for k, v in values.items() if old.get(k) != v)
            if not changed:
                return dict(old)
            new_upn = values.get("userPrincipalName")
            if "userPrincipalName" in changed:
                if not new_upn:
                    raise ValueError("userPrincipalName cannot be empty")
                holder = self._upns.get(new_upn.lower())
                if holder is not None and holder != user_id:
                    raise ValueError(f"another object with the same value for property userPrincipalName already exists: {new_upn}")
                self._upns.pop(old["userPrincipalName"].lower(), None)
                self._upns[new_upn.lower()] = user_id
            new = {**old, **values}
            self._users[user_id] = new
            self._log_change(user_id, UPDATED, changed)
            return dict(new)

    def rename(self, user_id: str, user_principal_name: str, mail: str | None = None) -> dict[str, Any]:
        """Change the UPN (and the mail, when given)."""
        changes: dict[str, Any] = {"userPrincipalName": user_principal_name}
        if mail is not None:
            changes["mail"] = mail
        return self.update_user(user_id, **changes)

    def disable(self, user_id: str) -> dict[str, Any]:
        return self.update_user(user_id, accountEnabled=False)

    def enable(self, user_id: str) -> dict[str, Any]:
        return self.update_user(user_id, accountEnabled=True)

    def soft_delete(self, user_id: str) -> None:
        """Move a user to deleted items (delta reports ``@removed: changed``)."""
        with self._lock:
            user = self._live(user_id)
            del self._users[user_id]
            self._deleted[user_id] = {**user, "deletedDateTime": self.clock.iso()}
            self._log_change(user_id, SOFT_DELETED, None)

    def restore(self, user_id: str) -> dict[str, Any]:
        """Bring a soft-deleted user back (delta reports the full object again)."""
        with self._lock:
            user = self._deleted.pop(user_id, None)
            if user is None:
                raise UnknownObject(user_id)
            user = {k: v for k, v in user.items() if k != "deletedDateTime"}
            self._users[user_id] = user
            self._log_change(user_id, RESTORED, None)
            return dict(user)

    def hard_delete(self, user_id: str) -> None:
        """Delete a live or soft-deleted user for good (delta reports ``@removed: deleted``)."""
        with self._lock:
            user = self._users.pop(user_id, None) or self._deleted.pop(user_id, None)
            if user is None:
                raise UnknownObject(user_id)
            self._upns.pop(user["userPrincipalName"].lower(), None)
            for group_id in self._member_of.pop(user_id, set()):
                self._members.get(group_id, {}).pop(user_id, None)
            self._presence.pop(user_id, None)
            self._log_change(user_id, HARD_DELETED, None)

    # ------------------------------------------------------------------ delta

    def changes_since(self, sequence: int) -> tuple[int, list[DeltaEntry]]:
        """Net changes after ``sequence``: ``(latest sequence, entries in first-change order)``."""
        with self._lock:
            latest = self._seq
            if sequence >= latest:
                return latest, []
            first = max(0, sequence)  # log index of seq (sequence + 1) is ``sequence``
            updated: dict[str, set[str]] = {}
            lifecycle: dict[str, str] = {}  # the last create/restore/removal, when there was one
            created: set[str] = set()
            for _seq, _at, user_id, kind, props in self._log[first:]:
                updated.setdefault(user_id, set())
                if kind == UPDATED:
                    updated[user_id].update(props or ())
                else:
                    lifecycle[user_id] = kind  # the end state decides
                    if kind == CREATED:
                        created.add(user_id)
            entries = []
            for user_id, props in updated.items():
                last = lifecycle.get(user_id)
                if user_id in self._users:
                    if user_id in created:  # new to whoever holds the token, whatever came after
                        entries.append(DeltaEntry(user_id, FULL))
                    elif last == RESTORED:
                        entries.append(DeltaEntry(user_id, RESTORED_FULL, frozenset(props)))
                    else:
                        entries.append(DeltaEntry(user_id, PARTIAL, frozenset(props)))
                elif user_id in self._deleted:
                    entries.append(DeltaEntry(user_id, REMOVED_CHANGED))
                else:
                    entries.append(DeltaEntry(user_id, REMOVED_DELETED))
            return latest, entries

    def change_time(self, sequence: int) -> float | None:
        """When change ``sequence`` happened (None for 0 or unknown)."""
        with self._lock:
            if 1 <= sequence <= len(self._log):
                return self._log[sequence - 1][1]
            return None

    # ------------------------------------------------------------------ groups

    def add_group(self, display_name: str, description: str | None = None, group_id: str | None = None,
                  security_enabled: bool = True) -> str:
        """Create a security group; returns its id."""
        with self._lock:
            group_id = group_id or str(uuid.uuid4())
            if group_id in self._groups or group_id in self._users:
                raise ValueError(f"an object with id {group_id} already exists")
            nickname = "".join(c for c in display_name if c.isalnum()) or "group"
            self._groups[group_id] = {
                "id": group_id,
                "deletedDateTime": None,
                "classification": None,
                "createdDateTime": self.clock.iso(),
                "description": description,
                "displayName": display_name,
                "groupTypes": [],
                "mail": None,
                "mailEnabled": False,
                "mailNickname": nickname,
                "securityEnabled": security_enabled,
                "visibility": None,
            }
            self._members[group_id] = {}
            self._generation += 1
            return group_id

    def group(self, group_id: str) -> dict[str, Any] | None:
        with self._lock:
            group = self._groups.get(group_id)
            return dict(group) if group else None

    def groups(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(g) for g in self._groups.values()]

    def group_ids_named(self, display_name: str) -> list[str]:
        """Ids of groups with this display name (case-insensitive; names need not be unique)."""
        with self._lock:
            wanted = display_name.lower()
            return [gid for gid, g in self._groups.items() if (g["displayName"] or "").lower() == wanted]

    def ensure_group(self, display_name: str) -> str:
        """The id of the group named so, created when missing."""
        with self._lock:
            found = self.group_ids_named(display_name)
            return found[0] if found else self.add_group(display_name)

    def add_member(self, group_id: str, member_id: str) -> None:
        """Add a user or a group (nesting) to a group."""
        with self._lock:
            if group_id not in self._groups:
                raise UnknownObject(group_id)
            if member_id not in self._users and member_id not in self._deleted and member_id not in self._groups:
                raise UnknownObject(member_id)
            self._members[group_id][member_id] = None
            self._member_of.setdefault(member_id, set()).add(group_id)
            self._generation += 1

    def remove_member(self, group_id: str, member_id: str) -> None:
        with self._lock:
            self._members.get(group_id, {}).pop(member_id, None)
            self._member_of.get(member_id, set()).discard(group_id)
            self._generation += 1

    def direct_groups(self, member_id: str) -> set[str]:
        with self._lock:
            return set(self._member_of.get(member_id, ()))

    def members(self, group_id: str, transitive: bool) -> list[tuple[str, str]]:
        """``(kind, id)`` pairs, kind ``user`` or ``group``; transitive flattens nesting (each once).

        Only live users are members as far as listings go.
        """
        with self._lock:
            if group_id not in self._groups:
                raise UnknownObject(group_id)
            return self.cached(("members", group_id, transitive), lambda: self._walk(group_id, transitive))

    def _walk(self, group_id: str, transitive: bool) -> list[tuple[str, str]]:
        seen: set[str] = {group_id}
        out: list[tuple[str, str]] = []
        stack = [group_id]
        while stack:
            current = stack.pop(0)
            for member in self._members.get(current, {}):
                if member in seen:
                    continue
                seen.add(member)
                if member in self._groups:
                    out.append(("group", member))
                    if transitive:
                        stack.append(member)
                elif member in self._users:
                    out.append(("user", member))
            if not transitive:
                break
        return out

    # ------------------------------------------------------------------ presence

    def set_presence(self, user_id: str, availability: str, activity: str | None = None,
                     out_of_office: bool = False, message: str | None = None) -> None:
        """Set a user's Teams presence (otherwise a stable pseudo-random one is served)."""
        with self._lock:
            self._live(user_id)
            self._presence[user_id] = {
                "availability": availability,
                "activity": activity or availability,
                "outOfOfficeSettings": {"message": message, "isOutOfOffice": out_of_office},
            }

    def presence(self, user_id: str) -> dict[str, Any]:
        """The presence JSON of a user; unknown ids get ``PresenceUnknown`` as the service does."""
        with self._lock:
            stored = self._presence.get(user_id)
            known = user_id in self._users
        if stored is None:
            if known:
                availability, activity = _PRESENCES[_stable_hash(user_id) % len(_PRESENCES)]
            else:
                availability, activity = "PresenceUnknown", "PresenceUnknown"
            stored = {"availability": availability, "activity": activity,
                      "outOfOfficeSettings": {"message": None, "isOutOfOffice": False}}
        return {"id": user_id, "availability": stored["availability"], "activity": stored["activity"],
                "statusMessage": None, "outOfOfficeSettings": dict(stored["outOfOfficeSettings"])}


class _IdsInUse:
    """``id in ids`` over live, soft-deleted users and groups (no copying)."""

    def __init__(self, tenant: Tenant):
        self._tenant = tenant

    def __contains__(self, object_id: object) -> bool:
        t = self._tenant
        return object_id in t._users or object_id in t._deleted or object_id in t._groups


_PRESENCES = [
    ("Available", "Available"), ("Available", "Available"), ("Busy", "InACall"), ("Busy", "InAMeeting"),
    ("Away", "Away"), ("BeRightBack", "BeRightBack"), ("DoNotDisturb", "Presenting"), ("Offline", "OffWork"),
]


def _stable_hash(text: str) -> int:
    return int.from_bytes(uuid.uuid5(uuid.NAMESPACE_OID, text).bytes[:4], "big")


def _external_address(local: str) -> str:
    """``anna_example.com#EXT#`` -> ``anna@example.com`` (a guest's home address)."""
    base = local.split("#EXT#", 1)[0]
    name, _, domain = base.rpartition("_")
    return f"{name}@{domain}" if name and domain else base
