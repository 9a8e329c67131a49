"""Scenario 7: one no-change cycle of many connectors, ``syncframe worker`` vs ``serve``.

``connectors`` connectors read one Graph tenant of ``users`` users into their own
pascom instance each (one simulator, one instance per connector), with the
simulators' latency on. A throwaway PostgreSQL database holds the state and the
queue. After an initial import (one connector's ``syncframe run``, copied to the
others: :func:`_register`; not measured) nothing changes, and each measurement is
one full cycle, every connector once:

- ``serve --once --workers N``: one process, N connectors at a time;
- N ``syncframe worker`` processes (``--concurrency 1``): the cycle's runs are put in
  the queue first, then the workers start; the cycle ends when no run job is left.

Both include their processes' start. The figure is each wall time and the speed-up
against one worker (one serve worker for serve).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .measure import run_measured, syncframe_argv
from .sims import Lab

Log = Callable[[str], None]

ADMIN_URL = os.environ.get("SYNCFRAME_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
RUN_TASK = "syncframe.run"


def _create_database() -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(ADMIN_URL)
    from sqlalchemy.exc import OperationalError

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"syncframe_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        raise RuntimeError(f"no PostgreSQL server answers at {admin_url.render_as_string(hide_password=True)}") from exc

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def _profile(lab: Lab, name: str) -> str:
    """The bench profile pointed at pascom instance ``name``, with an interval far beyond the
    measurement (only the runs the harness asks for happen)."""
    first = lab.pascom.profile_section()["url"]
    text = lab.profile_text().replace(first, lab.pascom_sim.instance_url(name))
    return text.replace('mode = "sync"', 'mode = "sync"\ninterval = "24h"')


#: a connector's state after a run: its links, its source view and delta link, its target's system
_PER_CONNECTOR = ("links", "source_view", "bookmarks", "connector_targets")


def _register(lab: Lab, state: str, connectors: int, log: Log) -> list[str]:
    """``connectors`` connectors in the state store, each as a real import left it.

    Only the first imports (``syncframe run``, not measured); the others get a copy of its
    pascom instance (the simulator's ``copy_instance``) and of its rows in the state store
    under their own name and instance URL. One import instead of 200 keeps the scenario
    within minutes; the measured no-change cycle then shows whether the copies are in step
    (every run ``ok``, no pascom write).
    """
    from sqlalchemy import select

    from syncframe.state import StateStore
    from syncframe.state.models import Base

    first_instance = lab.pascom.instance.name
    names = [f"c{n:03d}" for n in range(connectors)]
    with StateStore.open(state) as store:
        store.add_connector(names[0], _profile(lab, first_instance))
    t0 = time.perf_counter()
    imported = run_measured(syncframe_argv("--state", state, "--json", "run", names[0], "--yes"), env=lab.environment(), timeout=600)
    if imported.returncode:
        raise RuntimeError(f"the import of {names[0]} failed: {imported.stderr[-1500:]}")
    log(f"  {names[0]} imported {lab.pascom_user_count()} pascom users in {time.perf_counter() - t0:.1f} s; copying it to {connectors - 1} more")
    first_system = lab.pascom_sim.instance_url(first_instance).lower()
    with StateStore.open(state) as store, store.engine.begin() as connection:
        tables = [Base.metadata.tables[t] for t in _PER_CONNECTOR]
        rows = {t.name: [dict(r._mapping) for r in connection.execute(select(t).where(t.c.connector == names[0]))] for t in tables}
        assert rows["links"] and rows["connector_targets"], "the import left no links"
        for n, name in enumerate(names[1:], start=1):
            instance = f"bench{n:03d}"
            lab.pascom_sim.copy_instance(first_instance, instance)
            store.add_connector(name, _profile(lab, instance))
            system = lab.pascom_sim.instance_url(instance).lower()
            for table in tables:
                copies = [{**row, "connector": name} for row in rows[table.name]]
                if table.name == "connector_targets":
                    copies = [{**row, "system": row["system"].replace(first_system, system)} for row in copies]
                    assert all(system in row["system"] for row in copies), (copies, system)
                connection.execute(table.insert(), copies)
    return names


def _run_jobs_left(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status IN ('todo', 'doing')", (RUN_TASK,)
        ).fetchone()
    return int(row[0]) if row else 0


def _failed_jobs(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as connection:
        row = connection.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status = 'failed'", (RUN_TASK,)).fetchone()
    return int(row[0]) if row else 0


def _queue_cycle(conninfo: str, names: list[str]) -> None:
    from syncframe.worker.tasks import build_app, defer_run, make_connector

    app = build_app(make_connector(conninfo, max_size=2))

    async def go() -> None:
        async with app.open_async():
            for name in names:
                await defer_run(app, name)

    asyncio.run(go())


def _statuses_since(state: str, since: datetime) -> dict[str, int]:
    """How the runs that started after ``since`` ended, by status."""
    from syncframe.state import StateStore

    statuses: dict[str, int] = {}
    with StateStore.open(state) as store:
        for run in store.runs(None, limit=100_000):
            started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=timezone.utc)
            if started >= since:
                statuses[run.status] = statuses.get(run.status, 0) + 1
    return statuses


def _worker_cycle(lab: Lab, state: str, conninfo: str, names: list[str], processes: int, timeout: float) -> dict[str, Any]:
    since = datetime.now(timezone.utc)
    _queue_cycle(conninfo, names)
    env = {**os.environ, **lab.environment()}
    argv = syncframe_argv("--state", state, "--json", "worker", "--concurrency", "1")
    started = time.perf_counter()
    workers = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True) for _ in range(processes)]
    try:
        while _run_jobs_left(conninfo) and time.perf_counter() - started < timeout:
            time.sleep(0.1)
        wall = time.perf_counter() - started
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return {"processes": processes, "wall_s": round(wall, 3), "left": _run_jobs_left(conninfo), "failed_jobs": _failed_jobs(conninfo), "statuses": _statuses_since(state, since)}


def _serve_cycle(lab: Lab, state: str, workers: int, timeout: float) -> dict[str, Any]:
    m = run_measured(syncframe_argv("--state", state, "--json", "serve", "--once", "--workers", str(workers)), env=lab.environment(), timeout=timeout)
    lines = [line for line in m.stdout.splitlines() if line.startswith("{")]
    statuses: dict[str, int] = {}
    import json

    for line in lines:
        event = json.loads(line)
        if event.get("event") == "run":
            statuses[event["status"]] = statuses.get(event["status"], 0) + 1
    return {"workers": workers, "wall_s": round(m.wall_s, 3), "cpu_s": round(m.cpu_s, 3), "exit_code": m.returncode, "statuses": statuses}


def worker_cycles(connectors: int, users: int, counts: list[int], graph_latency: float, pascom_latency: float, log: Log, timeout: float = 1800) -> dict[str, Any]:
    """Scenario 7 (see the module docstring)."""
    state, drop = _create_database()
    from syncframe.worker.database import queue_conninfo

    conninfo = queue_conninfo(state)
    try:
        with tempfile.TemporaryDirectory(prefix="sf-bench-workers-") as tmp:
            lab = Lab(users, graph_latency, pascom_latency, 8, Path(tmp)).start()
            try:
                names = _register(lab, state, connectors, log)
                init = run_measured(syncframe_argv("--state", state, "worker", "--init"), timeout=300)
                if init.returncode:
                    raise RuntimeError(f"worker --init failed: {init.stderr[-1500:]}")
                lab.reset_counters()
                serve = []
                workers = []
                for n in counts:
                    s = _serve_cycle(lab, state, n, timeout)
                    serve.append(s)
                    log(f"  serve --once --workers {n}: {s['wall_s']:.1f} s ({s['statuses']})")
                    w = _worker_cycle(lab, state, conninfo, names, n, timeout)
                    workers.append(w)
                    log(f"  {n} worker process(es): {w['wall_s']:.1f} s ({w['left']} jobs left, {w['failed_jobs']} failed)")
                # pascom writes of every instance over every no-change cycle: none expected
                writes = lab.counts().get("pascom_writes")
            finally:
                lab.stop()
    finally:
        drop()
    for rows in (serve, workers):
        base = rows[0]["wall_s"]
        for row in rows:
            row["speedup"] = round(base / row["wall_s"], 2) if row["wall_s"] else None
    return {
        "connectors": connectors,
        "users": users,
        "graph_latency_s": graph_latency,
        "pascom_latency_s": pascom_latency,
        "serve": serve,
        "workers": workers,
        "no_change_pascom_writes": writes,
    }
