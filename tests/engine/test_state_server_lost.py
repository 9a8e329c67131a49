"""PostgreSQL going away in the middle of a run (issue 13): the run stops with one line
and exit 7, the target is never ahead of the state's journal, and the next run converges.

The shared server is not stopped: the run reaches it through a TCP proxy on loopback that
the test cuts (every connection closed, new ones refused) once some users have been written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Iterator

import pytest
from sqlalchemy.engine import make_url

from syncframe.state import StateStore
from tcp_proxy import CuttableProxy

from .conftest import Workspace, ident

USERS = 60


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[str, CuttableProxy]]:
    """The test schema's URL through a proxy in front of the server."""
    url = make_url(postgres_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        proxy.close()


@pytest.mark.slow  # a child process, cut off half way
@pytest.mark.postgres
@pytest.mark.parametrize(
    "lease",
    [None, "0.3"],
    ids=["noticed-by-a-write", "noticed-by-the-lock-heartbeat"],  # a short lease: the heartbeat pings every 0.1 s
)
def test_a_run_whose_database_goes_away_stops_with_exit_7_and_the_next_run_converges(
    ws: Workspace, postgres_url: str, proxied: tuple[str, CuttableProxy], lease: str | None
) -> None:
    through_proxy, proxy = proxied
    ws.target_extra = {"latency": 0.05}
    ws.write_profile()
    ws.set_users([ident(n) for n in range(1, USERS + 1)])
    child = subprocess.Popen(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "run", "--profile", str(ws.profile), "--yes"],
        env={**os.environ, **ws.env(SYNCFRAME_STATE=through_proxy, **({"SYNCFRAME_LOCK_LEASE_SECONDS": lease} if lease else {}))},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(ws.logins()) < 10 and child.poll() is None:
            time.sleep(0.02)
        assert child.poll() is None, "the run ended before the database went away"
        proxy.cut()
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()

    assert child.returncode == 7, (stdout, stderr)
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if line.strip()]
    assert line.startswith("Error: the state store postgresql://") and f":{proxy.port}/" in line, line

    landed = ws.logins()
    assert 10 <= len(landed) < USERS, "the run stopped half way"
    with StateStore.open(postgres_url) as store:
        [run] = store.runs("contoso")
        journaled = {j.login for j in store.journal(run.id)}
        linked = {link.login for link in store.links("contoso").values()}
    assert set(landed) <= journaled | linked, "every account in the target was journaled before it was written"

    again = ws.cli("--state", postgres_url, "run", "--profile", str(ws.profile), "--yes")
    assert again.exit_code == 0, again.stdout
    assert len(ws.logins()) == USERS, "no user created twice, none missing"
    with StateStore.open(postgres_url) as store:
        assert {link.login for link in store.links("contoso").values()} == set(ws.logins())
        cut_off, finished = sorted(store.runs("contoso"), key=lambda r: r.id)
        assert (cut_off.id, cut_off.status) == (run.id, "aborted") and finished.status == "ok"
        assert not [j for j in store.journal(run.id) if j.state == "intent"], "the next run settled every open intent"
    settled = ws.cli("--state", postgres_url, "plan", "--profile", str(ws.profile))
    assert settled.exit_code == 0 and settled.json["counts"]["noop"] == USERS, settled.json["counts"]
