"""Failed sign-ins counted per account and per client address over a sliding window.

In memory, per process: enough for one console; a restart forgets the counts.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable


class LoginLimiter:
    """Refuses sign-in attempts for a key (``account:NAME`` or ``client:ADDRESS``) that
    failed ``limit`` times within ``window`` seconds.

    :param clock: Seconds as a float (``time.monotonic``; tests may pass their own).
    """

    def __init__(self, per_account: int = 5, per_client: int = 20, window: float = 900.0, clock: Callable[[], float] = time.monotonic):
        self.limits = {"account": per_account, "client": per_client}
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, account: str, client: str) -> bool:
        """True when either the account or the client address is over its limit."""
        with self._lock:
            return any(self._count(f"{kind}:{key}") >= self.limits[kind] for kind, key in (("account", account.lower()), ("client", client)))

    def failed(self, account: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            for key in (f"account:{account.lower()}", f"client:{client}"):
                self._failures[key].append(now)

    def succeeded(self, account: str) -> None:
        """A correct password clears the account's failures (not the address's)."""
        with self._lock:
            self._failures.pop(f"account:{account.lower()}", None)

    def _count(self, key: str) -> int:
        stamps = self._failures.get(key)
        if not stamps:
            return 0
        horizon = self.clock() - self.window
        while stamps and stamps[0] < horizon:
            stamps.popleft()
        return len(stamps)
