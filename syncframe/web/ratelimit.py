"""Failed sign-ins counted per account and per client address over a sliding window.

The failures live in the state store, so the limit holds across several web
processes on one store and across restarts.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable


class LoginLimiter:
    """Refuses sign-in attempts for a key (``account:NAME`` or ``client:ADDRESS``) that
    failed ``limit`` times within ``window`` seconds.

    :param clock: Seconds since the epoch (``time.time``; tests may pass their own).
    """

    def __init__(self, per_account: int = 5, per_client: int = 20, window: float = 900.0, clock: Callable[[], float] = time.time):
        self.limits = {"account": per_account, "client": per_client}
        self.window = window
        self.clock = clock
        self.store: Any = None  # set by create_app: the console's state store

    def bind(self, store: Any) -> "LoginLimiter":
        self.store = store
        return self

    def blocked(self, account: str, client: str) -> bool:
        """True when either the account or the client address is over its limit."""
        since = self._now(-self.window)
        return any(self.store.login_failures(key, since) >= self.limits[kind] for kind, key in self._keys(account, client))

    def failed(self, account: str, client: str) -> None:
        self.store.record_login_failure([key for _, key in self._keys(account, client)], self._now(), forget_before=self._now(-self.window))

    def succeeded(self, account: str) -> None:
        """A correct password clears the account's failures (not the address's)."""
        self.store.clear_login_failures(f"account:{account.lower()}")

    @staticmethod
    def _keys(account: str, client: str) -> list[tuple[str, str]]:
        return [("account", f"account:{account.lower()}"), ("client", f"client:{client}")]

    def _now(self, offset: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.clock() + offset, timezone.utc)
