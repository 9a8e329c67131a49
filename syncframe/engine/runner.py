"""One connector's ``plan`` or ``run``, start to finish.

``plan`` reads the source and the target and prints what a run would do; it
writes nothing, to the target or to the state store. ``run`` takes the
connector's lock, recovers what a killed run left behind, plans, applies, and
advances the bookmark and the saved view only when the read was complete, every
write succeeded (a permanent refusal is no failure) and the removal guard held
nothing. A read that tripped the guard is suspect (a listing cut short looks like
a mass departure), so it never becomes the baseline the next incremental read
patches: the next run reads from the last trusted bookmark again, and the held
removals come back until released; those a person left held while releasing others
wait for a release even once they would fit under the limit (marked on their links).
A run that lost its lock writes nothing more, to the target or to the state's links,
view and bookmark.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterator, Mapping

import pluggy

from .. import clock
from ..contracts import ConnectorContext, Progress, Source, Target, no_progress
from ..errors import LockLostError, StateStoreError, SyncError
from ..exit_codes import ExitCode
from ..hooks import Hooks
from ..model import Identity, ItemKind, ReadResult
from .apply import Applier, ApplyResult
from .concurrency import write_concurrency
from .planner import Planner, SyncPlan
from .planfile import SavedPlan, plan_fingerprints, restrict_to, stale_items
from .recovery import notices_of_abandoned_runs, recover_unfinished
from .report import Report, build_report

if TYPE_CHECKING:
    from ..state.locks import HeldLock
    from ..state.protocols import Store

log = logging.getLogger("syncframe.engine")


#: progress_bar(description, total) -> a context manager yielding a Progress callback
ProgressFactory = Callable[[str, "int | None"], ContextManager[Progress]]


@contextlib.contextmanager
def no_progress_bar(description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress factory that shows nothing."""
    yield no_progress


@dataclass
class Outcome:
    """What a plan or run produced: the report, its exit code, and the plan."""

    report: Report
    exit_code: ExitCode
    plan: SyncPlan | None = None
    run_id: int | None = None
    applied: ApplyResult | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.report.status


def identity_record(identity: Identity) -> dict[str, Any]:
    """An identity as the JSON the saved view holds (cheaper than ``to_dict``)."""
    record = dict(identity.__dict__)
    record["phones"] = list(identity.phones)
    record["groups"] = list(identity.groups)
    record["extra"] = dict(identity.extra)
    return record


class SavedView(Mapping[str, "dict[str, Any]"]):
    """A plan's view as the records the store saves, each made as it is written
    (100,000 records built at once were a large part of an import's peak memory)."""

    def __init__(self, view: Mapping[str, Identity]):
        self._view = view

    def __getitem__(self, source_id: str) -> dict[str, Any]:
        return identity_record(self._view[source_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._view)

    def __len__(self) -> int:
        return len(self._view)


def plan_status(plan: SyncPlan) -> tuple[str, ExitCode]:
    """A plan's status and exit code: failed (1) > held (4) > pending (3) > in sync (0)."""
    if not plan.read.complete:
        return "failed", ExitCode.FAILED
    if plan.of_kind(ItemKind.HELD) or plan.listing_doubt:
        return "held", ExitCode.HELD
    if plan.writes:
        return "pending", ExitCode.PENDING
    return "in_sync", ExitCode.OK


def waiting_removals(plan: SyncPlan) -> set[str]:
    """The removals that wait for a release after this plan: those still held that a
    person left held when releasing others of them (``--allow-removals N`` or by name),
    now or in an earlier run. Held removals nobody released any of are judged afresh
    each run (a passing fault clears them; real leavers apply once within the limit)."""
    held = {i.source_id for i in plan.of_kind(ItemKind.HELD) if i.source_id}
    return held if plan.guard.released else held & plan.waiting


def run_status(plan: SyncPlan, applied: ApplyResult) -> tuple[str, ExitCode]:
    """A run's status and exit code: aborted/failed (1) > held (4) > ok (0).

    A write the target refused for good does not fail the run (like a conflict, it is
    listed for a person to fix in the source).
    """
    if applied.interrupted:
        return "aborted", ExitCode.FAILED
    if not applied.clean or not plan.read.complete:
        return "failed", ExitCode.FAILED
    if plan.of_kind(ItemKind.HELD) or plan.listing_doubt:
        return "held", ExitCode.HELD
    return "ok", ExitCode.OK


class ConnectorRunner:
    """Plans or runs one connector.

    :param connector: A validated :class:`syncframe.connector.Connector`.
    :param pm: The plugin manager.
    :param store: The :class:`syncframe.state.StateStore`.
    :param progress: Makes progress callbacks for "reading" and "applying".
    :param echo: Where interactive plugin steps print.
    :param stop: Set it to stop a run between writes (SIGTERM in ``serve``).
    :param release: The command that reruns this connector, for the "how to
        release held removals" hint (``syncframe run NAME``).
    """

    def __init__(
        self,
        connector: Any,
        pm: pluggy.PluginManager,
        store: Store,
        *,
        progress: ProgressFactory = no_progress_bar,
        echo: Callable[[str], None] = print,
        stop: threading.Event | None = None,
        release: str | None = None,
    ):
        self.connector = connector
        self.name: str = connector.name
        self.pm = pm
        self.store = store
        self.progress = progress
        self.echo = echo
        self.stop = stop or threading.Event()
        self.release = release or f"syncframe run {self.name}"

    # --- public -------------------------------------------------------------------

    def plan(self, allow_removals: int = 0) -> Outcome:
        """Read and plan; nothing is written anywhere."""
        context = self._context()
        try:
            with self._opened(context) as (source, target):
                plan = self._read_and_plan(context, source, target, allow_removals)
        except SyncError as exc:
            return self._failed_outcome("plan", str(exc))
        status, code = plan_status(plan)
        return Outcome(self._report(plan, "plan", status, code), code, plan)

    def run(
        self,
        *,
        allow_removals: int = 0,
        confirm: Callable[[SyncPlan], bool] | None = None,
        holder: str | None = None,
        saved: SavedPlan | None = None,
        operator: str = "unknown",
    ) -> Outcome:
        """Plan and apply under the connector's lock.

        :param allow_removals: Release up to this many held removals.
        :param confirm: Asked with the plan before anything is written (when it has
            writes); answering False ends the run with nothing applied.
        :param holder: Who holds the lock, shown to a concurrent run.
        :param saved: Apply exactly this saved plan's writes, or nothing when it is stale.
        :param operator: Who applies a saved plan (the audit trail).
        :raises syncframe.errors.LockedError: another run holds the lock.
        """
        holder = holder or f"syncframe run (pid {os.getpid()})"
        with self.store.lock(self.name, holder=holder) as lock:
            # runs still "running" belong to killed processes: their reports were never printed
            abandoned = [r.id for r in self.store.runs(self.name, limit=_ABANDONED_RUNS) if r.status == "running"]
            self.store.abandon_stale_runs(self.name)
            run_id = self.store.start_run(self.name, self.connector.mode, "run")
            try:
                return self._run(run_id, allow_removals, confirm, saved, operator, lock, abandoned)
            except SyncError as exc:
                outcome = self._failed_outcome("run", str(exc), run_id)
                self.store.finish_run(run_id, "failed", outcome.report.counts, error=str(exc), summary=_stored(outcome.report))
                # observers hear about failed runs too (that is when notifications matter);
                # the plan they get is empty, its read incomplete with the error as reason
                empty = SyncPlan(self.name, self.connector.mode, [], ReadResult((), complete=False, reason=str(exc)))
                self._finished(empty, outcome.report, self._context())
                return outcome
            except StateStoreError as exc:
                # the store itself failed: record the end if it still can, report the store's error
                with contextlib.suppress(StateStoreError):
                    self.store.finish_run(run_id, "failed", {}, error=str(exc))
                raise
            except BaseException as exc:
                status = "aborted" if isinstance(exc, KeyboardInterrupt) else "failed"
                self.store.finish_run(run_id, status, {}, error=f"{type(exc).__name__}: {exc}")
                raise

    # --- steps ----------------------------------------------------------------------

    def _run(
        self,
        run_id: int,
        allow_removals: int,
        confirm: Callable[[SyncPlan], bool] | None,
        saved: SavedPlan | None,
        operator: str,
        lock: HeldLock,
        abandoned: list[int],
    ) -> Outcome:
        context = self._context()
        left_out = 0
        with self._opened(context) as (source, target):
            system = target.system_key()
            if system:
                self.store.record_system(self.name, system)
            recovered = recover_unfinished(self.store, self.name, target) + notices_of_abandoned_runs(self.store, abandoned)
            plan = self._read_and_plan(context, source, target, allow_removals)
            if saved is not None:
                stale = self._stale(saved, plan)
                if stale:
                    error = f"the saved plan {saved.path!r} is stale; nothing was written: " + "; ".join(stale[:10]) + (f" (and {len(stale) - 10} more)" if len(stale) > 10 else "")
                    report = self._report(plan, "run", "stale", ExitCode.STALE, run_id=run_id, recovered=recovered, error=error)
                    report.stale = stale
                    self.store.finish_run(run_id, "aborted", report.counts, error=error, summary=_stored(report))
                    return Outcome(report, ExitCode.STALE, plan, run_id)
                left_out = restrict_to(saved, plan.items)
                self.store.record_decision(self.name, "apply_plan", os.path.basename(saved.path), operator, {"path": saved.path, "run": run_id, "created_by": saved.created_by, "created_at": saved.created_at, "fingerprints": saved.fingerprints})
            if confirm is not None and plan.writes and not confirm(plan):
                report = self._report(plan, "run", "aborted", ExitCode.PENDING, run_id=run_id, recovered=recovered, error="declined: nothing was applied")
                self.store.finish_run(run_id, "aborted", report.counts, error=report.error, summary=_stored(report))
                return Outcome(report, ExitCode.PENDING, plan, run_id)
            total = len(plan.writes)
            with self.progress("applying", total) as progress:
                limit = write_concurrency(self.connector.concurrency, self.connector.adaptive_concurrency)
                applier = Applier(self.store, run_id, target, self.pm, context, limit, progress, self.stop, lock)
                applied = applier.apply(plan)
            log.info("writes in flight: %s", limit.describe())
            # releases by name are for the next run: this one acted on them (or their user came back)
            self.store.consume_releases(self.name, run_id)
        bookmark = False
        # a run that lost its lock leaves the connector's state to the run that holds it
        ours = _still_held(lock, applied)
        if ours and plan.read.complete and not plan.listing_doubt:
            self.store.hold_removals(self.name, waiting_removals(plan))
        # a read that tripped the removal guard is suspect (a truncated listing looks like
        # a mass departure): it never becomes the view the next incremental read patches
        if plan.read.complete and applied.clean and not plan.of_kind(ItemKind.HELD) and not plan.listing_doubt and not left_out:
            # an incremental read that changed nothing leaves the saved view as it is:
            # rewriting 100,000 unchanged rows was half of a no-change resync
            unchanged = plan.read.incremental and not plan.read.identities and not plan.read.removed
            view = None if unchanged else SavedView(plan.view)
            self.store.commit_read(self.name, plan.read.bookmark, view)
            bookmark = True
        status, code = run_status(plan, applied)
        report = self._report(plan, "run", status, code, run_id=run_id, bookmark=bookmark, applied=applied, recovered=recovered, error=applied.fatal)
        self.store.finish_run(run_id, status, report.counts, error=applied.fatal or report.first_error, summary=_stored(report))
        self._finished(plan, report, context)
        return Outcome(report, code, plan, run_id, applied)

    def _stale(self, saved: SavedPlan, plan: SyncPlan) -> list[str]:
        """Why ``saved`` no longer applies to what was just read (empty: it applies)."""
        if saved.connector != self.name:
            return [f"the plan was made for connector {saved.connector!r}, not {self.name!r}"]
        if saved.mode != self.connector.mode:
            return [f"the plan was made in mode {saved.mode!r}; the connector's mode is now {self.connector.mode!r}"]
        if plan_fingerprints(plan.view, plan.accounts) == saved.fingerprints:
            return []
        return stale_items(saved, plan.items)

    def _finished(self, plan: SyncPlan, report: Report, context: ConnectorContext) -> None:
        try:
            Hooks.of(self.pm).run_finished(plan, report.to_dict, context)
        except Exception:  # an observer's bug must not turn a finished run into a failed one
            log.exception("a syncframe_run_finished hook failed")

    def _context(self) -> ConnectorContext:
        return self.connector.context(token_store=self.store.token_store(f"{self.name}:source"), echo=self.echo)

    @contextlib.contextmanager
    def _opened(self, context: ConnectorContext) -> Iterator[tuple[Source, Target]]:
        """The source and the target, always closed again."""
        source = self.connector.open_source(context)
        try:
            target = self.connector.open_target(context)
            try:
                yield source, target
            finally:
                target.close()
        finally:
            source.close()

    def _read_and_plan(self, context: ConnectorContext, source: Source, target: Target, allow_removals: int) -> SyncPlan:
        bookmark = self.store.get_bookmark(self.name)
        previous = {sid: Identity.from_dict(data) for sid, data in self.store.iter_view(self.name)}
        with self.progress("reading", None) as progress:
            read = source.read(bookmark, previous, progress)
        accounts = target.list_accounts()
        links = self.store.links(self.name)
        system = target.system_key()
        foreign = self.store.foreign_links(self.name, system) if system else {}
        planner = Planner(
            self.name,
            self.connector.mode,
            target,
            self.pm,
            context,
            guard=self.connector.guard,
            protected_logins=self.connector.protected_logins,
            upsert_disabled=self.connector.upsert_disabled,
            removal=self.connector.removal,
            now=clock.now(),
        )
        released = {login: f"{d.operator}, {d.created_at:%Y-%m-%d %H:%M} UTC" for login, d in self.store.pending_releases(self.name).items()}
        plan = planner.plan(read, previous, accounts, links, allow_removals=allow_removals, released_logins=released, foreign=foreign)
        plan.accounts = accounts
        return plan

    def _report(self, plan: SyncPlan | None, kind: str, status: str, code: int, **extra: Any) -> Report:
        return build_report(
            plan,
            name=self.name,
            title=str(self.connector.profile.get("title") or self.name),
            mode=self.connector.mode,
            kind=kind,
            status=status,
            exit_code=int(code),
            release=self.release,
            **extra,
        )

    def _failed_outcome(self, kind: str, error: str, run_id: int | None = None) -> Outcome:
        report = self._report(None, kind, "failed", ExitCode.FAILED, run_id=run_id, error=error)
        return Outcome(report, ExitCode.FAILED, None, run_id)


#: lists in the summary kept in the runs table are capped; the journal has every item
_SUMMARY_CAP = 1000
#: how many of the latest runs are looked at for ones a killed process left "running"
_ABANDONED_RUNS = 10


def _still_held(lock: HeldLock, applied: ApplyResult) -> bool:
    """Whether the run's lock is still its own (asked again before the state is written);
    when it is not, the apply result says so, which also keeps the bookmark."""
    try:
        lock.ensure()
    except LockLostError as exc:
        applied.fatal = applied.fatal or str(exc)
        return False
    return True


def _stored(report: Report) -> dict[str, Any]:
    """The report as history keeps it (see :meth:`Report.stored`)."""
    return report.stored(_SUMMARY_CAP)
