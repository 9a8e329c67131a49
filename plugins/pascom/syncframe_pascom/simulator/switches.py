"""Latency, throttling, faults and credential rejection, switchable from code (thread-safe).

One :class:`Switches` sits on the simulator (all instances) and one on each instance.
Counting ("the next N requests", "the k-th write") starts when a switch is set.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

from .errors import ApiError, format_seconds, server_fault

LOST_MODES = ("502", "drop")
#: what the hidden capacity does past its limit: refuse with 429, or queue (slow down)
OVER_CAPACITY = ("429", "slow")


@dataclass(frozen=True)
class Fault:
    """What happens to one write.

    ``lost=None``: answer ``status`` without performing the write. ``lost="502"``:
    perform it, then answer 502. ``lost="drop"``: perform it, then close the
    connection without an answer.
    """

    status: int = 500
    lost: str | None = None
    retry_after: float | None = None


class Switches:
    """Switchable misbehaviour. All setters may be called while requests run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()  # the capacity's place held by this server thread
        self.reset()

    def reset(self) -> None:
        """Back to a healthy, fast, open server."""
        with self._lock:
            #: seconds added to every request, plus up to ``jitter`` more at random
            self.latency = 0.0
            self.jitter = 0.0
            #: extra seconds for POST/PUT/DELETE
            self.write_latency = 0.0
            #: answer 401 to every request, whatever the credentials
            self.reject_credentials = False
            self._outage: Fault | None = None
            self._requests = 0
            self._writes = 0
            self._throttle_left = 0
            self._throttle_retry_after = 1.0
            self._throttle_every = 0
            self._throttle_every_base = 0
            self._throttle_every_retry_after = 1.0
            self._rate: float | None = None
            self._burst = 0.0
            self._tokens = 0.0
            self._stamp = 0.0
            self._rate_retry_after: float | None = None
            self._write_faults: dict[int, Fault] = {}
            self._fault_every = 0
            self._fault_every_base = 0
            self._fault_every_fault: Fault | None = None
            #: the hidden capacity: requests in progress at once before it refuses or queues
            self._capacity: int | None = None
            self._over = "429"
            self._capacity_retry_after: float | None = 1.0
            self._in_progress = 0
            self._capacity_places: threading.Semaphore | None = None
            #: the most requests in progress at once, and how many the capacity refused
            self.peak_in_progress = 0
            self.over_capacity = 0

    # --- setters ---------------------------------------------------------------

    def throttle_next(self, n: int, retry_after: float = 1) -> None:
        """Answer 429 with ``Retry-After: retry_after`` to the next ``n`` requests."""
        with self._lock:
            self._throttle_left = n
            self._throttle_retry_after = retry_after

    def throttle_every(self, k: int, retry_after: float = 1) -> None:
        """Answer 429 to every ``k``-th request from now (0 switches it off)."""
        with self._lock:
            self._throttle_every = k
            self._throttle_every_retry_after = retry_after
            self._throttle_every_base = self._requests

    def rate_limit(
        self, per_second: float | None, burst: float | None = None, retry_after: float | None = None
    ) -> None:
        """A token bucket: ``per_second`` requests on average, ``burst`` at once (default
        ``per_second``). Over the limit: 429 with ``Retry-After`` = ``retry_after``, or
        the whole seconds until a token is free. None switches it off.
        """
        with self._lock:
            self._rate = per_second
            self._burst = float(burst if burst is not None else max(1.0, per_second or 1.0))
            self._tokens = self._burst
            self._stamp = time.monotonic()
            self._rate_retry_after = retry_after

    def fail_write(self, k: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """The ``k``-th write from now (1 = the next) answers ``status`` and is not performed."""
        self._schedule(k, Fault(status, None, retry_after))

    def lose_write(self, k: int = 1, mode: str = "502") -> None:
        """The ``k``-th write from now is performed, then its answer is lost:
        ``mode="502"`` answers 502, ``mode="drop"`` closes the connection unanswered."""
        if mode not in LOST_MODES:
            raise ValueError(f"mode must be one of {LOST_MODES}")
        self._schedule(k, Fault(502, mode))

    def fail_every_write(self, k: int, status: int = 503, retry_after: float | None = None) -> None:
        """Every ``k``-th write from now answers ``status`` unperformed (0 switches it off)."""
        with self._lock:
            self._fault_every = k
            self._fault_every_fault = Fault(status, None, retry_after)
            self._fault_every_base = self._writes

    def outage(self, status: int | None = 503, retry_after: float | None = None) -> None:
        """Answer ``status`` to every request (None ends the outage)."""
        with self._lock:
            self._outage = Fault(status, None, retry_after) if status else None

    def limit_capacity(self, parallel: int | None, over: str = "429", retry_after: float | None = 1.0) -> None:
        """A capacity the client is not told: past ``parallel`` requests in progress at
        once, ``over="429"`` answers 429 at once (``Retry-After: retry_after``, or no
        header when None); ``over="slow"`` makes the extra requests wait for a free
        place, as a server whose workers are all busy queues them. None switches it off.
        """
        if over not in OVER_CAPACITY:
            raise ValueError(f"over must be one of {OVER_CAPACITY}")
        if parallel is not None and parallel < 1:
            raise ValueError("parallel counts from 1")
        with self._lock:
            self._capacity = parallel
            self._over = over
            self._capacity_retry_after = retry_after
            self._capacity_places = threading.Semaphore(parallel) if parallel and over == "slow" else None
            self.peak_in_progress = 0
            self.over_capacity = 0

    def _schedule(self, k: int, fault: Fault) -> None:
        if k < 1:
            raise ValueError("k counts from 1 (the next write)")
        with self._lock:
            self._write_faults[self._writes + k] = fault

    # --- used by the app ---------------------------------------------------------

    def delay(self, is_write: bool) -> float:
        """Seconds to sleep before answering."""
        seconds = self.latency + self.write_latency * is_write
        if self.jitter:
            seconds += random.uniform(0, self.jitter)
        return seconds

    def admit(self) -> ApiError | None:
        """Called for every request: the 429 or outage answer, or None to go on."""
        with self._lock:
            if self._outage is not None:
                return server_fault(self._outage.status, self._outage.retry_after)
            self._requests += 1
            if self._throttle_left > 0:
                self._throttle_left -= 1
                return _throttled(self._throttle_retry_after)
            if self._throttle_every and (self._requests - self._throttle_every_base) % self._throttle_every == 0:
                return _throttled(self._throttle_every_retry_after)
            if self._rate:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens < 1.0:
                    wait = self._rate_retry_after
                    if wait is None:
                        wait = max(1, math.ceil((1.0 - self._tokens) / self._rate))
                    return _throttled(wait)
                self._tokens -= 1.0
        return None

    def enter(self) -> ApiError | None:
        """A request starts: the 429 of a full capacity, or None (after waiting for a
        place when the capacity queues). Every call is matched by :meth:`leave`."""
        with self._lock:
            self._in_progress += 1
            self.peak_in_progress = max(self.peak_in_progress, self._in_progress)
            places = self._capacity_places
            if self._capacity is not None and places is None and self._in_progress > self._capacity:
                self.over_capacity += 1
                return _throttled(self._capacity_retry_after)
        if places is not None:
            places.acquire()
            self._local.place = places
        return None

    def leave(self) -> None:
        """The request started with :meth:`enter` is answered."""
        places = getattr(self._local, "place", None)
        if places is not None:
            self._local.place = None
            places.release()
        with self._lock:
            self._in_progress -= 1

    def write_fault(self) -> Fault | None:
        """Called once per authenticated write: the fault for this write, if any."""
        with self._lock:
            self._writes += 1
            fault = self._write_faults.pop(self._writes, None)
            if fault is None and self._fault_every and (self._writes - self._fault_every_base) % self._fault_every == 0:
                fault = self._fault_every_fault
            return fault


def _throttled(retry_after: float | None) -> ApiError:
    headers = {} if retry_after is None else {"Retry-After": format_seconds(retry_after)}
    return ApiError(429, "RATE_LIMITED", "too many requests", None, headers)
