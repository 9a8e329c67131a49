"""``syncframe serve``: run every registered connector at its interval.

- One run of a connector at a time: each run holds the state store's lock, so a
  second ``serve`` (or a manual ``run``) skips it instead of running it twice.
- A failing connector does not stop the others. Its wait doubles with each
  failure in a row (interval, 2×, 4×, ...), capped at a day or its interval if
  longer, like Entra's quarantine ladder; a successful run resets it. Held
  removals are not failures: they wait for a person, at the normal interval.
- SIGTERM or SIGINT stops cleanly: no new run starts, running ones stop between
  two writes (recorded as ``aborted``, bookmark not advanced), then serve exits 0.
- Profiles are re-read every loop: connectors added, changed or removed while
  serving are picked up.
- Every event (``run``, ``skipped``, ``invalid``, ``stopping``) carries its ``time``
  (UTC); a ``run`` event's ``next_in`` is the real wait in seconds until the next try.

``time_scale`` multiplies every interval and back-off (``--time-scale 0.01`` turns
a 60 s interval into 0.6 s). It exists for tests and demos; profiles still need
``interval`` >= 60 s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime, timezone
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pluggy

from .connector import Connector, load_profile
from .engine.runner import ConnectorRunner, Outcome
from .errors import LockedError, SyncframeError
from .stopping import StopOnSignals

if TYPE_CHECKING:
    from .state.protocols import Store

log = logging.getLogger("syncframe.serve")

DAY = 86400.0


def backoff_delay(interval: float, failures: int, cap: float = DAY) -> float:
    """Seconds until the next try after ``failures`` failed runs in a row."""
    if failures <= 0:
        return interval
    return min(interval * 2 ** min(failures - 1, 32), max(cap, interval))


def failures_after(failures: int, status: str, stopped: bool = False) -> int:
    """Failed runs in a row after a run that ended with ``status``.

    ``ok`` and ``held`` reset the count (held removals wait for a person, not for a
    back-off); a run ``aborted`` because syncframe was stopping is nobody's failure;
    anything else counts. ``syncframe worker`` folds run history through this too.
    """
    if status in ("ok", "held"):
        return 0
    if status == "aborted" and stopped:
        return failures
    return failures + 1


@dataclass
class _Slot:
    """What the scheduler knows about one connector."""

    text: str
    connector: Connector | None
    next_due: float
    failures: int = 0
    runs: int = 0
    running: bool = False


class Scheduler:
    """Runs connectors on their intervals.

    :param store: The state store (connectors, locks, runs).
    :param pm: The plugin manager.
    :param workers: Connectors run at the same time.
    :param time_scale: Factor on intervals and back-offs (tests, demos).
    :param on_event: Called with one dict per event (``run``, ``skipped``, ``invalid``, ``stopping``),
        each with its ``time``.
    :param clock: Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        store: Store,
        pm: pluggy.PluginManager,
        *,
        workers: int = 1,
        time_scale: float = 1.0,
        on_event: Callable[[dict[str, Any]], None] = lambda event: None,
        pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.pm = pm
        self.workers = max(1, workers)
        self.scale = time_scale
        self.on_event = on_event
        self.holder = f"syncframe serve (pid {pid})" if pid else "syncframe serve"
        self.clock = clock
        self.stop = threading.Event()
        self.slots: dict[str, _Slot] = {}
        self.failed_runs = 0
        self._signals = StopOnSignals(self.stop, announce=lambda name: self._emit({"event": "stopping", "message": f"{name}: finishing the running runs"}))

    # --- signals ------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT set :attr:`stop` (a second SIGINT interrupts at once)."""
        self._signals.install()

    def restore_signal_handlers(self) -> None:
        self._signals.restore()

    # --- the loop -------------------------------------------------------------------

    def serve(self, once: bool = False, max_runs: int | None = None, duration: float | None = None) -> int:
        """Run until stopped; returns the exit code (``--once``: 1 if any run failed)."""
        started = self.clock()
        finished = 0
        running: dict[Future[Any], str] = {}
        try:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="syncframe-serve") as pool:
                while not self.stop.is_set():
                    now = self.clock()
                    if duration is not None and now - started >= duration:
                        break
                    self._refresh(now)
                    limit_reached = max_runs is not None and finished + len(running) >= max_runs
                    for name, slot in sorted(self.slots.items(), key=lambda kv: kv[1].next_due):
                        if len(running) >= self.workers or limit_reached:
                            break
                        if slot.connector is None or slot.running or slot.next_due > now or (once and slot.runs):
                            continue
                        slot.running = True
                        running[pool.submit(self._run_one, slot.connector)] = name
                        limit_reached = max_runs is not None and finished + len(running) >= max_runs
                    if not running:
                        if (max_runs is not None and finished >= max_runs) or (once and self._all_ran()):
                            break
                        self.stop.wait(self._sleep(now))
                        continue
                    done, _ = wait(running, timeout=self._sleep(now), return_when=FIRST_COMPLETED)
                    for future in done:
                        self._finished(running.pop(future), future.result())
                        finished += 1
                # stopping: let running runs end (they stop between writes once stop is set)
                for future in list(running):
                    self._finished(running.pop(future), future.result())
                    finished += 1
        finally:
            self.restore_signal_handlers()
        return 1 if once and self.failed_runs else 0

    def _all_ran(self) -> bool:
        return all(slot.runs for slot in self.slots.values() if slot.connector is not None)

    def _sleep(self, now: float) -> float:
        """Wake up at the next due time, but at least every second (new connectors, signals)."""
        due = [s.next_due for s in self.slots.values() if s.connector is not None and not s.running]
        wait_for = (min(due) - now) if due else 1.0
        return max(0.005, min(1.0, wait_for))

    def _refresh(self, now: float) -> None:
        """Pick up connectors added, changed or removed since the last loop."""
        rows = {row.name: row for row in self.store.list_connectors()}
        for name in list(self.slots):
            if name not in rows and not self.slots[name].running:
                del self.slots[name]
        for name, row in rows.items():
            slot = self.slots.get(name)
            if slot is not None and slot.text == row.profile_text:
                continue
            if slot is not None and slot.running:
                continue  # picked up after the run ends
            connector: Connector | None = None
            try:
                connector = load_profile(row.profile_text, self.pm, name)
            except SyncframeError as exc:
                self._emit({"event": "invalid", "name": name, "error": str(exc)})
            if connector is not None and not connector.interval:
                self._emit({"event": "skipped", "name": name, "reason": "no interval in its profile (run it by hand)"})
                connector = None
            self.slots[name] = _Slot(row.profile_text, connector, next_due=now, failures=slot.failures if slot else 0, runs=slot.runs if slot else 0)

    def _run_one(self, connector: Connector) -> tuple[str, Any]:
        """Runs on a worker thread: one run of one connector, never raising."""
        runner = ConnectorRunner(connector, self.pm, self.store, stop=self.stop, release=f"syncframe run {connector.name}")
        try:
            return "run", runner.run(holder=self.holder)
        except LockedError as exc:
            return "locked", str(exc)
        except SyncframeError as exc:
            return "error", str(exc)
        except Exception as exc:  # a plugin's bug: report it, keep serving the others
            log.exception("connector %s: the run crashed", connector.name)
            return "error", f"{type(exc).__name__}: {exc}"

    def _finished(self, name: str, result: tuple[str, Any]) -> None:
        slot = self.slots.get(name)
        what, value = result
        if slot is None:
            return
        slot.running = False
        slot.runs += 1
        interval = float(slot.connector.interval if slot.connector and slot.connector.interval else 3600)
        now = self.clock()
        if what == "locked":
            slot.next_due = now + interval * self.scale
            self._emit({"event": "skipped", "name": name, "reason": value})
            return
        outcome: Outcome | None = value if what == "run" else None
        status = outcome.status if outcome is not None else "failed"
        error = value if outcome is None else outcome.report.error
        failures = failures_after(slot.failures, status, stopped=self.stop.is_set())
        if failures > slot.failures:
            self.failed_runs += 1
        slot.failures = failures
        wait_s = backoff_delay(interval, slot.failures) * self.scale
        slot.next_due = now + wait_s
        # next_in is the real wait, --time-scale applied
        event: dict[str, Any] = {"event": "run", "name": name, "status": status, "error": error, "failures": slot.failures, "next_in": wait_s}
        if outcome is not None:
            event.update(run_id=outcome.run_id, counts=outcome.report.counts, bookmark=outcome.report.bookmark)
        self._emit(event)

    def _emit(self, event: dict[str, Any]) -> None:
        """Hand an event to ``on_event`` with the time it happened."""
        self.on_event({"time": utc_stamp(), **event})


def utc_stamp() -> str:
    """Now, UTC, ISO 8601 to the second: the ``time`` of serve's and the worker's events."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextlib.contextmanager
def serving(scheduler: Scheduler) -> Iterator[Scheduler]:
    """Install the signal handlers for a ``with`` block."""
    scheduler.install_signal_handlers()
    try:
        yield scheduler
    finally:
        scheduler.restore_signal_handlers()
