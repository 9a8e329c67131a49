"""A worker stopped or cut off from its database, on the real PostgreSQL server.

- SIGTERM while a run writes: the run stops between two writes and is recorded
  ``aborted`` (never left ``running``), its journal matches what landed, its job
  goes back in the queue (never left ``doing``), the worker exits 0, and the next
  worker runs that job until the connector converges.
- The database goes away mid-run (every connection of the worker dropped, new ones
  refused for a while, as in a server restart): a loopback TCP proxy in front of
  the server is cut and restored. The worker stays up, reconnects, and the
  connector converges; no job is left ``doing`` by a live worker.
- A worker started while the database is away waits for it (SIGTERM ends the
  wait at once, exit 0) and runs once it answers.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from engine.test_json_shapes import assert_same_keys, documented
from syncframe.cli import cli

from syncframe.state import StateStore
from syncframe.testing import generate_identities, target_accounts
from syncframe.worker.database import queue_conninfo
from tcp_proxy import CuttableProxy

from .conftest import PLUGIN_ENV, child_env, events, memory_profile, seed_memory_connector, syncframe_argv

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(180)]

USERS = 16


def _wait(what: str, condition: Callable[[], Any], timeout: float, *alive: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for proc in alive:
            assert proc.poll() is None, f"worker ended early: {proc.stderr.read() if proc.stderr else ''}"[-3000:]
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)


def _start(state: str, name: str, **env: str) -> subprocess.Popen[str]:
    argv = syncframe_argv(state, "worker", "--heartbeat", "1", "--time-scale", "0.05", "--name", name)
    return subprocess.Popen(argv, env=child_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _run_jobs(state: str, status: str) -> int:
    with psycopg.connect(queue_conninfo(state)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'syncframe.run' AND status = %s", (status,)
        ).fetchone()
    return int(row[0]) if row else 0


def _init(state: str) -> None:
    init = subprocess.run(syncframe_argv(state, "worker", "--init"), env=child_env(), capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr


@pytest.fixture
def slow_connector(postgres_url: str, tmp_path: Path) -> str:
    """One connector whose run takes a few seconds: one write at a time, 0.25 s each."""
    seed_memory_connector(tmp_path, "slow", generate_identities(USERS))
    with StateStore.open(postgres_url) as store:
        store.add_connector("slow", memory_profile(tmp_path, "slow", latency=0.25, concurrency=1))
    _init(postgres_url)
    return postgres_url


def _logins(tmp_path: Path) -> list[str]:
    return sorted(a["login"] for a in target_accounts(tmp_path / "slow.db"))


EVERYONE = sorted(f"user{i}@contoso.com" for i in range(USERS))


def test_sigterm_mid_run_aborts_between_writes_and_the_next_worker_converges(slow_connector: str, tmp_path: Path) -> None:
    state = slow_connector
    first = _start(state, "first")
    try:
        _wait("the run wrote twice", lambda: len(_logins(tmp_path)) >= 2, 60, first)
        [listed] = json.loads(CliRunner().invoke(cli, ["--json", "--state", state, "jobs", "--heartbeat", "1"], env=PLUGIN_ENV).stdout)
        out, err = _stop(first)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err[-3000:]
    assert any(e["event"] == "stopping" for e in events(out))
    # while it ran, 'syncframe jobs' named the connector and the worker (its --name, host and pid)
    assert (listed["connector"], listed["state"]) == ("slow", "running")
    assert listed["worker"].startswith(f"syncframe worker first on host {socket.gethostname()}, pid {first.pid}, since ")

    with StateStore.open(state) as store:
        [run] = store.runs("slow")
        journal = store.journal(run.id)
        links = store.links("slow")
    assert run.status == "aborted" and run.finished_at is not None
    landed = _logins(tmp_path)
    assert 2 <= len(landed) < USERS  # it stopped in the middle
    # between two writes: each write that landed is journaled ok, the rest "not applied"
    assert sorted(j.login for j in journal if j.state == "ok") == landed
    assert {(j.state, j.error) for j in journal if j.state != "ok"} <= {("failed", "not applied: the run stopped before this write")}
    assert sorted(link.login for link in links.values()) == landed
    # the job went back in the queue with its run stopped; nothing is left "doing" for a worker that is gone
    assert (_run_jobs(state, "doing"), _run_jobs(state, "todo")) == (0, 1)
    ran = [e for e in events(out) if e["event"] == "run"]
    assert [(e["name"], e["status"]) for e in ran] == [("slow", "aborted")]

    second = _start(state, "second")
    try:
        with StateStore.open(state) as store:
            _wait("a later run converged", lambda: [r.status for r in store.runs("slow")][:1] == ["ok"], 90, second)
        out, err = _stop(second)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, err[-3000:]
    # the same job, run to its end by the second worker
    assert [e["job_id"] for e in events(out) if e["event"] == "run"][:1] == [ran[0]["job_id"]]
    assert _logins(tmp_path) == EVERYONE
    with StateStore.open(state) as store:
        assert "running" not in [r.status for r in store.runs("slow")]


def test_a_worker_cut_off_from_its_database_mid_run_reconnects_and_converges(slow_connector: str, tmp_path: Path) -> None:
    url = make_url(slow_connector)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    # a run cut off from its run lock's session is found dead after this lease
    worker = _start(through_proxy, "cut", SYNCFRAME_LOCK_LEASE_SECONDS="3")
    try:
        _wait("the run wrote twice", lambda: len(_logins(tmp_path)) >= 2, 60, worker)
        assert proxy.cut() >= 2  # the queue's pool and the state store's connections
        time.sleep(5)  # the server is "down": the worker's reconnects are refused
        assert worker.poll() is None
        proxy.restore()
        cut_at = time.monotonic()
        with StateStore.open(slow_connector) as store:
            # a run that started after the outage and converged: the worker carried on
            def converged() -> bool:
                runs = store.runs("slow")
                return bool(runs) and runs[0].status == "ok" and len(runs) >= 2 and _logins(tmp_path) == EVERYONE

            _wait("a run after the outage converged", converged, 120, worker)
            waited = time.monotonic() - cut_at
            # and the connector keeps running at its interval (3 s at this time scale)
            count = len(store.runs("slow", limit=1000))
            _wait("another run", lambda: len(store.runs("slow", limit=1000)) > count and store.runs("slow")[0].status == "ok", 60, worker)
        assert _run_jobs(slow_connector, "doing") <= 1  # at most the run under way now
        out, err = _stop(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        proxy.close()
    assert worker.returncode == 0, err[-3000:]
    # Procrastinate's worker stopped when its listener lost the server; syncframe's loop started it again
    reconnects = [e for e in events(out) if e["event"] == "reconnecting"]
    assert reconnects, out[-3000:]
    assert_same_keys(documented()["worker-reconnecting"], reconnects[0])  # the guide's examples of the shapes
    assert_same_keys(documented()["worker-deferred"], next(e for e in events(out) if e["event"] == "deferred"))
    assert waited < 60
    with StateStore.open(slow_connector) as store:
        statuses = [r.status for r in store.runs("slow", limit=1000)]
    assert "running" not in statuses, statuses
    assert _run_jobs(slow_connector, "doing") == 0



def test_a_worker_started_before_its_database_waits_for_it_and_sigterm_ends_the_wait(slow_connector: str, tmp_path: Path) -> None:
    url = make_url(slow_connector)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    # the test server trusts any password: one here shows that none reaches the worker's output
    through_proxy = url.set(host="127.0.0.1", port=proxy.port, password="pw-never-shown").render_as_string(hide_password=False)
    proxy.cut()  # the server is "down" from the start
    started: list[subprocess.Popen[str]] = []
    try:
        waiting = _start(through_proxy, "waiting")
        started.append(waiting)
        assert waiting.stdout is not None
        # it tries, and waits longer each time: 1, 2, 4, then 8 s
        tries = [waiting.stdout.readline() for _ in range(4)]
        assert [json.loads(line)["event"] for line in tries] == ["reconnecting"] * 4, tries
        assert "retrying in 8s" in tries[-1]
        stopped_at = time.monotonic()
        out, err = _stop(waiting, timeout=30)
        out = "".join(tries) + out
        took = time.monotonic() - stopped_at
        assert waiting.returncode == 0, (out, err[-3000:])
        assert took < 5, took
        assert any(e["event"] == "reconnecting" and "cannot open the state store" in e["message"] for e in events(out)), out
        assert "pw-never-shown" not in out + err

        patient = _start(through_proxy, "patient")
        started.append(patient)
        time.sleep(3)
        proxy.restore()
        with StateStore.open(slow_connector) as store:
            _wait("the connector converged", lambda: [r.status for r in store.runs("slow")][:1] == ["ok"], 90, patient)
        out, err = _stop(patient)
        assert patient.returncode == 0, err[-3000:]
        assert "pw-never-shown" not in out + err
        assert _logins(tmp_path) == EVERYONE
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        proxy.close()
