"""The simulator's notion of "now": real time plus an offset tests can advance.

Advancing the clock ages access tokens and delta tokens instantly, so expiry is
tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    """Wall-clock seconds with a settable offset (thread-safe)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def iso(self, with_fraction: bool = False) -> str:
        """``2026-11-27T05:14:31Z`` (the DateTimeOffset form Graph uses)."""
        moment = datetime.fromtimestamp(self.now(), tz=timezone.utc)
        if with_fraction:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
