"""What a source, a target and a sandbox must provide (Meltano-style contracts).

A plugin subclasses :class:`Source` or :class:`Target` and registers the class
through ``syncframe_register_sources`` / ``syncframe_register_targets``. The host
validates the profile section with the plugin's schema first, then calls the class
with the validated section and a :class:`ConnectorContext`.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol

from .model import Account, Identity, Notice, PlanItem, ReadResult

#: progress(advance, total): ``advance`` items done since the last call, ``total`` if known
Progress = Callable[[int, "int | None"], None]


def no_progress(advance: int, total: int | None = None) -> None:
    """A progress callback that ignores its calls."""


class TokenStore(Protocol):
    """Where a source keeps its sign-in cache (the state store or a 0600 file)."""

    def load(self) -> str | None: ...

    def save(self, data: str) -> None: ...


@dataclass
class ConnectorContext:
    """What a plugin may know about the connector it serves."""

    name: str
    #: the whole validated profile (title, source, target, mode, interval, create_* ...)
    profile: Mapping[str, Any]
    token_store: TokenStore | None = None
    state_dir: Path | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("syncframe"))
    #: for interactive steps (device code sign-in); prints to the user's terminal
    echo: Callable[[str], None] = print

    @property
    def mode(self) -> str:
        return str(self.profile.get("mode", "sync"))


@dataclass
class CheckResult:
    """One line of ``syncframe check``: what was checked, whether it passed, and why."""

    name: str
    ok: bool
    detail: str = ""


class Source(abc.ABC):
    """A directory users are read from."""

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        self.config = config
        self.context = context

    @abc.abstractmethod
    def read(self, bookmark: str | None, previous: Mapping[str, Identity], progress: Progress) -> ReadResult:
        """Read users.

        :param bookmark: What the last successful run's ``ReadResult.bookmark`` was, or None.
        :param previous: The last full view (source id -> identity) the engine saved,
            for incremental sources that receive only changed properties.
        :param progress: Call with the number of users read so far.
        :return: Full read: every user, ``incremental=False``. Incremental: the changed
            users as whole identities, ``removed`` ids, ``incremental=True``. Errors
            that stop the read early give ``complete=False`` and a ``reason``, not an
            exception, unless nothing at all could be read (then raise SyncError).
        """

    def authenticate(self) -> str:
        """Interactive sign-in (``syncframe auth``); returns a line to show. Default: nothing to do."""
        return "this source needs no interactive sign-in"

    def check(self) -> list[CheckResult]:
        """Verify sign-in, permissions and reachability (``syncframe check``)."""
        return []

    def close(self) -> None:
        """Release connections."""


class Target(abc.ABC):
    """A system users are written to."""

    #: Whether the target can disable an account (DISABLE items): a profile whose
    #: ``removal`` disables is refused at load for a target that cannot.
    can_disable: bool = False

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        self.config = config
        self.context = context

    @abc.abstractmethod
    def list_accounts(self) -> list[Account]:
        """Every account the target holds (protected ones marked ``protected=True``).

        A list that lost more linked accounts than the removal guard allows is taken
        for a fault of the target, not for accounts deleted by hand: the run holds
        (no link dropped, nothing created or removed) until a list is whole again.
        """

    def system_key(self) -> str | None:
        """A stable name of the system this target writes to, e.g. its normalised URL.

        Connectors in one state store whose targets give the same key see each other's
        links: an account another connector linked is never matched, adopted or
        removed by this one (a CONFLICT names the owner). None (the default): this
        target cannot tell, and its connectors see nobody else's links.
        """
        return None

    @abc.abstractmethod
    def find(self, login: str) -> Account | None:
        """One account by login, or None; used to recover an unfinished create."""

    @abc.abstractmethod
    def desired(self, identity: Identity) -> dict[str, Any]:
        """Map an identity to the target's fields; must include ``login``.

        Keys are the same vocabulary as :attr:`Account.fields`, so the planner can diff.
        Raise :class:`syncframe.SkippableRecordError` when the target cannot hold this
        user (a login outside its rules, a name too long): the plan gets a SKIP item
        with the error's message as the reason, every run, instead of a write that
        fails every run.
        """

    def notices(self, item: PlanItem) -> list[Notice]:
        """Follow-ups for people that applying ``item`` will need (called while planning).

        The planner calls this for every CREATE, UPDATE, RENAME and ADOPT item after the
        diff; the notices land on ``item.notices`` and in the report's ``notices`` as
        ``{code: [logins]}``. Default: none.
        """
        return []

    def diff(self, account: Account, desired: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Field -> [current, desired] for the fields that differ (``login`` excluded)."""
        changes: dict[str, list[Any]] = {}
        for key, want in desired.items():
            if key == "login":
                continue
            have = account.fields.get(key)
            if have != want:
                changes[key] = [have, want]
        return changes

    @abc.abstractmethod
    def apply(self, item: PlanItem) -> Account | None:
        """Carry out one write item (CREATE, UPDATE, RENAME, ADOPT, DELETE, and DISABLE
        when :attr:`can_disable`).

        Returns the account as it stands afterwards (None after a delete). DISABLE
        stops the account signing in and keeps everything else (its devices, numbers)
        and returns it with ``enabled`` False; an UPDATE whose ``changes`` hold
        ``enabled: [False, True]`` enables it again (a leaver who came back). Raise

        - :class:`syncframe.PermanentRecordError` when the target refused this user
          for good and wrote nothing (a validation error to a request it received
          once): the run reports it and goes on, removals and bookmark included;
        - :class:`syncframe.SkippableRecordError` for any other per-user failure (an
          outcome that is unknown or may change): the run goes on with the others,
          but removes nobody and keeps its bookmark;
        - :class:`syncframe.FatalSyncError` when nothing more can be written (bad
          credentials): the run then stops and removes nobody.

        A write of several requests (pascom: rename, then end the user's sessions)
        is journaled as one intent; when a killed run leaves it unfinished and
        recovery finds its first request landed, it calls :meth:`finish`.
        """

    def finish(self, item: PlanItem) -> None:
        """Complete, again, the steps of ``item``'s write that follow its first request.

        Called by recovery for a write a killed run left unfinished whose first
        request landed (the account holds the new login, say); the steps may or may
        not have run, so this must be idempotent. ``item`` is rebuilt from the
        journal: it has no ``identity`` or ``account``, but its kind, login,
        ``rename_from``, ``desired``, ``changes`` and ``notices``. Raise
        :class:`syncframe.SkippableRecordError` when a step fails. Default: nothing
        to finish.
        """

    def check(self) -> list[CheckResult]:
        """Verify sign-in and reachability (``syncframe check``)."""
        return []

    def close(self) -> None:
        """Release connections."""


class MatchIndex(abc.ABC):
    """Lookups the matching rules use; built by the planner once per run."""

    @abc.abstractmethod
    def linked_account(self, source_id: str) -> Account | None:
        """The account this connector linked to ``source_id`` earlier, if it still exists."""

    @abc.abstractmethod
    def linked_source(self, account: Account) -> str | None:
        """The source id this connector linked ``account`` to, if any."""

    @abc.abstractmethod
    def by_login(self, login: str) -> list[Account]:
        """Unprotected accounts whose login equals ``login`` (case-insensitive, NFC)."""

    @abc.abstractmethod
    def by_email(self, email: str) -> list[Account]:
        """Unprotected accounts whose e-mail equals ``email`` (case-insensitive, NFC)."""

    @abc.abstractmethod
    def is_protected(self, login: str) -> bool:
        """Whether ``login`` is protected (never matched or changed)."""

    def owner(self, account: Account) -> str | None:
        """The other connector that manages ``account`` (linked it first), if any.

        The planner turns a match on such an account into a CONFLICT naming the owner;
        a rule may look here to explain itself better. Default: nobody else.
        """
        return None


#: ``Identity.extra[SANDBOX_GUEST] = True`` asks a source sandbox to make the user an
#: external or guest account where its directory has such a thing (scenarios use it)
SANDBOX_GUEST = "guest"


class SourceSandbox(abc.ABC):
    """A local stand-in for a source's service, for the demo, tests and benchmarks."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def profile_section(self) -> dict[str, Any]:
        """The ``[source]`` settings that point at this sandbox (secrets by reference)."""

    def environment(self) -> dict[str, str]:
        """Environment variables the profile section refers to (e.g. the client secret)."""
        return {}

    @abc.abstractmethod
    def put_identity(self, identity: Identity) -> None:
        """Add or replace a user (matched by ``source_id``); ``groups`` seeds memberships,
        ``enabled`` the account state, ``extra[SANDBOX_GUEST]`` a guest account."""

    @abc.abstractmethod
    def remove_identity(self, source_id: str) -> None:
        """Delete a user."""

    def put_identities(self, identities: Iterable[Identity]) -> None:
        for identity in identities:
            self.put_identity(identity)

    def fail_reads_after(self, users: int) -> None:
        """Optional: make reads stop with a fault once about ``users`` users were served.

        A fault the real service can produce (an error answer half way through a
        listing, a file cut short), so the conformance kit can check that the source
        reports ``complete=False`` with a reason instead of raising. The kit opens
        the source *after* calling this, so the sandbox may change its
        :meth:`profile_section` (a smaller page size, say). The fault stays until
        the sandbox stops. Default: not supported, and the kit skips that check.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot inject a read fault (fail_reads_after)")

    def stats(self) -> dict[str, Any]:
        """Counters, at least ``{"requests": n}``."""
        return {}

    def __enter__(self) -> "SourceSandbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TargetSandbox(abc.ABC):
    """A local stand-in for a target's service."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def profile_section(self) -> dict[str, Any]:
        """The ``[target]`` settings that point at this sandbox (secrets by reference)."""

    def environment(self) -> dict[str, str]:
        return {}

    @abc.abstractmethod
    def put_account(self, login: str, email: str | None = None, display_name: str = "", password_login: bool = True) -> None:
        """Seed an existing user (as an administrator would have created it by hand)."""

    @abc.abstractmethod
    def accounts(self) -> list[dict[str, Any]]:
        """Every user with at least ``login``, ``email``, ``display_name``, ``auth``, ``devices``."""

    def make_room(self, users: int) -> None:
        """Prepare for about ``users`` users (``sandbox --users``, ``demo --users``): grow
        what a real system would have sized for them (a number pool, licences). Default: nothing."""

    def stats(self) -> dict[str, Any]:
        """Counters, at least ``{"requests": n, "writes": n}``."""
        return {}

    def __enter__(self) -> "TargetSandbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
