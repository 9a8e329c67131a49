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
*outcome* after, together with the link change, in one transaction. Only the
applying thread touches the state store; worker threads only call
``target.apply``, so the target must be safe to call from several threads.
A :class:`~syncframe.errors.FatalSyncError` stops the run at once: no new write
starts, writes already in flight finish and are recorded.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import pluggy

from ..contracts import ConnectorContext, Progress, Target, no_progress
from ..errors import FatalSyncError, LockLostError, PermanentRecordError, SyncframeError
from ..hooks import Hooks
from ..model import REMOVAL_KINDS, Account, ItemKind, PlanItem
from .concurrency import FixedConcurrency, WriteConcurrency
from .planner import SyncPlan

if TYPE_CHECKING:
    from ..state.locks import HeldLock
    from ..state.protocols import Journal

log = logging.getLogger("syncframe.engine")

#: a worker's answer when the run stopped before its write started
_NOT_STARTED = object()


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

    def _run(self, items: Iterable[PlanItem], plan: SyncPlan, total: int) -> None:
        queue = iter(items)
        pending: dict[Future[Any], tuple[PlanItem, int]] = {}
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"syncframe-{self.name}") as pool:
            while True:
                # keep the pool busy, but journal intents only a little ahead of the writes
                while len(pending) < 2 * self.limit.limit and not self._halted():
                    item = next(queue, None)
                    if item is None:
                        break
                    journal_id = self.store.journal_intent(self.run_id, self.name, item.to_dict())
                    pending[pool.submit(self._write, item)] = (item, journal_id)
                if not pending:
                    break
                try:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    # Ctrl-C: start nothing new, record what is in flight, then report
                    self.stop.set()
                    self.result.interrupted = True
                    continue
                for future in done:
                    item, journal_id = pending.pop(future)
                    self._record(item, journal_id, future.result(), plan)
                    self.progress(1, total)
        if self.stop.is_set():
            self.result.interrupted = True
        self.result.not_applied += sum(1 for _ in queue)

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

    def _record(self, item: PlanItem, journal_id: int, outcome: Any, plan: SyncPlan) -> None:
        """Runs on the applying thread: journal the outcome with its link change."""
        if isinstance(outcome, LockLostError):
            self.result.fatal = self.result.fatal or str(outcome)
            outcome = _NOT_STARTED
        if outcome is _NOT_STARTED:
            self.store.journal_outcome(journal_id, ok=False, error="not applied: the run stopped before this write")
            self.result.not_applied += 1
            return
        if isinstance(outcome, BaseException):
            item.error = _describe(outcome)
            if isinstance(outcome, FatalSyncError) and self.result.fatal is None:
                self.result.fatal = item.error
            if not isinstance(outcome, SyncframeError):
                log.warning("%s %s failed", item.kind.value, item.login, exc_info=outcome)
            self.store.journal_outcome(journal_id, ok=False, error=item.error)
            if isinstance(outcome, PermanentRecordError):
                item.refused = True
                self.result.refused += 1
            else:
                self.result.failed += 1
        else:
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
            self.store.journal_outcome(journal_id, ok=True, result=account.to_dict() if account else None, link=link, unlink=unlink, leaver=leaver)
            self.result.applied += 1
        try:
            self.hooks.item_applied(item, self.context)
        except Exception:  # an observer's bug must not fail the run
            log.exception("a syncframe_item_applied hook failed")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, SyncframeError) else f"{type(exc).__name__}: {text}"
