"""The Procrastinate app: one run task, one periodic dispatch.

- ``syncframe.run`` runs one connector. Every job of it carries the connector's
  name as ``lock`` (Procrastinate starts no second job with that lock while one is
  running) and as ``queueing_lock`` (no second job of it waits). The state store's
  run lock, taken by :class:`~syncframe.engine.ConnectorRunner`, stays the last
  line of defence: a run that meets it held ends as ``locked``, not as a failure.
- ``syncframe.prune`` is periodic too (hourly): Procrastinate's ``delete_old_jobs``
  removes failed, aborted and cancelled jobs older than ``keep_jobs_hours``
  (succeeded ones are deleted when they end), so the queue does not grow.
- ``syncframe.dispatch`` is periodic. Procrastinate defers it once per tick however
  many workers run (its periodic defers are unique per tick in the database), and
  its own ``queueing_lock`` keeps a single one waiting when the workers are busy.
  It first puts the jobs of workers whose heartbeat stopped back in the queue (a
  killed worker's run is retried by another; the engine's crash recovery makes the
  retry converge), then defers a run for each connector that is due and has no
  job waiting or running.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate import exceptions as pq_exceptions
from procrastinate.jobs import Status

from ..connector import load_profile
from ..engine.runner import ConnectorRunner
from ..errors import LockedError, SyncframeError
from .schedule import HISTORY, Due, due_now, next_due

if TYPE_CHECKING:
    import pluggy

    from ..state.protocols import Store

log = logging.getLogger("syncframe.worker")

RUN_TASK = "syncframe.run"
DISPATCH_TASK = "syncframe.dispatch"
PRUNE_TASK = "syncframe.prune"
DEFAULT_QUEUE = "syncframe"


class RunFailed(Exception):
    """A run ended ``failed``: its job is marked failed (the dispatch backs the connector off)."""


class RunStopped(Exception):
    """The worker stopped the run between two writes (SIGTERM): its job goes back in the
    queue, so a manual run is not lost and another worker finishes it."""


#: only a stopped run is retried; failures are backed off by the dispatch instead
RETRY_STOPPED = RetryStrategy(retry_exceptions={RunStopped})


@dataclass
class Settings:
    """What every worker of one queue should agree on.

    :param time_scale: Factor on intervals and back-offs (tests and demos), as ``serve --time-scale``.
    :param heartbeat: Seconds between a worker's heartbeats; a worker silent for three
        heartbeats is stalled and its running jobs are retried.
    :param queue: The queue dispatched runs go to.
    :param keep_jobs_hours: Hours a failed, aborted or cancelled job stays listed
        before the hourly prune removes it (succeeded jobs go at once).
    """

    time_scale: float = 1.0
    heartbeat: float = 10.0
    queue: str = DEFAULT_QUEUE
    keep_jobs_hours: int = 168

    @property
    def stalled_after(self) -> float:
        return 3 * self.heartbeat

    @property
    def tick(self) -> int:
        """Seconds between dispatches: 10, shrunk with the time scale (at least 1)."""
        return max(1, min(10, round(10 * self.time_scale)))

    @property
    def cron(self) -> str:
        # Procrastinate's cron takes seconds as a sixth column
        return f"* * * * * */{self.tick}"


@dataclass
class Services:
    """What the tasks need in a worker: the state store, the plugins, the stop event."""

    store: Store | None = None
    pm: pluggy.PluginManager | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    on_event: Callable[[dict[str, Any]], None] = lambda event: None
    holder: str = "syncframe worker"  # the run lock adds host and pid


def make_connector(conninfo: str, max_size: int = 10) -> PsycopgConnector:
    """A psycopg 3 pool on ``conninfo`` (Procrastinate has it check each connection
    before use, so a server restart costs no query)."""
    return PsycopgConnector(conninfo=conninfo, min_size=1, max_size=max_size, kwargs={"application_name": "syncframe worker"})


def build_app(connector: Any, settings: Settings | None = None, services: Services | None = None) -> App:
    """The Procrastinate app with syncframe's tasks, on ``connector``."""
    settings = settings or Settings()
    services = services or Services()
    app = App(connector=connector)

    @app.task(name=RUN_TASK, queue=settings.queue, pass_context=True, retry=RETRY_STOPPED)
    def run_connector(context: JobContext, connector: str, allow_removals: int = 0) -> dict[str, Any]:
        return _run(services, connector, allow_removals, job_id=context.job.id)

    @app.periodic(cron=settings.cron, periodic_id="dispatch")
    @app.task(name=DISPATCH_TASK, queue=settings.queue, queueing_lock=DISPATCH_TASK, pass_context=True)
    async def dispatch(context: JobContext, timestamp: int) -> dict[str, Any]:
        retried = await retry_stalled(context.app, settings.stalled_after)
        due = await asyncio.to_thread(due_connectors, services, settings.time_scale)
        deferred = await defer_due(context.app, due, settings.queue)
        for name, job_id in deferred.items():
            services.on_event({"event": "deferred", "name": name, "job_id": job_id})
        return {"retried": retried, "deferred": deferred}

    # hourly, once however many workers run (as the dispatch); on every queue, since
    # 'enqueue --queue' may have put runs elsewhere
    @app.periodic(cron="17 * * * *", periodic_id="prune")
    @app.task(name=PRUNE_TASK, queue=settings.queue, queueing_lock=PRUNE_TASK, pass_context=True)
    async def prune(context: JobContext, timestamp: int) -> None:
        await context.app.job_manager.delete_old_jobs(
            nb_hours=settings.keep_jobs_hours, queue=None, include_failed=True, include_cancelled=True, include_aborted=True
        )

    return app


def _run(services: Services, name: str, allow_removals: int, job_id: int | None) -> dict[str, Any]:
    """One run of one connector in a worker thread."""
    assert services.store is not None and services.pm is not None, "the run task runs in a worker"
    row = services.store.get_connector(name)
    if row is None:  # removed since the job was deferred
        services.on_event({"event": "skipped", "name": name, "reason": "no such connector any more", "job_id": job_id})
        return {"status": "gone"}
    connector = load_profile(row.profile_text, services.pm, name)
    services.on_event({"event": "start", "name": name, "job_id": job_id})
    runner = ConnectorRunner(connector, services.pm, services.store, stop=services.stop, release=f"syncframe run {name}")
    try:
        outcome = runner.run(allow_removals=allow_removals, holder=f"{services.holder}, job {job_id}")
    except LockedError as exc:
        services.on_event({"event": "skipped", "name": name, "reason": str(exc), "job_id": job_id})
        return {"status": "locked", "error": str(exc)}
    report = outcome.report.to_dict()
    services.on_event({"event": "run", "name": name, "job_id": job_id, "run_id": outcome.run_id, "status": outcome.status, "error": report.get("error"), "counts": report.get("counts")})
    if outcome.status == "aborted" and services.stop.is_set():
        raise RunStopped(f"{name}: stopped between two writes (run {outcome.run_id}); queued again")
    if outcome.status == "failed":
        raise RunFailed(f"{name}: {report.get('error') or 'the run failed'} (run {outcome.run_id})")
    return {"status": outcome.status, "run_id": outcome.run_id}


def due_connectors(services: Services, time_scale: float) -> list[Due]:
    """The registered connectors with an interval that are due now (invalid profiles are skipped)."""
    assert services.store is not None and services.pm is not None
    schedule = []
    for row in services.store.list_connectors():
        try:
            interval = load_profile(row.profile_text, services.pm, row.name).interval
        except SyncframeError as exc:
            services.on_event({"event": "invalid", "name": row.name, "error": str(exc)})
            continue
        if interval:
            schedule.append(next_due(row.name, interval, services.store.runs(row.name, limit=HISTORY), time_scale))
    return due_now(schedule)


async def busy_connectors(app: App) -> set[str]:
    """Connectors with a run job waiting or running."""
    busy: set[str] = set()
    for status in (Status.TODO, Status.DOING):
        for job in await app.job_manager.list_jobs_async(task=RUN_TASK, status=status.value):
            busy.add(str(job.task_kwargs.get("connector")))
    return busy


async def defer_run(app: App, name: str, queue: str = DEFAULT_QUEUE, allow_removals: int = 0) -> int | None:
    """Defer a run of ``name``; its job id, or None when one is already waiting."""
    kwargs: dict[str, Any] = {"connector": name}
    if allow_removals:
        kwargs["allow_removals"] = allow_removals
    try:
        return await app.configure_task(RUN_TASK, lock=name, queueing_lock=name, queue=queue).defer_async(**kwargs)
    except pq_exceptions.AlreadyEnqueued:
        return None


async def defer_due(app: App, due: list[Due], queue: str) -> dict[str, int]:
    """Defer a run of each due connector that has no job waiting or running."""
    busy = await busy_connectors(app)
    deferred: dict[str, int] = {}
    for entry in due:
        if entry.name in busy:
            continue
        job_id = await defer_run(app, entry.name, queue)
        if job_id is not None:
            deferred[entry.name] = job_id
    return deferred


async def retry_stalled(app: App, stalled_after: float) -> list[int]:
    """Put the running jobs of workers silent for ``stalled_after`` seconds back in the queue.

    A stalled job whose connector already has another job waiting is marked failed
    instead: the waiting one does the same work.
    """
    retried = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        try:
            await app.job_manager.retry_job(job)
        except pq_exceptions.UniqueViolation:
            await app.job_manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning("job %s of a stalled worker: another job of %s waits already; marked failed", job.id, job.queueing_lock)
            continue
        log.warning("job %s (%s) of a stalled worker put back in the queue", job.id, job.queueing_lock or job.task_name)
        retried.append(job.id)
    return retried
