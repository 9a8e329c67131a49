"""Two worker processes share 20 connectors on the real PostgreSQL server.

17 connectors are MEMORY → memory (files), 3 read the Graph sandbox into three
instances of the phone-system sandbox. Intervals are 60 s at ``--time-scale 0.05``
(3 s). Worker A SIGKILLs itself at its third target write (the testing target's
switch: a real SIGKILL, right after a write landed and before the engine recorded
it); worker B finds A's jobs stalled (A's heartbeat stopped) and runs them again,
and the engine's crash recovery makes the retry converge. Half way, every queue
connection of both workers is terminated by the server: they reconnect.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from syncframe.cli.sandbox import render_profile
from syncframe.state import StateStore
from syncframe.testing import generate_identities, target_accounts
from syncframe_msuser.sandbox import GraphSandbox
from syncframe_pascom.sandbox import PascomSandbox

from .conftest import child_env, events, memory_profile, seed_memory_connector, syncframe_argv

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

MEMORY = [f"m{n:02d}" for n in range(17)]
PHONES = ["p1", "p2", "p3"]
USERS = 8


def _start(state: str, name: str, **env: str) -> subprocess.Popen[str]:
    argv = syncframe_argv(state, "worker", "--concurrency", "3", "--heartbeat", "1", "--time-scale", "0.05", "--name", name)
    return subprocess.Popen(argv, env=child_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _terminate_queue_connections(state: str) -> int:
    engine = create_engine(state, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'syncframe worker' AND datname = current_database()"
            )).all())
    finally:
        engine.dispose()


def _ok_runs(store: StateStore) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for run in store.runs(None, limit=100_000):
        if run.status == "ok":
            counts[run.connector] += 1
    return counts


def test_two_workers_share_twenty_connectors_survive_a_kill_and_a_lost_database(postgres_url: str, tmp_path: Path) -> None:
    state = postgres_url
    with GraphSandbox(users=USERS) as graph, PascomSandbox(instance=PHONES[0]) as phones:
        for name in PHONES[1:]:
            phones.simulator.add_instance(name, password=phones.instance.password)
        with StateStore.open(state) as store:
            for n, name in enumerate(MEMORY):
                seed_memory_connector(tmp_path, name, generate_identities(USERS, start=100 * n))
                # one write at a time, 50 ms each: a run is long enough to be killed in the middle
                store.add_connector(name, memory_profile(tmp_path, name, latency=0.05, concurrency=1))
            for name in PHONES:
                target = {**phones.profile_section(), "url": phones.simulator.instance_url(name)}
                store.add_connector(name, render_profile("MSUSER", "pascom", graph.profile_section(), target, title=name, extra={"interval": "60s"}))
        secrets = {**graph.environment(), **phones.environment()}
        init = subprocess.run(syncframe_argv(state, "worker", "--init"), env=child_env(), capture_output=True, text=True, timeout=120)
        assert init.returncode == 0, init.stderr

        a = _start(state, "A", SYNCFRAME_TESTING_KILL_AFTER_WRITES="3", **secrets)
        b = _start(state, "B", **secrets)
        try:
            deadline = time.monotonic() + 150
            terminated_at: float | None = None
            with StateStore.open(state) as store:
                while time.monotonic() < deadline:
                    time.sleep(1)
                    assert b.poll() is None, b.stderr.read() if b.stderr else ""
                    ok = _ok_runs(store)
                    if terminated_at is None and a.poll() is not None and all(ok.get(c) for c in MEMORY + PHONES):
                        assert _terminate_queue_connections(state) >= 1
                        terminated_at = time.monotonic()
                        after_loss = dict(ok)
                    if terminated_at is not None and time.monotonic() - terminated_at > 12:
                        break
            b.send_signal(signal.SIGTERM)
            b_out, b_err = b.communicate(timeout=90)
            a_out, _a_err = a.communicate(timeout=10)
        finally:
            for proc in (a, b):
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()

        assert terminated_at is not None, f"not every connector ran: {dict(_ok_runs(StateStore.open(state)))}"
        assert a.returncode == -signal.SIGKILL
        assert b.returncode == 0, b_err[-3000:]

        with StateStore.open(state) as store:
            runs = store.runs(None, limit=100_000)
            ok = _ok_runs(store)

        # every connector ran, and B carried on after the server dropped its queue
        # connections (the pool replaces them; a worker whose listener or heartbeat
        # failed is started again by syncframe's loop)
        assert set(ok) == set(MEMORY + PHONES)
        assert sum(ok.values()) > sum(after_loss.values())

        # never two runs of one connector at once
        spans: dict[str, list[Any]] = defaultdict(list)
        for run in runs:
            spans[run.connector].append(run)
        for name, connector_runs in spans.items():
            ordered = sorted(connector_runs, key=lambda r: r.started_at)
            for earlier, later in zip(ordered, ordered[1:]):
                assert earlier.finished_at is not None and earlier.finished_at <= later.started_at, (name, earlier, later)

        # A's run died mid-run; B ran the same job again and it converged
        a_started = {e["job_id"]: e["name"] for e in events(a_out) if e["event"] == "start"}
        b_finished = {e["job_id"]: e for e in events(b_out) if e["event"] == "run"}
        retried = [job for job in a_started if job in b_finished and b_finished[job]["status"] == "ok"]
        assert retried, (a_started, sorted(b_finished))
        killed = a_started[retried[0]]
        died = [r for r in spans[killed] if r.status == "aborted" and r.error == "the process ended before the run finished"]
        assert len(died) == 1
        rerun = min((r for r in spans[killed] if r.started_at > died[0].started_at), key=lambda r: r.started_at)
        assert rerun.status == "ok" and (rerun.summary or {}).get("recovered"), rerun

        # every target converged, no user twice
        for n, name in enumerate(MEMORY):
            logins = [acc["login"] for acc in target_accounts(tmp_path / f"{name}.db")]
            assert logins == sorted(f"user{i}@contoso.com" for i in range(100 * n, 100 * n + USERS)), name
        per_instance = []
        for name in PHONES:
            logins = [u.login for u in phones.simulator.instances[name].snapshot()]
            assert len(logins) == len(set(logins)) > 1, name
            per_instance.append(sorted(logins))
        assert per_instance[0] == per_instance[1] == per_instance[2]
