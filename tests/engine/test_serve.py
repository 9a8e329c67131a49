"""``syncframe serve``: connectors run at their interval, a failing one backs off
without stopping the others, locked connectors are skipped, SIGTERM stops cleanly.

Profiles need ``interval`` >= 60 s; ``--time-scale`` shrinks the waits for tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from syncframe.serve import backoff_delay

from .conftest import Workspace, ident


def _register(host: Workspace, other: Workspace, **profile: object) -> None:
    """Register ``other``'s profile in ``host``'s state store under ``other.name``."""
    host.store().add_connector(other.name, other.write_profile(**profile))


@pytest.fixture
def two(tmp_path: Path) -> tuple[Workspace, Workspace]:
    good = Workspace(tmp_path / "good", name="good")
    bad = Workspace(tmp_path / "bad", name="bad")
    for w in (good, bad):
        w.root.mkdir()
        w.seed()
    good.set_users([ident(1), ident(2)])
    bad.set_users([ident(1)], fail="the directory is down")
    _register(good, good, interval="60s")
    _register(good, bad, interval="60s")
    return good, bad


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(60, n) for n in range(5)] == [60, 60, 120, 240, 480]
    assert backoff_delay(60, 40) == 86400
    assert backoff_delay(2 * 86400, 3) == 2 * 86400  # an interval longer than the cap is kept


def test_serve_once_runs_every_connector_and_survives_a_failing_one(two: tuple[Workspace, Workspace]) -> None:
    good, _bad = two
    result = good.cli("serve", "--once")
    assert result.exit_code == 1  # --once reports that a run failed
    events = {e["name"]: e for e in _events(result.stdout) if e["event"] == "run"}
    assert events["good"]["status"] == "ok" and events["good"]["counts"]["create"] == 2
    assert events["bad"]["status"] == "failed" and events["bad"]["error"] == "the directory is down"
    assert good.logins() == ["user1@contoso.com", "user2@contoso.com"]


def test_serve_runs_on_the_interval_and_backs_off_a_failing_connector(two: tuple[Workspace, Workspace]) -> None:
    good, _bad = two
    # 60 s intervals scaled to 0.15 s; the failing connector waits 0.15, 0.3, 0.6 ... s.
    # The waits are asserted, not the number of runs in the 2 s: on a loaded machine a run
    # takes longer and fewer fit, but the schedule is the same.
    result = good.cli("serve", "--time-scale", "0.0025", "--duration", "2")
    assert result.exit_code == 0
    events = [e for e in _events(result.stdout) if e["event"] == "run"]
    good_waits = [e["next_in"] for e in events if e["name"] == "good"]
    bad_waits = [e["next_in"] for e in events if e["name"] == "bad"]
    assert len(good_waits) >= 2 and len(bad_waits) >= 2
    assert good_waits == pytest.approx([0.15] * len(good_waits))
    assert bad_waits == pytest.approx([0.15 * 2**i for i in range(len(bad_waits))])
    failures = [e["failures"] for e in events if e["name"] == "bad"]
    assert failures == list(range(1, len(failures) + 1))
    statuses = Counter(r.status for r in good.store().runs("good", limit=100))
    assert statuses == {"ok": len(good_waits)}


def test_serve_stops_after_max_runs_and_skips_connectors_without_interval(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.seed()
    ws.set_users([ident(1)])
    _register(ws, ws, interval="1m")
    manual = Workspace(tmp_path, name="manual")
    _register(ws, manual)  # no interval: run by hand only
    result = ws.cli("serve", "--time-scale", "0.001", "--max-runs", "3")
    events = _events(result.stdout)
    assert result.exit_code == 0
    assert [e["name"] for e in events if e["event"] == "run"] == ["contoso"] * 3
    assert any(e["event"] == "skipped" and e["name"] == "manual" for e in events)
    assert len(ws.store().runs("contoso")) == 3 and ws.store().runs("manual") == []


def test_serve_skips_a_connector_another_run_holds(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.seed()
    ws.set_users([ident(1)])
    _register(ws, ws, interval="1h")
    with ws.store().lock("contoso", holder="a manual run"):
        result = ws.cli("serve", "--once")
    assert result.exit_code == 0
    skipped = [e for e in _events(result.stdout) if e["event"] == "skipped"]
    assert skipped and "locked by another run: a manual run" in skipped[0]["reason"]
    assert ws.logins() == []


def test_serve_reports_an_invalid_profile_and_goes_on(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.seed()
    ws.set_users([ident(1)])
    _register(ws, ws, interval="1h")
    ws.store().add_connector("broken", 'mode = "mirror"\n[source]\ntype = "MEMORY"\n[target]\ntype = "memory"\n')
    result = ws.cli("serve", "--once")
    events = _events(result.stdout)
    assert any(e["event"] == "invalid" and e["name"] == "broken" and "mode" in e["error"] for e in events)
    assert [e["status"] for e in events if e["event"] == "run"] == ["ok"]


@pytest.mark.slow  # a child process: a few seconds on a busy machine
def test_sigterm_stops_serve_cleanly(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.seed()
    ws.set_users([ident(1)])
    _register(ws, ws, interval="1m")
    env = {**os.environ, **ws.env()}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "--json", "serve", "--time-scale", "0.01"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        # wait for the first run to finish, so SIGTERM finds serve idle between runs
        # (a stop in the middle of a run: tests/engine/test_stop.py)
        while time.monotonic() < deadline and not any(r.status != "running" for r in ws.store().runs("contoso")):
            time.sleep(0.05)
        assert ws.store().runs("contoso"), "serve never ran the connector"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    events = _events(stdout)
    assert any(e["event"] == "stopping" for e in events)
    assert all(r.status != "running" for r in ws.store().runs("contoso", limit=100))
    assert ws.logins() == ["user1@contoso.com"]


def test_serve_runs_connectors_side_by_side(tmp_path: Path) -> None:
    host = Workspace(tmp_path / "host", name="host")
    host.root.mkdir()
    names = ["a", "b", "c"]
    for name in names:
        w = Workspace(tmp_path / name, name=name)
        w.root.mkdir()
        w.seed()
        w.target_extra = {"latency": 0.05}
        w.set_users([ident(1), ident(2)])
        _register(host, w, interval="1h")
    result = host.cli("serve", "--once", "--workers", "2")
    assert result.exit_code == 0
    assert sorted(e["name"] for e in _events(result.stdout) if e["event"] == "run" and e["status"] == "ok") == names
    for name in names:
        assert Workspace(tmp_path / name, name=name).logins() == ["user1@contoso.com", "user2@contoso.com"]
