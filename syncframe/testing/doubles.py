"""Test doubles that are real plugins: a source and a target backed by local files.

- source ``MEMORY`` (:class:`MemorySource`): the identities in a JSON file, so
  separate processes (a killed run and its rerun) see the same directory;
- target ``memory`` (:class:`FileTarget`): accounts in a SQLite file, committed
  with fsync on every write, with switches for failures and for killing its own
  process right after a write landed (crash tests);
- :class:`MemoryTarget`: accounts in a dict, for planning in one process (not registered).

A profile::

    [source]
    type = "MEMORY"
    path = "/tmp/users.json"     # [{"source_id": "1", "username": "jdoe"}, ...]
    [target]
    type = "memory"
    path = "/tmp/accounts.db"

The identities file is either a list of identity dicts or an object
``{"identities": [...], "complete": false, "reason": "...", "stop_after": 3,
"fail": "message"}`` whose keys override the profile's for one read.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from marshmallow import RAISE, Schema, fields, validate

from ..hookspecs import hookimpl
from ..contracts import SANDBOX_GUEST, ConnectorContext, Progress, Source, Target
from ..errors import FatalSyncError, SkippableRecordError, SyncError
from ..model import Account, Identity, ItemKind, Notice, PlanItem, ReadResult

#: environment switch for crash tests: SIGKILL the process after this many target writes landed
KILL_AFTER_WRITES_ENV = "SYNCFRAME_TESTING_KILL_AFTER_WRITES"


# --- files --------------------------------------------------------------------------


def write_identities(path: str | Path, identities: Iterable[Identity | Mapping[str, Any]], **meta: Any) -> None:
    """Write the identities a :class:`MemorySource` reads (``meta``: complete, reason, stop_after, fail)."""
    records = [i.to_dict() if isinstance(i, Identity) else dict(i) for i in identities]
    data: Any = {"identities": records, **meta} if meta else records
    _atomic_write(Path(path), json.dumps(data, indent=1, ensure_ascii=False))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def generate_identities(n: int, domain: str = "contoso.com", start: int = 0) -> list[Identity]:
    """``n`` plain member identities (for benchmarks and large tests)."""
    return [
        Identity(
            source_id=f"00000000-0000-0000-0000-{i:012d}",
            username=f"user{i}@{domain}",
            display_name=f"User {i}",
            given_name="User",
            surname=str(i),
            email=f"user{i}@{domain}",
            phones=(f"+4930{i:07d}",),
            department="Sales" if i % 2 else "Support",
        )
        for i in range(start, start + n)
    ]


# --- source -----------------------------------------------------------------------------


class MemorySourceSchema(Schema):
    """The ``[source]`` section of the ``MEMORY`` source."""

    class Meta:
        unknown = RAISE

    path = fields.String(required=True)
    #: send only what changed since the previous view (as Graph delta does)
    incremental = fields.Boolean(load_default=False)
    complete = fields.Boolean(load_default=True)
    reason = fields.String(load_default=None, allow_none=True)
    #: return only the first N identities and report the read incomplete
    stop_after = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    #: raise SyncError with this message instead of reading
    fail = fields.String(load_default=None, allow_none=True)
    include_guests = fields.Boolean(load_default=False)
    include_disabled = fields.Boolean(load_default=False)
    groups = fields.List(fields.String(), load_default=list)


def scope_reason(identity: Identity, settings: Mapping[str, Any]) -> str | None:
    """The ``MEMORY`` source's scope: guests (``extra[SANDBOX_GUEST]``), disabled
    accounts and users outside ``groups`` are out unless the settings include them."""
    if not settings.get("include_guests") and identity.extra.get(SANDBOX_GUEST):
        return "out of scope: guest or external user (include_guests = false)"
    if not settings.get("include_disabled") and not identity.enabled:
        return "out of scope: disabled account (include_disabled = false)"
    groups = {str(g).casefold() for g in settings.get("groups") or ()}
    if groups and not groups.intersection(g.casefold() for g in identity.groups):
        return "out of scope: not a member of the configured groups"
    return None


def scoped(identities: Iterable[Identity], settings: Mapping[str, Any]) -> list[Identity]:
    """``identities`` with the ``MEMORY`` source's scope decision on each."""
    return [i.replace(out_of_scope=scope_reason(i, settings)) for i in identities]


class MemorySource(Source):
    """Identities from a JSON file (see the module docstring); decides scope as
    :func:`scope_reason` says."""

    def read(self, bookmark: str | None, previous: Mapping[str, Identity], progress: Progress) -> ReadResult:
        path = Path(self.config["path"])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SyncError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
        data = json.loads(text)
        meta: dict[str, Any] = {} if isinstance(data, list) else data
        records = data if isinstance(data, list) else data.get("identities", [])
        settings = {**self.config, **{k: v for k, v in meta.items() if k != "identities"}}
        if settings.get("fail"):
            raise SyncError(str(settings["fail"]))
        identities = scoped((Identity.from_dict(r) for r in records), settings)
        complete = bool(settings.get("complete", True))
        reason = settings.get("reason")
        if settings.get("stop_after") is not None:
            identities = identities[: int(settings["stop_after"])]
            complete = False
            reason = reason or f"simulated outage after {len(identities)} users"
        progress(len(identities), len(identities))
        stats = {"requests": 1, "users": len(identities)}
        if not self.config["incremental"]:
            return ReadResult(tuple(identities), complete, None, reason=reason if not complete else None, stats=stats)
        new_bookmark = hashlib.sha256(text.encode()).hexdigest()[:16]
        if bookmark is None:
            return ReadResult(tuple(identities), complete, new_bookmark, reason=reason if not complete else None, stats=stats)
        seen = {i.source_id for i in identities}
        changed = tuple(i for i in identities if previous.get(i.source_id) != i)
        removed = tuple(sid for sid in previous if sid not in seen) if complete else ()
        return ReadResult(changed, complete, new_bookmark, incremental=True, removed=removed, reason=reason if not complete else None, stats=stats)


# --- targets ------------------------------------------------------------------------------


#: the notice the test targets attach to renames, so notices can be tested without pascom
RENAMED = Notice("renamed", "renamed: tell them their new login")


def desired_fields(identity: Identity) -> dict[str, Any]:
    """The test targets' mapping: login = username lower-cased, display name, e-mail."""
    return {
        "login": identity.username.lower(),
        "display_name": identity.display_name,
        "email": (identity.email or identity.username).lower(),
    }


class FileTargetSchema(Schema):
    """The ``[target]`` section of the ``memory`` target."""

    class Meta:
        unknown = RAISE

    path = fields.String(required=True)
    #: SIGKILL this process right after the Nth write landed (also: env SYNCFRAME_TESTING_KILL_AFTER_WRITES)
    kill_after_writes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    #: writes to these logins fail with SkippableRecordError (one user fails, the run goes on)
    fail_logins = fields.List(fields.String(), load_default=list)
    #: writes to these logins fail with FatalSyncError (like a 401: the run stops)
    fatal_logins = fields.List(fields.String(), load_default=list)
    #: seconds each write takes (to observe concurrency)
    latency = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=10))


_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS accounts (
    target_id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT,
    display_name TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '{}',
    protected INTEGER NOT NULL DEFAULT 0
)
"""


def _connect(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")  # every commit is fsynced: a write that returned has landed
    db.execute(_SCHEMA_SQL)
    return db


def seed_accounts(path: str | Path, accounts: Iterable[Mapping[str, Any]]) -> None:
    """Add accounts (dicts with ``login`` and optionally ``email``, ``display_name``, ``protected``)."""
    db = _connect(path)
    try:
        with db:
            db.execute("BEGIN")
            for a in accounts:
                email = a.get("email")
                name = a.get("display_name", "")
                flds = dict(a.get("fields") or {"display_name": name, "email": email})
                db.execute(
                    "INSERT INTO accounts (login, email, display_name, fields, protected) VALUES (?, ?, ?, ?, ?)",
                    (a["login"], email, name, json.dumps(flds), int(bool(a.get("protected")))),
                )
    finally:
        db.close()


def target_accounts(path: str | Path) -> list[dict[str, Any]]:
    """Every account in a :class:`FileTarget` file, by login."""
    db = _connect(path)
    try:
        rows = db.execute("SELECT target_id, login, email, display_name, fields, protected FROM accounts ORDER BY login").fetchall()
    finally:
        db.close()
    return [
        {"target_id": str(r[0]), "login": r[1], "email": r[2], "display_name": r[3], "fields": json.loads(r[4]), "protected": bool(r[5])}
        for r in rows
    ]


class FileTarget(Target):
    """Accounts in a SQLite file; safe to call from several threads (one lock).
    Disabling sets the account's ``enabled`` field to false."""

    can_disable = True

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        super().__init__(config, context)
        self._db = _connect(config["path"])
        self._lock = threading.Lock()
        self._writes = 0
        env_kill = os.environ.get(KILL_AFTER_WRITES_ENV)
        self._kill_after = config.get("kill_after_writes") or (int(env_kill) if env_kill else None)
        self._fail = {x.casefold() for x in config.get("fail_logins") or ()}
        self._fatal = {x.casefold() for x in config.get("fatal_logins") or ()}

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _account(row: tuple[Any, ...]) -> Account:
        flds = json.loads(row[4])
        return Account(target_id=str(row[0]), login=row[1], email=row[2], display_name=row[3], enabled=bool(flds.get("enabled", True)), fields=flds, protected=bool(row[5]))

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Account]:
        with self._lock:
            rows = self._db.execute(f"SELECT target_id, login, email, display_name, fields, protected FROM accounts {where}", args).fetchall()
        return [self._account(r) for r in rows]

    def list_accounts(self) -> list[Account]:
        return self._select("ORDER BY target_id", ())

    def find(self, login: str) -> Account | None:
        found = self._select("WHERE login = ?", (login,))
        return found[0] if found else None

    def desired(self, identity: Identity) -> dict[str, Any]:
        return desired_fields(identity)

    def notices(self, item: PlanItem) -> list[Notice]:
        return [RENAMED] if item.rename_from else []

    def apply(self, item: PlanItem) -> Account | None:
        login = (item.login or "").casefold()
        if self.config.get("latency"):
            time.sleep(self.config["latency"])
        if login in self._fatal or (item.rename_from or "").casefold() in self._fatal:
            raise FatalSyncError(f"the target refused the credentials while writing {item.login!r}")
        if login in self._fail:
            raise SkippableRecordError(f"the target rejected {item.login!r}")
        with self._lock:
            try:
                account = self._write(item)
            except sqlite3.IntegrityError as exc:
                raise SkippableRecordError(f"{item.kind.value} {item.login!r}: {exc}") from exc
            self._writes += 1
            if self._kill_after and self._writes >= self._kill_after:
                # the write is committed (fsynced); die before the engine records its outcome
                os.kill(os.getpid(), signal.SIGKILL)
        return account

    def _write(self, item: PlanItem) -> Account | None:
        db = self._db
        if item.kind is ItemKind.CREATE:
            d = item.desired
            cur = db.execute(
                "INSERT INTO accounts (login, email, display_name, fields) VALUES (?, ?, ?, ?)",
                (d["login"], d.get("email"), d.get("display_name", ""), json.dumps({k: v for k, v in d.items() if k != "login"})),
            )
            return self.__row(cur.lastrowid)
        if item.kind is ItemKind.DELETE:
            db.execute("DELETE FROM accounts WHERE target_id = ?", (int(item.target_id or 0),))
            return None
        row = db.execute("SELECT target_id, login, email, display_name, fields, protected FROM accounts WHERE target_id = ?", (int(item.target_id or 0),)).fetchone()
        if row is None:
            raise SkippableRecordError(f"account {item.target_id} no longer exists")
        current = self._account(row)
        flds = dict(current.fields)
        for key, (_old, new) in item.changes.items():
            flds[key] = new
        if item.kind is ItemKind.DISABLE:
            flds["enabled"] = False
        new_login = item.login if item.rename_from else current.login
        db.execute(
            "UPDATE accounts SET login = ?, email = ?, display_name = ?, fields = ? WHERE target_id = ?",
            (new_login, flds.get("email", current.email), flds.get("display_name", current.display_name), json.dumps(flds), int(current.target_id)),
        )
        return self.__row(int(current.target_id))

    def __row(self, target_id: int | None) -> Account:
        row = self._db.execute("SELECT target_id, login, email, display_name, fields, protected FROM accounts WHERE target_id = ?", (target_id,)).fetchone()
        return self._account(row)


class MemoryTarget(Target):
    """Accounts in a dict, for benchmarks and unit tests in one process (not registered).
    Disabling sets the account's ``enabled`` field to false.

    :param config: ``{"accounts": [Account, ...]}``
    """

    can_disable = True

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        super().__init__(config, context)
        self.accounts: dict[str, Account] = {a.target_id: a for a in config.get("accounts", ())}
        self._lock = threading.Lock()
        self._next = len(self.accounts) + 1
        self.writes: list[PlanItem] = []

    def list_accounts(self) -> list[Account]:
        with self._lock:
            return list(self.accounts.values())

    def find(self, login: str) -> Account | None:
        with self._lock:
            return next((a for a in self.accounts.values() if a.login.casefold() == login.casefold()), None)

    def desired(self, identity: Identity) -> dict[str, Any]:
        return desired_fields(identity)

    def notices(self, item: PlanItem) -> list[Notice]:
        return [RENAMED] if item.rename_from else []

    def apply(self, item: PlanItem) -> Account | None:
        with self._lock:
            self.writes.append(item)
            if item.kind is ItemKind.DELETE:
                self.accounts.pop(str(item.target_id), None)
                return None
            if item.kind is ItemKind.CREATE:
                target_id = f"m{self._next}"
                self._next += 1
                d = item.desired
                account = Account(target_id, d["login"], d.get("email"), d.get("display_name", ""), fields={k: v for k, v in d.items() if k != "login"})
            else:
                current = self.accounts[str(item.target_id)]
                flds = {**current.fields, **{k: new for k, (_old, new) in item.changes.items()}}
                if item.kind is ItemKind.DISABLE:
                    flds["enabled"] = False
                enabled = bool(flds.get("enabled", current.enabled))
                account = Account(current.target_id, item.login if item.rename_from else current.login, flds.get("email"), flds.get("display_name", ""), enabled, fields=flds)
            self.accounts[account.target_id] = account
            return account


# --- registration --------------------------------------------------------------------------


@hookimpl
def syncframe_register_sources(register: Any) -> None:
    register("MEMORY", MemorySource, MemorySourceSchema, description="Identities from a JSON file (tests, benchmarks)")


@hookimpl
def syncframe_register_targets(register: Any) -> None:
    register("memory", FileTarget, FileTargetSchema, description="Accounts in a SQLite file (tests, benchmarks)")
