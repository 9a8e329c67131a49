"""Dispatch, dedup and stalled-job retry on Procrastinate's in-memory connector.

The state store (SQLite), the plugins and the connectors' files are real; only the
queue's database is Procrastinate's in-memory stand-in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
from procrastinate.periodic import PeriodicDeferrer
from procrastinate.testing import InMemoryConnector

from syncframe.state import StateStore
from syncframe.testing import generate_identities, target_accounts, write_identities
from syncframe.worker.tasks import DISPATCH_TASK, RUN_TASK, Services, Settings, build_app, busy_connectors, defer_run, due_connectors, retry_stalled

from .conftest import memory_profile, seed_memory_connector


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(str(tmp_path / "state.db")) as store:
        yield store


@pytest.fixture
def services(store: StateStore, pm: Any, tmp_path: Path) -> Services:
    events: list[dict[str, Any]] = []
    for n, name in enumerate(["alpha", "beta", "gamma"]):
        seed_memory_connector(tmp_path, name, generate_identities(3, start=10 * n))
    store.add_connector("alpha", memory_profile(tmp_path, "alpha"))
    store.add_connector("beta", memory_profile(tmp_path, "beta"))
    store.add_connector("gamma", memory_profile(tmp_path, "gamma", interval=None))  # manual runs only
    return Services(store=store, pm=pm, on_event=events.append)


def _app(services: Services) -> tuple[Any, InMemoryConnector]:
    connector = InMemoryConnector()
    return build_app(connector, Settings(), services), connector


def _dispatch(app: Any, ts: int = 1) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with app.open_async():
            return await app.tasks[DISPATCH_TASK].func(_Context(app), timestamp=ts)

    return asyncio.run(go())


class _Context:
    """What the dispatch task reads from its job context."""

    def __init__(self, app: Any):
        self.app = app


def _jobs(connector: InMemoryConnector, task: str = RUN_TASK) -> list[dict[str, Any]]:
    return [j for j in connector.jobs.values() if j["task_name"] == task]


def test_dispatch_queues_each_due_connector_once_with_its_name_as_both_locks(services: Services) -> None:
    app, connector = _app(services)
    first = _dispatch(app)
    assert sorted(first["deferred"]) == ["alpha", "beta"]  # gamma has no interval
    jobs = _jobs(connector)
    assert sorted((j["args"]["connector"], j["lock"], j["queueing_lock"], j["queue_name"]) for j in jobs) == [
        ("alpha", "alpha", "alpha", "syncframe"),
        ("beta", "beta", "beta", "syncframe"),
    ]
    # the jobs still wait: the next tick queues nothing more
    assert _dispatch(app, ts=2)["deferred"] == {}
    assert len(_jobs(connector)) == 2


def test_one_run_of_a_connector_waits_at_most(services: Services) -> None:
    app, connector = _app(services)

    async def go() -> tuple[Any, Any]:
        async with app.open_async():
            return await defer_run(app, "gamma"), await defer_run(app, "gamma")

    first, second = asyncio.run(go())
    assert isinstance(first, int) and second is None
    assert len(_jobs(connector)) == 1


def test_the_periodic_dispatch_is_queued_once_per_tick_however_many_workers_defer_it(services: Services) -> None:
    app, connector = _app(services)

    async def go() -> None:
        async with app.open_async():
            # three workers, each with its own deferrer, all waking at the same tick
            for _ in range(3):
                deferrer = PeriodicDeferrer(registry=app.periodic_registry)
                await deferrer.defer_jobs(deferrer.get_previous_tasks(at=1_800_000_000.0))

    asyncio.run(go())
    assert len(_jobs(connector, DISPATCH_TASK)) == 1


def test_a_worker_runs_the_queued_connectors_and_they_are_not_due_again_before_their_interval(services: Services, tmp_path: Path) -> None:
    app, connector = _app(services)
    _dispatch(app)

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(wait=False, install_signal_handlers=False, queues=["syncframe"], concurrency=2)

    asyncio.run(work())
    assert {j["status"] for j in _jobs(connector)} == {"succeeded"}
    assert [a["login"] for a in target_accounts(tmp_path / "alpha.db")] == ["user0@contoso.com", "user1@contoso.com", "user2@contoso.com"]
    assert len(target_accounts(tmp_path / "beta.db")) == 3
    assert target_accounts(tmp_path / "gamma.db") == []
    assert services.store is not None
    assert [r.status for r in services.store.runs("alpha")] == ["ok"]
    assert due_connectors(services, time_scale=1.0) == []


def test_a_failed_run_fails_its_job_and_backs_the_connector_off(services: Services, tmp_path: Path) -> None:
    write_identities(tmp_path / "alpha.json", [], fail="the directory is down")
    app, connector = _app(services)

    async def go() -> None:
        async with app.open_async():
            await defer_run(app, "alpha")
            await app.run_worker_async(wait=False, install_signal_handlers=False, queues=["syncframe"])

    asyncio.run(go())
    assert [j["status"] for j in _jobs(connector) if j["args"]["connector"] == "alpha"] == ["failed"]
    assert services.store is not None
    assert [r.status for r in services.store.runs("alpha")] == ["failed"]
    # serve's back-off: with a 60 s interval and one failure, due in 60 s; at a
    # time scale that makes it 0.6 ms it is due again, at scale 1 it is not
    assert "alpha" not in [d.name for d in due_connectors(services, time_scale=1.0)]


def test_the_jobs_of_a_silent_worker_go_back_in_the_queue(services: Services) -> None:
    app, connector = _app(services)

    async def go() -> tuple[list[int], set[str]]:
        async with app.open_async():
            job_id = await defer_run(app, "alpha")
            worker_id = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            assert job is not None and job.id == job_id
            assert await retry_stalled(app, stalled_after=30) == []  # its heartbeat is fresh
            connector.workers[worker_id] = connector.workers[worker_id].replace(year=2000)  # then it went silent
            retried = await retry_stalled(app, stalled_after=30)
            return retried, await busy_connectors(app)

    retried, busy = asyncio.run(go())
    assert retried == [1] and busy == {"alpha"}
    job = _jobs(connector)[0]
    assert job["status"] == "todo" and job["attempts"] == 1
