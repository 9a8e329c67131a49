"""``worker``, ``enqueue`` and ``jobs``: connector runs through the PostgreSQL job queue.

Needs the ``worker`` extra (Procrastinate, psycopg 3) and a PostgreSQL state store;
imported lazily, so the rest of the CLI works without them.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import click

from ..errors import ConfigError
from . import EXIT_OK, App, cli, pass_app


def _conninfo(app: App) -> str:
    from ..worker.database import queue_conninfo, require_procrastinate

    if not app.state_url:
        raise ConfigError("the job queue needs a PostgreSQL state store: give --state postgresql://user@host/db (or SYNCFRAME_STATE); one machine with SQLite: use 'syncframe serve'")
    conninfo = queue_conninfo(app.state_url)
    require_procrastinate()
    return conninfo


def _queue_app(conninfo: str, settings: Any = None, services: Any = None, max_size: int = 4) -> Any:
    from ..worker.tasks import build_app, make_connector

    return build_app(make_connector(conninfo, max_size=max_size), settings, services)


def _event_line(event: dict[str, Any]) -> str:
    kind, name = event.get("event"), event.get("name", "")
    if kind == "run":
        counts = event.get("counts") or {}
        changes = ", ".join(f"{k} {v}" for k, v in counts.items() if v and k not in ("noop", "skip")) or "no changes"
        style = {"ok": "green", "held": "yellow"}.get(str(event.get("status")), "red")
        extra = f" — {event['error']}" if event.get("error") else ""
        return f"[{style}]{name}: {event.get('status')}[/] ({changes}){extra} [dim]job {event.get('job_id')}, run {event.get('run_id')}[/]"
    if kind == "start":
        return f"[dim]{name}: running job {event.get('job_id')}[/]"
    if kind == "deferred":
        return f"[dim]{name}: due, queued as job {event.get('job_id')}[/]"
    if kind == "skipped":
        return f"[dim]{name}: skipped: {event.get('reason')}[/]"
    if kind == "invalid":
        return f"[red]{name}: profile error:[/] {event.get('error')}"
    return f"[dim]{kind}: {event.get('message', '')}[/]"


@cli.command()
@click.option("--init", "init_only", is_flag=True, help="Create the job queue's tables in the state database (once, before the first worker), then exit.")
@click.option("--concurrency", type=click.IntRange(min=1, max=64), default=1, show_default=True, help="Runs this worker does at the same time.")
@click.option("--queues", metavar="A,B", default="syncframe", show_default=True, help="Queues this worker takes jobs from.")
@click.option("--name", "worker_name", metavar="NAME", help="This worker's name in logs (default: host and pid).")
@click.option("--heartbeat", type=click.FloatRange(min=0.1), default=10.0, show_default=True, metavar="SECONDS", help="Seconds between heartbeats; a worker silent for three is stalled and its runs are retried by another.")
@click.option("--keep-jobs", type=click.IntRange(min=1), default=168, show_default=True, metavar="HOURS", help="Hours failed and aborted jobs stay in 'syncframe jobs' before the hourly prune removes them (finished ones go at once).")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0.0001, max=1.0),
    default=1.0,
    show_default=True,
    help="Multiply every interval and back-off by this factor (for tests and demos; profiles still need interval >= 60 s).",
)
@pass_app
@click.pass_context
def worker(ctx: click.Context, app: App, init_only: bool, concurrency: int, queues: str, worker_name: str | None, heartbeat: float, keep_jobs: int, time_scale: float) -> None:
    """Run connectors from the PostgreSQL job queue, with any number of other workers.

    Every worker, on any machine, on the same PostgreSQL state store shares the runs:
    a periodic dispatch queues each connector that is due (its interval, backed off
    after failures), never two runs of one connector at once. A worker killed
    mid-run: another retries its run once its heartbeat is missed. SIGTERM: runs
    stop between two writes, their jobs go back in the queue, the worker exits 0.
    Failed and aborted jobs are pruned after --keep-jobs hours.
    """
    import asyncio

    conninfo = _conninfo(app)
    from ..worker.process import SchemaMissing, init_schema, run_worker
    from ..worker.tasks import Services, Settings

    queue_names = [q.strip() for q in queues.split(",") if q.strip()]
    settings = Settings(time_scale=time_scale, heartbeat=heartbeat, keep_jobs_hours=keep_jobs, queue=queue_names[0] if queue_names else "syncframe")
    if init_only:
        created = asyncio.run(_init(_queue_app(conninfo, settings), init_schema))
        if app.json:
            app.emit_json({"initialized": created})
        else:
            app.console.print("created the job queue's tables" if created else "the job queue's tables exist already")
        ctx.exit(EXIT_OK)

    from ..serve import utc_stamp

    def on_event(event: dict[str, Any]) -> None:
        event = {"time": utc_stamp(), **event}
        if app.json:
            click.echo(json.dumps(event, default=str, ensure_ascii=False))
        else:
            app.console.print(f"[dim]{event['time']}[/] {_event_line(event)}")

    name = worker_name or f"{socket.gethostname()}:{os.getpid()}"
    # the run lock's holder names this worker: 'syncframe jobs' shows it for a running job
    services = Services(pm=app.pm, on_event=on_event, holder=f"syncframe worker {name}")

    def open_store() -> None:
        # inside the worker's loop: a state database that is away is waited for, not fatal
        services.store = app.store
    # the pool: the listener, the heartbeat, the dispatch, and the job bookkeeping of each run
    queue_app = _queue_app(conninfo, settings, services, max_size=concurrency + 4)
    try:
        code = asyncio.run(run_worker(queue_app, settings, services.stop, queues=queue_names, concurrency=concurrency, name=name, on_event=on_event, prepare=open_store))
    except SchemaMissing as exc:
        raise ConfigError(str(exc)) from exc
    ctx.exit(code)


async def _init(queue_app: Any, init_schema: Any) -> bool:
    async with queue_app.open_async():
        return bool(await init_schema(queue_app))


@cli.command()
@click.argument("name")
@click.option("--allow-removals", type=click.IntRange(min=0), default=0, metavar="N", help="Release up to N removals the removal guard holds.")
@click.option("--queue", "queue_name", default="syncframe", show_default=True, help="The queue to put the run in.")
@pass_app
@click.pass_context
def enqueue(ctx: click.Context, app: App, name: str, allow_removals: int, queue_name: str) -> None:
    """Queue a run of connector NAME for the workers; prints its job id.

    The same as 'syncframe run NAME --queue'. When a run of NAME is already
    waiting, prints that job's id instead (one waits at most). The run's outcome
    is in 'syncframe history NAME'.
    """
    queue_run(app, name, queue_name, allow_removals)
    ctx.exit(EXIT_OK)


def queue_run(app: App, name: str, queue_name: str = "syncframe", allow_removals: int = 0) -> None:
    """Defer a run of the registered connector ``name`` and print its job id (``enqueue``, ``run --queue``)."""
    conninfo = _conninfo(app)
    if app.store.get_connector(name) is None:
        raise ConfigError(f"no connector named {name!r} (see 'syncframe connector list')")
    import asyncio

    job_id, queued = asyncio.run(_enqueue(_queue_app(conninfo), name, queue_name, allow_removals))
    if app.json:
        app.emit_json({"connector": name, "job_id": job_id, "already_queued": not queued})
    elif queued:
        app.console.print(f"queued a run of {name!r} as job {job_id}")
    else:
        app.console.print(f"a run of {name!r} is already waiting as job {job_id}")


async def _enqueue(queue_app: Any, name: str, queue_name: str, allow_removals: int) -> tuple[int | None, bool]:
    from ..worker.tasks import RUN_TASK, defer_run

    async with queue_app.open_async():
        job_id = await defer_run(queue_app, name, queue_name, allow_removals)
        if job_id is not None:
            return job_id, True
        waiting = await queue_app.job_manager.list_jobs_async(task=RUN_TASK, status="todo", queueing_lock=name)
        return (next(iter(waiting)).id if waiting else None), False


@cli.command()
@click.option("--heartbeat", type=click.FloatRange(min=0.1), default=10.0, show_default=True, metavar="SECONDS", help="The workers' --heartbeat: a running job whose worker is silent for three is listed as stalled.")
@pass_app
@click.pass_context
def jobs(ctx: click.Context, app: App, heartbeat: float) -> None:
    """List the queue's runs: queued, running, stalled (its worker went silent) and failed."""
    conninfo = _conninfo(app)
    from ..worker.listing import job_holders

    holders = job_holders(app.store)
    import asyncio

    rows = asyncio.run(_jobs(_queue_app(conninfo), 3 * heartbeat, holders))
    if app.json:
        app.emit_json([r.as_dict() for r in rows])
        ctx.exit(EXIT_OK)
    from rich.table import Table

    table = Table(title="jobs", header_style="bold")
    for column in ("job", "connector", "state", "queue", "attempts", "worker", "queued at", "started at"):
        table.add_column(column, overflow="fold")
    style = {"running": "green", "stalled": "yellow", "failed": "red"}
    for r in rows:
        state = f"[{style[r.state]}]{r.state}[/]" if r.state in style else r.state
        table.add_row(str(r.id), r.connector, state, r.queue, str(r.attempts), r.worker or "—", r.deferred_at or "—", r.started_at or "—")
    app.console.print(table)
    if not rows:
        app.console.print("No jobs queued, running or failed.")
    ctx.exit(EXIT_OK)


async def _jobs(queue_app: Any, stalled_after: float, holders: dict[str, str]) -> list[Any]:
    from ..worker.listing import list_run_jobs
    from ..worker.process import schema_present

    async with queue_app.open_async():
        if not await schema_present(queue_app):
            raise ConfigError("the job queue's tables are missing: run 'syncframe worker --init' once")
        return await list_run_jobs(queue_app, stalled_after, holders=holders)
