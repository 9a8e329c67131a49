"""The adaptive write limit (issue 19, item 5): AIMD on the limit, steered by the RTT of
the target's answers and its throttled answers, between 1 and the profile's cap."""

from __future__ import annotations

import threading

from syncframe.backpressure import report_answer
from syncframe.engine.concurrency import AdaptiveConcurrency, AdaptiveSettings, FixedConcurrency, write_concurrency
from syncframe.sdk import report_answer as sdk_report_answer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def window(limiter: AdaptiveConcurrency, clock: Clock, rtt: float, throttled: int = 0) -> int:
    """One round trip with every allowed write in flight: ``throttled`` of them pushed back."""
    n = limiter.limit
    for _ in range(n):
        limiter.acquire()
    clock.now += rtt
    for i in range(n):
        limiter.answered(rtt, throttled=i < throttled)
    for _ in range(n):
        limiter.release()
    return limiter.limit


def adaptive(cap: int = 32, clock: Clock | None = None, **settings: float) -> tuple[AdaptiveConcurrency, Clock]:
    clock = clock or Clock()
    return AdaptiveConcurrency(cap, AdaptiveSettings(**settings), clock=clock), clock  # type: ignore[arg-type]


def test_it_starts_low_and_doubles_per_window_until_the_service_first_pushes_back() -> None:
    limiter, clock = adaptive(cap=64)
    assert limiter.limit == 2
    assert [window(limiter, clock, 0.125) for _ in range(5)] == [2, 4, 8, 16, 32]  # the first window only measures
    assert window(limiter, clock, 0.125, throttled=1) == 16  # back to the last limit that held
    assert [window(limiter, clock, 0.125) for _ in range(3)] == [17, 18, 19]  # then one at a time
    assert window(limiter, clock, 0.125, throttled=1) == 17  # and a tenth off (Vector's ratio)
    assert limiter.describe() == "adaptive up to 64: reached 32, ended at 17, 2 decreases, 2 throttled answers"


def test_without_slow_start_it_grows_by_one_per_window_while_latency_holds() -> None:
    limiter, clock = adaptive(slow_start=False)
    assert limiter.limit == 2
    limits = [window(limiter, clock, 0.125) for _ in range(12)]
    assert limits == sorted(limits)  # never down on a steady service
    assert limits[-1] == 2 + 11  # the first window only measures; then one more per window
    assert all(b - a <= 1 for a, b in zip(limits, limits[1:]))  # additive: one at a time


def test_it_never_goes_above_the_cap() -> None:
    limiter, clock = adaptive(cap=5)
    for _ in range(40):
        window(limiter, clock, 0.0625)
        assert limiter.limit <= 5
    assert limiter.limit == 5 and limiter.peak == 5


def test_a_cap_below_the_start_is_the_start() -> None:
    limiter, _ = adaptive(cap=1)
    assert limiter.limit == 1


def test_throttling_halves_the_limit_down_to_one_and_never_below() -> None:
    limiter, clock = adaptive(decrease_ratio=0.5)
    while limiter.limit < 16:
        window(limiter, clock, 0.125)
    limits = [window(limiter, clock, 0.125, throttled=1) for _ in range(6)]
    assert limits == [8, 4, 2, 1, 1, 1]
    assert limiter.throttled == 6 * 1 and limiter.decreases == 4


def test_without_slow_start_throttling_takes_a_tenth_off_as_vector_does() -> None:
    limiter, clock = adaptive(slow_start=False)
    while limiter.limit < 20:
        window(limiter, clock, 0.125)
    assert window(limiter, clock, 0.125, throttled=1) == 18


def test_rising_latency_brings_the_limit_down_without_any_throttled_answer() -> None:
    limiter, clock = adaptive()
    for i in range(10):
        window(limiter, clock, 0.125 + 0.002 * (i % 2))  # steady, a little noise
    before = limiter.limit
    after = window(limiter, clock, 0.3)  # the service queues requests up
    assert after < before and limiter.throttled == 0


def test_latency_within_the_noise_neither_grows_past_nor_cuts() -> None:
    limiter, clock = adaptive(cap=6)
    for _ in range(10):
        window(limiter, clock, 0.125)
    assert limiter.limit == 6
    for i in range(20):  # 3 % up and down: noise, not a queue
        window(limiter, clock, 0.125 * (1.03 if i % 2 else 0.97))
    assert limiter.limit == 6 and limiter.decreases == 0


def test_it_does_not_grow_when_the_writes_never_use_the_whole_limit() -> None:
    limiter, clock = adaptive()
    for _ in range(10):
        limiter.acquire()  # one write at a time: no evidence that more would help
        clock.now += 0.1
        limiter.answered(0.1)
        limiter.release()
    assert limiter.limit == 2


def test_a_slot_waits_while_the_limit_is_in_use() -> None:
    limiter, _ = adaptive()
    limiter.acquire()
    limiter.acquire()
    entered = threading.Event()

    def third() -> None:
        with limiter.slot():
            entered.set()

    thread = threading.Thread(target=third)
    thread.start()
    assert not entered.wait(0.2)  # two in flight, the limit is two
    limiter.release()
    assert entered.wait(5)
    thread.join(5)


def test_answers_reported_during_a_slot_reach_the_limiter_and_nowhere_else() -> None:
    limiter, clock = adaptive()
    report_answer(0.1, throttled=True)  # outside a write: goes nowhere
    assert limiter.throttled == 0
    with limiter.slot():
        sdk_report_answer(0.1, throttled=True)  # the SDK's name for the same signal
        report_answer(0.1)
    assert limiter.throttled == 1


def test_a_target_that_reports_nothing_is_judged_by_its_write_time() -> None:
    limiter, clock = adaptive()
    for _ in range(6):
        with limiter.slot(), limiter.slot():  # both places in use
            clock.now += 0.125
    assert limiter.limit > 2


def test_the_profile_chooses_fixed_or_adaptive() -> None:
    fixed = write_concurrency(8, adaptive=False)
    assert isinstance(fixed, FixedConcurrency) and fixed.limit == fixed.cap == 8
    assert fixed.describe() == "fixed at 8"
    grown = write_concurrency(8, adaptive=True)
    assert isinstance(grown, AdaptiveConcurrency) and grown.cap == 8 and grown.limit == 2
