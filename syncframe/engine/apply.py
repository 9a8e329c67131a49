"""Apply a plan: journal every write, write with bounded concurrency, update links.

Order and safety rules:

1. links whose account vanished from the target are dropped (journaled too);
2. creates, updates, renames and adoptions run on at most ``concurrency`` threads;
   how many are in flight at a time is the :mod:`~syncframe.engine.concurrency`
   limit's to say (fixed, or adapting to the target's answers);
3. removals run last, and only when every earlier write succeeded: a failed
   write, a fatal error (bad credentials) or an interruption means nobody is
   removed in this run (rclone's "no deletes after any error"). A write the
   target refused for good (:class:`~syncframe.errors.PermanentRecordError`: a
   definite answer, nothing written) is reported but is no such failure;
4. before every write the run checks that its connector lock is still its own
   (:meth:`~syncframe.state.HeldLock.ensure`); a run frozen past its lease stops
   there, as after a fatal error.

Each write is journaled as an *intent* before the target is called and its
*outcome* after, together with its link change. Both go in batches, one
transaction each: the intents of the next ``INTENTS_AHEAD`` times as many items as
may be in flight before any of their writes starts, the outcomes of up to ``OUTCOME_BATCH`` answers (none
waiting longer than ``OUTCOME_DELAY``). A run killed in between leaves intents
without outcome, which the next run's recovery resolves (a create that landed is
found and linked). The batches follow the write limit (rule 2). Only the
applying thread touches the state
store; worker threads only call ``target.apply``, so the target must be safe to
call from several threads.
A :class:`~syncframe.errors.FatalSyncError` stops the run at once: no new write
starts, writes already in flight finish and are recorded. Ctrl-C wherever it lands
on the applying thread (a hook, a journal transaction) stops it the same way. Any
other error there (a plugin's bug, the state store failing) stops further writes too;
what was in flight and buffered is recorded while the store still answers, then the
error is raised.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import pluggy

from ..contracts import ConnectorContext, Progress, Target, no_progress
from ..errors import FatalSyncError, LockLostError, PermanentRecordError, SyncframeError
from ..hooks import Hooks
from ..model import REMOVAL_KINDS, Account, ItemKind, PlanItem
from ..state.rows import JournalOutcome
from .concurrency import FixedConcurrency, WriteConcurrency
from .planner import SyncPlan

if TYPE_CHECKING:
    from ..state.locks import HeldLock
    from ..state.protocols import Journal

log = logging.getLogger("syncframe.engine")

#: a worker's answer when the run stopped before its write started
_NOT_STARTED = object()
#: intents journaled in one transaction, before the batch's writes go out: this many
#: times the writes in flight (no further ahead: a state store that fails mid-run is
#: noticed at the next batch, and the writes stop there)
INTENTS_AHEAD = 2
#: outcomes journaled in one transaction (a killed run leaves at most these, and the
#: batch's unstarted intents, for the next run's recovery to resolve) ...
OUTCOME_BATCH = 64
#: ... or fewer, once the oldest answer has waited this many seconds
OUTCOME_DELAY = 0.5


@dataclass
class ApplyResult:
    """How applying went."""

    applied: int = 0
    #: writes that failed with an unknown or transient outcome
    failed: int = 0
    #: writes the target refused for good (reported; they block nothing)
    refused: int = 0
    #: writes never attempted (the run stopped, or removals withheld after an error)
    not_applied: int = 0
    #: the fatal error that stopped the run, if any
    fatal: str | None = None
    #: stopped by a signal or Ctrl-C
    interrupted: bool = False
    #: why the removals did not run, if they did not
    removals_withheld: str | None = None
    links_dropped: int = 0

    @property
    def clean(self) -> bool:
        """Every write of the plan succeeded."""
        return not (self.failed or self.not_applied or self.fatal or self.interrupted)


class Applier:
    """Applies one :class:`SyncPlan` for one run.

    :param store: The state store (its journal and links: :class:`~syncframe.state.protocols.Journal`).
    :param run_id: The run the journal rows belong to.
    :param target: The open target.
    :param pm: The plugin manager (``syncframe_item_applied``).
    :param context: The connector context handed to hooks.
    :param concurrency: Target writes in flight at once: a number, or a
        :class:`~syncframe.engine.concurrency.WriteConcurrency` limit that decides it.
    :param progress: Called with ``(1, total)`` per finished write.
    :param stop: Set it (from a signal handler, say) to stop starting new writes.
    :param lock: The run's connector lock (``ensure()`` is called before every write).
    """

    def __init__(
        self,
        store: Journal,
        run_id: int,
        target: Target,
        pm: pluggy.PluginManager,
        context: ConnectorContext,
        concurrency: int | WriteConcurrency = 8,
        progress: Progress = no_progress,
        stop: threading.Event | None = None,
        lock: HeldLock | None = None,
    ):
        self.store = store
        self.run_id = run_id
        self.name = context.name
        self.target = target
        self.pm = pm
        self.hooks = Hooks.of(pm)
        self.context = context
        self.limit: WriteConcurrency = FixedConcurrency(concurrency) if isinstance(concurrency, int) else concurrency
        self.concurrency = self.limit.cap
        self.progress = progress
        self.stop = stop or threading.Event()
        self.lock = lock
        self.result = ApplyResult()
        self._fatal = threading.Event()

    def apply(self, plan: SyncPlan) -> ApplyResult:
        self._drop_links(plan)
        writes = [i for i in plan.items if i.writes and i.kind not in REMOVAL_KINDS]
        deletes = [i for i in plan.items if i.kind in REMOVAL_KINDS]
        total = len(writes) + len(deletes)
        self._run(writes, plan, total)
        if deletes:
            if self.result.clean:
                self._run(deletes, plan, total)
            else:
                self.result.removals_withheld = "removals run only after every other write succeeded; none were made in this run"
                self.result.not_applied += len(deletes)
        return self.result

    # --- steps ------------------------------------------------------------------

    def _drop_links(self, plan: SyncPlan) -> None:
        for source_id, target_id in sorted(plan.dropped_links.items()):
            journal_id = self.store.journal_intent(
                self.run_id,
                self.name,
                {"kind": "unlink", "source_id": source_id, "target_id": target_id, "reason": "the linked account no longer exists in the target"},
            )
            self.store.journal_outcome(journal_id, ok=True, unlink=source_id)
            self.result.links_dropped += 1

    def _halted(self) -> bool:
        return self._fatal.is_set() or self.stop.is_set()

    def _in_flight_limit(self) -> int:
        """How many target writes may be in flight now (the limit decides; its slots gate them)."""
        return self.limit.limit

    def _run(self, items: Iterable[PlanItem], plan: SyncPlan, total: int) -> None:
        """Write ``items``: intents a batch at a time before its writes go out, outcomes
        a batch at a time after (at most ``OUTCOME_DELAY`` seconds late)."""
        queue = iter(items)
        journaled: deque[tuple[PlanItem, int]] = deque()  # intent recorded, write not started
        pending: dict[Future[Any], tuple[PlanItem, int]] = {}
        finished = _Finished()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"syncframe-{self.name}") as pool:
            try:
                while True:
                    try:
                        if not journaled and not self._halted():
                            batch = list(itertools.islice(queue, INTENTS_AHEAD * self._in_flight_limit()))
                            try:
                                journal_ids = self.store.journal_intents(self.run_id, self.name, [i.to_dict() for i in batch])
                            except BaseException:  # taken from the queue, never journaled: never written
                                self.result.not_applied += len(batch)
                                raise
                            journaled.extend(zip(batch, journal_ids))
                        # the pool is kept busy: the limit's slots (in _write) decide what runs at once
                        while journaled and len(pending) < 2 * self._in_flight_limit() and not self._halted():
                            item, journal_id = journaled.popleft()
                            pending[pool.submit(self._write, item)] = (item, journal_id)
                        if not pending:
                            break
                        done, _ = wait(pending, timeout=finished.wait_at_most(), return_when=FIRST_COMPLETED)
                        for future in done:
                            item, journal_id = pending.pop(future)
                            finished.add(self._outcome(item, journal_id, future.result(), plan))
                            self.progress(1, total)
                        if finished.due():
                            finished.record(self.store)
                    except KeyboardInterrupt:
                        # Ctrl-C, wherever it lands: start nothing new, record what is in flight, then report
                        self._interrupt()
            except BaseException:
                # the applying thread gave up (a plugin's bug, the state store failing): no
                # further write starts, and what is buffered or in flight is recorded if the store still can
                self._fatal.set()
                self._settle(pending, finished, plan)
                raise
        # intents whose writes never started (the run stopped) end as "not applied"
        for item, journal_id in journaled:
            finished.add(self._outcome(item, journal_id, _NOT_STARTED, plan))
        try:
            finished.record(self.store)
        except KeyboardInterrupt:  # its transaction rolled back: once more, or these outcomes are lost
            self._interrupt()
            finished.record(self.store)
        if self.stop.is_set():
            self.result.interrupted = True
        self.result.not_applied += sum(1 for _ in queue)

    def _interrupt(self) -> None:
        self.stop.set()
        self.result.interrupted = True

    def _settle(self, pending: dict[Future[Any], tuple[PlanItem, int]], finished: "_Finished", plan: SyncPlan) -> None:
        """After an error on the applying thread: journal the writes in flight and the
        buffered outcomes, as far as the store still answers (the error itself is raised
        by the caller; an intent left open is the next run's recovery's)."""
        for future in list(wait(pending).done):
            item, journal_id = pending.pop(future)
            try:
                finished.add(self._outcome(item, journal_id, future.result(), plan))
            except Exception:
                log.exception("the outcome of %s %s could not be recorded", item.kind.value, item.login)
        try:
            finished.record(self.store)
        except Exception as exc:  # most often the very failure being raised: said once, by the caller
            log.debug("the buffered journal outcomes could not be recorded: %s", exc)

    def _write(self, item: PlanItem) -> Any:
        """Runs on a worker thread: only the target is called here."""
        try:
            with self.limit.slot():  # waits while the limit's writes are in flight
                if self._halted():
                    return _NOT_STARTED
                if self.lock is not None:
                    self.lock.ensure()
                return self.target.apply(item)
        except FatalSyncError as exc:
            self._fatal.set()
            return exc
        except Exception as exc:  # one user's failure; the others go on
            return exc

    def _outcome(self, item: PlanItem, journal_id: int, outcome: Any, plan: SyncPlan) -> JournalOutcome:
        """Runs on the applying thread: what one write's answer means. The item and the
        result are updated and the observers told at once; the journal outcome is
        returned, to be recorded with its batch."""
        if isinstance(outcome, LockLostError):
            self.result.fatal = self.result.fatal or str(outcome)
            outcome = _NOT_STARTED
        if outcome is _NOT_STARTED:
            self.result.not_applied += 1
            return JournalOutcome(journal_id, ok=False, error="not applied: the run stopped before this write")
        if isinstance(outcome, BaseException):
            item.error = _describe(outcome)
            if isinstance(outcome, FatalSyncError) and self.result.fatal is None:
                self.result.fatal = item.error
            if not isinstance(outcome, SyncframeError):
                log.warning("%s %s failed", item.kind.value, item.login, exc_info=outcome)
            if isinstance(outcome, PermanentRecordError):
                item.refused = True
                self.result.refused += 1
            else:
                self.result.failed += 1
            self._observe(item)
            return JournalOutcome(journal_id, ok=False, error=item.error)
        account: Account | None = outcome
        item.applied = True
        link = unlink = leaver = None
        if item.kind is ItemKind.DELETE:
            unlink = item.source_id
        elif item.kind is ItemKind.DISABLE:
            # the account stays linked, so a user who comes back gets it again
            leaver = (item.source_id, item.delete_due)
        elif item.source_id is not None:
            target_id = account.target_id if account else item.target_id
            login = account.login if account else item.login
            origin = {ItemKind.CREATE: "created", ItemKind.ADOPT: "adopted"}.get(item.kind) or plan.link_origins.get(item.source_id, "adopted")
            item.target_id = target_id
            link = (item.source_id, str(target_id), str(login), origin)
        self.result.applied += 1
        self._observe(item)
        return JournalOutcome(journal_id, ok=True, result=account.to_dict() if account else None, link=link, unlink=unlink, leaver=leaver)

    def _observe(self, item: PlanItem) -> None:
        try:
            self.hooks.item_applied(item, self.context)
        except KeyboardInterrupt:  # Ctrl-C while a hook ran: the run stops, this outcome is still recorded
            self._interrupt()
        except Exception:  # an observer's bug must not fail the run
            log.exception("a syncframe_item_applied hook failed")


class _Finished:
    """Answers of the target not journaled yet: recorded when ``OUTCOME_BATCH`` have
    gathered or the oldest has waited ``OUTCOME_DELAY`` seconds."""

    def __init__(self) -> None:
        self._items: list[JournalOutcome] = []
        self._since = 0.0

    def add(self, outcome: JournalOutcome) -> None:
        if not self._items:
            self._since = time.monotonic()
        self._items.append(outcome)

    def wait_at_most(self) -> float | None:
        """How long the applying thread may wait for the next answer."""
        return max(0.0, self._since + OUTCOME_DELAY - time.monotonic()) if self._items else None

    def due(self) -> bool:
        return len(self._items) >= OUTCOME_BATCH or (bool(self._items) and time.monotonic() - self._since >= OUTCOME_DELAY)

    def record(self, journal: Journal) -> None:
        """Journal the gathered outcomes; they are dropped only once recorded (a failed
        or interrupted transaction leaves them for the next try)."""
        journal.journal_outcomes(self._items)
        self._items = []


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, SyncframeError) else f"{type(exc).__name__}: {text}"
