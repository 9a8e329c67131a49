"""A run frozen past its lock's lease must not write again (issue 20, item 6).

A run is frozen (SIGSTOP: a suspended VM, a stopped container, a debugger) at its
first pascom write, with a short lease (``SYNCFRAME_LOCK_LEASE_SECONDS``). While it
sleeps, its lease expires, the user it was about to remove comes back in the
directory, and a second run takes the lock over and brings everything in step. Then
the frozen run resumes. It must notice at its next write that the lock is no longer
its own and stop: no further write, in particular not the stale removal.

On PostgreSQL the lock is the session's advisory lock, which a frozen process keeps:
the second run is refused as "locked" and the frozen one may finish.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select

from syncframe.state.locks import LEASE_ENV
from syncframe.state.models import LockModel, utcnow

from reliability_lab import CONNECTOR, Lab, lab_at, person

USERS = 8
LEASE = {LEASE_ENV: "2"}
LEAVER = 1


def prepared(lab: Lab) -> Path:
    """Imported; then user 1 leaves and users 2-8 are renamed in display: 7 updates and a removal."""
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile(concurrency=1)
    lab.run(profile)
    lab.graph.remove_identity(person(LEAVER).source_id)
    lab.directory(*[person(n, display_name=f"Moved {n}") for n in range(2, USERS + 1)])
    return profile


def freeze_at_first_write(lab: Lab, profile: Path, url: str | None = None) -> tuple[object, threading.Event]:
    """Spawn the run and SIGSTOP it as its first write reaches pascom (the write is served)."""
    stopped = threading.Event()
    pid: list[int] = []

    def stop() -> None:
        os.kill(pid[0], signal.SIGSTOP)
        stopped.set()

    lab.trap.arm(1, stop, when="before")
    child = lab.spawn_run(profile, env=LEASE)
    pid.append(child.pid)
    assert stopped.wait(60), "the run never wrote"
    return child, stopped


def wait_for_expiry(lab: Lab) -> None:
    with lab.store() as store:
        for _ in range(200):
            with store.engine.connect() as connection:
                expires = connection.execute(select(LockModel.expires_at).where(LockModel.connector == CONNECTOR)).scalar_one()
            if expires < utcnow():
                return
            time.sleep(0.1)
    raise AssertionError("the frozen run's lease never expired")


def test_a_run_that_lost_its_lease_while_frozen_stops_before_its_next_write(lab: Lab) -> None:
    profile = prepared(lab)
    frozen, _ = freeze_at_first_write(lab, profile)
    try:
        lab.directory(person(LEAVER))  # the leaver comes back meanwhile
        wait_for_expiry(lab)
        second = lab.run(profile)  # takes the expired lease over
        assert second["status"] == "ok" and second["counts"]["delete"] == 0
        writes = len(lab.pascom_writes())
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    out, err = frozen.communicate(timeout=60)
    assert frozen.returncode == 1, (frozen.returncode, err[-2000:])
    report = json.loads(out)
    assert "lost the run lock" in report["error"], report["error"]
    assert report["removals_withheld"] and report["bookmark"] is False
    assert len(lab.pascom_writes()) == writes, "the frozen run wrote after it lost its lock"
    assert person(LEAVER).username in lab.logins(), "the frozen run removed a user who had come back"
    assert sorted(lab.links()) == sorted(person(n).source_id for n in range(1, USERS + 1))


@pytest.fixture
def pg_lab(tmp_path: Path, postgres_url: str) -> Iterator[Lab]:
    with lab_at(tmp_path, state_url=postgres_url) as started:
        yield started


@pytest.mark.postgres
def test_on_postgresql_a_frozen_run_keeps_its_lock_and_the_second_run_is_refused(pg_lab: Lab) -> None:
    lab = pg_lab
    profile = prepared(lab)
    frozen, _ = freeze_at_first_write(lab, profile)
    try:
        wait_for_expiry(lab)  # the lease row expired; on PostgreSQL the session, not the row, holds the lock
        second = lab.run(profile, expect=5)
        assert "locked" in json.dumps(second)
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    out, err = frozen.communicate(timeout=60)
    assert frozen.returncode == 0, err[-2000:]
    assert person(LEAVER).username not in lab.logins()
