""""Run now" through the workers' queue, when workers are in use.

``syncframe worker`` runs connectors from a Procrastinate queue in the state
store's PostgreSQL database. When such workers are running, a run started in the
console is deferred to them (the same task, ``lock`` and ``queueing_lock`` as
``syncframe enqueue``) instead of running in the web process, so a run never
competes with the workers and the web process stays light.

Workers are "in use" when the queue's tables exist and a worker's heartbeat is
recent (``auto``, the default); ``queue`` always defers, ``here`` never does.
The job's state is read from the queue's table through the state store's own
connection (same database): a poll every second needs no second connection pool.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ConfigError

RUN_MODES = ("auto", "queue", "here")
#: a worker whose last heartbeat is older than this is not counted (the workers' default: 3 × 10 s)
LIVE_WORKER_SECONDS = 30

_PROBE = text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AND to_regclass('procrastinate_workers') IS NOT NULL")
_LIVE_WORKERS = text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => :seconds)")
_JOB = text("SELECT status FROM procrastinate_jobs WHERE id = :id")
_ACTIVE = text(
    "SELECT id FROM procrastinate_jobs WHERE task_name = :task AND lock = :name AND status IN ('todo', 'doing') ORDER BY id LIMIT 1"
)


@dataclass
class QueueState:
    """A deferred job as the console shows it: ``todo``, ``doing``, ``failed``... or
    ``gone`` (a job that succeeded is deleted by the workers)."""

    status: str


class RunQueue:
    """Decides where "Run now" runs, defers runs and reads their jobs' states.

    :param store: The console's state store (the queue lives in its database).
    :param mode: ``auto`` (the queue when a worker is alive), ``queue`` or ``here``.
    :param queue: The queue the workers take runs from.
    """

    def __init__(self, store: Any, mode: str = "auto", queue: str = "syncframe"):
        if mode not in RUN_MODES:
            raise ConfigError(f"runs must be one of {', '.join(RUN_MODES)} (got {mode!r})")
        self.store, self.mode, self.queue = store, mode, queue

    def in_use(self) -> bool:
        """True when "Run now" goes through the queue."""
        if self.mode == "here":
            return False
        reason = self._unusable()
        if reason is None:
            return True
        if self.mode == "queue":
            raise ConfigError(f"runs go through the queue (--runs queue), but {reason}")
        return False

    def defer(self, name: str) -> int:
        """Defer a run of connector ``name``; the id of its job (the one already waiting, if any)."""
        from ..worker.database import queue_conninfo
        from ..worker.tasks import RUN_TASK, build_app, defer_run, make_connector

        async def go() -> int | None:
            app = build_app(make_connector(queue_conninfo(self.store.url), max_size=1))
            async with app.open_async():
                job_id = await defer_run(app, name, self.queue)
                if job_id is None:  # one waits already: follow that one
                    waiting = await app.job_manager.list_jobs_async(task=RUN_TASK, status="todo", queueing_lock=name)
                    job_id = next((j.id for j in waiting), None)
                return job_id

        try:
            job_id = asyncio.run(go())
        except Exception as exc:  # the database refused or went away: say so, run nothing
            raise ConfigError(f"could not queue the run ({type(exc).__name__}); try again, or see the workers' database") from exc
        if job_id is None:
            raise ConfigError(f"a run of {name!r} was already queued and has just started: see its history")
        return job_id

    def job(self, job_id: int) -> QueueState:
        with self.store.engine.connect() as connection:
            status = connection.execute(_JOB, {"id": job_id}).scalar()
        return QueueState(str(status) if status is not None else "gone")

    def active_job(self, name: str) -> int | None:
        """The queue's job waiting or running for connector ``name``, whoever queued it
        (the schedule, ``syncframe enqueue``, another console); None without a queue."""
        if self.mode == "here" or self.store.engine.dialect.name != "postgresql":
            return None
        try:
            with self.store.engine.connect() as connection:
                if not connection.execute(_PROBE).scalar():
                    return None
                job_id = connection.execute(_ACTIVE, {"task": "syncframe.run", "name": name}).scalar()
        except SQLAlchemyError:
            return None  # the page still shows the rest; Run now says what is wrong
        return int(job_id) if job_id is not None else None

    def _unusable(self) -> str | None:
        """Why runs cannot go through the queue now (None: they can)."""
        try:
            from ..worker.database import queue_conninfo, require_procrastinate

            require_procrastinate()
            queue_conninfo(self.store.url)
        except ConfigError as exc:  # NotPostgresError too
            return str(exc)
        try:
            with self.store.engine.connect() as connection:
                if not connection.execute(_PROBE).scalar():
                    return "the job queue's tables are missing ('syncframe worker --init')"
                if self.mode == "auto" and not connection.execute(_LIVE_WORKERS, {"seconds": LIVE_WORKER_SECONDS}).scalar():
                    return "no worker is running"
        except SQLAlchemyError as exc:
            return f"the queue cannot be read ({type(exc).__name__})"
        return None
