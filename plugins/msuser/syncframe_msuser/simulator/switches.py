"""Switches that make the simulator misbehave on purpose, and its request log.

All settable from code while the server runs (thread-safe): latency, throttling
(next N requests, every k-th, or a rate), faults on page k of a listing (an HTTP
status or a dropped connection), a truncated body on page k, a short page (no
``@odata.nextLink`` although users remain), the access token lifetime.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

#: What a page fault can be: an HTTP status (500, 503, 504, ...) or one of these.
DROP = "drop"            # close the connection without an answer
TRUNCATE = "truncate"    # announce the full Content-Length, send half, close
BAD_JSON = "bad_json"    # a complete HTTP answer whose JSON body is cut short
SHORT = "short"          # a valid page without @odata.nextLink / deltaLink


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
        self._throttle_rate: float | None = None
        self._throttle_scope = "graph"
        self._retry_after: int | None = 1
        self._seen = 0
        self._window: deque[float] = deque()
        self._faults: list[PageFault] = []
        self.throttled = 0
        self.faults_fired = 0

    # ------------------------------------------------------------------ setters

    def set_latency(self, seconds: float) -> None:
        """Wait this long before answering every request."""
        with self._lock:
            self.latency = max(0.0, seconds)

    def set_token_lifetime(self, seconds: int) -> None:
        """Lifetime of access tokens issued from now on (``expires_in``)."""
        with self._lock:
            self.token_lifetime = int(seconds)

    def throttle(self, next_n: int = 0, every: int | None = None, rate: float | None = None,
                 retry_after: int | None = 1, scope: str = "graph") -> None:
        """Answer 429 ``TooManyRequests``: the next ``next_n`` requests, every ``every``-th
        request, and/or whatever exceeds ``rate`` requests per second. ``retry_after`` None
        sends no ``Retry-After`` header. ``scope``: ``graph``, ``login`` or ``all``."""
        with self._lock:
            self._throttle_next = next_n
            self._throttle_every = every
            self._throttle_rate = rate
            self._retry_after = retry_after
            self._throttle_scope = scope
            self._seen = 0
            self._window.clear()

    def fail_page(self, page: int, status: int | str = 503, times: int = 1, endpoint: str | None = None) -> None:
        """Answer page ``page`` of a listing with ``status`` (or ``"drop"``) ``times`` times.

        ``endpoint``: ``users``, ``delta``, ``members``, ``groups`` or None for any listing.
        """
        with self._lock:
            self._faults.append(PageFault(page, status, times, endpoint))

    def truncate_page(self, page: int, times: int = 1, endpoint: str | None = None, mode: str = TRUNCATE) -> None:
        """Cut page ``page`` short: ``truncate`` (Content-Length says more, the connection
        closes) or ``bad_json`` (a complete response whose JSON is cut in half)."""
        if mode not in (TRUNCATE, BAD_JSON):
            raise ValueError("mode is 'truncate' or 'bad_json'")
        self.fail_page(page, mode, times, endpoint)

    def short_page(self, page: int, times: int = 1, endpoint: str | None = None) -> None:
        """Serve page ``page`` without a next link although more remains."""
        self.fail_page(page, SHORT, times, endpoint)

    def reset(self) -> None:
        """Back to a well-behaved service (token lifetime included)."""
        with self._lock:
            self.latency = 0.0
            self.token_lifetime = 3599
            self._throttle_next = 0
            self._throttle_every = None
            self._throttle_rate = None
            self._seen = 0
            self._window.clear()
            self._faults.clear()

    # ------------------------------------------------------------------ consulted by the server

    def throttle_now(self, area: str) -> tuple[bool, int | None]:
        """Should this request (``area`` ``graph`` or ``login``) be throttled? -> (yes, Retry-After)."""
        with self._lock:
            if self._throttle_scope not in (area, "all"):
                return False, None
            self._seen += 1
            hit = False
            if self._throttle_next > 0:
                self._throttle_next -= 1
                hit = True
            elif self._throttle_every and self._seen % self._throttle_every == 0:
                hit = True
            elif self._throttle_rate:
                now = time.monotonic()
                while self._window and now - self._window[0] > 1.0:
                    self._window.popleft()
                if len(self._window) >= self._throttle_rate:
                    hit = True
                else:
                    self._window.append(now)
            if hit:
                self.throttled += 1
            return hit, self._retry_after

    def page_fault(self, endpoint: str, page: int) -> int | str | None:
        """The armed fault for this page of this listing, consumed once per call."""
        with self._lock:
            for fault in self._faults:
                if fault.page == page and fault.endpoint in (None, endpoint) and fault.times > 0:
                    fault.times -= 1
                    self.faults_fired += 1
                    action = fault.action
                    self._faults = [f for f in self._faults if f.times > 0]
                    return action
            return None


class RequestLog:
    """Counters and the list of answered requests (for tests and the benchmark)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._paths: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._paths[record.path] += 1
            self._statuses[record.status] += 1

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

    def status_counts(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._paths.clear()
            self._statuses.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": len(self._records), "paths": dict(self._paths), "statuses": dict(self._statuses)}
