"""One run per connector: the run lock, within a process and across real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from syncframe.errors import LockedError, LockLostError
from syncframe.state import HeldLock
from syncframe.state.models import LockModel, utcnow

HELPER = Path(__file__).with_name("state_process.py")


def test_second_lock_fails_at_once_naming_the_holder(store):
    with store.lock("contoso", holder="syncframe run") as held:
        assert isinstance(held, HeldLock)
        started = time.monotonic()
        with pytest.raises(LockedError) as caught:
            with store.lock("contoso", holder="serve"):
                pytest.fail("the lock was granted twice")
        assert time.monotonic() - started < 2
        message = str(caught.value)
        assert caught.value.connector == "contoso"
        for part in ("syncframe run", socket.gethostname(), f"pid {os.getpid()}", held.acquired_at.strftime("%Y-%m-%d %H:%M:%S")):
            assert part in message
        with store.lock("adatum"):  # other connectors are not blocked
            pass
    with store.lock("contoso", holder="serve"):  # released on exit
        pass


def test_many_connectors_locked_at_once(store):
    """``serve`` runs many connectors side by side; held locks must not starve the store."""
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(store.lock(f"c{i}", holder="serve")) for i in range(25)]
        run_id = store.start_run("c0", "sync", "run")
        store.finish_run(run_id, "ok", {})
        assert [r.id for r in store.runs()] == [run_id]
        with store.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(LockModel)).scalar_one() == 25
        assert not any(h.lost.is_set() for h in held)
    with store.lock("c7"):
        pass


def test_lock_is_released_when_the_block_raises(store):
    with pytest.raises(RuntimeError):
        with store.lock("contoso"):
            raise RuntimeError("run failed")
    with store.lock("contoso"):
        pass
    with store.engine.connect() as connection:
        assert connection.execute(select(LockModel.connector)).all() == []


def test_heartbeat_renews_the_lease_while_held(store):
    with store.lock("contoso", lease_seconds=0.5) as held:
        time.sleep(1.2)  # over two leases long: only the heartbeat keeps it
        with pytest.raises(LockedError):
            with store.lock("contoso"):
                pass
        with store.engine.connect() as connection:
            expires_at = connection.execute(select(LockModel.expires_at)).scalar_one()
        assert expires_at > held.acquired_at + timedelta(seconds=0.9)
        assert not held.lost.is_set()


def test_losing_the_lock_is_noticed(store):
    with store.lock("contoso", lease_seconds=0.15) as held:
        with store.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # the lock's session is killed
                connection.execute(
                    # only this test database's sessions: other test workers share the server
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    )
                )
            else:  # the lease row is removed under us
                connection.execute(LockModel.__table__.delete())
        assert held.lost.wait(2), "the heartbeat did not notice"
    with store.lock("contoso"):  # and it can be taken again
        pass


def _insert_lease(store, host: str, pid: int, expires_in: float) -> None:
    now = utcnow()
    with store.engine.begin() as connection:
        connection.execute(
            insert(LockModel).values(
                connector="contoso", token="other", holder="syncframe run", host=host, pid=pid,
                acquired_at=now, expires_at=now + timedelta(seconds=expires_in),
            )
        )


@pytest.fixture
def sqlite_store(tmp_path):
    from syncframe.state import StateStore

    with StateStore.open(tmp_path / "state.db") as store:
        yield store


def test_sqlite_lease_of_another_host_blocks_until_it_expires(sqlite_store):
    _insert_lease(sqlite_store, "elsewhere", 1, expires_in=60)
    with pytest.raises(LockedError, match="syncframe run on host elsewhere, pid 1"):
        with sqlite_store.lock("contoso"):
            pass


def test_sqlite_expired_lease_is_taken_over(sqlite_store):
    _insert_lease(sqlite_store, "elsewhere", 1, expires_in=-1)
    with sqlite_store.lock("contoso", holder="serve") as held:
        assert held.holder == "serve"


def test_sqlite_lease_of_a_dead_process_on_this_host_is_taken_over(sqlite_store):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _insert_lease(sqlite_store, socket.gethostname(), gone.pid, expires_in=3600)
    with sqlite_store.lock("contoso"):
        pass


def test_sqlite_ensure_stops_a_holder_whose_expired_lease_was_taken_over(sqlite_store):
    """A holder frozen past its lease (its row taken over meanwhile) is stopped at its
    next ensure(), without waiting for its heartbeat to notice."""
    with sqlite_store.lock("contoso", lease_seconds=3600) as held:
        held.ensure()  # ours: fine
        held.fresh_for = 0  # as after a freeze: the last confirmation is too old to trust
        with sqlite_store.engine.begin() as connection:  # another run took the lease over
            connection.execute(LockModel.__table__.delete())
        _insert_lease(sqlite_store, "elsewhere", 1, expires_in=60)
        with pytest.raises(LockLostError, match="lost the run lock of connector 'contoso'"):
            held.ensure()
        assert held.lost.is_set()
        with pytest.raises(LockLostError):
            held.ensure()


def test_sqlite_ensure_renews_a_lease_its_heartbeat_let_expire(sqlite_store):
    """Frozen past its lease, but nobody took the lock: the run may go on, renewed first."""
    with sqlite_store.lock("contoso", lease_seconds=3600) as held:
        held.fresh_for = 0
        with sqlite_store.engine.begin() as connection:
            connection.execute(LockModel.__table__.update().values(expires_at=utcnow() - timedelta(seconds=5)))
        held.ensure()
        with sqlite_store.engine.connect() as connection:
            assert connection.execute(select(LockModel.expires_at)).scalar_one() > utcnow() + timedelta(seconds=3000)


def test_ensure_passes_while_the_lock_is_held(store):
    with store.lock("contoso") as held:
        held.ensure()


def test_the_lease_comes_from_the_environment(sqlite_store, monkeypatch):
    monkeypatch.setenv("SYNCFRAME_LOCK_LEASE_SECONDS", "120")
    with sqlite_store.lock("contoso") as held:
        with sqlite_store.engine.connect() as connection:
            expires = connection.execute(select(LockModel.expires_at)).scalar_one()
        assert timedelta(seconds=110) < expires - held.acquired_at <= timedelta(seconds=120)
    monkeypatch.setenv("SYNCFRAME_LOCK_LEASE_SECONDS", "soon")
    with pytest.raises(ValueError, match="SYNCFRAME_LOCK_LEASE_SECONDS must be a number of seconds"):
        sqlite_store.lock("contoso")


def _start_holder(url: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, str(HELPER), "hold", url, "contoso", "syncframe run"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = holder.stdout.readline().strip()
    assert line == "HELD", f"the holder process did not take the lock: {line!r}"
    return holder


def _try_in_another_process(url: str) -> str:
    done = subprocess.run(
        [sys.executable, str(HELPER), "try", url, "contoso", "serve"], capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip()


def test_lock_across_processes_and_takeover_after_sigkill(store):
    """Process 1 holds the lock; process 2 is refused, naming it; once process 1 is
    SIGKILLed (no clean-up at all) the next run gets the lock: on SQLite because its
    pid is gone, on PostgreSQL because its session ended."""
    holder = _start_holder(store.url)
    try:
        answer = _try_in_another_process(store.url)
        assert answer.startswith("LOCKED "), answer
        assert f"syncframe run on host {socket.gethostname()}, pid {holder.pid}, since " in answer
        with pytest.raises(LockedError, match=f"pid {holder.pid}"):
            with store.lock("contoso"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()

    deadline = time.monotonic() + 10  # PostgreSQL ends the dead session within moments
    while (answer := _try_in_another_process(store.url)) != "ACQUIRED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer == "ACQUIRED"
    with store.lock("contoso"):
        pass


def test_a_confirmation_dates_from_the_question_not_the_answer() -> None:
    """A process frozen between the database's "still yours" and noting it (SIGSTOP, a
    suspended VM) must not count the freeze as confirmed time: its next write asks again.
    The beat below answers yes, then "freezes" past the fresh window before returning."""
    import threading

    from syncframe.errors import LockLostError
    from syncframe.state.locks import HeldLock, _Heartbeat, utcnow

    held = HeldLock("contoso", "test", "host", os.getpid(), utcnow(), fresh_for=0.2)
    asked: list[str] = []
    held.verify = lambda: asked.append("verify") or False  # another run has taken it over since
    answered = threading.Event()

    def beat() -> bool:
        answered.set()
        time.sleep(0.4)  # frozen after the answer, past fresh_for
        return True

    with _Heartbeat(held, 0.01, beat):
        assert answered.wait(5)
        time.sleep(0.5)  # the beat returned and its confirmation was noted
    with pytest.raises(LockLostError):
        held.ensure()
    assert asked == ["verify"], "ensure trusted a confirmation older than its fresh window"
