"""``syncframe jobs``: the queue's run jobs, with their connector and worker."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from procrastinate import App
from procrastinate.jobs import Status

from .tasks import RUN_TASK

#: the states listed by default: waiting, running, failed (stalled is a running job whose worker went silent)
LISTED = (Status.TODO, Status.DOING, Status.FAILED)

_WORKERS = """
SELECT id, last_heartbeat, last_heartbeat < NOW() - (%(stalled)s || ' SECOND')::INTERVAL AS stalled
  FROM procrastinate_workers
"""

_EVENTS = """
SELECT job_id, max(at) FILTER (WHERE type = 'deferred') AS deferred_at,
       max(at) FILTER (WHERE type = 'started') AS started_at
  FROM procrastinate_events WHERE job_id = ANY(%(ids)s) GROUP BY job_id
"""


_STATES = {Status.TODO.value: "queued", Status.DOING.value: "running", Status.FAILED.value: "failed"}


def job_holders(store: Any) -> dict[str, str]:
    """Job id -> the worker holding its connector's run lock (host and pid), from the state store."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ..state.locks import describe_holder
    from ..state.models import LockModel

    out = {}
    with Session(store.engine) as session:
        for lock in session.scalars(select(LockModel)):
            marker = lock.holder.rsplit(", job ", 1)
            if len(marker) == 2:
                out[marker[1]] = describe_holder(marker[0], lock.host, lock.pid, lock.acquired_at)
    return out


@dataclass
class JobRow:
    id: int
    connector: str
    state: str  # queued | running | stalled | failed
    queue: str
    attempts: int
    worker: str | None
    deferred_at: str | None
    started_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def list_run_jobs(app: App, stalled_after: float, states: tuple[Status, ...] = LISTED, holders: dict[str, str] | None = None) -> list[JobRow]:
    """The run jobs in ``states``, oldest first; a running job whose worker is silent
    (or gone) for ``stalled_after`` seconds is ``stalled``.

    :param holders: job id -> who runs it (:func:`job_holders`), shown as the worker.
    """
    holders = holders or {}
    workers = {r["id"]: r for r in await app.connector.execute_query_all_async(_WORKERS, stalled=stalled_after)}
    jobs = []
    for status in states:
        jobs += list(await app.job_manager.list_jobs_async(task=RUN_TASK, status=status.value))
    jobs.sort(key=lambda j: j.id or 0)
    events = {}
    if jobs:
        events = {r["job_id"]: r for r in await app.connector.execute_query_all_async(_EVENTS, ids=[j.id for j in jobs])}
    rows = []
    for job in jobs:
        worker = workers.get(job.worker_id) if job.worker_id is not None else None
        state = _STATES.get(str(job.status), str(job.status))
        if job.status == Status.DOING.value and (worker is None or worker["stalled"]):
            state = "stalled"
        times = events.get(job.id) or {}
        rows.append(
            JobRow(
                id=int(job.id or 0),
                connector=str(job.task_kwargs.get("connector", job.lock)),
                state=state,
                queue=job.queue,
                attempts=job.attempts,
                worker=holders.get(str(job.id)) or (f"worker {job.worker_id}" if job.worker_id is not None else None),
                deferred_at=_iso(times.get("deferred_at")),
                started_at=_iso(times.get("started_at")),
            )
        )
    return rows


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None
