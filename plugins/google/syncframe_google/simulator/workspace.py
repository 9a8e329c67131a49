"""The simulated Google Workspace account: users, groups, memberships, administrators.

Thread-safe; the Directory API and the token endpoint read it while tests change it.
Users are kept as whole ``User`` resources (Directory API property names); the API
answers select from them. Ids look like Google's (21-digit user ids, 15-character
group ids) and are stable for a seed.
"""

from __future__ import annotations

import copy
import hashlib
import random
import threading
from typing import Any, Iterable

GIVEN = ("Anna", "Ben", "Carla", "David", "Elif", "Felix", "Greta", "Hannah", "Ivan", "Jonas", "Katrin", "Lukas", "Mia", "Noah", "Olga", "Paul")
FAMILY = ("Schmidt", "Weber", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann")
TITLES = ("Sales Manager", "Support Engineer", "Accountant", "Developer", "Office Manager")
UNITS = ("/", "/Sales", "/Sales/Berlin", "/Support", "/Engineering")


class NotFound(LookupError):
    """No user or group by that key."""


def user_id_for(seed: str) -> str:
    """A 21-digit numeric id, as Google gives users, derived from ``seed``."""
    return str(10**20 + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % (9 * 10**20))


def group_id_for(seed: str) -> str:
    """A 15-character group id (``0`` + 14 base-36 characters), derived from ``seed``."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    out = ""
    for _ in range(14):
        number, rest = divmod(number, 36)
        out += digits[rest]
    return "0" + out


def etag(value: Any) -> str:
    return '"' + hashlib.sha1(repr(value).encode()).hexdigest()[:27] + '"'  # noqa: S324 - an etag, not security


class Workspace:
    """One Google Workspace account (customer).

    :param domain: The primary domain.
    :param customer_id: The account's customer id (``my_customer`` is an alias for it).
    """

    def __init__(self, domain: str = "example.com", customer_id: str = "C03sim0001"):
        self.domain = domain.lower()
        self.customer_id = customer_id
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, dict[str, Any]] = {}
        #: group id -> member key (user/group id, or external e-mail) -> member resource
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self.admins: set[str] = set()

    # -- users ---------------------------------------------------------------------

    def put_user(self, user: dict[str, Any]) -> dict[str, Any]:
        """Add or replace a user (by ``id``; a new id when it has none)."""
        with self._lock:
            record = copy.deepcopy(user)
            record.setdefault("id", user_id_for(str(record["primaryEmail"]).lower()))
            record["primaryEmail"] = str(record["primaryEmail"])
            other = self._by_email(record["primaryEmail"])
            if other is not None and other["id"] != record["id"]:
                raise ValueError(f"{record['primaryEmail']} already belongs to user {other['id']}")
            record.setdefault("name", {})
            name = record["name"]
            name.setdefault("fullName", " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p))
            record.setdefault("suspended", False)
            record.setdefault("archived", False)
            record.setdefault("orgUnitPath", "/")
            record.update(kind="admin#directory#user", customerId=self.customer_id, isAdmin=record["primaryEmail"].lower() in self.admins)
            record.setdefault("creationTime", "2024-01-02T03:04:05.000Z")
            old = self._users.get(record["id"])
            if old is not None and old["primaryEmail"].lower() != record["primaryEmail"].lower():
                # Google keeps a renamed user's old address as an alias
                record["aliases"] = sorted({*old.get("aliases", []), old["primaryEmail"]} - {record["primaryEmail"]})
            record["etag"] = etag(sorted(record.items(), key=lambda kv: kv[0]))
            self._users[record["id"]] = record
            return copy.deepcopy(record)

    def add_user(self, primaryEmail: str, givenName: str = "", familyName: str = "", **props: Any) -> dict[str, Any]:  # noqa: N803 - Google's names
        """Create a user from Directory API properties (``name`` built from the two names)."""
        user = {"primaryEmail": primaryEmail, "name": {"givenName": givenName, "familyName": familyName}, **props}
        return self.put_user(user)

    def update_user(self, key: str, **props: Any) -> dict[str, Any]:
        with self._lock:
            user = self.get_user(key)
            user.update(props)
            return self.put_user(user)

    def rename(self, key: str, new_email: str) -> dict[str, Any]:
        """Change a user's primary e-mail (the id stays; the old address becomes an alias)."""
        return self.update_user(key, primaryEmail=new_email)

    def suspend(self, key: str, suspended: bool = True) -> dict[str, Any]:
        return self.update_user(key, suspended=suspended)

    def archive(self, key: str, archived: bool = True) -> dict[str, Any]:
        return self.update_user(key, archived=archived)

    def move(self, key: str, org_unit: str) -> dict[str, Any]:
        return self.update_user(key, orgUnitPath=org_unit)

    def delete_user(self, key: str) -> None:
        """Delete a user (and its memberships)."""
        with self._lock:
            user = self.get_user(key)
            del self._users[user["id"]]
            for members in self._members.values():
                members.pop(user["id"], None)

    def _by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.lower()
        for user in self._users.values():
            if user["primaryEmail"].lower() == wanted or wanted in (a.lower() for a in user.get("aliases", [])):
                return user
        return None

    def find_user(self, key: str) -> dict[str, Any] | None:
        """A copy of the user by id, primary e-mail or alias, or None."""
        with self._lock:
            user = self._users.get(key) or self._by_email(key)
            return copy.deepcopy(user) if user else None

    def get_user(self, key: str) -> dict[str, Any]:
        user = self.find_user(key)
        if user is None:
            raise NotFound(f"no user {key}")
        return user

    def users(self, copies: bool = True) -> list[dict[str, Any]]:
        """Every user, ordered by id (what users.list pages through).

        ``copies=False`` gives the stored records themselves, to read and not to change:
        users.list copies only the page it serves (copying 10,000 users for every page
        of 500 made the simulator, not the source, the slow part of a large read).
        """
        with self._lock:
            return [copy.deepcopy(self._users[k]) if copies else self._users[k] for k in sorted(self._users)]

    def user_count(self) -> int:
        with self._lock:
            return len(self._users)

    def make_admin(self, email: str) -> None:
        """Let ``email`` be a delegated subject that may read the directory."""
        with self._lock:
            self.admins.add(email.lower())
            user = self._by_email(email)
            if user is not None:
                user["isAdmin"] = True

    def generate_users(self, n: int, seed: int = 0, suspended_ratio: float = 0.04, archived_ratio: float = 0.01) -> list[str]:
        """Add ``n`` realistic users (names, phones, title, org unit); returns their ids."""
        rng = random.Random(seed)
        ids = []
        with self._lock:
            start = len(self._users)
            for index in range(start, start + n):
                given, family = rng.choice(GIVEN), rng.choice(FAMILY)
                email = f"{given.lower()}.{family.lower()}.{index}@{self.domain}"
                phones = [{"value": f"+49 89 {rng.randrange(1000000, 9999999)}", "type": "work", "primary": True}]
                if rng.random() < 0.6:
                    phones.append({"value": f"+49 170 {rng.randrange(1000000, 9999999)}", "type": "mobile"})
                roll = rng.random()
                user = self.add_user(
                    email, given, family,
                    id=user_id_for(f"{seed}/{index}"),
                    phones=phones,
                    organizations=[{"title": rng.choice(TITLES), "department": rng.choice(("Sales", "Support", "Finance")), "primary": True, "customType": ""}],
                    orgUnitPath=rng.choice(UNITS),
                    suspended=roll < suspended_ratio,
                    archived=suspended_ratio <= roll < suspended_ratio + archived_ratio,
                )
                ids.append(user["id"])
        return ids

    # -- groups ----------------------------------------------------------------------

    def add_group(self, email: str, name: str | None = None, group_id: str | None = None, aliases: Iterable[str] = ()) -> str:
        """Create a group; returns its id."""
        with self._lock:
            gid = group_id or group_id_for(email.lower())
            self._groups[gid] = {"kind": "admin#directory#group", "id": gid, "email": email, "name": name or email.split("@")[0], "aliases": list(aliases)}
            self._members.setdefault(gid, {})
            return gid

    def ensure_group(self, email: str) -> str:
        with self._lock:
            found = self.find_group(email)
            return found["id"] if found else self.add_group(email)

    def find_group(self, key: str) -> dict[str, Any] | None:
        """A group by id, e-mail or alias, or None."""
        with self._lock:
            if key in self._groups:
                return copy.deepcopy(self._groups[key])
            wanted = key.lower()
            for group in self._groups.values():
                if group["email"].lower() == wanted or wanted in (a.lower() for a in group["aliases"]):
                    return copy.deepcopy(group)
            return None

    def add_member(self, group: str, member: str, role: str = "MEMBER") -> None:
        """Add a user (id or e-mail), a group (id or e-mail), ``"customer"`` (everyone), or an
        external e-mail address to ``group``."""
        with self._lock:
            found = self.find_group(group)
            if found is None:
                raise NotFound(f"no group {group}")
            gid = found["id"]
            if member == "customer":
                record = {"id": self.customer_id, "type": "CUSTOMER"}
            elif (user := self.find_user(member)) is not None:
                record = {"id": user["id"], "email": user["primaryEmail"], "type": "USER", "status": "SUSPENDED" if user["suspended"] else "ACTIVE"}
            elif (inner := self.find_group(member)) is not None:
                record = {"id": inner["id"], "email": inner["email"], "type": "GROUP"}
            elif "@" in member:  # somebody outside the account
                record = {"id": user_id_for("external/" + member.lower()), "email": member, "type": "USER", "status": "ACTIVE"}
            else:
                raise NotFound(f"no user or group {member}")
            record = {"kind": "admin#directory#member", "role": role, **record}
            record["etag"] = etag(sorted(record.items()))
            self._members[gid][record["id"]] = record

    def remove_member(self, group: str, member: str) -> None:
        with self._lock:
            found = self.find_group(group)
            if found is None:
                return
            members = self._members[found["id"]]
            for key, record in list(members.items()):
                if member in (key, record.get("email")):
                    del members[key]

    def members(self, group: str) -> list[dict[str, Any]]:
        """The direct members of a group, by member id; raises :class:`NotFound`."""
        with self._lock:
            found = self.find_group(group)
            if found is None:
                raise NotFound(f"no group {group}")
            members = self._members[found["id"]]
            return [copy.deepcopy(members[k]) for k in sorted(members)]

    def user_groups(self, user_id: str) -> set[str]:
        """The ids of the groups a user is directly in."""
        with self._lock:
            return {gid for gid, members in self._members.items() if user_id in members}
