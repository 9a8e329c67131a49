"""One worker process: Procrastinate's worker, under syncframe's signals, reconnecting.

- SIGTERM or SIGINT: no new job starts; running runs stop between two writes
  (the engine's stop event, as in ``serve``), the worker unregisters and the
  process exits 0. A run stopped that way is recorded ``aborted`` and its job goes
  back in the queue (:class:`~.tasks.RunStopped`): another worker runs it again.
- A database that does not answer at start is waited for the same way, so a
  worker may start before its database (a container, a boot).
- A lost database connection stops Procrastinate's worker (its heartbeat or
  listener fails); this loop starts it again after a pause, doubling up to a
  minute while the server stays away. Jobs it was running when the connection
  went are retried once its old registration is found stalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Callable, Iterable

from procrastinate import App

from .tasks import Settings

log = logging.getLogger("syncframe.worker")

SCHEMA_PROBE = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"


class SchemaMissing(Exception):
    """The queue's tables are not in the database yet (``syncframe worker --init``)."""


async def schema_present(app: App) -> bool:
    row = await app.connector.execute_query_one_async(SCHEMA_PROBE)
    return bool(row["present"])


async def init_schema(app: App) -> bool:
    """Create the queue's tables unless they exist; True when they were created."""
    if await schema_present(app):
        return False
    await app.schema_manager.apply_schema_async()
    return True


async def run_worker(
    app: App,
    settings: Settings,
    stop: Any,
    *,
    queues: Iterable[str] | None = None,
    concurrency: int = 1,
    name: str | None = None,
    on_event: Callable[[dict[str, Any]], None] = lambda event: None,
    max_pause: float = 60.0,
    prepare: Callable[[], None] = lambda: None,
) -> int:
    """Run one worker until SIGTERM/SIGINT (or ``stop`` is set); returns the exit code.

    :param stop: A ``threading.Event`` the runs watch: set, they stop between writes.
    :param prepare: Called in a thread before each connection (opens the state store);
        when it raises, the database is away and the worker tries again after a pause,
        as for a lost queue connection: a worker may start before its database.
    """
    loop = asyncio.get_running_loop()
    current: asyncio.Task[None] | None = None

    def request_stop(signame: str) -> None:
        if not stop.is_set():
            on_event({"event": "stopping", "message": f"{signame}: finishing the running runs between two writes"})
        stop.set()
        if current is not None:
            current.cancel()  # Procrastinate's worker then waits for its running jobs

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, sig.name)
    pause = 1.0
    try:
        while not stop.is_set():
            try:
                await asyncio.to_thread(prepare)
                if stop.is_set():
                    break
                async with app.open_async():
                    if not await schema_present(app):
                        raise SchemaMissing("the job queue's tables are missing: run 'syncframe worker --init' once")
                    if stop.is_set():  # stopped while connecting
                        break
                    on_event({"event": "started", "message": f"worker {name} listening on {', '.join(queues or ['every queue'])}"})
                    current = asyncio.create_task(
                        app.run_worker_async(
                            queues=list(queues) if queues else None,
                            concurrency=concurrency,
                            name=name,
                            install_signal_handlers=False,
                            update_heartbeat_interval=settings.heartbeat,
                            stalled_worker_timeout=settings.stalled_after,
                            fetch_job_polling_interval=min(5.0, float(settings.tick)),
                            delete_jobs="successful",
                        )
                    )
                    pause = 1.0
                    with contextlib.suppress(asyncio.CancelledError):
                        await current
                    if not stop.is_set():  # its heartbeat or listener failed: it stopped on its own
                        on_event({"event": "reconnecting", "message": f"the worker stopped (database connection lost?); starting again in {pause:.0f}s"})
            except SchemaMissing:
                raise
            except Exception as exc:  # the database went away: start again once it answers
                if stop.is_set():
                    break
                on_event({"event": "reconnecting", "message": f"lost the database ({type(exc).__name__}: {exc}); retrying in {pause:.0f}s"})
            if stop.is_set():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_wait_for(stop), timeout=pause)
            pause = min(max_pause, pause * 2)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0


async def _wait_for(event: Any) -> None:
    while not event.is_set():
        await asyncio.sleep(0.2)
