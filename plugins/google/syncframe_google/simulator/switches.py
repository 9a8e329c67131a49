"""Switches that make the simulator misbehave on purpose, and its request log.

All settable while the server runs (thread-safe): latency; throttling of the next N
requests or every k-th, answered the ways Google throttles (429
``rateLimitExceeded``, 403 ``rateLimitExceeded`` / ``userRateLimitExceeded``, 503),
with or without ``Retry-After``; faults on page k of a listing (an HTTP status, or
a dropped connection); the access token lifetime.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

#: close the connection without an answer
DROP = "drop"
#: how a throttled request is answered: (status, reason)
THROTTLE_KINDS = {
    "429": (429, "rateLimitExceeded"),
    "rateLimitExceeded": (403, "rateLimitExceeded"),
    "userRateLimitExceeded": (403, "userRateLimitExceeded"),
    "503": (503, "backendError"),
}


@dataclass
class PageFault:
    """A fault armed for page ``page`` (1-based) of listings of ``endpoint`` (None: any)."""

    page: int
    action: int | str
    times: int = 1
    endpoint: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One answered request: method, path, query string, status (0 = connection dropped)."""

    method: str
    path: str
    query: str
    status: int
    seconds: float = 0.0


class Switches:
    """The misbehaviour panel of one simulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0
        self.token_lifetime = 3599
        self._throttle_next = 0
        self._throttle_every: int | None = None
        self._throttle_kind = "429"
        self._throttle_scope = "api"
        self._retry_after: int | None = None
        self._seen = 0
        self._faults: list[PageFault] = []
        self.throttled = 0
        self.faults_fired = 0

    def set_latency(self, seconds: float) -> None:
        """Wait this long before answering every request."""
        with self._lock:
            self.latency = max(0.0, seconds)

    def set_token_lifetime(self, seconds: int) -> None:
        """``expires_in`` of access tokens issued from now on."""
        with self._lock:
            self.token_lifetime = int(seconds)

    def throttle(self, next_n: int = 0, every: int | None = None, kind: str = "429", retry_after: int | None = None, scope: str = "api") -> None:
        """Throttle the next ``next_n`` requests and/or every ``every``-th one.

        :param kind: ``"429"``, ``"rateLimitExceeded"`` / ``"userRateLimitExceeded"`` (403s) or ``"503"``.
        :param retry_after: Send ``Retry-After`` with this many seconds (Google rarely does: None).
        :param scope: ``api`` (Directory API), ``token`` (the token endpoint) or ``all``.
        """
        if kind not in THROTTLE_KINDS:
            raise ValueError(f"kind is one of {sorted(THROTTLE_KINDS)}")
        with self._lock:
            self._throttle_next = next_n
            self._throttle_every = every
            self._throttle_kind = kind
            self._retry_after = retry_after
            self._throttle_scope = scope
            self._seen = 0

    def fail_page(self, page: int, status: int | str = 503, times: int = 1, endpoint: str | None = None) -> None:
        """Answer page ``page`` of a listing with ``status`` (or ``"drop"``) ``times`` times.

        ``endpoint``: ``users``, ``members`` or None for any listing.
        """
        with self._lock:
            self._faults.append(PageFault(page, status, times, endpoint))

    def reset(self) -> None:
        """Back to a well-behaved service."""
        with self._lock:
            self.latency = 0.0
            self.token_lifetime = 3599
            self._throttle_next = 0
            self._throttle_every = None
            self._seen = 0
            self._faults.clear()

    # -- consulted by the server ---------------------------------------------------

    def throttle_now(self, area: str) -> tuple[int, str, int | None] | None:
        """(status, reason, Retry-After) when this request (``api`` or ``token``) is throttled."""
        with self._lock:
            if self._throttle_scope not in (area, "all"):
                return None
            self._seen += 1
            hit = False
            if self._throttle_next > 0:
                self._throttle_next -= 1
                hit = True
            elif self._throttle_every and self._seen % self._throttle_every == 0:
                hit = True
            if not hit:
                return None
            self.throttled += 1
            status, reason = THROTTLE_KINDS[self._throttle_kind]
            return status, reason, self._retry_after

    def page_fault(self, endpoint: str, page: int) -> int | str | None:
        """The armed fault for this page of this listing, consumed once per call."""
        with self._lock:
            for fault in self._faults:
                if fault.page == page and fault.endpoint in (None, endpoint) and fault.times > 0:
                    fault.times -= 1
                    self.faults_fired += 1
                    self._faults = [f for f in self._faults if f.times > 0]
                    return fault.action
            return None


class RequestLog:
    """Counters and the list of answered requests (for tests and the benchmark)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._paths: Counter[str] = Counter()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._paths[record.path] += 1

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    @property
    def total(self) -> int:
        with self._lock:
            return len(self._records)

    def path_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._paths)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._paths.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": len(self._records), "paths": dict(self._paths)}
