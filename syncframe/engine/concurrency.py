"""How many target writes may be in flight at once: a fixed number, or one that adapts.

:class:`AdaptiveConcurrency` follows Vector's Adaptive Request Concurrency (ARC):
additive increase, multiplicative decrease (AIMD) on a limit, steered by the
round-trip time (RTT) of the target's answers and by its throttled answers.

- Start low (2). Once per RTT window, compare the window's mean RTT with an
  exponentially weighted moving average (EWMA) of the earlier ones.
- Grow by one when the writes used the whole limit, nothing pushed back and the
  RTT did not rise: the service keeps up, so try one more.
- Shrink by ``decrease_ratio`` when the service pushed back (429, 503, a timeout:
  :mod:`syncframe.backpressure`) or the RTT rose beyond the EWMA by more than
  ``rtt_deviation_scale`` of its deviation: requests queue up at the service.
- Never above the profile's ``concurrency`` (the cap), never below 1.

One addition to Vector's scheme, from TCP: a *slow start*. Until the service first
pushes back, the limit doubles per window instead of growing by one, and the first
push-back halves it (back to the last limit that held). When a target answers in a
quarter of a second, growing by one per window takes seconds to reach a capacity of
16 that doubling reaches in four windows.

A target reports its answers through :func:`syncframe.backpressure.report_answer`;
one that reports nothing is judged by how long its writes take.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from ..backpressure import listening

log = logging.getLogger("syncframe.engine.concurrency")

#: the least relative RTT rise that counts as rising latency: below it is noise, even
#: when the deviation is near zero (a steady simulator, say)
MIN_RISE = 0.05


class WriteConcurrency(Protocol):
    """What the write dispatch asks: how many threads at most, how many writes now."""

    #: the most writes ever in flight (the pool's size)
    cap: int

    @property
    def limit(self) -> int:
        """Writes allowed in flight now."""

    def slot(self) -> Iterator[None]:
        """Hold a place for one write while the block runs (waits for one to be free)."""

    def describe(self) -> str:
        """One line for the log: how the limit went."""


class FixedConcurrency:
    """Always ``cap`` writes in flight (the thread pool bounds them).

    :param cap: The profile's ``concurrency``.
    """

    def __init__(self, cap: int):
        self.cap = max(1, int(cap))

    @property
    def limit(self) -> int:
        return self.cap

    @contextmanager
    def slot(self) -> Iterator[None]:
        yield

    def describe(self) -> str:
        return f"fixed at {self.cap}"


@dataclass(frozen=True)
class AdaptiveSettings:
    """The knobs of :class:`AdaptiveConcurrency`; the defaults are Vector's, but the start."""

    initial: int = 2
    #: double per window until the first push-back (TCP's slow start); False: Vector's ARC as it is
    slow_start: bool = True
    decrease_ratio: float = 0.9
    ewma_alpha: float = 0.4
    rtt_deviation_scale: float = 2.5


class _Ewma:
    """Exponentially weighted moving average and variance (West's incremental form)."""

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.mean: float | None = None
        self.variance = 0.0

    def update(self, value: float) -> float:
        if self.mean is None:
            self.mean = value
            return value
        difference = value - self.mean
        increment = self.alpha * difference
        self.mean += increment
        self.variance = (1 - self.alpha) * (self.variance + difference * increment)
        return self.mean

    @property
    def deviation(self) -> float:
        return math.sqrt(max(0.0, self.variance))


class AdaptiveConcurrency:
    """An AIMD limit on writes in flight, fed by the target's answers. Thread-safe.

    :param cap: The profile's ``concurrency``: the limit never goes above it.
    :param settings: Start, decrease ratio, EWMA weight, deviation scale.
    :param clock: Monotonic seconds (injectable so tests need not wait).
    """

    def __init__(self, cap: int, settings: AdaptiveSettings = AdaptiveSettings(), clock: Callable[[], float] = time.monotonic):
        self.cap = max(1, int(cap))
        self.settings = settings
        self.clock = clock
        self._limit = max(1, min(settings.initial, self.cap))
        self._in_flight = 0
        self._changed = threading.Condition()
        # the window being measured
        self._window_sum = 0.0
        self._window_count = 0
        self._reached_limit = False
        self._pushed_back = False
        self._next_update = 0.0
        self._past_rtt = _Ewma(settings.ewma_alpha)
        self._slow_start = settings.slow_start
        #: figures for reports and the benchmark
        self.peak = self._limit
        self.throttled = 0
        self.decreases = 0

    @property
    def limit(self) -> int:
        return self._limit

    # --- slots ----------------------------------------------------------------------

    def acquire(self) -> None:
        """Wait until fewer writes than the limit are in flight, then count one more."""
        with self._changed:
            while self._in_flight >= self._limit:
                self._changed.wait()
            self._in_flight += 1
            if self._in_flight >= self._limit:
                self._reached_limit = True  # evidence that a higher limit would be used

    def release(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One write: its answers go to :meth:`answered`; a target that reports none is
        judged by the write's own duration."""
        reported = False

        def listener(seconds: float, throttled: bool) -> None:
            nonlocal reported
            reported = True
            self.answered(seconds, throttled=throttled)

        self.acquire()
        started = self.clock()
        try:
            with listening(listener):
                yield
        finally:
            if not reported:
                self.answered(self.clock() - started)
            self.release()

    def describe(self) -> str:
        return (f"adaptive up to {self.cap}: reached {self.peak}, ended at {self._limit}, "
                f"{self.decreases} decreases, {self.throttled} throttled answers")

    # --- feedback -------------------------------------------------------------------

    def answered(self, seconds: float, *, throttled: bool = False) -> None:
        """One answer of the target's service: its round trip, and whether it pushed back.

        A throttled answer carries no useful RTT (it comes back at once), so only its
        back-pressure counts.
        """
        with self._changed:
            if throttled:
                self._pushed_back = True
                self.throttled += 1
            else:
                self._window_sum += seconds
                self._window_count += 1
            now = self.clock()
            if now < self._next_update:
                return
            self._adjust(now)

    def _adjust(self, now: float) -> None:
        """Once per RTT window: grow by one, shrink by the ratio, or hold."""
        current = self._window_sum / self._window_count if self._window_count else None
        past = self._past_rtt.mean
        if past is None:
            if current is None:
                return  # nothing to compare with yet; the back-pressure stays noted
            self._past_rtt.update(current)
            self._next_update = now + current
        else:
            threshold = max(self._past_rtt.deviation * self.settings.rtt_deviation_scale, past * MIN_RISE)
            rising = current is not None and current > past + threshold
            # in slow start latency "holds" within the noise; afterwards only when not above the mean (Vector)
            held = current is not None and (not rising if self._slow_start else current <= past)
            if self._limit < self.cap and self._reached_limit and not self._pushed_back and held:
                self._limit = min(self.cap, self._limit * 2 if self._slow_start else self._limit + 1)
                self.peak = max(self.peak, self._limit)
                self._changed.notify_all()
            elif self._pushed_back or rising:
                ratio = 0.5 if self._slow_start else self.settings.decrease_ratio
                self._slow_start = False
                if self._limit > 1:
                    self._limit = max(1, int(self._limit * ratio))
                    self.decreases += 1
            log.debug("write limit %d (RTT %s s vs %.3f s ± %.3f, pushed back: %s)", self._limit,
                      "-" if current is None else f"{current:.3f}", past, threshold, self._pushed_back)
            if current is not None:
                past = self._past_rtt.update(current)
            self._next_update = now + past
        self._window_sum, self._window_count = 0.0, 0
        self._reached_limit = self._pushed_back = False


def write_concurrency(cap: int, adaptive: bool) -> WriteConcurrency:
    """The profile's choice: ``concurrency`` (the cap) and ``adaptive_concurrency``."""
    return AdaptiveConcurrency(cap) if adaptive else FixedConcurrency(cap)
