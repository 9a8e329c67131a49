"""Finished jobs do not pile up: the hourly prune task, on the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from syncframe.cli import cli
from syncframe.state import StateStore
from syncframe.testing import generate_identities
from syncframe.worker.database import queue_conninfo
from syncframe.worker.tasks import PRUNE_TASK, Settings, build_app, defer_run, make_connector

from .conftest import PLUGIN_ENV, memory_profile, seed_memory_connector

pytestmark = pytest.mark.postgres


class _Context:
    """What the prune task reads from its job context."""

    def __init__(self, app: Any):
        self.app = app


def test_the_prune_task_removes_failed_and_aborted_jobs_older_than_the_keep_time(postgres_url: str, tmp_path: Path) -> None:
    names = ["old_failed", "old_aborted", "new_failed", "waiting"]
    with StateStore.open(postgres_url) as store:
        for name in names:
            seed_memory_connector(tmp_path, name, generate_identities(1))
            store.add_connector(name, memory_profile(tmp_path, name, interval=None))
    assert CliRunner().invoke(cli, ["--state", postgres_url, "worker", "--init"], env=PLUGIN_ENV).exit_code == 0
    settings = Settings(keep_jobs_hours=24)
    app = build_app(make_connector(queue_conninfo(postgres_url), max_size=2), settings)
    assert ("syncframe.prune", "prune") in app.periodic_registry.periodic_tasks

    async def queue_all() -> dict[str, int]:
        async with app.open_async():
            return {name: await defer_run(app, name) for name in names}

    ids = asyncio.run(queue_all())
    with psycopg.connect(queue_conninfo(postgres_url), autocommit=True) as connection:
        for name, status in (("old_failed", "failed"), ("old_aborted", "aborted"), ("new_failed", "failed")):
            connection.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", (status, ids[name]))
        for name in ("old_failed", "old_aborted", "waiting"):  # "waiting" is old but not finished: it stays
            connection.execute("UPDATE procrastinate_events SET at = NOW() - INTERVAL '25 hours' WHERE job_id = %s", (ids[name],))

    async def prune() -> None:
        async with app.open_async():
            await app.tasks[PRUNE_TASK].func(_Context(app), timestamp=0)

    asyncio.run(prune())
    listed = json.loads(CliRunner().invoke(cli, ["--json", "--state", postgres_url, "jobs"], env=PLUGIN_ENV).stdout)
    assert sorted((j["connector"], j["state"]) for j in listed) == [("new_failed", "failed"), ("waiting", "queued")]


def test_the_worker_option_sets_the_keep_time() -> None:
    out = CliRunner().invoke(cli, ["worker", "--help"]).stdout
    assert "--keep-jobs" in out and "168" in out
