"""The match index: the target's accounts, this connector's links and the links of
other connectors on the same system, looked up in O(1).

Built once per plan, so matching 100,000 identities is a dictionary lookup each,
not a scan of the target. Logins and e-mails are compared folded
(:func:`syncframe.schemas.fold_login`: NFKC, case-folded).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..contracts import MatchIndex
from ..model import Account
from ..schemas import fold_login


def fold(value: str) -> str:
    """:func:`syncframe.schemas.fold_login`, with a fast path for ASCII (NFKC leaves it alone)."""
    if value.isascii():
        return value.lower().strip()
    return fold_login(value)


class TargetIndex(MatchIndex):
    """Lookups over a target's accounts and a connector's links.

    :param accounts: Every account the target holds.
    :param links: source id -> target id, this connector's links (``Link`` rows or ids).
    :param protected_logins: Logins the profile protects (besides ``Account.protected``).
    :param foreign: target id -> the links other connectors on the same system hold
        to it (each with ``connector`` and ``created_at``).
    """

    def __init__(
        self,
        accounts: Iterable[Account],
        links: Mapping[str, object],
        protected_logins: Iterable[str] = (),
        foreign: Mapping[str, Sequence[Any]] | None = None,
    ):
        self.protected = {fold(login) for login in protected_logins if login}
        self.by_id: dict[str, Account] = {}
        #: folded login -> every account holding it (protected ones included)
        self.holders: dict[str, list[Account]] = {}
        self._login: dict[str, list[Account]] = {}
        self._email: dict[str, list[Account]] = {}
        for account in accounts:
            self.by_id[account.target_id] = account
            login = fold(account.login)
            self.holders.setdefault(login, []).append(account)
            if account.protected or login in self.protected:
                continue
            self._login.setdefault(login, []).append(account)
            if account.email:
                self._email.setdefault(fold(account.email), []).append(account)
        #: source id -> target id, only for links whose account still exists
        self.links: dict[str, str] = {}
        #: source ids whose linked account vanished from the target
        self.stale: dict[str, str] = {}
        self._source_of: dict[str, str] = {}
        #: target id -> when this connector linked it (None: unknown)
        self._linked_since: dict[str, Any] = {}
        for source_id, link in links.items():
            target_id = getattr(link, "target_id", link)
            assert isinstance(target_id, str)
            if target_id in self.by_id:
                self.links[source_id] = target_id
                self._source_of[target_id] = source_id
                self._linked_since[target_id] = getattr(link, "created_at", None)
            else:
                self.stale[source_id] = target_id
        self.foreign = dict(foreign or {})

    # --- MatchIndex -------------------------------------------------------------

    def linked_account(self, source_id: str) -> Account | None:
        target_id = self.links.get(source_id)
        return self.by_id.get(target_id) if target_id is not None else None

    def linked_source(self, account: Account) -> str | None:
        return self._source_of.get(account.target_id)

    def by_login(self, login: str) -> list[Account]:
        return list(self._login.get(fold(login), ()))

    def by_email(self, email: str) -> list[Account]:
        return list(self._email.get(fold(email), ()))

    def is_protected(self, login: str) -> bool:
        folded = fold(login)
        if folded in self.protected:
            return True
        return any(a.protected for a in self.holders.get(folded, ()))

    def owner(self, account: Account) -> str | None:
        """The other connector that linked ``account`` first; an account both linked
        (a store from before connectors saw each other) stays with the older link."""
        others = self.foreign.get(account.target_id)
        if not others:
            return None
        first = min(others, key=lambda link: (link.created_at, link.connector))
        mine = self._linked_since.get(account.target_id)
        if mine is not None and mine < first.created_at:
            return None
        return str(first.connector)

    # --- for the planner ---------------------------------------------------------

    def account_protected(self, account: Account) -> bool:
        """Whether an account may never be matched, changed or removed."""
        return account.protected or fold(account.login) in self.protected

    def holders_of(self, login: str) -> list[Account]:
        """Every account (protected too) whose login equals ``login``, folded."""
        return self.holders.get(fold(login), [])
